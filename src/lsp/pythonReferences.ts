import type { ArtifactReference, ReferenceRole } from './artifactReference';
import { callArguments, endOfWord, isDigit, isSpace, matchingOpen, pickArgument, singleString, token, typeArgument, type Token } from './tokens';

/**
 * Artifact references in Python source (a file or one notebook cell, with the `wandb.Api()`
 * variables the notebook's other cells bind), in the W&B idioms Trove users write:
 *
 *   run.use_artifact("mnist:latest")              use   (positional or artifact_or_name=)
 *   wandb.Api().artifact("team/proj/mnist:v2")    use   (also api.artifact(…) where api = wandb.Api())
 *   wandb.Artifact("mnist", type="dataset")       log   (positional or name=)
 *   run.log_artifact(path, name="mnist")          log   (name=)
 */
export function findPythonReferences(text: string, apiVariablesElsewhere: Iterable<string> = []): ArtifactReference[] {
  const tokens = scanPython(text);
  const apiVariables = findApiVariables(tokens);
  for (const name of apiVariablesElsewhere) apiVariables.add(name);
  const out: ArtifactReference[] = [];
  for (let i = 1; i < tokens.length; i++) {
    const open = tokens[i];
    if (open.kind !== 'op' || open.value !== '(') continue;
    const callee = tokens[i - 1];
    if (callee.kind !== 'name') continue;
    const dotted = i >= 2 && tokens[i - 2].kind === 'op' && tokens[i - 2].value === '.';
    let pick: { index?: number; keyword?: string; role: ReferenceRole; via: string; typeIndex?: number } | undefined;
    switch (callee.value) {
      case 'use_artifact':
        pick = { index: 0, keyword: 'artifact_or_name', role: 'use', via: 'use_artifact' };
        break;
      case 'artifact':
        if (dotted && i >= 3 && isApiReceiver(tokens, i - 3, apiVariables)) pick = { index: 0, keyword: 'name', role: 'use', via: 'Api().artifact' };
        break;
      case 'Artifact':
        pick = { index: 0, keyword: 'name', role: 'log', via: 'wandb.Artifact', typeIndex: 1 };
        break;
      case 'log_artifact':
        pick = { keyword: 'name', role: 'log', via: 'log_artifact' };
        break;
    }
    if (!pick) continue;
    const { args } = callArguments(tokens, i, '=');
    const str = singleString(pickArgument(args, pick.index, pick.keyword));
    if (!str) continue;
    const type = singleString(pickArgument(args, pick.typeIndex, 'type'));
    out.push({ text: str.value, start: str.contentStart, end: str.contentEnd, role: pick.role, via: pick.via, ...(type ? { type: typeArgument(type) } : {}) });
  }
  return out;
}

/** `Api()` / `wandb.Api(…)` right before `.artifact`, or a variable assigned from one. */
function isApiReceiver(tokens: Token[], at: number, apiVariables: Set<string>): boolean {
  const t = tokens[at];
  if (t.kind === 'name') return apiVariables.has(t.value);
  if (t.kind === 'op' && t.value === ')') {
    const open = matchingOpen(tokens, at);
    return open > 0 && tokens[open - 1].kind === 'name' && tokens[open - 1].value === 'Api';
  }
  return false;
}

/** Names a piece of Python binds to `wandb.Api()`: another notebook cell's `api = wandb.Api()` counts in this one. */
export function findApiVariableNames(text: string): Set<string> {
  return text.includes('Api') ? findApiVariables(scanPython(text)) : new Set();
}

/** Names bound by `x = Api(…)` or `x = wandb.Api(…)`. */
function findApiVariables(tokens: Token[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + 3 < tokens.length; i++) {
    if (tokens[i].kind !== 'name' || tokens[i + 1].kind !== 'op' || tokens[i + 1].value !== '=') continue;
    let j = i + 2;
    while (j + 1 < tokens.length && tokens[j].kind === 'name' && tokens[j + 1].kind === 'op' && tokens[j + 1].value === '.') j += 2;
    if (tokens[j]?.kind === 'name' && tokens[j].value === 'Api' && tokens[j + 1]?.value === '(') out.add(tokens[i].value);
  }
  return out;
}

const STRING_PREFIX = /^(?:[rRbBuUfF]|[rR][bBfF]|[bBfF][rR])$/;
/** One-character operator strings, shared so scanning allocates nothing for them. */
const CHARS = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c));
/** Operators that may precede `=` in a two-character operator (`==`, `<=`, `+=`, `:=`, …). */
const BEFORE_EQUALS = new Set('=!<>:+-*/%&|^@'.split('').map((c) => c.charCodeAt(0)));

function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127;
}
function isNamePart(c: number): boolean {
  return isNameStart(c) || isDigit(c);
}

/**
 * Tokenises Python: names, strings (all prefixes, triple quotes), numbers, operators; drops
 * comments. Only `=` needs telling apart from `==`, `<=`, `+=` and friends; other operators are
 * single characters.
 */
export function scanPython(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
    } else if (c === 35 /* # */) {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? n : eol;
    } else if (c === 92 /* \ line continuation */) {
      i++;
    } else if (isNameStart(c)) {
      const start = i;
      i = endOfWord(text, i, isNamePart, false);
      const q = text.charCodeAt(i);
      if ((q === 34 || q === 39) && i - start <= 2 && STRING_PREFIX.test(text.slice(start, i))) {
        i = scanString(text, start, i, /f/i.test(text.slice(start, i)), tokens);
      } else {
        tokens.push(token('name', start, i, text.slice(start, i)));
      }
    } else if (c === 34 || c === 39) {
      i = scanString(text, i, i, false, tokens);
    } else if (isDigit(c)) {
      const start = i;
      i = endOfWord(text, i, isNamePart, true);
      tokens.push(token('number', start, i, ''));
    } else if (text.charCodeAt(i + 1) === 61 /* = */ && BEFORE_EQUALS.has(c)) {
      tokens.push(token('op', i, i + 2, text.slice(i, i + 2)));
      i += 2;
    } else {
      tokens.push(token('op', i, i + 1, c < 128 ? CHARS[c] : text[i]));
      i++;
    }
  }
  return tokens;
}

/** Scans a string whose quote is at `quoteAt` (prefix from `start`); returns the offset after it. */
function scanString(text: string, start: number, quoteAt: number, formatted: boolean, tokens: Token[]): number {
  const n = text.length;
  const quote = text[quoteAt];
  const triple = text[quoteAt + 1] === quote && text[quoteAt + 2] === quote;
  const contentStart = quoteAt + (triple ? 3 : 1);
  let i = contentStart;
  let contentEnd = -1;
  let end = n;
  while (i < n) {
    const ch = text[i];
    if (ch === '\\') {
      i += 2;
      continue;
    }
    if (triple) {
      if (ch === quote && text[i + 1] === quote && text[i + 2] === quote) {
        contentEnd = i;
        end = i + 3;
        break;
      }
    } else if (ch === quote) {
      contentEnd = i;
      end = i + 1;
      break;
    } else if (ch === '\n' || ch === '\r') {
      break;
    }
    i++;
  }
  const unterminated = contentEnd < 0;
  if (unterminated) {
    contentEnd = Math.min(i, n);
    end = contentEnd;
  }
  const value = text.slice(contentStart, contentEnd);
  const t = token('string', start, end, value);
  t.contentStart = contentStart;
  t.contentEnd = contentEnd;
  t.dynamic = formatted && value.includes('{');
  t.unterminated = unterminated;
  tokens.push(t);
  return end;
}

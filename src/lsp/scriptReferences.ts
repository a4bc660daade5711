import type { ArtifactReference } from './artifactReference';
import { callArguments, endOfWord, isDigit, isSpace, scanNumber, singleString, stringToken, token, typeArgument, type Token } from './tokens';

/**
 * Artifact references in TypeScript and JavaScript written against the Trove SDK:
 *
 *   await run.useArtifact('mnist:latest')                    use
 *   new Artifact('mnist', 'dataset')                          log
 *   await logArtifact(registry, { project: 'p', name: 'mnist', … })   log (project taken too)
 */
export function findScriptReferences(text: string): ArtifactReference[] {
  const tokens = scanScript(text);
  const out: ArtifactReference[] = [];
  for (let i = 1; i < tokens.length; i++) {
    const open = tokens[i];
    if (open.kind !== 'op' || open.value !== '(') continue;
    const callee = tokens[i - 1];
    if (callee.kind !== 'name') continue;
    if (callee.value === 'useArtifact') {
      const str = singleString(callArguments(tokens, i, null).args[0]);
      if (str) out.push({ text: str.value, start: str.contentStart, end: str.contentEnd, role: 'use', via: 'useArtifact' });
    } else if (callee.value === 'Artifact' && isConstructed(tokens, i - 1)) {
      const { args } = callArguments(tokens, i, null);
      const str = singleString(args[0]);
      const type = singleString(args[1]);
      if (str) out.push({ text: str.value, start: str.contentStart, end: str.contentEnd, role: 'log', via: 'new Artifact', ...(type ? { type: typeArgument(type) } : {}) });
    } else if (callee.value === 'logArtifact') {
      for (const arg of callArguments(tokens, i, null).args) {
        if (arg.tokens[0]?.value !== '{' || arg.tokens[0].kind !== 'op') continue;
        const props = objectStringProperties(arg.tokens);
        const name = props.get('name');
        if (name) {
          const project = props.get('project')?.value;
          const type = props.get('type');
          out.push({ text: name.value, start: name.contentStart, end: name.contentEnd, role: 'log', via: 'logArtifact', ...(project ? { project } : {}), ...(type ? { type: typeArgument(type) } : {}) });
        }
      }
    }
  }
  return out;
}

/** `new Artifact(` or `new sdk.Artifact(`: the name at `at` follows `new`, maybe through a member chain. */
function isConstructed(tokens: Token[], at: number): boolean {
  let j = at - 1;
  while (j >= 1 && tokens[j].kind === 'op' && tokens[j].value === '.' && tokens[j - 1].kind === 'name') j -= 2;
  return j >= 0 && tokens[j].kind === 'name' && tokens[j].value === 'new';
}

/** `key: 'string'` properties at the top level of an object literal's tokens (`{` … `}`). */
function objectStringProperties(tokens: Token[]): Map<string, Token> {
  const out = new Map<string, Token>();
  let depth = 0;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind === 'op' && '([{'.includes(t.value)) depth++;
    else if (t.kind === 'op' && ')]}'.includes(t.value)) depth--;
    else if (depth === 1 && (t.kind === 'name' || t.kind === 'string') && tokens[k + 1]?.value === ':' && tokens[k + 2]?.kind === 'string') {
      const value = tokens[k + 2];
      const next = tokens[k + 3];
      // Only a plain literal value, not `name: 'a' + b`.
      if (!value.dynamic && (!next || next.value === ',' || next.value === '}')) out.set(t.value, value);
    }
  }
  return out;
}

/** Keywords after which `/` starts a regular expression rather than a division. */
const REGEX_AFTER_KEYWORD = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'instanceof', 'yield', 'await']);

function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c > 127;
}
function isNamePart(c: number): boolean {
  return isNameStart(c) || isDigit(c);
}

/** Tokenises TypeScript/JavaScript: names, strings, template literals, numbers, operators; drops comments and regexes. */
export function scanScript(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
    } else if (c === 47 /* / */ && text.charCodeAt(i + 1) === 47) {
      while (i < n && text.charCodeAt(i) !== 10) i++;
    } else if (c === 47 && text.charCodeAt(i + 1) === 42 /* * */) {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
    } else if (c === 47 && regexAllowed(tokens)) {
      i = skipRegex(text, i);
    } else if (isNameStart(c)) {
      const start = i;
      i = endOfWord(text, i, isNamePart, false);
      tokens.push(token('name', start, i, text.slice(start, i)));
    } else if (c === 34 || c === 39) {
      i = scanQuoted(text, i, tokens);
    } else if (c === 96 /* ` */) {
      i = scanTemplate(text, i, tokens);
    } else if (isDigit(c)) {
      i = scanNumber(text, i, isNamePart, tokens);
    } else {
      tokens.push(token('op', i, i + 1, text[i]));
      i++;
    }
  }
  return tokens;
}

function regexAllowed(tokens: Token[]): boolean {
  const prev = tokens[tokens.length - 1];
  if (!prev) return true;
  if (prev.kind === 'name') return REGEX_AFTER_KEYWORD.has(prev.value);
  if (prev.kind === 'op') return !(prev.value === ')' || prev.value === ']' || prev.value === '}');
  return false;
}

/** Skips a regex literal starting at `/`; a newline before its end means it was a division after all. */
function skipRegex(text: string, start: number): number {
  let i = start + 1;
  let inClass = false;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\n') return start + 1;
    if (ch === '\\') i++;
    else if (ch === '[') inClass = true;
    else if (ch === ']') inClass = false;
    else if (ch === '/' && !inClass) {
      i++;
      while (i < text.length && isNamePart(text.charCodeAt(i))) i++;
      return i;
    }
    i++;
  }
  return start + 1;
}

function scanQuoted(text: string, start: number, tokens: Token[]): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\') {
      i += 2;
      continue;
    }
    if (ch === quote) {
      tokens.push(stringToken(text, start, i + 1, start + 1, i, false, false));
      return i + 1;
    }
    if (ch === '\n' || ch === '\r') break;
    i++;
  }
  const end = Math.min(i, text.length);
  tokens.push(stringToken(text, start, end, start + 1, end, false, true));
  return end;
}

/** A template literal; `${…}` makes it dynamic and is skipped with its nested braces and strings. */
function scanTemplate(text: string, start: number, tokens: Token[]): number {
  let i = start + 1;
  let dynamic = false;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\') {
      i += 2;
      continue;
    }
    if (ch === '`') {
      tokens.push(stringToken(text, start, i + 1, start + 1, i, dynamic, false));
      return i + 1;
    }
    if (ch === '$' && text[i + 1] === '{') {
      dynamic = true;
      i = skipInterpolation(text, i + 2);
      continue;
    }
    i++;
  }
  tokens.push(stringToken(text, start, text.length, start + 1, text.length, true, true));
  return text.length;
}

function skipInterpolation(text: string, from: number): number {
  let depth = 1;
  let i = from;
  while (i < text.length && depth > 0) {
    const ch = text[i];
    if (ch === '{') depth++;
    else if (ch === '}') depth--;
    else if (ch === '"' || ch === "'" || ch === '`') {
      const close = text.indexOf(ch, i + 1);
      i = close < 0 ? text.length : close;
    }
    i++;
  }
  return i;
}

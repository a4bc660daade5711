import type { ArtifactReference, ReferenceRole } from './artifactReference';
import { callArguments, endOfWord, isDigit, isSpace, matchingOpen, pickArgument, scanNumber, singleString, stringToken, token, typeArgument, type Token } from './tokens';

/** How one W&B call names an artifact: which argument (position or keywords), and what it means. */
interface CallPick {
  index?: number;
  keywords: string[];
  role: ReferenceRole;
  via: string;
  typeIndex?: number;
  /** The argument is a path `[entity/][project/]collection` to link into (`link_artifact`). */
  linkTarget?: boolean;
  /** A name other libraries use too (ZenML's `link_artifact`, MLflow's `log_model`): only where wandb is imported. */
  needsWandbImport?: boolean;
}

/** The W&B calls whose string arguments name artifacts, by the callee's name. */
const CALLS: Record<string, CallPick> = {
  use_artifact: { index: 0, keywords: ['artifact_or_name', 'artifact', 'name'], role: 'use', via: 'use_artifact' },
  use_model: { index: 0, keywords: ['name'], role: 'use', via: 'use_model', needsWandbImport: true },
  Artifact: { index: 0, keywords: ['name'], role: 'log', via: 'wandb.Artifact', typeIndex: 1 },
  log_artifact: { keywords: ['name'], role: 'log', via: 'log_artifact' },
  log_model: { index: 1, keywords: ['name'], role: 'log', via: 'log_model', needsWandbImport: true },
  link_artifact: { index: 1, keywords: ['target_path'], role: 'log', via: 'link_artifact', linkTarget: true, needsWandbImport: true },
};

/**
 * Artifact references in Python source (a file or one notebook cell, with the `wandb.Api()`
 * variables and imports of the notebook's other cells), in the W&B idioms Trove users write:
 *
 *   run.use_artifact("mnist:latest")              use   (positional, artifact_or_name=, artifact= or name=)
 *   run.use_model("mnist-cnn:v2")                 use   (also wandb.use_model; positional or name=)
 *   wandb.Api().artifact("team/proj/mnist:v2")    use   (also api.artifact(…) where api = wandb.Api())
 *   wandb.Artifact("mnist", type="dataset")       log   (positional or name=)
 *   run.log_artifact(path, name="mnist")          log   (name=)
 *   run.log_model(path, name="mnist-cnn")         log   (second positional or name=)
 *   run.link_artifact(art, "proj/collection")     log   (a collection to link into; target_path=)
 *
 * A callee is W&B's unless imports say otherwise: `comet_ml.Artifact(…)`, `from comet_ml import
 * Artifact`, `mlflow.pytorch.log_model(…)` are another library's. A call through a name bound by
 * an import from a module other than `wandb` is skipped; calls on variables (`run.…`) and names
 * that nothing imports are taken as W&B's, except the names other libraries use as well
 * (`use_model`, `log_model`, `link_artifact`), which count only where wandb is imported.
 */
export function findPythonReferences(text: string, apiVariablesElsewhere: Iterable<string> = [], importsElsewhere?: ReadonlyMap<string, string>): ArtifactReference[] {
  const tokens = scanPython(text);
  const imports = findImportBindings(tokens);
  if (importsElsewhere) for (const [name, module] of importsElsewhere) if (!imports.has(name)) imports.set(name, module);
  const apiVariables = findApiVariables(tokens, imports);
  let importsWandb = false;
  for (const module of imports.values()) if (isWandbModule(module)) importsWandb = true;
  for (const name of apiVariablesElsewhere) apiVariables.add(name);
  const out: ArtifactReference[] = [];
  for (let i = 1; i < tokens.length; i++) {
    const open = tokens[i];
    if (open.kind !== 'op' || open.value !== '(') continue;
    const callee = tokens[i - 1];
    if (callee.kind !== 'name') continue;
    let pick: CallPick | undefined;
    const name = calleeName(tokens, i - 1, imports);
    if (name === 'artifact') {
      const dotted = i >= 3 && tokens[i - 2].kind === 'op' && tokens[i - 2].value === '.';
      if (dotted && isApiReceiver(tokens, i - 3, apiVariables, imports)) pick = { index: 0, keywords: ['name'], role: 'use', via: 'Api().artifact' };
    } else if (Object.prototype.hasOwnProperty.call(CALLS, name) && !isForeignCallee(tokens, i - 1, imports)) {
      pick = CALLS[name];
      if (pick.needsWandbImport && !importsWandb) pick = undefined;
    }
    if (!pick) continue;
    const { args } = callArguments(tokens, i, '=');
    let arg;
    for (const keyword of pick.keywords) arg ??= pickArgument(args, undefined, keyword);
    const str = singleString(arg ?? pickArgument(args, pick.index, undefined));
    if (!str) continue;
    const type = singleString(pickArgument(args, pick.typeIndex, 'type'));
    out.push({
      text: str.value, start: str.contentStart, end: str.contentEnd, role: pick.role, via: pick.via,
      ...(type ? { type: typeArgument(type) } : {}), ...(pick.linkTarget ? { linkTarget: true } : {}),
    });
  }
  return out;
}

/** Whether a module path is W&B's (`wandb`, `wandb.sdk…`). */
function isWandbModule(module: string): boolean {
  return module === 'wandb' || module.startsWith('wandb.');
}

/**
 * The name a dotted call starts from (`run` in `run.use_artifact`, `comet_ml` in
 * `comet_ml.Artifact`, the callee itself when not dotted), or undefined when it starts from a
 * call or subscript (`wandb.init().use_artifact`).
 */
function chainRoot(tokens: Token[], at: number): string | undefined {
  let j = at;
  while (j >= 2 && tokens[j - 1].kind === 'op' && tokens[j - 1].value === '.') {
    if (tokens[j - 2].kind !== 'name') return undefined;
    j -= 2;
  }
  return tokens[j].value;
}

/** The callee's name, seen through an import alias (`from wandb import Artifact as WA`: `WA(…)` is `Artifact`). */
function calleeName(tokens: Token[], at: number, imports: ReadonlyMap<string, string>): string {
  const name = tokens[at].value;
  if (at >= 1 && tokens[at - 1].kind === 'op' && tokens[at - 1].value === '.') return name;
  const bound = imports.get(name);
  return bound && isWandbModule(bound) ? bound.slice(bound.lastIndexOf('.') + 1) : name;
}

/** The callee at `at` goes through a name imported from a library other than W&B. */
function isForeignCallee(tokens: Token[], at: number, imports: ReadonlyMap<string, string>): boolean {
  const root = chainRoot(tokens, at);
  if (root === undefined) return false;
  const module = imports.get(root);
  return module !== undefined && !isWandbModule(module);
}

/** `Api()` / `wandb.Api(…)` right before `.artifact`, or a variable assigned from one. */
function isApiReceiver(tokens: Token[], at: number, apiVariables: Set<string>, imports: ReadonlyMap<string, string>): boolean {
  const t = tokens[at];
  if (t.kind === 'name') return apiVariables.has(t.value);
  if (t.kind === 'op' && t.value === ')') {
    const open = matchingOpen(tokens, at);
    return open > 0 && tokens[open - 1].kind === 'name' && calleeName(tokens, open - 1, imports) === 'Api' && !isForeignCallee(tokens, open - 1, imports);
  }
  return false;
}

/** Names a piece of Python binds to `wandb.Api()`: another notebook cell's `api = wandb.Api()` counts in this one. */
export function findApiVariableNames(text: string): Set<string> {
  if (!text.includes('Api')) return new Set();
  const tokens = scanPython(text);
  return findApiVariables(tokens, findImportBindings(tokens));
}

/** What a piece of Python imports, by the name it binds (`import wandb as wb`: wb → wandb); for a notebook's other cells. */
export function findPythonImports(text: string): Map<string, string> {
  return text.includes('import') ? findImportBindings(scanPython(text)) : new Map();
}

/**
 * Names bound by imports, to the module path they stand for: `import a.b` binds `a` to `a`,
 * `import a.b as c` binds `c` to `a.b`, `from a.b import c as d` binds `d` to `a.b.c`.
 */
function findImportBindings(tokens: Token[]): Map<string, string> {
  const out = new Map<string, string>();
  const isOp = (k: number, v: string) => tokens[k]?.kind === 'op' && tokens[k].value === v;
  const isName = (k: number, v: string) => tokens[k]?.kind === 'name' && tokens[k].value === v;
  // A module path `a.b.c` (or a relative `..a`) from `from`; tokens carry no line ends, so it stops
  // where the name-dot alternation does.
  const dotted = (from: number): { path: string; next: number } => {
    let j = from;
    let path = '';
    while (isOp(j, '.')) {
      path += '.';
      j++;
    }
    if (tokens[j]?.kind === 'name' && tokens[j].value !== 'import') {
      path += tokens[j].value;
      j++;
      while (isOp(j, '.') && tokens[j + 1]?.kind === 'name') {
        path += `.${tokens[j + 1].value}`;
        j += 2;
      }
    }
    return { path, next: j };
  };
  for (let i = 0; i < tokens.length; i++) {
    if (isName(i, 'import')) {
      // import a.b [as c], d
      let j = i + 1;
      for (;;) {
        const { path, next } = dotted(j);
        if (!path) break;
        j = next;
        if (isName(j, 'as') && tokens[j + 1]?.kind === 'name') {
          out.set(tokens[j + 1].value, path);
          j += 2;
        } else {
          out.set(path.split('.')[0], path.split('.')[0]);
        }
        if (!isOp(j, ',')) break;
        j++;
      }
      i = j - 1;
    } else if (isName(i, 'from')) {
      // from a.b import c [as d], e   /   from a.b import (c, d)
      const { path, next } = dotted(i + 1);
      if (!path || !isName(next, 'import')) continue;
      let j = next + 1;
      if (isOp(j, '(')) j++;
      while (tokens[j]?.kind === 'name') {
        const name = tokens[j].value;
        j++;
        if (isName(j, 'as') && tokens[j + 1]?.kind === 'name') {
          out.set(tokens[j + 1].value, `${path}.${name}`);
          j += 2;
        } else {
          out.set(name, `${path}.${name}`);
        }
        if (!isOp(j, ',')) break;
        j++;
      }
      // The `import` of this statement is consumed here, not read as an `import a` statement.
      i = j - 1;
    }
  }
  return out;
}

/** Names bound by `x = Api(…)` or `x = wandb.Api(…)` (not another library's `Api`). */
function findApiVariables(tokens: Token[], imports: ReadonlyMap<string, string>): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + 3 < tokens.length; i++) {
    if (tokens[i].kind !== 'name' || tokens[i + 1].kind !== 'op' || tokens[i + 1].value !== '=') continue;
    let j = i + 2;
    while (j + 1 < tokens.length && tokens[j].kind === 'name' && tokens[j + 1].kind === 'op' && tokens[j + 1].value === '.') j += 2;
    if (tokens[j]?.kind === 'name' && calleeName(tokens, j, imports) === 'Api' && tokens[j + 1]?.value === '(' && !isForeignCallee(tokens, j, imports)) out.add(tokens[i].value);
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
      i = scanNumber(text, i, isNamePart, tokens);
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
  tokens.push(stringToken(text, start, end, contentStart, contentEnd, formatted && text.slice(contentStart, contentEnd).includes('{'), unterminated));
  return end;
}

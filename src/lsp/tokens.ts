/**
 * The small token model shared by the Python and TypeScript/JavaScript scanners. The scanners
 * keep only what reference finding needs: names, string literals (with where their content sits
 * in the document), and punctuation; comments and whitespace are dropped.
 */
export interface Token {
  kind: 'name' | 'string' | 'op' | 'number';
  /** Offsets of the whole token in the document. */
  start: number;
  end: number;
  /** The name, the operator, or for a string its raw content between the quotes. */
  value: string;
  /** Strings: offsets of the content between the quotes (an unterminated string runs to its line's end); -1 otherwise. */
  contentStart: number;
  contentEnd: number;
  /** Strings with interpolation (f-strings, template literals with `${}`): not a fixed reference. */
  dynamic: boolean;
  /** Strings that end at the end of their line without a closing quote (being typed). */
  unterminated: boolean;
}

/** A token with every field present, so that all tokens share one object shape (fast property access). */
export function token(kind: Token['kind'], start: number, end: number, value: string): Token {
  return { kind, start, end, value, contentStart: -1, contentEnd: -1, dynamic: false, unterminated: false };
}

/** A string literal's token: its value is the content between `contentStart` and `contentEnd`. */
export function stringToken(text: string, start: number, end: number, contentStart: number, contentEnd: number, dynamic: boolean, unterminated: boolean): Token {
  const t = token('string', start, end, text.slice(contentStart, contentEnd));
  t.contentStart = contentStart;
  t.contentEnd = contentEnd;
  t.dynamic = dynamic;
  t.unterminated = unterminated;
  return t;
}

/** Space, tab, line feed, carriage return, form feed: what both tokenisers skip. */
export function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12;
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * The end of the name (with `isNamePart`, the language's own rule) or number that starts at
 * `start`. A number runs over name characters and dots (`0x1F`, `1_000`, `3.5e8`): enough to
 * step over it, which is all the reference finders need.
 */
export function endOfWord(text: string, start: number, isNamePart: (c: number) => boolean, number: boolean): number {
  let i = start;
  while (i < text.length && (isNamePart(text.charCodeAt(i)) || (number && text.charCodeAt(i) === 46))) i++;
  return i;
}

/** Pushes the number that starts at `start` (see endOfWord); returns the offset after it. */
export function scanNumber(text: string, start: number, isNamePart: (c: number) => boolean, tokens: Token[]): number {
  const end = endOfWord(text, start, isNamePart, true);
  tokens.push(token('number', start, end, ''));
  return end;
}

/** One argument of a call: `keyword` for `name=value` (Python), and the argument's own tokens. */
export interface CallArgument {
  keyword?: string;
  tokens: Token[];
}

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);

/**
 * Splits the arguments of the call whose `(` is `tokens[open]`, up to the matching `)` (or the
 * end of the tokens, so that a call being typed still yields its arguments). Returns the index
 * after the call too, so callers can skip over it.
 */
export function callArguments(tokens: Token[], open: number, keywordOperator: '=' | null): { args: CallArgument[]; end: number } {
  const args: CallArgument[] = [];
  let current: Token[] = [];
  let depth = 0;
  let i = open + 1;
  for (; i < tokens.length; i++) {
    const t = tokens[i];
    if (depth === 0 && t.kind === 'string' && t.unterminated) {
      // A string being typed: the call cannot be parsed past it, and this is the argument being written.
      current.push(t);
      break;
    }
    if (t.kind === 'op') {
      if (OPEN.has(t.value)) depth++;
      else if (CLOSE.has(t.value)) {
        if (depth === 0) break;
        depth--;
      } else if (t.value === ',' && depth === 0) {
        args.push(toArgument(current, keywordOperator));
        current = [];
        continue;
      }
    }
    current.push(t);
  }
  if (current.length) args.push(toArgument(current, keywordOperator));
  return { args, end: i };
}

function toArgument(tokens: Token[], keywordOperator: '=' | null): CallArgument {
  if (keywordOperator && tokens.length >= 2 && tokens[0].kind === 'name' && tokens[1].kind === 'op' && tokens[1].value === keywordOperator) {
    return { keyword: tokens[0].value, tokens: tokens.slice(2) };
  }
  return { tokens };
}

/** The argument that is the `index`-th positional one or the keyword `keyword`. */
export function pickArgument(args: CallArgument[], index: number | undefined, keyword: string | undefined): CallArgument | undefined {
  if (keyword) {
    const byKeyword = args.find((a) => a.keyword === keyword);
    if (byKeyword) return byKeyword;
  }
  if (index === undefined) return undefined;
  const positional = args.filter((a) => a.keyword === undefined);
  return positional[index];
}

/** The single string literal an argument consists of, if that is what it is. */
export function singleString(arg: CallArgument | undefined): Token | undefined {
  if (!arg || arg.tokens.length !== 1) return undefined;
  const t = arg.tokens[0];
  return t.kind === 'string' && !t.dynamic ? t : undefined;
}

/** A string token as the type argument of a reference. */
export function typeArgument(t: Token): { text: string; start: number; end: number } {
  return { text: t.value, start: t.contentStart, end: t.contentEnd };
}

/** Index of the `(` that matches the `)` at `close`, scanning backwards; -1 if none. */
export function matchingOpen(tokens: Token[], close: number): number {
  let depth = 0;
  for (let i = close; i >= 0; i--) {
    const t = tokens[i];
    if (t.kind !== 'op') continue;
    if (CLOSE.has(t.value)) depth++;
    else if (OPEN.has(t.value)) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

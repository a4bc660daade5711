/**
 * Errors that reach a user. Each carries one sentence that says what is wrong and what to do;
 * faces (CLI, extension, server) print `message` and never a stack trace.
 */
export type TroveErrorCode =
  | 'usage'
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'io'
  | 'integrity'
  | 'unauthorized'
  | 'forbidden'
  | 'unavailable'
  | 'cancelled';

/** Marks Trove errors across bundles (the CLI and dist/trove-server.js each hold a copy of this class). */
const BRAND = Symbol.for('trove.TroveError');

export class TroveError extends Error {
  constructor(
    readonly code: TroveErrorCode,
    message: string,
    readonly detail?: unknown,
  ) {
    super(message);
    this.name = 'TroveError';
    (this as unknown as Record<symbol, boolean>)[BRAND] = true;
  }

  static [Symbol.hasInstance](this: Function, value: unknown): boolean {
    // Subclasses (the server's HttpError) keep the ordinary prototype check.
    if (this !== TroveError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return !!value && typeof value === 'object' && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

export const usageError = (message: string) => new TroveError('usage', message);
export const invalid = (message: string) => new TroveError('invalid', message);
export const notFound = (message: string) => new TroveError('not_found', message);
export const conflict = (message: string) => new TroveError('conflict', message);
export const integrity = (message: string) => new TroveError('integrity', message);

export function isTroveError(e: unknown): e is TroveError {
  return e instanceof TroveError;
}

/**
 * Messages echo what users typed (references, names, paths): control characters, line and
 * paragraph separators and bidirectional overrides in them are shown escaped, so a message stays
 * one line and reads as written.
 */
export function oneLine(message: string): string {
  return message.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) =>
    c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Turns any thrown value into one user-facing sentence, on one line. */
export function describeError(e: unknown): string {
  return oneLine(describe(e));
}

function describe(e: unknown): string {
  if (e instanceof TroveError) return e.message;
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && typeof err.code === 'string' && err.path) {
    switch (err.code) {
      case 'ENOENT': return `${err.path} does not exist; check the path and try again.`;
      case 'EACCES':
      case 'EPERM': return `Permission denied on ${err.path}; check its permissions.`;
      case 'ENOTDIR': return `${err.path} is not a folder.`;
      case 'ENOSPC': return `No space left on the device holding ${err.path}; free some space and retry.`;
    }
  }
  if (err && typeof err === 'object' && (err.code === 'ENOSPC' || err.code === 'EDQUOT')) return 'No space left on the device being written (or the disk quota is used up); free some space and retry.';
  if (err && typeof err === 'object' && err.name === 'AbortError') return 'Cancelled.';
  return `Unexpected error: ${err && err.message ? err.message : String(e)}`;
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new TroveError('cancelled', 'Cancelled.');
}

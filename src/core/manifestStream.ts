/**
 * Manifests too large to hold as one object or one string: a stream of entries in path order,
 * checked, hashed and counted as they pass, and the line format in which the embedded store and
 * the HTTP API carry them (src/store/FORMAT.md, src/server/API.md).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { invalid } from './errors';
import { byUtf8, isDigest, validateManifestPath } from './manifest';
import type { ManifestFile } from './types';

export type { ManifestFile, ManifestPage } from './types';

/** Entries a streamed manifest is checked and stored in (one pack index, one SQL insert, one HTTP page). */
export const MANIFEST_BATCH = 5000;

/** A stored file's entry {path, digest, size}, checked. */
function checkedEntry(pathIn: string, digest: string, size: number): ManifestFile {
  const path = validateManifestPath(pathIn);
  if (!Number.isSafeInteger(size) || size < 0) throw invalid(`Manifest entry "${path}" has an invalid size.`);
  if (!isDigest(digest)) throw invalid(`Manifest entry "${path}" needs a SHA-256 digest (64 lowercase hex characters).`);
  return { path, digest, size };
}

/** Checks one entry that came from a client or a file; returns it with only the known fields. */
export function checkManifestFile(raw: unknown): ManifestFile {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('A manifest entry must be an object {path, digest, size}.');
  const e = raw as Partial<ManifestFile>;
  if (e.ref === undefined) return checkedEntry(e.path as string, e.digest as string, e.size as number);
  const path = validateManifestPath(e.path as string);
  if (!Number.isSafeInteger(e.size) || (e.size as number) < 0) throw invalid(`Manifest entry "${path}" has an invalid size.`);
  const out: ManifestFile = { path, digest: e.digest as string, size: e.size as number };
  if (typeof e.ref !== 'string' || !/^(file|https?|s3):\/\//.test(e.ref)) throw invalid(`Manifest entry "${path}" has an unsupported reference URI.`);
  if (typeof e.digest !== 'string' || e.digest.length === 0 || e.digest.length > 200) throw invalid(`Manifest entry "${path}" needs a checksum.`);
  out.ref = e.ref;
  if (typeof e.etag === 'string') out.etag = e.etag;
  if (typeof e.versionId === 'string') out.versionId = e.versionId;
  return out;
}

/**
 * The artifact digest, file count and size of a manifest that passes by in path order (UTF-8
 * bytes): the same digest as artifactDigest, without holding the manifest. A path out of order
 * or repeated is refused.
 */
export class ManifestTally {
  files = 0;
  size = 0;
  private last: string | undefined;
  private readonly hash = createHash('sha256');
  private text = '';

  add(f: ManifestFile): void {
    if (this.last !== undefined) {
      const order = byUtf8(this.last, f.path);
      if (order === 0) throw invalid(`The manifest names "${f.path}" twice.`);
      if (order > 0) throw invalid(`The manifest is not in path order: "${f.path}" comes after "${this.last}".`);
    }
    this.last = f.path;
    this.files++;
    this.size += f.size;
    this.text += `${f.path}\t${f.digest}\t${f.size}\n`;
    if (this.text.length >= 65536) {
      this.hash.update(this.text, 'utf8');
      this.text = '';
    }
  }

  digest(): string {
    return this.hash.update(this.text, 'utf8').digest('hex');
  }
}

/**
 * One entry as a line of a manifest file: `<path> TAB <digest> TAB <size>`, and for external
 * references a fourth field, the JSON object `{ref, etag?, versionId?}`. Paths hold no TAB or LF
 * (validateManifestPath), so a file of plain entries is exactly the text the artifact digest hashes.
 */
export function manifestLine(f: ManifestFile): string {
  if (f.ref === undefined) return `${f.path}\t${f.digest}\t${f.size}\n`;
  const extra: Record<string, string> = { ref: f.ref };
  if (f.etag !== undefined) extra.etag = f.etag;
  if (f.versionId !== undefined) extra.versionId = f.versionId;
  return `${f.path}\t${f.digest}\t${f.size}\t${JSON.stringify(extra)}\n`;
}

export function parseManifestLine(line: string): ManifestFile {
  const t1 = line.indexOf('\t');
  const t2 = line.indexOf('\t', t1 + 1);
  const t3 = line.indexOf('\t', t2 + 1);
  if (t1 < 0 || t2 < 0) throw invalid(`A manifest line is damaged: "${line.slice(0, 80)}".`);
  const f: ManifestFile = { path: line.slice(0, t1), digest: line.slice(t1 + 1, t2), size: Number(t3 < 0 ? line.slice(t2 + 1) : line.slice(t2 + 1, t3)) };
  if (t3 >= 0) {
    const extra = JSON.parse(line.slice(t3 + 1)) as { ref: string; etag?: string; versionId?: string };
    f.ref = extra.ref;
    if (extra.etag !== undefined) f.etag = extra.etag;
    if (extra.versionId !== undefined) f.versionId = extra.versionId;
  }
  return f;
}

/**
 * Lines of a UTF-8 text stream, a bounded piece at a time, each with the byte offset just past
 * it (where the next line starts).
 */
export async function* linesOf(chunks: AsyncIterable<Buffer | string>, startOffset = 0): AsyncGenerator<{ line: string; end: number }> {
  let rest: Buffer = Buffer.alloc(0);
  let offset = startOffset;
  for await (const chunk of chunks) {
    const buf: Buffer = rest.length ? Buffer.concat([rest, Buffer.from(chunk)]) : Buffer.from(chunk);
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
      offset += nl + 1 - start;
      yield { line: buf.toString('utf8', start, nl), end: offset };
      start = nl + 1;
    }
    rest = buf.subarray(start);
  }
  if (rest.length) {
    offset += rest.length;
    yield { line: rest.toString('utf8'), end: offset };
  }
}

/** Lines of a file from a byte offset. */
export function fileLines(file: string, startOffset = 0): AsyncGenerator<{ line: string; end: number }> {
  return linesOf(createReadStream(file, { start: startOffset, highWaterMark: 1 << 20 }), startOffset);
}

/**
 * Two streams in path order (UTF-8 bytes) walked side by side: each path once, with the item of
 * each side that holds it (undefined on the side that does not). What two manifests, or a
 * manifest and a folder's scan, differ by, without holding either.
 */
export async function* zipByPath<A extends { path: string }, B extends { path: string }>(left: AsyncIterable<A>, right: AsyncIterable<B>): AsyncGenerator<[A | undefined, B | undefined]> {
  const l = left[Symbol.asyncIterator]();
  const r = right[Symbol.asyncIterator]();
  let x = await l.next();
  let y = await r.next();
  while (!x.done || !y.done) {
    const order = x.done ? 1 : y.done ? -1 : byUtf8(x.value.path, y.value.path);
    yield [order <= 0 ? (x.value as A) : undefined, order >= 0 ? (y.value as B) : undefined];
    if (order <= 0) x = await l.next();
    if (order >= 0) y = await r.next();
  }
}

/**
 * zipByPath over two streams of batches (manifest pages), a batch of pairs at a time: an await
 * per batch, not per item, and the next batch of each side asked for as soon as this one is
 * taken, so both sides are read while the walk goes on.
 */
export async function* zipBatchesByPath<A extends { path: string }, B extends { path: string }>(left: AsyncGenerator<A[]>, right: AsyncGenerator<B[]>): AsyncGenerator<[A | undefined, B | undefined][]> {
  const l = readAhead(left);
  const r = readAhead(right);
  try {
    let xs = await l.next();
    let ys = await r.next();
    let i = 0;
    let j = 0;
    while (xs || ys) {
      const pairs: [A | undefined, B | undefined][] = [];
      while ((!xs || i < xs.length) && (!ys || j < ys.length) && (xs || ys)) {
        const x = xs?.[i];
        const y = ys?.[j];
        const order = !x ? 1 : !y ? -1 : byUtf8(x.path, y.path);
        pairs.push([order <= 0 ? x : undefined, order >= 0 ? y : undefined]);
        if (order <= 0) i++;
        if (order >= 0) j++;
      }
      if (pairs.length) yield pairs;
      if (xs && i >= xs.length) {
        xs = await l.next();
        i = 0;
      }
      if (ys && j >= ys.length) {
        ys = await r.next();
        j = 0;
      }
    }
  } finally {
    l.stop();
    r.stop();
  }
}

/** A generator's items, each asked for as soon as the one before it is taken. `next()` resolves to undefined at the end. */
function readAhead<T>(gen: AsyncGenerator<T>): { next(): Promise<T | undefined>; stop(): void } {
  const ask = () => {
    const p = gen.next();
    p.catch(() => undefined); // awaited by next(); not an unhandled rejection when the walk stopped first
    return p;
  };
  let ahead = ask();
  let done = false;
  return {
    async next() {
      if (done) return undefined;
      const res = await ahead;
      if (res.done) {
        done = true;
        return undefined;
      }
      ahead = ask();
      return res.value;
    },
    stop() {
      if (done) return;
      done = true;
      // Queued after the pending read (an async generator takes its requests in order).
      gen.return(undefined).catch(() => undefined);
    },
  };
}

/** The items of a stream of batches, one at a time. */
export async function* flatten<T>(batches: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const batch of batches) yield* batch;
}

/**
 * Up to `limit` entries of a manifest file from byte `offset`, each checked as checkManifestFile
 * does: `next` is the offset just past the last one, `atEnd` whether the file ends there. One or
 * two positional reads and one pass over the bytes (the common line, `path\tdigest\tsize`, is
 * parsed without a string per line): a page of a million-file manifest costs an await or two, not
 * an await per file.
 */
export async function readManifestEntries(file: string, offset: number, limit: number): Promise<{ files: ManifestFile[]; next: number; atEnd: boolean }> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const files: ManifestFile[] = [];
    let next = offset;
    let rest: Buffer | undefined;
    // Manifest lines are about 100 bytes; a longer line takes another read.
    let want = Math.min(1 << 20, Math.max(64 << 10, limit * 128));
    while (files.length < limit && next + (rest?.length ?? 0) < size) {
      const pos = next + (rest?.length ?? 0);
      const chunk = Buffer.allocUnsafe(Math.min(want, size - pos));
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, pos);
      if (bytesRead === 0) break;
      const buf = rest?.length ? Buffer.concat([rest, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl >= 0 && files.length < limit; nl = buf.indexOf(10, start)) {
        if (nl > start) files.push(entryOfLine(buf, start, nl));
        next += nl + 1 - start;
        start = nl + 1;
      }
      rest = buf.subarray(start);
      want *= 2;
    }
    // The last line may have no newline.
    if (files.length < limit && rest?.length && next + rest.length >= size) {
      files.push(entryOfLine(rest, 0, rest.length));
      next += rest.length;
    }
    return { files, next, atEnd: next >= size };
  } finally {
    await fh.close();
  }
}

/** The checked entry of the manifest line in bytes `start` to `end` of `buf`. */
function entryOfLine(buf: Buffer, start: number, end: number): ManifestFile {
  const t1 = buf.indexOf(9, start);
  const t2 = t1 < 0 || t1 >= end ? -1 : buf.indexOf(9, t1 + 1);
  let size = 0;
  let digits = t2 >= 0 && t2 < end && end - t2 - 1 <= 15 ? end - t2 - 1 : 0;
  for (let i = t2 + 1; digits > 0 && i < end; i++) {
    const c = buf[i];
    if (c < 48 || c > 57) digits = 0; // not only digits (a reference's JSON follows, or damage): the general path
    else size = size * 10 + (c - 48);
  }
  if (digits === 0) return checkManifestFile(parseManifestLine(buf.toString('utf8', start, end)));
  // A digest is ASCII; any other byte reads as a non-hex character and is refused.
  return checkedEntry(buf.toString('utf8', start, t1), buf.toString('latin1', t1 + 1, t2), size);
}

/** Groups a stream of items into arrays of up to `size`. */
export async function* batches<T>(items: AsyncIterable<T>, size = MANIFEST_BATCH): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/** A manifest written to a temporary file as it streams in: checked, in order, counted and hashed. */
export interface SpooledManifest {
  file: string;
  digest: string;
  files: number;
  size: number;
}

/** Writes a stream of manifest batches to `file` in the manifest line format; refuses bad or unordered entries. */
export async function spoolManifest(files: AsyncIterable<unknown[]>, file: string): Promise<SpooledManifest> {
  const tally = new ManifestTally();
  const out = await open(file, 'wx');
  try {
    for await (const batch of files) {
      let text = '';
      for (const raw of batch) {
        const f = checkManifestFile(raw);
        tally.add(f);
        text += manifestLine(f);
      }
      await out.write(text);
    }
  } finally {
    await out.close();
  }
  return { file, digest: tally.digest(), files: tally.files, size: tally.size };
}

/** The entries of a spooled manifest (or a manifest file) in batches. */
export async function* spooledBatches(file: string, size = MANIFEST_BATCH): AsyncGenerator<ManifestFile[]> {
  async function* entries(): AsyncGenerator<ManifestFile> {
    for await (const { line } of fileLines(file)) if (line) yield parseManifestLine(line);
  }
  yield* batches(entries(), size);
}

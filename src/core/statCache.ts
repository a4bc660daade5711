import { createReadStream, createWriteStream, mkdirSync, renameSync, unlinkSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { dirname } from 'node:path';
import { byUtf8, isDigest } from './manifest';

/**
 * Remembers the digest of files already hashed, checked against size, mtime and inode, like
 * git's index. An entry whose mtime is not clearly older than the moment the cache was written
 * is "racily clean" (the file may have changed within the same clock tick) and is hashed again.
 *
 * The cache is a text file read and written as a stream, in the order files are logged (by path,
 * UTF-8 bytes), so a million files never sit in memory: line 1 is `{"format":3,"writtenAtMs":N}`,
 * then one line per file `<path> TAB <size> TAB <mtimeMs> TAB <ino> TAB <digest> TAB <absolute
 * path as a JSON string>`. Lookups walk it alongside the scan; a re-log that finds every file
 * unchanged leaves the file as it is.
 */
export interface StatKey {
  size: number;
  /** Milliseconds with a sub-microsecond fraction (fs.Stats.mtimeMs). */
  mtimeMs: number;
  ino: number;
}

/**
 * File times come from the kernel's coarse clock (a tick of up to 10 ms), so a file rewritten
 * within one tick of being hashed keeps its mtime; entries that close to the save are re-hashed.
 */
const RACY_MARGIN_MS = 50;

interface Line {
  path: string;
  text: string;
  end: number;
}

type Hit = { digest: string; end: number };

export class StatCache {
  /** The old cache file's chunks (1 MiB each), read only as lookups walk past them. */
  private chunks?: AsyncIterator<Buffer>;
  private buf: Buffer = Buffer.alloc(0);
  /** Where the next line starts in `buf`, and the file offset of `buf[0]`. */
  private pos = 0;
  private bufStart = 0;
  private eof = false;
  /** The old cache's line under the walk; undefined: not read yet (the one before was taken); null: the end. */
  private current?: Line | null;
  private writtenAtMs = 0;
  private headerEnd = 0;
  /** Byte offset in the old file up to which the new cache would be identical. */
  private matchedEnd = 0;
  private out?: WriteStream;
  private pending = '';
  private readonly startedAtMs = Date.now();

  private constructor(private readonly file: string, private readonly readOnly: boolean) {}

  /**
   * Opens the cache of one artifact; a missing or unreadable cache means every file is hashed.
   * A read-only cache answers lookups and never writes (remember and save do nothing).
   */
  static async open(file: string, options: { readOnly?: boolean } = {}): Promise<StatCache> {
    const cache = new StatCache(file, !!options.readOnly);
    const stream = createReadStream(file, { highWaterMark: 1 << 20 });
    try {
      cache.chunks = stream[Symbol.asyncIterator]();
      await cache.advance();
      const first = cache.current;
      const header = first ? (JSON.parse(first.text) as { format?: number; writtenAtMs?: number }) : undefined;
      if (first && header?.format === 3 && typeof header.writtenAtMs === 'number') {
        cache.writtenAtMs = header.writtenAtMs;
        cache.headerEnd = cache.matchedEnd = first.end;
        cache.current = undefined;
        return cache;
      }
    } catch {
      // No cache yet, or an unreadable one: every file is hashed, which is always correct.
    }
    stream.destroy();
    return new StatCache(file, !!options.readOnly);
  }

  /**
   * Reads the next line of the old cache into `current`: without a promise while the chunk in
   * hand holds it (lines are about 300 bytes, a chunk is 1 MiB), so a walk over ten thousand
   * unchanged files costs a few awaits, not several per file.
   */
  private advance(): void | Promise<void> {
    const nl = this.buf.indexOf(10, this.pos);
    if (nl >= 0) return this.take(nl, nl + 1);
    if (this.eof || !this.chunks) {
      if (this.pos < this.buf.length) return this.take(this.buf.length, this.buf.length); // a last line without a newline
      this.current = null;
      return;
    }
    return this.chunks.next().then((r) => {
      if (r.done) this.eof = true;
      else {
        const rest = this.buf.subarray(this.pos);
        this.bufStart += this.pos;
        this.buf = rest.length ? Buffer.concat([rest, r.value]) : r.value;
        this.pos = 0;
      }
      return this.advance();
    });
  }

  private take(lineEnd: number, next: number): void {
    const text = this.buf.toString('utf8', this.pos, lineEnd);
    this.current = { path: text.slice(0, text.indexOf('\t')), text, end: this.bufStart + next };
    this.pos = next;
  }

  /**
   * The digest remembered for `path` when its file is unchanged. Calls must come in path order
   * (UTF-8 bytes), each path once, and each must be followed by `remember` for the same file.
   * Answers without a promise unless the old cache must be read further.
   */
  lookup(path: string, absPath: string, key: StatKey): Hit | undefined | Promise<Hit | undefined> {
    while (this.current === undefined || (this.current && byUtf8(this.current.path, path) < 0)) {
      if (this.current) this.diverge(); // a file gone since the last log
      const reading = this.advance();
      if (reading) return reading.then(() => this.lookup(path, absPath, key));
    }
    if (!this.current || this.current.path !== path) return undefined;
    const { text, end } = this.current;
    this.current = undefined; // taken; the next line is read by the next lookup (or save)
    // `<path> TAB <size> TAB <mtimeMs> TAB <ino> TAB <digest> TAB <absolute path as JSON>`
    const t1 = text.indexOf('\t', path.length);
    const t2 = text.indexOf('\t', t1 + 1);
    const t3 = t2 < 0 ? -1 : text.indexOf('\t', t2 + 1);
    const t4 = t3 < 0 ? -1 : text.indexOf('\t', t3 + 1);
    const t5 = t4 < 0 ? -1 : text.indexOf('\t', t4 + 1);
    if (t5 < 0) return undefined; // a damaged line: the file is hashed again
    const t6 = text.indexOf('\t', t5 + 1);
    if (Number(text.slice(t1 + 1, t2)) !== key.size || Number(text.slice(t2 + 1, t3)) !== key.mtimeMs || Number(text.slice(t3 + 1, t4)) !== key.ino) return undefined;
    if (text.slice(t5 + 1, t6 < 0 ? undefined : t6) !== JSON.stringify(absPath)) return undefined;
    if (key.mtimeMs + RACY_MARGIN_MS >= this.writtenAtMs) return undefined;
    const digest = text.slice(t4 + 1, t5);
    if (!isDigest(digest)) return undefined; // a damaged line: the file is hashed again
    // A copy of the digest, not a slice of the line: a slice would keep the whole line (with its
    // absolute path, about 300 bytes) alive for as long as the digest lives in a window of the log.
    return { digest: Buffer.from(digest, 'hex').toString('hex'), end };
  }

  /**
   * Records a file's digest, in path order; `hit` is what lookup answered for it, when it
   * answered. Lookups may run ahead of remember (a batch is looked up, stored, then remembered).
   */
  remember(path: string, absPath: string, key: StatKey, digest: string, hit?: { end: number }): void {
    if (hit && !this.out) {
      this.matchedEnd = hit.end; // still identical to the old file up to here
      return;
    }
    this.diverge();
    this.pending += `${path}\t${key.size}\t${key.mtimeMs}\t${key.ino}\t${digest}\t${JSON.stringify(absPath)}\n`;
    if (this.pending.length >= 1 << 16) this.flushPending();
  }

  /** From the first difference on, the new cache is written out (after what matched of the old one). */
  private diverge(): void {
    if (this.out || this.readOnly) return;
    mkdirSync(dirname(this.file), { recursive: true });
    this.out = createWriteStream(this.tmp());
    this.out.write(JSON.stringify({ format: 3, writtenAtMs: this.startedAtMs }) + '\n');
    if (this.matchedEnd > this.headerEnd) {
      // The unchanged beginning of the old cache, copied as it is (its entries' times are older still).
      this.copying = new Promise<void>((resolve, reject) => {
        createReadStream(this.file, { start: this.headerEnd, end: this.matchedEnd - 1 })
          .on('error', reject)
          .on('end', resolve)
          .pipe(this.out!, { end: false });
      });
    }
  }

  private copying?: Promise<void>;

  private flushPending(): void {
    if (!this.pending || !this.out) return;
    const text = this.pending;
    this.pending = '';
    const write = () => this.out!.write(text);
    this.writes = (this.writes ?? Promise.resolve()).then(async () => {
      await this.copying;
      if (!write()) await once(this.out!, 'drain');
    });
  }

  private writes?: Promise<void>;

  /** Waits until what was remembered so far is written: callers remember a batch, then drain, so no more than a batch waits in memory. */
  async drain(): Promise<void> {
    this.flushPending();
    await this.copying;
    await this.writes;
  }

  private tmp(): string {
    return `${this.file}.${process.pid}.tmp`;
  }

  /** Writes the cache when anything differed (temp file + rename); an unchanged cache is left alone. */
  async save(): Promise<void> {
    if (this.current === undefined && this.chunks) await this.advance();
    if (this.current) this.diverge(); // files gone since the last log
    await this.chunks?.return?.();
    if (!this.out) return;
    this.flushPending();
    await this.copying;
    await this.writes;
    this.out.end();
    await once(this.out, 'finish');
    renameSync(this.tmp(), this.file);
    // The whole-JSON cache of before format 3 (`<name>.json` beside it) is never read again.
    if (this.file.endsWith('.stat')) {
      try {
        unlinkSync(`${this.file.slice(0, -'.stat'.length)}.json`);
      } catch {
        // none left
      }
    }
  }

  /** Drops a half-written new cache (the old one stays). */
  async discard(): Promise<void> {
    await this.chunks?.return?.();
    if (!this.out) return;
    this.out.destroy();
    try {
      unlinkSync(this.tmp());
    } catch {
      // not created yet
    }
  }
}

import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { integrity } from '../core/errors';
import { writeFileAtomicSync } from './atomic';
import { BlobIndex } from './blobIndex';

/** Where a small blob lives inside a pack file. */
export interface PackedBlob {
  pack: string;
  offset: number;
  size: number;
}

/** `packs/<id>.idx`: written after its pack is complete; its rename makes the pack's blobs exist. */
interface PackIndexFile {
  format: 1;
  blobs: Record<string, [offset: number, size: number]>;
}

const ROLL_OVER = 256 << 20;
/** Bytes read at once when a pack is being read in order (a download: packs are written in path order). */
const READ_AHEAD = 2 << 20;
/** A read starting at most this far past the previous one still counts as reading in order. */
const SEQUENTIAL_GAP = 64 << 10;
const FLUSH_AT = 4 << 20;

/**
 * Small blobs live in pack files: one file per log instead of one per blob, because creating
 * files dominates the cost of logging many small files on common filesystems (restic and git
 * pack for the same reason). A pack is immutable; its index is written last.
 */
export class PackSet {
  private readonly byDigest = new BlobIndex();
  /** Pack ids by number (the index stores numbers) and numbers by id. */
  private readonly ids: string[] = [];
  private readonly numbers = new Map<string, number>();
  private readonly loaded = new Set<string>();
  private dirMtime = -1;
  private lastRefresh = 0;
  private readonly fds = new Map<string, number>();
  /** The last read: where it ended, and the bytes read ahead of it when reading in order. */
  private last?: { pack: string; end: number; ahead?: { offset: number; data: Buffer } };

  constructor(private readonly dir: string, private readonly tmpDir: string) {}

  /** Reads indexes of packs written since the last look (by this or another process). */
  refresh(force = false): void {
    const now = Date.now();
    if (!force && now - this.lastRefresh < 50) return;
    this.lastRefresh = now;
    const st = statSync(this.dir, { throwIfNoEntry: false });
    if (!st) return;
    // The directory's mtime comes from a coarse clock: look again while it is recent.
    if (!force && st.mtimeMs === this.dirMtime && now - st.mtimeMs > 100) return;
    this.dirMtime = st.mtimeMs;
    const present = new Set<string>();
    for (const file of readdirSync(this.dir)) {
      if (!file.endsWith('.idx')) continue;
      const id = file.slice(0, -4);
      present.add(id);
      if (this.loaded.has(id)) continue;
      let index: PackIndexFile;
      try {
        index = JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as PackIndexFile;
      } catch {
        continue; // removed by gc meanwhile
      }
      this.add(id, index.blobs);
    }
    const gone = new Set<number>();
    for (const id of [...this.loaded]) {
      if (present.has(id)) continue;
      this.loaded.delete(id);
      gone.add(this.numbers.get(id)!);
    }
    if (gone.size) this.byDigest.removePacks(gone);
  }

  private add(id: string, blobs: Record<string, [number, number]>): void {
    let n = this.numbers.get(id);
    if (n === undefined) {
      n = this.ids.push(id) - 1;
      this.numbers.set(id, n);
    }
    for (const digest in blobs) {
      const [offset, size] = blobs[digest];
      this.byDigest.set(digest, n, offset, size);
    }
    this.loaded.add(id);
  }

  private find(digest: string): PackedBlob | undefined {
    const hit = this.byDigest.get(digest);
    return hit && { pack: this.ids[hit.pack], offset: hit.offset, size: hit.size };
  }

  /** The blob's place (with the given size, when one is given). */
  lookup(digest: string, size: number | undefined, refreshOnMiss: boolean): PackedBlob | undefined {
    let where = this.find(digest);
    if (!where && refreshOnMiss) {
      this.refresh();
      where = this.find(digest);
    }
    return where && (size === undefined || where.size === size) ? where : undefined;
  }

  /** Whether pack `id` has its index (its blobs exist). */
  indexed(id: string): boolean {
    return existsSync(join(this.dir, `${id}.idx`));
  }

  /** The file holding pack `id`. */
  packPath(id: string): string {
    return join(this.dir, `${id}.pack`);
  }

  /** The blob's bytes; follows a pack that gc rewrote meanwhile. */
  read(digest: string, where: PackedBlob): Buffer {
    try {
      return this.readFrom(where);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      this.refresh(true);
      const moved = this.find(digest);
      if (!moved || moved.pack === where.pack) {
        throw integrity(`The pack file ${this.packPath(where.pack)} is missing although its index lists it: the store is damaged; run \`trove verify\` on the versions you need and log their files again.`);
      }
      return this.readFrom(moved);
    }
  }

  /**
   * Reads a blob. Once reads follow each other through a pack, it reads ahead, so that a
   * download of many small files costs a few large reads, not one per file; random reads (a
   * server answering one blob) read only what they need.
   */
  private readFrom(where: PackedBlob): Buffer {
    const last = this.last;
    const ahead = last?.pack === where.pack ? last.ahead : undefined;
    if (ahead && where.offset >= ahead.offset && where.offset + where.size <= ahead.offset + ahead.data.length) {
      last!.end = where.offset + where.size;
      return ahead.data.subarray(where.offset - ahead.offset, where.offset - ahead.offset + where.size);
    }
    let fd = this.fds.get(where.pack);
    if (fd === undefined) {
      fd = openSync(join(this.dir, `${where.pack}.pack`), 'r');
      this.fds.set(where.pack, fd);
    }
    const inOrder = last?.pack === where.pack && where.offset >= last.end && where.offset - last.end <= SEQUENTIAL_GAP;
    const buf = Buffer.allocUnsafe(inOrder ? Math.max(where.size, READ_AHEAD) : where.size);
    let done = 0;
    while (done < where.size) {
      const n = readSync(fd, buf, done, buf.length - done, where.offset + done);
      if (n === 0) throw new Error(`pack ${where.pack} is shorter than its index says`);
      done += n;
    }
    this.last = { pack: where.pack, end: where.offset + where.size, ...(inOrder ? { ahead: { offset: where.offset, data: buf.subarray(0, done) } } : {}) };
    return inOrder ? buf.subarray(0, where.size) : buf;
  }

  /** Index files with their blobs, for gc. */
  packs(): { id: string; mtimeMs: number; blobs: Record<string, [number, number]> }[] {
    const out = [];
    for (const file of existsSync(this.dir) ? readdirSync(this.dir) : []) {
      if (!file.endsWith('.idx')) continue;
      try {
        const path = join(this.dir, file);
        out.push({ id: file.slice(0, -4), mtimeMs: statSync(path).mtimeMs, blobs: (JSON.parse(readFileSync(path, 'utf8')) as PackIndexFile).blobs });
      } catch {
        // removed meanwhile
      }
    }
    return out;
  }

  /** Deletes a pack: its index first (the blobs stop existing), then its data. */
  remove(id: string): void {
    try { unlinkSync(join(this.dir, `${id}.idx`)); } catch { /* gone */ }
    try { unlinkSync(join(this.dir, `${id}.pack`)); } catch { /* gone */ }
    const fd = this.fds.get(id);
    if (fd !== undefined) closeSync(fd);
    this.fds.delete(id);
    if (this.last?.pack === id) this.last = undefined;
    if (this.loaded.delete(id)) this.byDigest.removePacks(new Set([this.numbers.get(id)!]));
  }

  /** Pack files with no index: leftovers of a killed writer once they are old. */
  orphans(): { id: string; mtimeMs: number; size: number }[] {
    if (!existsSync(this.dir)) return [];
    const names = new Set(readdirSync(this.dir));
    return [...names].filter((f) => f.endsWith('.pack') && !names.has(f.slice(0, -5) + '.idx'))
      .map((f) => ({ id: f.slice(0, -5), ...statSync(join(this.dir, f)) })).map((s) => ({ id: s.id, mtimeMs: s.mtimeMs, size: s.size }));
  }

  writer(): PackWriter {
    return new PackWriter(this.dir, this.tmpDir, (id, blobs) => this.add(id, blobs));
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
    this.last = undefined;
  }
}

/** Appends blobs to a new pack in `tmp/`; `finish` moves it into `packs/` and writes its index. */
export class PackWriter {
  private fd?: number;
  private id = '';
  private offset = 0;
  private blobs: Record<string, [number, number]> = {};
  /** Blobs not yet written: one write per few MiB instead of one per blob. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Ids of the packs this writer has finished (a writer rolls over to a new pack at 256 MiB). */
  readonly finished: string[] = [];

  constructor(private readonly dir: string, private readonly tmpDir: string, private readonly onCommit: (id: string, blobs: Record<string, [number, number]>) => void) {}

  has(digest: string): boolean {
    return digest in this.blobs;
  }

  add(digest: string, data: Buffer): void {
    if (this.fd === undefined) {
      this.id = `${Date.now().toString(36)}-${process.pid}-${randomBytes(4).toString('hex')}`;
      this.fd = openSync(join(this.tmpDir, `${this.id}.pack`), 'wx');
      this.offset = 0;
      this.blobs = {};
    }
    this.pending.push(data);
    this.pendingBytes += data.length;
    this.blobs[digest] = [this.offset, data.length];
    this.offset += data.length;
    if (this.pendingBytes >= FLUSH_AT) this.flush();
    if (this.offset >= ROLL_OVER) this.finish();
  }

  private flush(): void {
    if (!this.pendingBytes || this.fd === undefined) return;
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    let done = 0;
    try {
      while (done < data.length) done += writeSync(this.fd, data, done, data.length - done);
    } catch (e) {
      throw Object.assign(e as Error, { path: join(this.tmpDir, `${this.id}.pack`) });
    }
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Makes the blobs written so far exist: pack renamed into place, then its index. */
  finish(): void {
    if (this.fd === undefined) return;
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
    mkdirSync(this.dir, { recursive: true });
    renameSync(join(this.tmpDir, `${this.id}.pack`), join(this.dir, `${this.id}.pack`));
    const index: PackIndexFile = { format: 1, blobs: this.blobs };
    writeFileAtomicSync(join(this.dir, `${this.id}.idx`), JSON.stringify(index));
    this.finished.push(this.id);
    this.onCommit(this.id, this.blobs);
  }

  /** Drops an unfinished pack (cancelled or failed log). */
  abort(): void {
    if (this.fd === undefined) return;
    this.pending = [];
    this.pendingBytes = 0;
    closeSync(this.fd);
    this.fd = undefined;
    try { unlinkSync(join(this.tmpDir, `${this.id}.pack`)); } catch { /* gone */ }
  }
}

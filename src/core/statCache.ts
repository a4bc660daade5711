import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Remembers the digest of files already hashed, keyed by absolute path and checked against
 * size, mtime (ns) and inode, like git's index. An entry whose mtime is not older than the
 * moment the cache was written is "racily clean" (the file may have changed within the same
 * clock tick) and is hashed again.
 */
export interface StatKey {
  size: number;
  mtimeNs: bigint;
  ino: bigint;
}

interface CacheFile {
  format: 1;
  writtenAtNs: string;
  entries: Record<string, [size: number, mtimeNs: string, ino: string, digest: string]>;
}

export class StatCache {
  private entries: CacheFile['entries'] = {};
  private writtenAtNs = 0n;
  private dirty = false;

  private constructor(private readonly file: string) {}

  static load(file: string): StatCache {
    const cache = new StatCache(file);
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
      if (parsed.format === 1 && parsed.entries) {
        cache.entries = parsed.entries;
        cache.writtenAtNs = BigInt(parsed.writtenAtNs);
      }
    } catch {
      // No cache yet, or an unreadable one: every file is hashed, which is always correct.
    }
    return cache;
  }

  lookup(absPath: string, key: StatKey): string | undefined {
    const e = this.entries[absPath];
    if (!e) return undefined;
    if (e[0] !== key.size || e[1] !== String(key.mtimeNs) || e[2] !== String(key.ino)) return undefined;
    if (key.mtimeNs >= this.writtenAtNs) return undefined;
    return e[3];
  }

  remember(absPath: string, key: StatKey, digest: string): void {
    const e = this.entries[absPath];
    const mtime = String(key.mtimeNs);
    const ino = String(key.ino);
    if (e && e[0] === key.size && e[1] === mtime && e[2] === ino && e[3] === digest) return;
    this.entries[absPath] = [key.size, mtime, ino, digest];
    this.dirty = true;
  }

  /** Writes the cache (temp file + rename); racily clean entries are rewritten with the new time. */
  save(): void {
    const now = BigInt(Date.now()) * 1_000_000n;
    if (!this.dirty && now - this.writtenAtNs < 1_000_000_000n) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const body: CacheFile = { format: 1, writtenAtNs: String(now), entries: this.entries };
    writeFileSync(tmp, JSON.stringify(body));
    renameSync(tmp, this.file);
    this.dirty = false;
  }
}

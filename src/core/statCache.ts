import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Remembers the digest of files already hashed, keyed by absolute path and checked against
 * size, mtime and inode, like git's index. An entry whose mtime is not clearly older than the
 * moment the cache was written is "racily clean" (the file may have changed within the same
 * clock tick) and is hashed again.
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

interface CacheFile {
  format: 2;
  writtenAtMs: number;
  entries: Record<string, [size: number, mtimeMs: number, ino: number, digest: string]>;
}

export class StatCache {
  private entries: CacheFile['entries'] = {};
  private writtenAtMs = 0;
  private dirty = false;

  private constructor(private readonly file: string) {}

  static load(file: string): StatCache {
    const cache = new StatCache(file);
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
      if (parsed.format === 2 && parsed.entries) {
        cache.entries = parsed.entries;
        cache.writtenAtMs = parsed.writtenAtMs;
      }
    } catch {
      // No cache yet, or an unreadable one: every file is hashed, which is always correct.
    }
    return cache;
  }

  lookup(absPath: string, key: StatKey): string | undefined {
    const e = this.entries[absPath];
    if (!e) return undefined;
    if (e[0] !== key.size || e[1] !== key.mtimeMs || e[2] !== key.ino) return undefined;
    if (key.mtimeMs + RACY_MARGIN_MS >= this.writtenAtMs) return undefined;
    return e[3];
  }

  remember(absPath: string, key: StatKey, digest: string): void {
    const e = this.entries[absPath];
    if (e && e[0] === key.size && e[1] === key.mtimeMs && e[2] === key.ino && e[3] === digest) return;
    this.entries[absPath] = [key.size, key.mtimeMs, key.ino, digest];
    this.dirty = true;
  }

  /** Writes the cache (temp file + rename); racily clean entries are rewritten with the new time. */
  save(): void {
    const now = Date.now();
    // Rewrite an unchanged cache only to move its time past racily clean entries.
    if (!this.dirty && !Object.values(this.entries).some((e) => e[1] + RACY_MARGIN_MS >= this.writtenAtMs)) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const body: CacheFile = { format: 2, writtenAtMs: now, entries: this.entries };
    writeFileSync(tmp, JSON.stringify(body));
    renameSync(tmp, this.file);
    this.dirty = false;
  }
}

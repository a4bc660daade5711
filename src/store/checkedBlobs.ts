import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDigest } from '../core/manifest';

/**
 * What the store remembers of the loose blobs whose bytes it has hashed (FORMAT.md,
 * `cache/checked/`): for each, the state (inode, size, mtime and ctime in nanoseconds) the blob
 * had when its bytes were last found to match its digest. A blob still in that state is handed
 * out without being read twice, as git's index and DVC's record of file hashes do for files.
 *
 * Any write to a blob, and a chmod, a utimes or a replacement, changes its ctime or its inode, so
 * it is hashed again before it is handed out; damage the filesystem does not see (a failing disk)
 * is what `trove verify` is for. From Linux 6.13, ext4, XFS, btrfs and tmpfs give a change that
 * follows a stat a ctime of its own even within one clock tick; on older kernels a change within
 * the same tick (a few milliseconds) as the recorded stat would go unseen.
 *
 * The record is a cache: losing it costs one hash per blob, and failing to write it (a read-only
 * store) changes nothing else. A hard link to a blob changes its ctime (the link count), so a
 * blob handed out by hard link is hashed again the next time.
 */
export class CheckedBlobs {
  constructor(private readonly dir: string) {}

  /** A file's state as recorded here, or undefined when it does not exist. */
  async stateOf(path: string): Promise<string | undefined> {
    try {
      const st = await stat(path, { bigint: true });
      return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** True when `digest`'s blob was hashed in exactly `state`. */
  async isChecked(digest: string, state: string | undefined): Promise<boolean> {
    if (!state || !isDigest(digest)) return false;
    const recorded = await readFile(join(this.dir, digest), 'utf8').catch(() => undefined);
    return recorded === state;
  }

  /** Records that `digest`'s blob matched its digest in `state` (written whole, by rename). */
  async record(digest: string, state: string | undefined): Promise<void> {
    if (!state || !isDigest(digest)) return;
    const tmp = join(this.dir, `.${digest}-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(tmp, state);
      await rename(tmp, join(this.dir, digest));
    } catch {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async forget(digest: string): Promise<void> {
    if (!isDigest(digest)) return;
    await unlink(join(this.dir, digest)).catch(() => undefined);
  }

  /** Removes the records of blobs that `exists` no longer finds (gc), and writers' leftovers older than `cutoff`. */
  async prune(exists: (digest: string) => boolean, cutoff: number): Promise<void> {
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      const stale = name.startsWith('.')
        ? ((await stat(join(this.dir, name)).catch(() => undefined))?.mtimeMs ?? Infinity) < cutoff
        : !exists(name);
      if (stale) await unlink(join(this.dir, name)).catch(() => undefined);
    }
  }
}

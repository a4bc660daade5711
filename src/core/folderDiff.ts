import { join } from 'node:path';
import { hashFile } from './hash';
import { byUtf8, pairRenames } from './manifest';
import { flatten, zipByPath } from './manifestStream';
import { versionFiles } from './operations';
import type { Registry } from './registry';
import { scanSorted, type ScannedFile } from './scan';
import { StatCache } from './statCache';
import type { ManifestFile, VersionDetail, VersionDiff } from './types';

/**
 * How a folder differs from a version, the version being the base: the files that logging the
 * folder would add, remove, change or rename. The folder is read as `trove log` reads it
 * (scan.ts: regular files, links to files followed, the store itself left out) and walked in path
 * order beside the version's manifest, a page at a time: only the changed files are held, never
 * either side whole (a version may hold a million files).
 *
 * A file is hashed only when its size is the version's and the stat cache of the artifact's logs
 * does not know it, or when it is new (a rename is found by digest). A file the version holds as
 * an s3:// reference is compared by size: its checksum is the object store's ETag, not the
 * SHA-256 of its bytes (file:// and http(s):// references are recorded by SHA-256, as stored files).
 */
export async function diffFolder(registry: Registry, base: VersionDetail, absPath: string, cacheDir: string): Promise<VersionDiff> {
  // The cache the artifact's logs keep (core/operations.ts), read in path order alongside the scan and never written here.
  const cache = await StatCache.open(join(cacheDir, 'stat', base.project, `${base.name}.stat`), { readOnly: true });
  const digestOf = async (f: ScannedFile) => (await cache.lookup(f.path, f.absPath, f.key))?.digest ?? (await hashFile(f.absPath)).digest;
  const added: ManifestFile[] = [];
  const removed: ManifestFile[] = [];
  const modified: string[] = [];
  try {
    const scan = scanSorted(absPath, { exclude: registry.storeFolder ? [registry.storeFolder] : [] });
    for await (const [e, f] of zipByPath(flatten(versionFiles(registry, base)), scan)) {
      if (!f) removed.push(e!);
      else if (!e) added.push({ path: f.path, digest: await digestOf(f), size: f.size });
      else if (f.size !== e.size || (!e.ref?.startsWith('s3://') && (await digestOf(f)) !== e.digest)) modified.push(f.path);
    }
  } finally {
    await cache.discard();
  }
  const paired = pairRenames(removed, added);
  return {
    added: paired.added.map((f) => f.path),
    removed: paired.removed.map((f) => f.path),
    modified,
    renamed: paired.renamed.map((r) => ({ from: r.from.path, to: r.to.path })).sort((p, q) => byUtf8(p.from, q.from)),
  };
}

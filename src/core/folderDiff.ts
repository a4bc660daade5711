import { join } from 'node:path';
import { hashFile } from './hash';
import { diffManifests } from './manifest';
import type { Registry } from './registry';
import { scanSorted, type ScannedFile } from './scan';
import { StatCache } from './statCache';
import type { Manifest, VersionDiff } from './types';

/** The manifest of scanned files: digests from the stat cache where it still holds, else hashed now. */
export async function folderManifest(files: readonly ScannedFile[]): Promise<Manifest> {
  const manifest: Manifest = Object.create(null) as Manifest;
  for (const f of files) manifest[f.path] = { digest: f.digest ?? (await hashFile(f.absPath)).digest, size: f.size };
  return manifest;
}

/**
 * How a folder differs from a version, the version being the base: the files that logging the
 * folder would add, remove, change or rename. The folder is read as `trove log` reads it
 * (scan.ts: regular files, links to files followed, the store itself left out); the stat cache of
 * the artifact's logs spares hashing the files it still knows.
 */
export async function diffFolder(registry: Registry, base: { project: string; name: string; manifest: Manifest }, absPath: string, cacheDir: string): Promise<VersionDiff> {
  // The cache the artifact's logs keep (core/operations.ts), read in path order alongside the scan and never written here.
  const cache = await StatCache.open(join(cacheDir, 'stat', base.project, `${base.name}.stat`), { readOnly: true });
  const files: ScannedFile[] = [];
  try {
    for await (const f of scanSorted(absPath, { exclude: registry.storeFolder ? [registry.storeFolder] : [] })) {
      f.digest = (await cache.lookup(f.path, f.absPath, f.key))?.digest;
      files.push(f);
    }
  } finally {
    await cache.discard();
  }
  return diffManifests(base.manifest, await folderManifest(files));
}

import { join } from 'node:path';
import { hashFile } from './hash';
import { diffManifests } from './manifest';
import type { Registry } from './registry';
import { scanFolder, type ScannedFile } from './scan';
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
  const cache = StatCache.load(join(cacheDir, 'stat', base.project, `${base.name}.json`));
  const files = await scanFolder(absPath, { cache, exclude: registry.storeFolder ? [registry.storeFolder] : [] });
  return diffManifests(base.manifest, await folderManifest(files));
}

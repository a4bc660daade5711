import type { VersionDetail } from '../core/types';
import { FolderIndex } from '../shared/folderIndex';
import type { Backend } from './backend';

/** A version as the tree and the `trove:` file system read it: its record without the manifest, and its folders. */
export interface CachedVersion {
  detail: VersionDetail;
  folders: FolderIndex;
}

/**
 * Versions by `project/name:vK`, read without their manifest (`getVersion(ref, { manifest: false })`)
 * and indexed a manifest page at a time (FolderIndex), so that a version of a million files costs
 * its folder structure and a few pages, not the whole manifest. A version's files never change,
 * so entries stay until the backend is switched (aliases may move: callers that show aliases
 * re-read them).
 */
export class VersionCache {
  private readonly entries = new Map<string, Promise<CachedVersion>>();
  private static readonly MAX = 16;

  constructor(private readonly backend: Backend) {}

  get(project: string, name: string, version: number): Promise<CachedVersion> {
    const key = `${project}/${name}:v${version}`;
    let entry = this.entries.get(key);
    if (!entry) {
      // Pages through whichever registry is current (a switched backend clears this cache).
      const pages = { manifestPage: (...a: Parameters<Backend['registry']['manifestPage']>) => this.backend.registry.manifestPage(...a) };
      entry = Promise.all([
        this.backend.registry.getVersion({ project, name, alias: `v${version}` }, { manifest: false }),
        FolderIndex.build(pages, { project, name, version }),
      ]).then(([detail, folders]) => ({ detail, folders }));
      entry.catch(() => this.entries.delete(key));
      if (this.entries.size >= VersionCache.MAX) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, entry);
    }
    return entry;
  }

  clear(): void {
    this.entries.clear();
  }
}

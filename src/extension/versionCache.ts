import type { VersionDetail } from '../core/types';
import type { Backend } from './backend';

/**
 * Version details by `project/name:vK`. A version's manifest never changes, so entries stay
 * until the backend is switched (aliases may move: callers that show aliases re-read them).
 */
export class VersionCache {
  private readonly entries = new Map<string, Promise<VersionDetail>>();
  private static readonly MAX = 200;

  constructor(private readonly backend: Backend) {}

  get(project: string, name: string, version: number): Promise<VersionDetail> {
    const key = `${project}/${name}:v${version}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = this.backend.registry.getVersion({ project, name, alias: `v${version}` });
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

/**
 * Which blobs a project's tokens may read. Blobs are stored once, whoever logs them, so a digest
 * alone must not open them: a token for project P reads a blob only when a version of P names it
 * or a token of P uploaded it (the server saw its bytes, so P holds them). A token for every
 * project (`*`) and a server without auth read everything. See "Blobs and projects" in API.md.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { validateProject } from '../core/names';
import type { Manifest } from '../core/types';
import { serverUploadsFile } from '../store/layout';
import type { LocalRegistry } from '../store/localRegistry';

/** The project of a token for every project (and of every caller when auth is off). */
export const EVERY_PROJECT = '*';

export interface BlobScope {
  /** The digests among `digests` that tokens of `project` may read (all of them for `*`). */
  readable(project: string, digests: string[]): Promise<Set<string>>;
  /** Records that a token of `project` uploaded these blobs and the server checked their bytes. */
  grant(project: string, digests: string[]): Promise<void>;
}

/** The digests of stored blobs a manifest names (not `s3://` references). */
export function manifestDigests(manifest: Manifest): string[] {
  const out = new Set<string>();
  for (const e of Object.values(manifest)) if (!e.ref) out.add(e.digest);
  return [...out];
}

/**
 * The embedded store's index, kept by the server: the digests of a project's versions, read from
 * its committed version records (never changed once committed, so each is read once), and the digests its
 * tokens uploaded, in `<store>/server/uploads/<project>` (one digest a line, appended). A miss
 * reloads the project when the store changed since (or after a second, for changes the store's
 * watcher did not report), so a version committed a moment ago is readable at once.
 */
export class EmbeddedBlobScope implements BlobScope {
  private readonly projects = new Map<string, { loadedAt: number; change: number; digests: Set<string> }>();
  /** Digests of each version record read so far, by path. */
  private readonly records = new Map<string, string[]>();

  constructor(private readonly registry: Pick<LocalRegistry, 'root' | 'committedManifests'>, private readonly changeCount: () => number) {}

  private uploadsFile(project: string): string {
    return serverUploadsFile(this.registry.root, project);
  }

  async readable(project: string, digests: string[]): Promise<Set<string>> {
    if (project === EVERY_PROJECT) return new Set(digests);
    validateProject(project);
    let entry = this.projects.get(project);
    const hits = (e: { digests: Set<string> }) => new Set(digests.filter((d) => e.digests.has(d)));
    if (entry) {
      const found = hits(entry);
      if (found.size === new Set(digests).size) return found;
      if (entry.change === this.changeCount() && Date.now() - entry.loadedAt < 1000) return found;
    }
    entry = await this.load(project);
    return hits(entry);
  }

  async grant(project: string, digests: string[]): Promise<void> {
    if (project === EVERY_PROJECT || !digests.length) return;
    validateProject(project);
    const known = this.projects.get(project);
    const fresh = known ? digests.filter((d) => !known.digests.has(d)) : digests;
    if (!fresh.length) return;
    await mkdir(dirname(this.uploadsFile(project)), { recursive: true });
    // One append of whole lines (O_APPEND): concurrent grants never interleave inside a line.
    await appendFile(this.uploadsFile(project), fresh.map((d) => `${d}\n`).join(''));
    for (const d of fresh) known?.digests.add(d);
  }

  private async load(project: string): Promise<{ loadedAt: number; change: number; digests: Set<string> }> {
    const change = this.changeCount();
    const loadedAt = Date.now();
    const digests = new Set<string>();
    const text = await readFile(this.uploadsFile(project), 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (/^[0-9a-f]{64}$/.test(line)) digests.add(line);
    // Only committed versions (those state.json lists): a record is rewritten only before that.
    for (const record of await this.registry.committedManifests(project)) {
      let list = this.records.get(record.key);
      if (!list) {
        const manifest = await record.manifest();
        if (!manifest) continue; // a record being written: read it on the next load
        list = manifestDigests(manifest);
        this.records.set(record.key, list);
      }
      for (const d of list) digests.add(d);
    }
    const entry = { loadedAt, change, digests };
    this.projects.set(project, entry);
    return entry;
  }
}

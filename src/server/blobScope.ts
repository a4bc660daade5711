/**
 * Which blobs a project's tokens may read. Blobs are stored once, whoever logs them, so a digest
 * alone must not open them: a token for project P reads a blob only when a version of P names it
 * or a token of P uploaded it (the server saw its bytes, so P holds them). A token for every
 * project (`*`) and a server without auth read everything. See "Blobs and projects" in API.md.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isDigest } from '../core/manifest';
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
 * A set of blob digests kept as one sorted buffer of raw 32-byte digests: a version of a million
 * files takes 32 MB outside the JavaScript heap, not a Set of a million 64-character strings
 * (over 100 MB of heap).
 */
export class DigestSet {
  private readonly scratch = Buffer.alloc(32);

  private constructor(private readonly keys: Buffer, readonly size: number) {}

  /** The set of the given digests (hex; anything else is ignored). */
  static async from(batches: AsyncIterable<string[]>): Promise<DigestSet> {
    let keys = Buffer.alloc(32 * 1024);
    let n = 0;
    for await (const batch of batches) {
      for (const d of batch) {
        if (!isDigest(d)) continue;
        if ((n + 1) * 32 > keys.length) {
          const bigger = Buffer.alloc(keys.length * 2);
          keys.copy(bigger);
          keys = bigger;
        }
        keys.write(d, n * 32, 'hex');
        n++;
      }
    }
    // Sorted through an index (by the first four bytes, then the rest), then copied in order.
    const order = new Uint32Array(n);
    const prefix = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      order[i] = i;
      prefix[i] = keys.readUInt32BE(i * 32);
    }
    order.sort((a, b) => (prefix[a] !== prefix[b] ? (prefix[a] < prefix[b] ? -1 : 1) : keys.compare(keys, b * 32, b * 32 + 32, a * 32, a * 32 + 32)));
    const sorted = Buffer.alloc(n * 32);
    let m = 0;
    for (let i = 0; i < n; i++) {
      const at = order[i] * 32;
      if (m > 0 && keys.compare(sorted, (m - 1) * 32, m * 32, at, at + 32) === 0) continue; // a digest named twice
      keys.copy(sorted, m * 32, at, at + 32);
      m++;
    }
    return new DigestSet(sorted, m);
  }

  has(digest: string): boolean {
    if (digest.length !== 64) return false;
    this.scratch.write(digest, 'hex');
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const order = this.scratch.compare(this.keys, mid * 32, mid * 32 + 32);
      if (order === 0) return true;
      if (order > 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}

/**
 * The embedded store's index, kept by the server: the digests of a project's versions, read from
 * its committed version records (never changed once committed, so each is read once) into a
 * DigestSet each, and the digests its tokens uploaded, in `<store>/server/uploads/<project>` (one
 * digest a line, appended). A miss reloads the project when the store changed since (or after a
 * second, for changes the store's watcher did not report), so a version committed a moment ago is
 * readable at once.
 */
export class EmbeddedBlobScope implements BlobScope {
  private readonly projects = new Map<string, ProjectDigests>();
  /** Digests of each version record read so far, by path. */
  private readonly records = new Map<string, DigestSet>();

  constructor(private readonly registry: Pick<LocalRegistry, 'root' | 'committedVersions'>, private readonly changeCount: () => number) {}

  private uploadsFile(project: string): string {
    return serverUploadsFile(this.registry.root, project);
  }

  async readable(project: string, digests: string[]): Promise<Set<string>> {
    if (project === EVERY_PROJECT) return new Set(digests);
    validateProject(project);
    let entry = this.projects.get(project);
    const hits = (e: ProjectDigests) => new Set(digests.filter((d) => e.uploads.has(d) || e.versions.some((v) => v.has(d))));
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
    const fresh = known ? digests.filter((d) => !known.uploads.has(d) && !known.versions.some((v) => v.has(d))) : digests;
    if (!fresh.length) return;
    await mkdir(dirname(this.uploadsFile(project)), { recursive: true });
    // One append of whole lines (O_APPEND): concurrent grants never interleave inside a line.
    await appendFile(this.uploadsFile(project), fresh.map((d) => `${d}\n`).join(''));
    for (const d of fresh) known?.uploads.add(d);
  }

  private async load(project: string): Promise<ProjectDigests> {
    const change = this.changeCount();
    const loadedAt = Date.now();
    const uploads = new Set<string>();
    const text = await readFile(this.uploadsFile(project), 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (isDigest(line)) uploads.add(line);
    // Only committed versions (those state.json lists): a record is rewritten only before that.
    const versions: DigestSet[] = [];
    for (const record of await this.registry.committedVersions(project)) {
      let set = this.records.get(record.key);
      if (!set) {
        try {
          set = await DigestSet.from(record.digests());
        } catch {
          continue; // a record being written: read it on the next load
        }
        this.records.set(record.key, set);
      }
      versions.push(set);
    }
    const entry = { loadedAt, change, uploads, versions };
    this.projects.set(project, entry);
    return entry;
  }
}

interface ProjectDigests {
  loadedAt: number;
  change: number;
  /** Blobs its tokens uploaded. */
  uploads: Set<string>;
  /** Blobs of each committed version. */
  versions: DigestSet[];
}

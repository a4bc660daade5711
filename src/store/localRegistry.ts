import { existsSync, mkdirSync, readFileSync, renameSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { invalid, TroveError } from '../core/errors';
import { buildLineage, type LineageSource } from '../core/lineage';
import { checkCommitHeader, validateManifest, withoutPrototype } from '../core/manifest';
import { batches, checkManifestFile, fileLines, parseManifestLine, readManifestEntries, spooledBatches, spoolManifest } from '../core/manifestStream';
import { parseVersionAlias, validateAlias, validateName, validateProject, validateType, type ArtifactRef } from '../core/names';
import type { Registry } from '../core/registry';
import { checkRunId, newRunRecord, runNotFound } from '../core/runs';
import type {
  ArtifactSummary, ChangeListener, CommitRequest, CommitResult, DeleteOptions, DeleteResult, GcOptions, GcResult, LineageGraph, LineageOptions, LocalFile, Manifest,
  ManifestFile, ManifestPage, NewRun, ProjectSummary, RestoreResult, RunLink, RunRecord, RunStatus, RunUpdate, StoredFile, StreamCommitRequest, TransferOptions,
  VersionDetail, VersionKey, VersionSummary,
} from '../core/types';
import {
  aliasesByVersion, aliasesToMove, aliasesToRestore, aliasNotFound, artifactDeleted, artifactNotFound, checkArtifactType, compareVersionKeys, contentFreed,
  isDeletedError, LATEST, missingBlobsError, notDeleted, planDeletion, resolveAlias, sameContentLive, versionNotFound, versionRecordMissing, type Tombstone,
} from '../core/versionRules';
import { readJson, readJsonSync, writeFileAtomic, writeFileAtomicSync } from './atomic';
import { LocalBlobs } from './blobs';
import { storeExists } from './layout';
import { isDeadLocalProcess, withCommitGate, withGcGate, withLock } from './lock';

/** Artifacts whose state is read in one go when listing a project (see listArtifacts). */
const LIST_BATCH = 256;

export const STORE_FORMAT = { format: 'trove-store', version: 1 } as const;
/**
 * Version 2 adds manifests kept beside their version record (`versions/v<K>.manifest`); a store
 * becomes version 2 when its first such version is written, so older Trove releases keep reading
 * stores that have none.
 */
const STORE_FORMAT_LINES = 2;
/** Versions of up to this many files keep their manifest inside `v<K>.json` (format 1). */
export const INLINE_MANIFEST_MAX = 10_000;
const PAGE_MAX = 5000;

/** `state.json` of an artifact: the commit point. A version exists once state.json lists it. */
interface ArtifactState {
  name: string;
  type: string;
  createdAt: string;
  updatedAt: string;
  nextVersion: number;
  versions: VersionSummaryRecord[];
  aliases: Record<string, number>;
  /** Deleted versions (tombstones), oldest number first; absent until something is deleted. */
  deleted?: (VersionSummaryRecord & Tombstone)[];
}

interface VersionSummaryRecord {
  version: number;
  digest: string;
  size: number;
  files: number;
  createdAt: string;
}

/** `versions/vK.json`: written before state.json names it, never changed afterwards. */
interface VersionRecord extends VersionSummaryRecord {
  description: string;
  metadata: Record<string, unknown>;
  /** Inline manifest (up to INLINE_MANIFEST_MAX files), or `manifestFile` names `v<K>.manifest` beside it. */
  manifest?: Manifest;
  manifestFile?: string;
  createdBy?: string;
}

/** gc leaves alone what is younger than this by default: a log may be storing it right now. */
export const DEFAULT_GC_MIN_AGE_S = 3600;

const versionKeyFile = (k: VersionKey) => `${k.project}~${k.name}~v${k.version}`;
function parseVersionKeyFile(file: string): VersionKey | undefined {
  const m = /^(.+)~(.+)~v(\d+)$/.exec(file);
  return m ? { project: m[1], name: m[2], version: Number(m[3]) } : undefined;
}

/**
 * The embedded store: a folder of content-addressed blobs and JSON metadata, safe for several
 * processes at once. The on-disk format is specified in src/store/FORMAT.md.
 */
export class LocalRegistry implements Registry {
  readonly location: string;
  private readonly listeners = new Set<ChangeListener>();
  private watcher?: FSWatcher;
  private laidOut = false;
  /** The store's content (blobs, packs, tmp): everything below versions and runs goes through it. */
  readonly blobs: LocalBlobs;
  readonly storeFolder: string;
  onWarning?: (message: string) => void;
  /** Artifact lists by project with the change marker they were read under (listArtifacts). */
  private readonly artifactLists = new Map<string, { marker: string; list: Promise<ArtifactSummary[]> }>();

  /**
   * `runOwner`: record this process in the runs it creates (`owner` in run.json), so that a run
   * left "running" by a killed process reads as failed. `trove serve` creates runs for its
   * clients' processes, and passes false.
   */
  constructor(readonly root: string, private readonly options: { runOwner?: boolean } = {}) {
    this.location = `embedded store ${root}`;
    this.storeFolder = root;
    this.blobs = new LocalBlobs(root, this.location, () => this.ensureLayout());
  }

  // ---- layout -------------------------------------------------------------------------------

  private formatChecked = false;

  /**
   * Checks `format.json` before anything is read or written, once per instance: a store of
   * another format, or of a format version this Trove does not know, is neither read, written
   * nor garbage-collected. Returns whether the store exists (a folder without format.json is
   * an empty store to be created by the first write).
   */
  checkFormat(): boolean {
    if (this.formatChecked) return true;
    const formatFile = join(this.root, 'format.json');
    let text: string;
    try {
      text = readFileSync(formatFile, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      if (code === 'EISDIR') throw invalid(`${formatFile} is a folder, so ${this.root} is not a Trove store; pick another --store folder.`);
      throw e;
    }
    let existing: { format?: unknown; version?: unknown };
    try {
      existing = JSON.parse(text) as typeof existing;
    } catch {
      throw invalid(`${formatFile} is damaged (not valid JSON); restore it (it holds ${JSON.stringify(STORE_FORMAT)}) or pick another --store folder.`);
    }
    if (!existing || typeof existing !== 'object' || existing.format !== STORE_FORMAT.format) {
      throw invalid(`${this.root} is not a Trove store (its format.json says format ${JSON.stringify(existing?.format ?? null)}); pick another --store folder.`);
    }
    if (existing.version !== STORE_FORMAT.version && existing.version !== STORE_FORMAT_LINES) {
      throw invalid(`The store at ${this.root} has format version ${JSON.stringify(existing.version ?? null)}, and this Trove reads versions ${STORE_FORMAT.version} and ${STORE_FORMAT_LINES} only; use a Trove that knows that version.`);
    }
    this.formatChecked = true;
    return true;
  }

  private ensureLayout(): void {
    if (this.laidOut) return;
    if (existsSync(this.root) && !statSync(this.root).isDirectory()) {
      throw invalid(`The store path ${this.root} is a file, not a folder; pass --store (or TROVE_STORE) a folder.`);
    }
    const formatFile = join(this.root, 'format.json');
    if (!this.checkFormat()) {
      mkdirSync(this.root, { recursive: true });
      for (const d of ['projects', 'runs', 'cache']) mkdirSync(join(this.root, d), { recursive: true });
      this.blobs.createFolders();
      // Several processes may create a new store at once; each writes the same content atomically.
      writeFileAtomicSync(formatFile, JSON.stringify(STORE_FORMAT, null, 2) + '\n');
      this.formatChecked = true;
    }
    this.laidOut = true;
  }

  /** Whether the store folder exists (it is created on the first write). */
  exists(): boolean {
    return storeExists(this.root);
  }

  /** Where commits and gc exclude each other (see withCommitGate). */
  private get gateDir(): string {
    return join(this.root, 'locks');
  }

  private artifactDir(project: string, name: string): string {
    return join(this.root, 'projects', project, name);
  }

  /**
   * The committed versions of a project (those state.json lists), each with a way to read the
   * digests of the stored blobs its manifest names (not `s3://` references), a batch at a time:
   * inline manifests and manifest files (format 2) alike. The reader fails while a record cannot
   * be read yet. Records never change once committed, so a caller may keep what it read under the key.
   */
  async committedVersions(project: string): Promise<{ key: string; digests: () => AsyncGenerator<string[]> }[]> {
    const projectDir = join(this.root, 'projects', project);
    const out: { key: string; digests: () => AsyncGenerator<string[]> }[] = [];
    for (const name of await readdir(projectDir).catch(() => [] as string[])) {
      let state: { versions?: { version: number }[] };
      try {
        state = JSON.parse(await readFile(join(projectDir, name, 'state.json'), 'utf8')) as typeof state;
      } catch {
        continue;
      }
      for (const { version } of state.versions ?? []) {
        const self = this;
        out.push({
          key: join(projectDir, name, 'versions', `v${version}.json`),
          digests: async function* () {
            const rec = await self.readVersionRecord(project, name, version);
            async function* stored(): AsyncGenerator<string> {
              for await (const f of self.manifestFiles(project, name, rec)) if (!f.ref) yield f.digest;
            }
            yield* batches(stored(), 5000);
          },
        });
      }
    }
    return out;
  }


  private async readState(project: string, name: string): Promise<ArtifactState | undefined> {
    this.checkFormat();
    const state = await readJson<ArtifactState>(join(this.artifactDir(project, name), 'state.json'));
    // Aliases are names users type: `show data:constructor` must not find Object.prototype's.
    if (state) state.aliases = withoutPrototype(state.aliases);
    return state;
  }

  private async requireState(project: string, name: string): Promise<ArtifactState> {
    validateProject(project);
    validateName(name);
    const state = await this.readState(project, name);
    if (!state) throw artifactNotFound(project, name, existsSync(join(this.root, 'projects', project)), this.location);
    if (!state.versions.length && state.deleted?.length) throw artifactDeleted(project, name, state.deleted.reduce((m, d) => (d.deletedAt > m ? d.deletedAt : m), ''));
    return state;
  }

  private resolveVersion(state: ArtifactState, project: string, alias: string): Promise<number> {
    return resolveAlias({ project, name: state.name, nextVersion: state.nextVersion }, alias, {
      hasVersion: (n) => state.versions.some((v) => v.version === n),
      aliasTarget: (a) => (Object.hasOwn(state.aliases, a) ? state.aliases[a] : undefined),
      aliasNames: () => Object.keys(state.aliases),
      deletedAt: (n) => state.deleted?.find((d) => d.version === n)?.deletedAt,
    });
  }

  private async readVersionRecord(project: string, name: string, version: number): Promise<VersionRecord> {
    const rec = await readJson<VersionRecord>(join(this.artifactDir(project, name), 'versions', `v${version}.json`));
    if (!rec) throw versionRecordMissing({ project, name, version }, this.location);
    return rec;
  }

  private notify(): void {
    // A rename in the store's top folder is what other processes' watchers see.
    const marker = join(this.root, 'changed');
    const tmp = `${marker}.${process.pid}`;
    try {
      writeFileSync(tmp, new Date().toISOString());
      renameSync(tmp, marker);
    } catch {
      // Watching is best effort; a missed notification only delays a refresh.
    }
    for (const l of this.listeners) l();
  }

  // ---- reading ------------------------------------------------------------------------------

  async listProjects(): Promise<ProjectSummary[]> {
    this.checkFormat();
    const projects = await readdir(join(this.root, 'projects')).catch(() => [] as string[]);
    const out: ProjectSummary[] = [];
    for (const name of projects.sort()) {
      const artifacts = await this.listArtifacts(name);
      if (artifacts.length) out.push({ name, artifacts: artifacts.length });
    }
    return out;
  }

  /**
   * The store's change marker as it stands: every write of this store, by any process, renames a
   * new `changed` file into place (notify), so an equal marker means an unchanged store.
   */
  private changeMarker(): string {
    try {
      const st = statSync(join(this.root, 'changed'), { bigint: true });
      return `${st.ino}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch {
      return 'none';
    }
  }

  async listArtifacts(project: string): Promise<ArtifactSummary[]> {
    validateProject(project);
    this.checkFormat();
    // A project's list is read once while the store does not change: the extension's health
    // check, tree root and project, or a server answering page after page, ask for it in a row.
    const marker = this.changeMarker();
    let cached = this.artifactLists.get(project);
    if (!cached || cached.marker !== marker) {
      // One read for callers that ask at the same time, too (a health check and the tree after a change).
      const list = this.readArtifactList(project);
      cached = { marker, list };
      this.artifactLists.set(project, cached);
      const mine = cached;
      list.catch(() => this.artifactLists.get(project) === mine && this.artifactLists.delete(project));
    }
    return (await cached.list).slice();
  }

  private async readArtifactList(project: string): Promise<ArtifactSummary[]> {
    const dir = join(this.root, 'projects', project);
    const names = (await readdir(dir).catch(() => [] as string[])).sort();
    const out: ArtifactSummary[] = [];
    // Every artifact's state.json, read synchronously a batch at a time: 10,000 promise-based
    // reads (open, stat, read, close: four trips through the thread pool each) took 1.6 s on
    // tmpfs, synchronous reads 0.2 s. Between batches the event loop runs other work.
    for (let i = 0; i < names.length; i += LIST_BATCH) {
      if (i) await new Promise((r) => setImmediate(r));
      for (const name of names.slice(i, i + LIST_BATCH)) {
        let s: ArtifactState | undefined;
        try {
          s = readJsonSync<ArtifactState>(join(dir, name, 'state.json'));
        } catch (e) {
          // One damaged artifact does not hide the healthy ones: it is left out, and said.
          if (!(e instanceof TroveError && e.code === 'io')) throw e;
          this.onWarning?.(`${project}/${name} is left out: ${e.message}`);
        }
        if (s && s.versions.length) out.push({ project, name, type: s.type, versions: s.versions.length, latest: s.aliases.latest, updatedAt: s.updatedAt });
      }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async listVersions(project: string, name: string): Promise<VersionSummary[]> {
    const state = await this.requireState(project, name);
    const aliasesOf = aliasesByVersion(Object.entries(state.aliases));
    return state.versions.map((v) => ({ ...v, aliases: aliasesOf.get(v.version) ?? [] })).sort((a, b) => b.version - a.version);
  }

  async getVersion(ref: ArtifactRef, options: { manifest?: boolean } = {}): Promise<VersionDetail> {
    const state = await this.requireState(ref.project, ref.name);
    const version = await this.resolveVersion(state, ref.project, ref.alias);
    const rec = await this.readVersionRecord(ref.project, ref.name, version);
    const manifest = options.manifest === false ? (Object.create(null) as Manifest) : await this.wholeManifest(ref.project, ref.name, rec);
    const usedBy = await this.usedBy({ project: ref.project, name: ref.name, version });
    const links = await Promise.all(usedBy.map((id) => this.runLink(id)));
    const createdBy = rec.createdBy ? await this.runLink(rec.createdBy) : undefined;
    return {
      project: ref.project, name: ref.name, type: state.type, version, aliases: aliasesByVersion(Object.entries(state.aliases)).get(version) ?? [],
      digest: rec.digest, size: rec.size, files: rec.files, createdAt: rec.createdAt, description: rec.description,
      metadata: rec.metadata, manifest, ...(createdBy ? { createdBy } : {}), usedBy: links.filter((l): l is RunLink => !!l),
    };
  }

  /** A version's whole manifest as one object (for callers that asked for it; large ones are paged instead). */
  private async wholeManifest(project: string, name: string, rec: VersionRecord): Promise<Manifest> {
    if (rec.manifest) return withoutPrototype(rec.manifest);
    const manifest = Object.create(null) as Manifest;
    for await (const f of this.manifestFiles(project, name, rec)) {
      const { path, end: _end, ...entry } = f;
      manifest[path] = entry;
    }
    return manifest;
  }

  /** The files of a version record in path order, from byte `offset` of its manifest file (or index of its inline manifest). */
  private async *manifestFiles(project: string, name: string, rec: VersionRecord, offset = 0): AsyncGenerator<ManifestFile & { end: number }> {
    if (rec.manifest) {
      const manifest = validateManifest(rec.manifest); // sorted, and checked as anything read from disk
      let i = 0;
      for (const path of Object.keys(manifest)) if (i++ >= offset) yield { path, ...manifest[path], end: i };
      return;
    }
    const file = join(this.artifactDir(project, name), 'versions', rec.manifestFile!);
    for await (const { line, end } of fileLines(file, offset)) {
      if (line) yield { ...checkManifestFile(parseManifestLine(line)), end };
    }
  }

  async manifestPage(key: VersionKey, cursor: string | null, limit = PAGE_MAX): Promise<ManifestPage> {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > PAGE_MAX) throw invalid(`A manifest page holds 1 to ${PAGE_MAX} files.`);
    const state = await this.requireState(key.project, key.name);
    await this.resolveVersion(state, key.project, `v${key.version}`);
    const rec = await this.readVersionRecord(key.project, key.name, key.version);
    // The cursor is the position after the last file sent: a byte offset in the manifest file, or an index in an inline manifest.
    const offset = cursor === null ? 0 : /^\d{1,15}$/.test(cursor) ? Number(cursor) : NaN;
    if (!Number.isSafeInteger(offset)) throw invalid(`"${String(cursor).slice(0, 80)}" is not a cursor of this manifest; start again without one.`);
    if (!rec.manifest) {
      const { files, next, atEnd } = await readManifestEntries(join(this.artifactDir(key.project, key.name), 'versions', rec.manifestFile!), offset, limit);
      return { items: files, nextCursor: files.length === limit && !atEnd ? String(next) : null };
    }
    const items: ManifestFile[] = [];
    let next = offset;
    for await (const { end, ...f } of this.manifestFiles(key.project, key.name, rec, offset)) {
      items.push(f);
      next = end;
      if (items.length === limit) break;
    }
    const more = items.length === limit && next < rec.files;
    return { items, nextCursor: more ? String(next) : null };
  }

  private async runLink(runId: string): Promise<RunLink | undefined> {
    const run = await this.readRun(runId);
    return run ? { runId, jobType: run.jobType } : undefined;
  }

  private async usedBy(k: VersionKey): Promise<string[]> {
    return (await readdir(join(this.artifactDir(k.project, k.name), 'used-by', `v${k.version}`)).catch(() => [] as string[])).sort();
  }

  // ---- runs ---------------------------------------------------------------------------------

  async createRun(input: NewRun): Promise<RunRecord> {
    const run = newRunRecord(input);
    this.ensureLayout();
    const dir = join(this.root, 'runs', run.id);
    await mkdir(join(dir, 'inputs'), { recursive: true });
    await mkdir(join(dir, 'outputs'), { recursive: true });
    const owner = this.options.runOwner === false ? {} : { owner: `${process.pid}@${hostname()}` };
    await writeFileAtomic(join(dir, 'run.json'), JSON.stringify({ ...run, ...owner }, null, 2));
    return run;
  }

  /**
   * A run as readers see it: one still "running" whose process is gone from this host was
   * interrupted (killed), and reads as failed. undefined when run.json does not exist.
   */
  private async readRun(id: string): Promise<RunRecord | undefined> {
    const stored = await readJson<RunRecord & { owner?: string }>(join(this.root, 'runs', id, 'run.json'));
    if (!stored) return undefined;
    const { owner, ...run } = stored;
    return run.status === 'running' && owner && isDeadLocalProcess(owner) ? { ...run, status: 'failed' } : run;
  }

  async getRun(id: string): Promise<RunRecord> {
    this.checkFormat();
    const run = await this.readRun(checkRunId(id));
    if (!run) throw runNotFound(id, this.location);
    return run;
  }

  async finishRun(id: string, status: Exclude<RunStatus, 'running'>): Promise<void> {
    const run = await this.getRun(id);
    await writeFileAtomic(join(this.root, 'runs', id, 'run.json'), JSON.stringify({ ...run, status, finishedAt: new Date().toISOString() }, null, 2));
    this.notify();
  }

  /**
   * For gc: marks runs left "running" by killed processes as failed, and removes run folders
   * without run.json (a process killed while creating the run) once older than `minAgeMs`.
   */
  private async sweepRuns(dryRun: boolean, minAgeMs: number): Promise<{ runsFailed: number; runsRemoved: number }> {
    let runsFailed = 0;
    let runsRemoved = 0;
    const cutoff = Date.now() - minAgeMs;
    for (const id of await readdir(join(this.root, 'runs')).catch(() => [] as string[])) {
      const dir = join(this.root, 'runs', id);
      const stored = await readJson<RunRecord & { owner?: string }>(join(dir, 'run.json')).catch(() => null);
      if (stored === null) continue; // damaged: left for a person to look at
      if (!stored) {
        const st = await stat(dir).catch(() => undefined);
        if (!st?.isDirectory() || st.mtimeMs > cutoff) continue;
        runsRemoved++;
        if (!dryRun) await rm(dir, { recursive: true, force: true });
        continue;
      }
      if (stored.status !== 'running' || !stored.owner || !isDeadLocalProcess(stored.owner)) continue;
      runsFailed++;
      if (!dryRun) await writeFileAtomic(join(dir, 'run.json'), JSON.stringify({ ...stored, status: 'failed', finishedAt: new Date().toISOString() }, null, 2));
    }
    return { runsFailed, runsRemoved };
  }

  /** For `trove serve`'s W&B door: what a W&B client reports about its run as it goes. */
  async updateRun(id: string, update: RunUpdate): Promise<void> {
    const run = await this.getRun(id);
    if (update.jobType !== undefined) validateType(update.jobType);
    await writeFileAtomic(join(this.root, 'runs', id, 'run.json'), JSON.stringify({ ...run, ...update }, null, 2));
    this.notify();
  }

  async recordUse(runId: string, k: VersionKey): Promise<void> {
    await this.getRun(runId);
    const state = await this.requireState(k.project, k.name);
    if (!state.versions.some((v) => v.version === k.version)) throw versionNotFound(k);
    const usage = join(this.artifactDir(k.project, k.name), 'used-by', `v${k.version}`);
    await mkdir(usage, { recursive: true });
    await writeFile(join(usage, runId), '');
    await writeFile(join(this.root, 'runs', runId, 'inputs', versionKeyFile(k)), '');
    this.notify();
  }

  // ---- blobs (kept in LocalBlobs) ------------------------------------------------------------

  async storeFiles(files: LocalFile[], options: TransferOptions = {}): Promise<StoredFile[]> {
    this.ensureLayout();
    const created = { packs: [] as string[], loose: [] as string[] };
    try {
      return await this.blobs.ingest(files, options, created);
    } catch (e) {
      await this.discard(created);
      throw e;
    }
  }

  /**
   * After a failed or cancelled log: removes the packs and loose blobs it stored, unless a
   * version uses them by now (another log may have found them and committed). Under the gc
   * gate, like gc; a log that found them and has not committed yet looks again when it does.
   */
  private async discard(created: { packs: string[]; loose: string[] }): Promise<void> {
    if (!created.packs.length && !created.loose.length) return;
    try {
      await withGcGate(this.gateDir, async () => this.blobs.removeUnless(created, await this.usedDigests()));
    } catch {
      // What is left is removed by a later gc.
    }
  }

  /** Whether the blob is stored with this size (see LocalBlobs.has). */
  hasBlob(digest: string, size: number): boolean {
    this.checkFormat();
    return this.blobs.has(digest, size);
  }

  /** Where a loose blob lives (for tests and `trove verify` of the store's own copy). */
  blobPath(digest: string): string {
    return this.blobs.blobPath(digest);
  }

  async fetchBlobs(items: { digest: string; size: number; destPath: string }[], options: TransferOptions & { link?: 'copy' | 'hardlink'; onDone?: (files: number, bytes: number) => void } = {}): Promise<void> {
    this.checkFormat();
    return this.blobs.fetchMany(items, options);
  }

  async fetchBlob(digest: string, destPath: string, options: TransferOptions & { link?: 'copy' | 'hardlink' } = {}): Promise<void> {
    this.checkFormat();
    return this.blobs.fetch(digest, destPath, options);
  }

  async verifyBlob(digest: string): Promise<boolean> {
    this.checkFormat();
    return this.blobs.verify(digest);
  }

  // ---- versions -----------------------------------------------------------------------------

  async commitVersion(req: CommitRequest): Promise<CommitResult> {
    const { manifest, ...rest } = req;
    const files = validateManifest(manifest); // sorted by path
    async function* sorted(): AsyncGenerator<ManifestFile> {
      for (const path of Object.keys(files)) yield { path, ...files[path] };
    }
    return this.commitVersionStream(rest, batches(sorted()));
  }

  /**
   * The manifest goes to a file in tmp/ as it arrives (checked, in path order, hashed on the
   * way), so no more than a batch of it is ever in memory; under the artifact's lock and the
   * commit gate new content has its blobs checked from that file, then the file becomes
   * `versions/v<K>.manifest` (or, when small, the inline manifest of `v<K>.json`).
   */
  async commitVersionStream(req: StreamCommitRequest, files: AsyncIterable<ManifestFile[]>): Promise<CommitResult> {
    const { aliases, metadata } = checkCommitHeader(req);
    this.ensureLayout();
    const dir = this.artifactDir(req.project, req.name);
    await mkdir(join(dir, 'versions'), { recursive: true });
    // Beside the versions, not in tmp/: gc clears tmp/ of old files while a long log may still be streaming.
    const spool = join(dir, 'versions', `.spool-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`);
    try {
      const tally = await spoolManifest(files, spool);
      const digest = tally.digest;
      const current = await this.readState(req.project, req.name);
      const known = current?.versions.find((v) => v.digest === digest);
      // Equal to the version `latest` already names, with no alias to move: nothing to write at all.
      if (known && current!.type === req.type && current!.aliases.latest === known.version && aliases.every((a) => current!.aliases[a] === known.version)) {
        return { version: known.version, digest, created: false, size: known.size, files: known.files };
      }
      await mkdir(join(dir, 'versions'), { recursive: true });
      // The artifact's lock orders commits of one artifact; the gate keeps gc out while this
      // commit checks its blobs and writes (gc may have removed a blob this log found stored).
      const result = await withLock(join(dir, '.lock'), () => withCommitGate(this.gateDir, async () => {
        const now = new Date().toISOString();
        const state: ArtifactState = (await this.readState(req.project, req.name)) ?? {
          name: req.name, type: req.type, createdAt: now, updatedAt: now, nextVersion: 0, versions: [], aliases: Object.create(null) as Record<string, number>,
        };
        checkArtifactType(req.project, req.name, state.type, req.type);
        const same = state.versions.find((v) => v.digest === digest);
        let version: number;
        if (same) {
          version = same.version;
        } else {
          // Content equal to an existing version was checked when that version was committed.
          const gone: string[] = []; // the first of them, for the error
          let goneCount = 0;
          const missingNow = this.blobs.missingNowChecker();
          for await (const batch of spooledBatches(spool)) {
            for (const d of missingNow(batch)) if (++goneCount <= 10) gone.push(d);
          }
          if (goneCount) throw missingBlobsError(gone, goneCount);
          version = state.nextVersion;
          const rec: VersionRecord = {
            version, digest, size: tally.size, files: tally.files, createdAt: now,
            description: req.description ?? '', metadata, ...(req.runId ? { createdBy: req.runId } : {}),
          };
          if (tally.files <= INLINE_MANIFEST_MAX) {
            rec.manifest = Object.create(null) as Manifest;
            for await (const batch of spooledBatches(spool)) for (const { path, ...entry } of batch) rec.manifest[path] = entry;
          } else {
            this.upgradeFormat(STORE_FORMAT_LINES);
            rec.manifestFile = `v${version}.manifest`;
            await rename(spool, join(dir, 'versions', rec.manifestFile));
          }
          await writeFileAtomic(join(dir, 'versions', `v${version}.json`), JSON.stringify(rec));
          state.versions.push({ version, digest, size: rec.size, files: rec.files, createdAt: now });
          state.nextVersion = version + 1;
        }
        for (const a of aliasesToMove(aliases)) state.aliases[a] = version;
        state.updatedAt = now;
        await writeFileAtomic(join(dir, 'state.json'), JSON.stringify(state, null, 1)); // the commit point
        const summary = state.versions.find((v) => v.version === version)!;
        return { version, digest, created: !same, size: summary.size, files: summary.files };
      }));
      if (req.runId && result.created) {
        await writeFile(join(this.root, 'runs', req.runId, 'outputs', versionKeyFile({ project: req.project, name: req.name, version: result.version })), '').catch(() => undefined);
      }
      this.notify();
      return result;
    } finally {
      await unlink(spool).catch(() => undefined);
    }
  }

  /** Raises format.json's version (never lowers it) before writing what only that version allows. */
  private upgradeFormat(version: number): void {
    const formatFile = join(this.root, 'format.json');
    const existing = JSON.parse(readFileSync(formatFile, 'utf8')) as { version?: number };
    if ((existing.version ?? 0) >= version) return;
    writeFileAtomicSync(formatFile, JSON.stringify({ format: STORE_FORMAT.format, version }, null, 2) + '\n');
  }

  async addAlias(ref: ArtifactRef, alias: string): Promise<void> {
    validateAlias(alias);
    const dir = this.artifactDir(ref.project, ref.name);
    await this.requireState(ref.project, ref.name);
    await withLock(join(dir, '.lock'), async () => {
      const state = (await this.readState(ref.project, ref.name))!;
      state.aliases[alias] = await this.resolveVersion(state, ref.project, ref.alias);
      state.updatedAt = new Date().toISOString();
      await writeFileAtomic(join(dir, 'state.json'), JSON.stringify(state, null, 1));
    });
    this.notify();
  }

  async removeAlias(project: string, name: string, alias: string): Promise<void> {
    validateAlias(alias);
    const dir = this.artifactDir(project, name);
    await this.requireState(project, name);
    await withLock(join(dir, '.lock'), async () => {
      const state = (await this.readState(project, name))!;
      if (!Object.hasOwn(state.aliases, alias)) throw aliasNotFound(project, name, alias);
      delete state.aliases[alias];
      state.updatedAt = new Date().toISOString();
      await writeFileAtomic(join(dir, 'state.json'), JSON.stringify(state, null, 1));
    });
    this.notify();
  }

  // ---- deleting ------------------------------------------------------------------------------

  async deleteVersion(ref: ArtifactRef, options: DeleteOptions = {}): Promise<DeleteResult> {
    const dir = this.artifactDir(ref.project, ref.name);
    await this.requireState(ref.project, ref.name);
    const result = await withLock(join(dir, '.lock'), async () => {
      const state = await this.requireState(ref.project, ref.name);
      const version = await this.resolveVersion(state, ref.project, ref.alias);
      return this.writeDeletion(dir, ref.project, state, [version], options);
    });
    this.notify();
    return result;
  }

  async deleteArtifact(project: string, name: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    const dir = this.artifactDir(project, name);
    await this.requireState(project, name);
    const result = await withLock(join(dir, '.lock'), async () => {
      const state = await this.requireState(project, name);
      return this.writeDeletion(dir, project, state, state.versions.map((v) => v.version), options);
    });
    this.notify();
    return result;
  }

  /** Under the artifact's lock: moves `targets` to the tombstones of state.json (the rules are planDeletion's). */
  private async writeDeletion(dir: string, project: string, state: ArtifactState, targets: number[], options: DeleteOptions): Promise<DeleteResult> {
    const aliasesOf = aliasesByVersion(Object.entries(state.aliases));
    const plan = planDeletion(project, state.name, state.versions.map((v) => ({ version: v.version, aliases: aliasesOf.get(v.version) ?? [] })), targets, options.protectedAliases);
    const now = new Date().toISOString();
    const going = new Set(plan.deleted.map((d) => d.version));
    const tombstones = [...(state.deleted ?? [])];
    for (const d of plan.deleted) {
      const summary = state.versions.find((v) => v.version === d.version)!;
      tombstones.push({ ...summary, deletedAt: now, aliases: d.aliases, ...(d.aliases.includes(LATEST) && plan.latest !== undefined ? { latestAfter: plan.latest } : {}) });
    }
    state.versions = state.versions.filter((v) => !going.has(v.version));
    state.deleted = tombstones.sort((a, b) => a.version - b.version);
    for (const [alias, v] of Object.entries(state.aliases)) if (going.has(v)) delete state.aliases[alias];
    if (plan.latest !== undefined) state.aliases[LATEST] = plan.latest;
    state.updatedAt = now;
    await writeFileAtomic(join(dir, 'state.json'), JSON.stringify(state, null, 1));
    return { project, name: state.name, deleted: plan.deleted, ...(plan.latest !== undefined ? { latest: plan.latest } : {}) };
  }

  async restoreVersion(k: VersionKey): Promise<RestoreResult> {
    validateProject(k.project);
    validateName(k.name);
    const dir = this.artifactDir(k.project, k.name);
    if (!(await this.readState(k.project, k.name))) throw artifactNotFound(k.project, k.name, existsSync(join(this.root, 'projects', k.project)), this.location);
    // Inside the commit gate, as a commit: gc either freed the content before (then it is
    // missing here) or runs after and sees the version live.
    const result = await withLock(join(dir, '.lock'), () => withCommitGate(this.gateDir, async () => {
      const state = (await this.readState(k.project, k.name))!;
      if (state.versions.some((v) => v.version === k.version)) throw notDeleted(k);
      const tombstone = state.deleted?.find((d) => d.version === k.version);
      if (!tombstone) throw versionNotFound(k);
      const twin = state.versions.find((v) => v.digest === tombstone.digest);
      if (twin) throw sameContentLive(k, twin.version);
      const rec = await this.readVersionRecord(k.project, k.name, k.version);
      const missingNow = this.blobs.missingNowChecker();
      for await (const batch of batches(this.manifestFiles(k.project, k.name, rec))) if (missingNow(batch).length) throw contentFreed(k);
      const back = aliasesToRestore(tombstone, (a) => (Object.hasOwn(state.aliases, a) ? state.aliases[a] : undefined));
      const { deletedAt: _d, aliases: _a, latestAfter: _l, ...summary } = tombstone;
      state.versions = [...state.versions, summary].sort((a, b) => a.version - b.version);
      state.deleted = state.deleted!.filter((d) => d.version !== k.version);
      if (!state.deleted.length) delete state.deleted;
      for (const a of back) state.aliases[a] = k.version;
      // An artifact always has `latest`: the first version restored after a whole deletion takes it.
      if (!Object.hasOwn(state.aliases, LATEST)) {
        state.aliases[LATEST] = k.version;
        back.unshift(LATEST);
      }
      state.updatedAt = new Date().toISOString();
      await writeFileAtomic(join(dir, 'state.json'), JSON.stringify(state, null, 1));
      return { project: k.project, name: state.name, version: k.version, aliases: back };
    }));
    this.notify();
    return result;
  }

  async lineage(ref: ArtifactRef, depth: number, options: LineageOptions = {}): Promise<LineageGraph> {
    const start = await this.getVersion(ref).catch(async (e: unknown) => {
      // A deleted version named by number still has its lineage (its tombstone in the middle).
      const n = parseVersionAlias(ref.alias);
      const state = n !== undefined && isDeletedError(e) ? await this.readState(ref.project, ref.name) : undefined;
      if (!state?.deleted?.some((d) => d.version === n)) throw e;
      return { project: ref.project, name: ref.name, version: n! };
    });
    // One read of each artifact's state for the whole walk (a cluster has many versions of one artifact).
    const states = new Map<string, Promise<ArtifactState | undefined>>();
    const stateOf = (project: string, name: string) => {
      const key = `${project}/${name}`;
      if (!states.has(key)) states.set(key, this.readState(project, name));
      return states.get(key)!;
    };
    const source: LineageSource = {
      versionNode: async (k) => {
        const artifact = await stateOf(k.project, k.name);
        if (!artifact) return undefined;
        const deleted = !!artifact.deleted?.some((d) => d.version === k.version);
        if (!deleted && !artifact.versions.some((v) => v.version === k.version)) return undefined;
        const [rec, usedBy] = await Promise.all([this.readVersionRecord(k.project, k.name, k.version), this.usedBy(k)]);
        return { type: artifact.type, createdBy: rec.createdBy, usedBy, ...(deleted ? { deleted } : {}) };
      },
      runNode: async (runId) => {
        const run = await this.readRun(runId);
        if (!run) return undefined;
        const list = async (sub: string) => (await readdir(join(this.root, 'runs', runId, sub)).catch(() => [] as string[]))
          .map(parseVersionKeyFile).filter((k): k is VersionKey => !!k).sort(compareVersionKeys);
        return { run, inputs: await list('inputs'), outputs: await list('outputs') };
      },
    };
    return buildLineage(source, { project: start.project, name: start.name, version: start.version }, depth, options);
  }

  async gc(dryRun: boolean, options: GcOptions = {}): Promise<GcResult> {
    if (!this.checkFormat()) return { blobs: 0, bytes: 0, dryRun };
    this.ensureLayout();
    const minAgeMs = (options.minAgeSeconds ?? DEFAULT_GC_MIN_AGE_S) * 1000;
    // No commit runs while gc decides and deletes: a log that reused an unused blob either
    // committed before (its version record then keeps the blob) or looks again after.
    const result = await withGcGate(this.gateDir, async () => ({ ...(await this.blobs.sweep(await this.usedDigests(), dryRun, minAgeMs)), dryRun }));
    const runs = await this.sweepRuns(dryRun, minAgeMs);
    if (runs.runsFailed || runs.runsRemoved) this.notify();
    return { ...result, ...(runs.runsFailed ? { runsFailed: runs.runsFailed } : {}), ...(runs.runsRemoved ? { runsRemoved: runs.runsRemoved } : {}) };
  }

  /** Digests every version record names, committed or not (a version being committed keeps its blobs). */
  private async usedDigests(): Promise<Set<string>> {
    const used = new Set<string>();
    for (const project of await readdir(join(this.root, 'projects')).catch(() => [] as string[])) {
      for (const name of await readdir(join(this.root, 'projects', project)).catch(() => [] as string[])) {
        // Read every version record, committed or not: a version being committed right now must keep its blobs.
        const versionsDir = join(this.artifactDir(project, name), 'versions');
        // Deleted versions keep their records for the lineage, not their content. (A state.json
        // that cannot be read names no tombstone: then every record keeps its blobs.)
        const state = await readJson<ArtifactState>(join(this.artifactDir(project, name), 'state.json')).catch(() => undefined);
        const tombstones = new Set((state?.deleted ?? []).map((d) => `v${d.version}.json`));
        for (const file of await readdir(versionsDir).catch(() => [] as string[])) {
          if (!file.endsWith('.json') || tombstones.has(file)) continue;
          const rec = await readJson<VersionRecord>(join(versionsDir, file));
          if (!rec) continue;
          for await (const e of this.manifestFiles(project, name, rec)) if (!e.ref) used.add(e.digest);
        }
      }
    }
    return used;
  }

  onDidChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    if (!this.watcher && existsSync(this.root)) {
      try {
        this.watcher = watch(this.root, (_event, file) => {
          if (file === 'changed') for (const l of this.listeners) l();
        });
      } catch {
        // Without a watcher, changes made by other processes show up on the next refresh.
      }
    }
    return () => {
      this.listeners.delete(listener);
      if (!this.listeners.size) {
        this.watcher?.close();
        this.watcher = undefined;
      }
    };
  }

  async close(): Promise<void> {
    this.blobs.close();
    this.watcher?.close();
    this.watcher = undefined;
    this.listeners.clear();
  }
}

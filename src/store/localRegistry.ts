import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { constants, copyFile, link, mkdir, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { conflict, integrity, invalid, throwIfAborted } from '../core/errors';
import { forEachLimit, hashFile, SMALL_FILE, sha256 } from '../core/hash';
import { buildLineage, type LineageSource } from '../core/lineage';
import { checkCommitRequest, isDigest, manifestSize } from '../core/manifest';
import { validateAlias, validateName, validateProject, type ArtifactRef } from '../core/names';
import type { Registry } from '../core/registry';
import { checkRunId, newRunRecord, runNotFound } from '../core/runs';
import type {
  ArtifactSummary, ChangeListener, CommitRequest, CommitResult, GcResult, LineageGraph, LocalFile, Manifest,
  NewRun, ProjectSummary, RunLink, RunRecord, RunStatus, StoredFile, TransferOptions, VersionDetail, VersionKey,
  VersionSummary,
} from '../core/types';
import {
  aliasesByVersion, aliasesToMove, aliasNotFound, artifactNotFound, checkArtifactType, compareVersionKeys, missingBlobsError, resolveAlias,
  versionNotFound, versionRecordMissing,
} from '../core/versionRules';
import { readJson, writeFileAtomic, writeFileAtomicSync } from './atomic';
import { copyAndHash } from './directCopy';
import { withLock } from './lock';
import { type PackedFileJob, writePackedFiles } from './packedFiles';
import { PackSet } from './packs';

export const STORE_FORMAT = { format: 'trove-store', version: 1 } as const;

/** `state.json` of an artifact: the commit point. A version exists once state.json lists it. */
interface ArtifactState {
  name: string;
  type: string;
  createdAt: string;
  updatedAt: string;
  nextVersion: number;
  versions: VersionSummaryRecord[];
  aliases: Record<string, number>;
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
  manifest: Manifest;
  createdBy?: string;
}

const BLOB_GRACE_MS = 60 * 60 * 1000;
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
  /** `digest:size` of blobs this instance has seen complete; blobs only go away through gc's grace period. */
  private readonly present = new Set<string>();
  private readonly packs: PackSet;

  constructor(readonly root: string) {
    this.location = `embedded store ${root}`;
    this.packs = new PackSet(join(root, 'packs'), join(root, 'tmp'));
  }

  // ---- layout -------------------------------------------------------------------------------

  private ensureLayout(): void {
    if (this.laidOut) return;
    if (existsSync(this.root) && !statSync(this.root).isDirectory()) {
      throw invalid(`The store path ${this.root} is a file, not a folder; pass --store (or TROVE_STORE) a folder.`);
    }
    const formatFile = join(this.root, 'format.json');
    const existing = existsSync(formatFile) ? (JSON.parse(readFileSync(formatFile, 'utf8')) as { format?: string; version?: number }) : undefined;
    if (existing) {
      if (existing.format !== STORE_FORMAT.format) throw invalid(`${this.root} is not a Trove store (format.json says ${existing.format}); pick another --store folder.`);
      if (existing.version !== STORE_FORMAT.version) throw invalid(`The store at ${this.root} has format version ${existing.version}, and this Trove reads version ${STORE_FORMAT.version}; upgrade Trove.`);
    } else {
      mkdirSync(this.root, { recursive: true });
      for (const d of ['blobs', 'packs', 'projects', 'runs', 'tmp', 'cache']) mkdirSync(join(this.root, d), { recursive: true });
      for (let i = 0; i < 256; i++) mkdirSync(join(this.root, 'blobs', i.toString(16).padStart(2, '0')), { recursive: true });
      // Several processes may create a new store at once; each writes the same content atomically.
      writeFileAtomicSync(formatFile, JSON.stringify(STORE_FORMAT, null, 2) + '\n');
    }
    this.laidOut = true;
  }

  /** Whether the store folder exists (it is created on the first write). */
  exists(): boolean {
    return existsSync(join(this.root, 'format.json'));
  }

  blobPath(digest: string): string {
    return join(this.root, 'blobs', digest.slice(0, 2), digest.slice(2));
  }

  private artifactDir(project: string, name: string): string {
    return join(this.root, 'projects', project, name);
  }

  private tmpPath(): string {
    return join(this.root, 'tmp', `${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  private async readState(project: string, name: string): Promise<ArtifactState | undefined> {
    return readJson<ArtifactState>(join(this.artifactDir(project, name), 'state.json'));
  }

  private async requireState(project: string, name: string): Promise<ArtifactState> {
    validateProject(project);
    validateName(name);
    const state = await this.readState(project, name);
    if (!state) throw artifactNotFound(project, name, existsSync(join(this.root, 'projects', project)), this.location);
    return state;
  }

  private resolveVersion(state: ArtifactState, project: string, alias: string): Promise<number> {
    return resolveAlias({ project, name: state.name, nextVersion: state.nextVersion }, alias, {
      hasVersion: (n) => state.versions.some((v) => v.version === n),
      aliasTarget: (a) => state.aliases[a],
      aliasNames: () => Object.keys(state.aliases),
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
    const projects = await readdir(join(this.root, 'projects')).catch(() => [] as string[]);
    const out: ProjectSummary[] = [];
    for (const name of projects.sort()) {
      const artifacts = await this.listArtifacts(name);
      if (artifacts.length) out.push({ name, artifacts: artifacts.length });
    }
    return out;
  }

  async listArtifacts(project: string): Promise<ArtifactSummary[]> {
    validateProject(project);
    const names = await readdir(join(this.root, 'projects', project)).catch(() => [] as string[]);
    const out: ArtifactSummary[] = [];
    await Promise.all(names.map(async (name) => {
      const s = await this.readState(project, name);
      if (s && s.versions.length) out.push({ project, name, type: s.type, versions: s.versions.length, latest: s.aliases.latest, updatedAt: s.updatedAt });
    }));
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async listVersions(project: string, name: string): Promise<VersionSummary[]> {
    const state = await this.requireState(project, name);
    const aliasesOf = aliasesByVersion(Object.entries(state.aliases));
    return state.versions.map((v) => ({ ...v, aliases: aliasesOf.get(v.version) ?? [] })).sort((a, b) => b.version - a.version);
  }

  async getVersion(ref: ArtifactRef): Promise<VersionDetail> {
    const state = await this.requireState(ref.project, ref.name);
    const version = await this.resolveVersion(state, ref.project, ref.alias);
    const rec = await this.readVersionRecord(ref.project, ref.name, version);
    const usedBy = await this.usedBy({ project: ref.project, name: ref.name, version });
    const links = await Promise.all(usedBy.map((id) => this.runLink(id)));
    const createdBy = rec.createdBy ? await this.runLink(rec.createdBy) : undefined;
    return {
      project: ref.project, name: ref.name, type: state.type, version, aliases: aliasesByVersion(Object.entries(state.aliases)).get(version) ?? [],
      digest: rec.digest, size: rec.size, files: rec.files, createdAt: rec.createdAt, description: rec.description,
      metadata: rec.metadata, manifest: rec.manifest, ...(createdBy ? { createdBy } : {}), usedBy: links.filter((l): l is RunLink => !!l),
    };
  }

  private async runLink(runId: string): Promise<RunLink | undefined> {
    const run = await readJson<RunRecord>(join(this.root, 'runs', runId, 'run.json'));
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
    await writeFileAtomic(join(dir, 'run.json'), JSON.stringify(run, null, 2));
    return run;
  }

  async getRun(id: string): Promise<RunRecord> {
    const run = await readJson<RunRecord>(join(this.root, 'runs', checkRunId(id), 'run.json'));
    if (!run) throw runNotFound(id, this.location);
    return run;
  }

  async finishRun(id: string, status: Exclude<RunStatus, 'running'>): Promise<void> {
    const run = await this.getRun(id);
    await writeFileAtomic(join(this.root, 'runs', id, 'run.json'), JSON.stringify({ ...run, status, finishedAt: new Date().toISOString() }, null, 2));
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

  // ---- blobs --------------------------------------------------------------------------------

  async storeFiles(files: LocalFile[], options: TransferOptions = {}): Promise<StoredFile[]> {
    this.ensureLayout();
    const out: StoredFile[] = new Array(files.length);
    let doneFiles = 0;
    let doneBytes = 0;
    const progress = options.progress;
    progress?.report({ totalFiles: files.length, totalBytes: files.reduce((s, f) => s + f.size, 0), phase: 'storing' });
    /** Records file i; `counted` bytes of it were already reported while it was copied. */
    const finish = (i: number, digest: string, stored: boolean, counted = 0) => {
      out[i] = { path: files[i].path, digest, size: files[i].size, stored };
      progress?.report({ files: ++doneFiles, bytes: (doneBytes += files[i].size - counted) });
    };
    // Small files: synchronous reads and writes in short batches. On these disks one async fs call
    // costs more than the work itself; the batches keep the event loop (and cancellation) responsive.
    const large: number[] = [];
    const pack = this.packs.writer();
    const loose = files.length > 256 ? this.looseBlobs() : undefined;
    try {
      for (let i = 0; i < files.length; i++) {
        const f = files[i];
        if (f.size > SMALL_FILE) {
          large.push(i);
          continue;
        }
        if (f.digest && this.hasBlob(f.digest, f.size, loose)) {
          finish(i, f.digest, false);
        } else {
          const data = readFileSync(f.absPath);
          const digest = sha256(data);
          const stored = !pack.has(digest) && !this.hasBlob(digest, data.length, loose);
          if (stored) pack.add(digest, data);
          finish(i, digest, stored);
        }
        if (i % 256 === 255) {
          throwIfAborted(options.signal);
          await new Promise((r) => setImmediate(r));
        }
      }
      pack.finish();
    } catch (e) {
      pack.abort();
      throw e;
    }
    await forEachLimit(large, 2, async (i) => {
      const f = files[i];
      if (f.digest && this.hasBlob(f.digest, f.size)) return finish(i, f.digest, false);
      let counted = 0;
      const onBytes = progress && ((n: number) => {
        counted += n;
        progress.report({ bytes: (doneBytes += n) });
      });
      const { digest, stored } = await this.ingestLarge(f.absPath, options.signal, onBytes);
      finish(i, digest, stored, counted);
    }, options.signal);
    return out;
  }

  /**
   * A blob is present when a pack's index lists it or its loose file exists with the expected
   * size (a loose write cut short is shorter).
   */
  hasBlob(digest: string, size: number, loose?: Set<string>): boolean {
    const key = `${digest}:${size}`;
    if (this.present.has(key)) return true;
    const found = this.packs.lookup(digest, size, false)
      || ((!loose || loose.has(digest)) && statSync(this.blobPath(digest), { throwIfNoEntry: false })?.size === size)
      || this.packs.lookup(digest, size, true);
    if (found) this.present.add(key);
    return !!found;
  }

  /**
   * Names of the loose blobs, for checking many digests at once: 256 directory reads instead of
   * a stat per digest. Loose blobs are mostly large files, so the list stays short.
   */
  private looseBlobs(): Set<string> {
    const out = new Set<string>();
    for (let i = 0; i < 256; i++) {
      const fan = i.toString(16).padStart(2, '0');
      let names: string[] = [];
      try {
        names = readdirSync(join(this.root, 'blobs', fan));
      } catch {
        // a fan-out folder removed by hand: no loose blobs there
      }
      for (const rest of names) out.add(fan + rest);
    }
    return out;
  }

  /**
   * Copies a large file into the store and hashes it. Where the filesystem can reflink, the clone
   * is instant and the source is hashed beside it; if the source's size or mtime moved meanwhile,
   * the clone may not be what was hashed, so the clone itself is hashed instead. Elsewhere the
   * source is read once, hashed and written in the same pass (copyAndHash). Either way what is
   * stored under a digest is always the bytes of that digest.
   */
  private async ingestLarge(absPath: string, signal?: AbortSignal, onBytes?: (n: number) => void): Promise<{ digest: string; stored: boolean }> {
    const tmp = this.tmpPath();
    try {
      const before = await stat(absPath);
      let hashed: { digest: string; size: number };
      if (await copyFile(absPath, tmp, constants.COPYFILE_FICLONE_FORCE).then(() => true, () => false)) {
        const fromSource = await hashFile(absPath, signal, onBytes);
        const after = await stat(absPath);
        const steady = before.size === after.size && before.mtimeMs === after.mtimeMs && before.ino === after.ino && fromSource.size === after.size;
        hashed = steady ? fromSource : await hashFile(tmp, signal);
      } else {
        hashed = await copyAndHash(absPath, tmp, { signal, onBytes });
      }
      const { digest, size } = hashed;
      if (this.hasBlob(digest, size)) {
        await unlink(tmp);
        return { digest, stored: false };
      }
      await rename(tmp, this.blobPath(digest));
      this.present.add(`${digest}:${size}`);
      return { digest, stored: true };
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  async fetchBlobs(items: { digest: string; size: number; destPath: string }[], options: TransferOptions & { link?: 'copy' | 'hardlink'; onDone?: (files: number, bytes: number) => void } = {}): Promise<void> {
    const packed: PackedFileJob[] = [];
    const loose: typeof items = [];
    for (const item of items) {
      if (!isDigest(item.digest)) throw invalid(`Invalid blob digest "${item.digest}".`);
      const where = this.packs.lookup(item.digest, item.size, true);
      if (where) packed.push({ dest: item.destPath, pack: this.packs.packPath(where.pack), offset: where.offset, size: where.size, digest: item.digest });
      else loose.push(item);
    }
    try {
      await writePackedFiles(packed, { signal: options.signal, onDone: options.onDone });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT' && err.path?.endsWith('.pack')) {
        throw conflict(`${this.location} was compacted (trove gc) during the download; run the download again.`);
      }
      throw e;
    }
    await forEachLimit(loose, 4, async (item) => {
      await this.fetchBlob(item.digest, item.destPath, options);
      options.onDone?.(1, item.size);
    }, options.signal);
  }

  async fetchBlob(digest: string, destPath: string, options: TransferOptions & { link?: 'copy' | 'hardlink' } = {}): Promise<void> {
    if (!isDigest(digest)) throw invalid(`Invalid blob digest "${digest}".`);
    const packed = this.packs.lookup(digest, undefined, true);
    if (packed) {
      // Packed blobs are small: one read, one write. They cannot be hard-linked, so they are copied.
      writeFileSync(destPath, this.packs.read(digest, packed), { flag: 'wx' });
      return;
    }
    const src = this.blobPath(digest);
    try {
      if (options.link === 'hardlink') await link(src, destPath);
      else await this.copyOut(digest, src, destPath, options.signal);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(src)) {
        throw integrity(`Blob ${digest.slice(0, 12)} is missing from ${this.location}; the store is damaged (run \`trove verify\`).`);
      }
      throw e;
    }
  }

  /**
   * A loose blob to a new file: a reflink where the filesystem can, otherwise one pass that
   * copies, bypasses the page cache and checks the digest on the way, so that a blob damaged
   * in the store is never handed out as good.
   */
  private async copyOut(digest: string, src: string, destPath: string, signal?: AbortSignal): Promise<void> {
    try {
      // On failure libuv removes a destination it created; one that existed is left alone (EEXIST).
      return await copyFile(src, destPath, constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EEXIST') throw e;
    }
    const copied = await copyAndHash(src, destPath, { signal });
    if (copied.digest !== digest) {
      await unlink(destPath).catch(() => undefined);
      throw integrity(`Blob ${digest.slice(0, 12)} in ${this.location} is damaged (its content no longer matches its digest); run \`trove verify\` and log the files again.`);
    }
  }

  /**
   * For `trove serve`: stores blobs whose bytes the caller has already checked against their
   * digests, all in one pack. Returns how many were new.
   */
  storeVerifiedBlobs(blobs: { digest: string; data: Buffer }[]): number {
    this.ensureLayout();
    const pack = this.packs.writer();
    let stored = 0;
    try {
      for (const b of blobs) {
        if (pack.has(b.digest) || this.hasBlob(b.digest, b.data.length)) continue;
        pack.add(b.digest, b.data);
        stored++;
      }
      pack.finish();
    } catch (e) {
      pack.abort();
      throw e;
    }
    return stored;
  }

  /** For `trove serve`: a stored blob's bytes as a stream, or undefined when it is not stored. */
  openBlob(digest: string): { stream: Readable; size: number } | undefined {
    if (!isDigest(digest)) throw invalid(`Invalid blob digest "${digest}".`);
    const packed = this.packs.lookup(digest, undefined, true);
    if (packed) return { stream: Readable.from([this.packs.read(digest, packed)]), size: packed.size };
    const st = statSync(this.blobPath(digest), { throwIfNoEntry: false });
    return st ? { stream: createReadStream(this.blobPath(digest), { highWaterMark: 1 << 20 }), size: st.size } : undefined;
  }

  async verifyBlob(digest: string): Promise<boolean> {
    const packed = this.packs.lookup(digest, undefined, true);
    if (packed) {
      try {
        return sha256(this.packs.read(digest, packed)) === digest;
      } catch {
        return false;
      }
    }
    try {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(this.blobPath(digest), { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
      return hash.digest('hex') === digest;
    } catch {
      return false;
    }
  }

  // ---- versions -----------------------------------------------------------------------------

  async commitVersion(req: CommitRequest): Promise<CommitResult> {
    const { aliases, metadata, manifest, digest } = checkCommitRequest(req);
    this.ensureLayout();
    const dir = this.artifactDir(req.project, req.name);
    const current = await this.readState(req.project, req.name);
    const known = current?.versions.find((v) => v.digest === digest);
    // Equal to the version `latest` already names, with no alias to move: nothing to write at all.
    if (known && current!.type === req.type && current!.aliases.latest === known.version && aliases.every((a) => current!.aliases[a] === known.version)) {
      return { version: known.version, digest, created: false, size: known.size, files: known.files };
    }
    if (!known) {
      // Content equal to an existing version was checked when that version was committed.
      const missing = Object.values(manifest).filter((e) => !e.ref && !this.hasBlob(e.digest, e.size));
      if (missing.length) throw missingBlobsError(missing.map((e) => e.digest));
    }
    await mkdir(join(dir, 'versions'), { recursive: true });
    const result = await withLock(join(dir, '.lock'), async () => {
      const now = new Date().toISOString();
      const state: ArtifactState = (await this.readState(req.project, req.name)) ?? {
        name: req.name, type: req.type, createdAt: now, updatedAt: now, nextVersion: 0, versions: [], aliases: {},
      };
      checkArtifactType(req.project, req.name, state.type, req.type);
      const same = state.versions.find((v) => v.digest === digest);
      let version: number;
      if (same) {
        version = same.version;
      } else {
        version = state.nextVersion;
        const rec: VersionRecord = {
          version, digest, size: manifestSize(manifest), files: Object.keys(manifest).length, createdAt: now,
          description: req.description ?? '', metadata, manifest, ...(req.runId ? { createdBy: req.runId } : {}),
        };
        await writeFileAtomic(join(dir, 'versions', `v${version}.json`), JSON.stringify(rec));
        state.versions.push({ version, digest, size: rec.size, files: rec.files, createdAt: now });
        state.nextVersion = version + 1;
      }
      for (const a of aliasesToMove(aliases)) state.aliases[a] = version;
      state.updatedAt = now;
      await writeFileAtomic(join(dir, 'state.json'), JSON.stringify(state, null, 1)); // the commit point
      const summary = state.versions.find((v) => v.version === version)!;
      return { version, digest, created: !same, size: summary.size, files: summary.files };
    });
    if (req.runId && result.created) {
      await writeFile(join(this.root, 'runs', req.runId, 'outputs', versionKeyFile({ project: req.project, name: req.name, version: result.version })), '').catch(() => undefined);
    }
    this.notify();
    return result;
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
      if (state.aliases[alias] === undefined) throw aliasNotFound(project, name, alias);
      delete state.aliases[alias];
      state.updatedAt = new Date().toISOString();
      await writeFileAtomic(join(dir, 'state.json'), JSON.stringify(state, null, 1));
    });
    this.notify();
  }

  async lineage(ref: ArtifactRef, depth: number): Promise<LineageGraph> {
    const start = await this.getVersion(ref);
    const source: LineageSource = {
      versionNode: async (k) => {
        const state = await this.readState(k.project, k.name);
        if (!state || !state.versions.some((v) => v.version === k.version)) return undefined;
        const rec = await this.readVersionRecord(k.project, k.name, k.version);
        return { type: state.type, createdBy: rec.createdBy, usedBy: await this.usedBy(k) };
      },
      runNode: async (runId) => {
        const run = await readJson<RunRecord>(join(this.root, 'runs', runId, 'run.json'));
        if (!run) return undefined;
        const list = async (sub: string) => (await readdir(join(this.root, 'runs', runId, sub)).catch(() => [] as string[]))
          .map(parseVersionKeyFile).filter((k): k is VersionKey => !!k).sort(compareVersionKeys);
        return { run, inputs: await list('inputs'), outputs: await list('outputs') };
      },
    };
    return buildLineage(source, { project: start.project, name: start.name, version: start.version }, depth);
  }

  async gc(dryRun: boolean): Promise<GcResult> {
    const used = new Set<string>();
    for (const project of await readdir(join(this.root, 'projects')).catch(() => [] as string[])) {
      for (const name of await readdir(join(this.root, 'projects', project)).catch(() => [] as string[])) {
        // Read every version record, committed or not: a version being committed right now must keep its blobs.
        const versionsDir = join(this.artifactDir(project, name), 'versions');
        for (const file of await readdir(versionsDir).catch(() => [] as string[])) {
          if (!file.endsWith('.json')) continue;
          const rec = await readJson<VersionRecord>(join(versionsDir, file));
          for (const e of Object.values(rec?.manifest ?? {})) if (!e.ref) used.add(e.digest);
        }
      }
    }
    let blobs = 0;
    let bytes = 0;
    const cutoff = Date.now() - BLOB_GRACE_MS;
    for (const fan of await readdir(join(this.root, 'blobs')).catch(() => [] as string[])) {
      for (const rest of await readdir(join(this.root, 'blobs', fan))) {
        const digest = fan + rest;
        if (used.has(digest)) continue;
        const path = join(this.root, 'blobs', fan, rest);
        const st = await stat(path);
        // Blobs written in the last hour may belong to a log that has not committed yet.
        if (st.mtimeMs > cutoff) continue;
        blobs++;
        bytes += st.size;
        if (!dryRun) await unlink(path);
      }
    }
    // Packs: drop those no version uses, rewrite those partly used (with only the used blobs).
    for (const pack of this.packs.packs()) {
      if (pack.mtimeMs > cutoff) continue;
      const entries = Object.entries(pack.blobs);
      const kept = entries.filter(([digest]) => used.has(digest));
      if (kept.length === entries.length) continue;
      for (const [, [, size]] of entries.filter(([digest]) => !used.has(digest))) {
        blobs++;
        bytes += size;
      }
      if (dryRun) continue;
      if (kept.length) {
        const writer = this.packs.writer();
        try {
          for (const [digest, [offset, size]] of kept) writer.add(digest, this.packs.read(digest, { pack: pack.id, offset, size }));
          writer.finish();
        } catch (e) {
          writer.abort();
          throw e;
        }
      }
      this.packs.remove(pack.id);
    }
    if (!dryRun) {
      for (const orphan of this.packs.orphans()) if (orphan.mtimeMs < cutoff) this.packs.remove(orphan.id);
      // Leftovers of killed processes.
      for (const t of await readdir(join(this.root, 'tmp')).catch(() => [] as string[])) {
        const p = join(this.root, 'tmp', t);
        const st = await stat(p).catch(() => undefined);
        if (st && st.mtimeMs < cutoff) await rm(p, { force: true, recursive: true });
      }
    }
    return { blobs, bytes, dryRun };
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
    this.packs.close();
    this.watcher?.close();
    this.watcher = undefined;
    this.listeners.clear();
  }
}

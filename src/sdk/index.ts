/**
 * The TypeScript SDK, shaped like W&B's:
 *
 *   const run = await init({ project: 'mnist', jobType: 'train' });
 *   const data = await run.useArtifact('mnist-raw:latest');
 *   await data.download({ root: 'data' });
 *   const model = new Artifact('mnist-cnn', 'model', { metadata: { epochs: 10 } });
 *   model.addFile('model.pt');
 *   await run.logArtifact(model, { aliases: ['candidate'] });
 *   await run.finish();
 *
 * Inside `trove run`, `init` attaches to that run (TROVE_RUN_ID) instead of starting a new one.
 */
import { basename, resolve } from 'node:path';
import { defaultProject, defaultStorePath } from '../core/config';
import { invalid } from '../core/errors';
import { validateName, validateType, parseRef, formatRef } from '../core/names';
import { downloadVersion, logArtifact, type ArtifactContent, type DownloadOutcome, type LogOutcome } from '../core/operations';
import { gitProvenance } from '../core/provenance';
import type { Registry } from '../core/registry';
import type { DeleteResult, RestoreResult, RunRecord, TransferOptions, VersionDetail } from '../core/types';
import { parseDeletionTarget, undoDeletion } from '../core/deletion';
import { protectedAliasesFromEnv } from '../core/versionRules';
import { openRegistry, type BackendOptions } from './backend';

export { openRegistry } from './backend';
export type { Registry } from '../core/registry';

export interface InitOptions extends BackendOptions {
  project?: string;
  jobType?: string;
  name?: string;
  /** Folder used for the default project name and git provenance (default: process.cwd()). */
  cwd?: string;
}

export class Artifact {
  readonly content: ArtifactContent = { dirs: [], files: [], references: [] };
  readonly description: string;
  readonly metadata: Record<string, unknown>;

  constructor(readonly name: string, readonly type: string, options: { description?: string; metadata?: Record<string, unknown> } = {}) {
    validateName(name);
    validateType(type);
    this.description = options.description ?? '';
    this.metadata = options.metadata ?? {};
  }

  /** Adds one file, stored as `name` (default: its base name). */
  addFile(localPath: string, name?: string): this {
    this.content.files.push({ absPath: resolve(localPath), path: name ?? basename(localPath) });
    return this;
  }

  /** Adds every file under a folder, under `prefix` inside the artifact (default: the root). */
  addDir(localPath: string, prefix?: string): this {
    this.content.dirs.push({ absPath: resolve(localPath), prefix });
    return this;
  }

  /** Records a `file://`, `http(s)://` or `s3://` object by checksum without copying it. */
  addReference(uri: string, name?: string): this {
    const path = name ?? decodeURIComponent(new URL(uri).pathname.split('/').filter(Boolean).pop() ?? '');
    if (!path) throw invalid(`Give the reference ${uri} a name: addReference(uri, "file.csv").`);
    this.content.references.push({ uri, path });
    return this;
  }
}

/** A resolved version, as returned by `useArtifact`. */
export class ArtifactVersion {
  constructor(private readonly registry: Registry, readonly detail: VersionDetail) {}

  get ref(): string {
    return formatRef(this.detail.project, this.detail.name, this.detail.version);
  }

  /** Writes the files under `root` (default `artifacts/<name>-v<K>`); returns the folder. */
  async download(options: { root?: string; pathPrefix?: string; link?: 'copy' | 'hardlink'; overwrite?: boolean } & TransferOptions = {}): Promise<DownloadOutcome> {
    const root = options.root ?? `artifacts/${this.detail.name}-v${this.detail.version}`;
    return downloadVersion(this.registry, this.detail, { ...options, root });
  }
}

export class Run {
  private finished = false;

  constructor(readonly registry: Registry, readonly record: RunRecord, private readonly cacheDir: string, private readonly attached: boolean) {}

  get id(): string {
    return this.record.id;
  }

  get project(): string {
    return this.record.project;
  }

  async logArtifact(artifact: Artifact, options: { aliases?: string[] } & TransferOptions = {}): Promise<LogOutcome> {
    return logArtifact(this.registry, {
      project: this.project, name: artifact.name, type: artifact.type, content: artifact.content,
      aliases: options.aliases, description: artifact.description, metadata: artifact.metadata, runId: this.id, cacheDir: this.cacheDir,
    }, options);
  }

  /** Resolves `[project/]name[:alias]` and records that this run used it. */
  async useArtifact(ref: string): Promise<ArtifactVersion> {
    const detail = await this.registry.getVersion(parseRef(ref, this.project));
    await this.registry.recordUse(this.id, { project: detail.project, name: detail.name, version: detail.version });
    return new ArtifactVersion(this.registry, detail);
  }

  /** Marks the run finished (or failed). A run that `trove run` owns is finished by it instead. */
  async finish(status: 'finished' | 'failed' = 'finished'): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    if (!this.attached) await this.registry.finishRun(this.id, status);
    await this.registry.close();
  }
}

export async function init(options: InitOptions = {}): Promise<Run> {
  const cwd = options.cwd ?? process.cwd();
  const { registry, cacheDir } = openRegistry(options);
  const attachTo = process.env.TROVE_RUN_ID;
  if (attachTo) return new Run(registry, await registry.getRun(attachTo), cacheDir, true);
  const project = defaultProject(cwd, options.project);
  const record = await registry.createRun({
    project, jobType: options.jobType ?? 'script', name: options.name, command: process.argv.slice(1).join(' '), git: await gitProvenance(cwd),
  });
  return new Run(registry, record, cacheDir, false);
}

export { defaultStorePath };
export type { DeleteResult, RestoreResult } from '../core/types';

export interface DeleteArtifactOptions extends BackendOptions {
  /** The project of a reference without one (default: as `init` picks it). */
  project?: string;
  /** Aliases that refuse the deletion (default: TROVE_PROTECTED_ALIASES, else production and staging); a server adds its own. */
  protectedAliases?: string[];
}

/** Runs `body` on a registry opened for one call, and closes it. */
async function withRegistry<T>(options: BackendOptions, body: (registry: Registry) => Promise<T>): Promise<T> {
  const { registry } = openRegistry(options);
  try {
    return await body(registry);
  } finally {
    await registry.close();
  }
}

/**
 * Deletes `[project/]name:vN` (or `:alias`): one version, whose aliases go with it (`latest`
 * moves to the newest remaining version); `[project/]name` without a version deletes the whole
 * artifact. Refused while a protected alias names a version that would go. Until gc frees its
 * content, `restoreVersion` (or `undoDelete` with the result) brings it back.
 */
export async function deleteArtifact(ref: string, options: DeleteArtifactOptions = {}): Promise<DeleteResult> {
  const target = parseDeletionTarget(ref, defaultProject(process.cwd(), options.project));
  const protectedAliases = options.protectedAliases ?? protectedAliasesFromEnv();
  return withRegistry(options, (registry) => (target.alias === undefined
    ? registry.deleteArtifact(target.project, target.name, { protectedAliases })
    : registry.deleteVersion({ project: target.project, name: target.name, alias: target.alias }, { protectedAliases })));
}

/** Brings a deleted version back (`[project/]name:vN`), with the aliases no other version took meanwhile. */
export async function restoreVersion(ref: string, options: BackendOptions & { project?: string } = {}): Promise<RestoreResult> {
  const r = parseRef(ref, defaultProject(process.cwd(), options.project));
  const version = Number(/^v(\d+)$/.exec(r.alias)?.[1] ?? NaN);
  if (!ref.includes(':') || !Number.isSafeInteger(version)) throw invalid(`Name the deleted version by its number, for example restoreVersion("${r.project}/${r.name}:v1").`);
  return withRegistry(options, (registry) => registry.restoreVersion({ project: r.project, name: r.name, version }));
}

/** Undoes what `deleteArtifact` returned: every version it deleted comes back, newest first. */
export async function undoDelete(result: DeleteResult, options: BackendOptions = {}): Promise<RestoreResult[]> {
  return withRegistry(options, (registry) => undoDeletion(registry, result));
}

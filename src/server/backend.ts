import { randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { usageError } from '../core/errors';
import { checkCommitHeader } from '../core/manifest';
import { checkManifestFile, spooledBatches, spoolManifest, type ManifestFile } from '../core/manifestStream';
import { missingBlobsError } from '../core/versionRules';
import type { CommitResult, GcOptions, GcResult, Manifest, StreamCommitRequest } from '../core/types';
import { serverTokensFile } from '../store/layout';
import { DEFAULT_GC_MIN_AGE_S, LocalRegistry } from '../store/localRegistry';
import { LocalBlobStore, S3BlobStore, type BlobStore } from './blobStore';
import type { MetadataStore } from './metadata';
import { PgStore } from './pgStore';
import { parseS3Url, s3SettingsFromEnv } from '../core/s3';
import { FileTokenStore, type TokenStore } from './tokens';
import { EmbeddedBlobScope, manifestDigests, type BlobScope } from './blobScope';

/** Everything `trove serve` stores things in, whatever the mode. */
export interface ServerBackend {
  readonly mode: 'embedded' | 'postgres+s3';
  readonly description: string;
  readonly meta: MetadataStore;
  readonly blobs: BlobStore;
  readonly tokens: TokenStore;
  /** Which blobs each project may read (src/server/blobScope.ts). */
  readonly scope: BlobScope;
  /** Whether clients fetch bytes straight from the object store (presigned URLs). */
  readonly presignDownloads: boolean;
  /** Throws unless every blob the manifest names is stored (and verified) and readable by `project` (the committer's token's). */
  ensureBlobs(manifest: Manifest, project: string): Promise<void>;
  /** Commits a manifest that arrives as a stream of batches in path order (never held whole), with ensureBlobs' checks for `project` (the committer's token's). */
  commitStream(request: StreamCommitRequest, files: AsyncIterable<unknown[]>, project: string): Promise<CommitResult>;
  /** Whether `project` may fetch this pack whole (it may read every blob in it). */
  packReadable(pack: string, project: string): Promise<boolean>;
  gc(dryRun: boolean, options?: GcOptions): Promise<GcResult>;
  close(): Promise<void>;
}

export interface BackendSettings {
  /** Embedded store folder (metadata and blobs). */
  store?: string;
  /** postgres:// URL of the metadata database. */
  database?: string;
  /** s3://bucket[/prefix] for blobs. */
  blobs?: string;
  s3Endpoint?: string;
  /** Largest blob clients upload straight to S3 (default 5 GiB); 0 routes all transfers through the server. */
  s3PresignMaxBytes?: number;
}


class EmbeddedBackend implements ServerBackend {
  readonly mode = 'embedded' as const;
  readonly presignDownloads = false;
  readonly description: string;
  readonly meta: MetadataStore;
  readonly blobs: LocalBlobStore;
  readonly tokens: TokenStore;
  readonly scope: EmbeddedBlobScope;
  private changes = 0;
  private readonly epoch = randomBytes(4).toString('hex');
  private readonly stopWatching: () => void;

  constructor(private readonly registry: LocalRegistry) {
    this.description = registry.location;
    this.scope = new EmbeddedBlobScope(registry, () => this.changes);
    this.blobs = new LocalBlobStore(registry.blobs, registry.root, this.scope);
    this.tokens = new FileTokenStore(serverTokensFile(registry.root));
    // The store's own change signal covers writes by this server and by CLI processes on the same store.
    this.stopWatching = registry.onDidChange(() => this.changes++);
    const self = this;
    this.meta = {
      location: registry.location,
      listProjects: () => registry.listProjects(),
      listArtifacts: (p) => registry.listArtifacts(p),
      listVersions: (p, n) => registry.listVersions(p, n),
      getVersion: (r, o) => registry.getVersion(r, o),
      manifestPage: (k, c, l) => registry.manifestPage(k, c, l),
      createRun: (r) => registry.createRun(r),
      getRun: (id) => registry.getRun(id),
      finishRun: (id, s) => registry.finishRun(id, s),
      updateRun: (id, u) => registry.updateRun(id, u),
      recordUse: (id, k) => registry.recordUse(id, k),
      commitVersion: (req) => registry.commitVersion(req),
      addAlias: (r, a) => registry.addAlias(r, a),
      removeAlias: (p, n, a) => registry.removeAlias(p, n, a),
      lineage: (r, d, o) => registry.lineage(r, d, o),
      deleteVersion: (r, o) => registry.deleteVersion(r, o),
      deleteArtifact: (p, n, o) => registry.deleteArtifact(p, n, o),
      restoreVersion: (k) => registry.restoreVersion(k),
      async changeToken() {
        return `${self.epoch}-${self.changes}`;
      },
      close: async () => undefined,
    };
  }

  async ensureBlobs(manifest: Manifest, project: string): Promise<void> {
    // LocalRegistry.commitVersion checks its blob folder itself; here: may this project name them?
    const digests = manifestDigests(manifest);
    const readable = await this.scope.readable(project, digests);
    const missing = digests.filter((d) => !readable.has(d));
    if (missing.length) throw missingBlobsError(missing);
  }

  async packReadable(): Promise<boolean> {
    return false; // the embedded store's packs are its own files, never handed out
  }

  commitStream(request: StreamCommitRequest, files: AsyncIterable<unknown[]>, project: string): Promise<CommitResult> {
    // LocalRegistry checks every entry and that every blob is stored as it spools the stream;
    // here, a batch at a time: may this project name them?
    const self = this;
    async function* scoped(): AsyncGenerator<ManifestFile[]> {
      for await (const batch of files) {
        const manifest: Manifest = Object.create(null) as Manifest;
        for (const raw of batch) {
          const f = checkManifestFile(raw);
          manifest[f.path] = f;
        }
        await self.ensureBlobs(manifest, project);
        yield batch as ManifestFile[];
      }
    }
    return this.registry.commitVersionStream(request, scoped());
  }

  gc(dryRun: boolean, options?: GcOptions): Promise<GcResult> {
    return this.registry.gc(dryRun, options);
  }

  async close(): Promise<void> {
    this.stopWatching();
    await this.registry.close();
  }
}

class ScaleOutBackend implements ServerBackend {
  readonly mode = 'postgres+s3' as const;
  readonly description: string;

  constructor(readonly meta: PgStore, readonly blobs: S3BlobStore, readonly presignDownloads: boolean) {
    this.description = `metadata in ${meta.location}, blobs in ${blobs.description}`;
  }

  get tokens(): TokenStore {
    return this.meta;
  }

  get scope(): BlobScope {
    return this.meta;
  }

  async ensureBlobs(manifest: Manifest, project: string): Promise<void> {
    const unknown = await this.meta.unknownBlobs(manifest);
    const readable = await this.meta.readable(project, manifestDigests(manifest));
    const sizes = new Map(Object.values(manifest).filter((e) => !e.ref).map((e) => [e.digest, e.size]));
    const check = new Map(unknown.map((b) => [b.digest, b]));
    for (const [digest, size] of sizes) if (!readable.has(digest)) check.set(digest, { digest, size });
    if (!check.size) return;
    // Blobs uploaded straight to S3 by a client that did not confirm them: check them now.
    const missing = await this.blobs.confirm([...check.values()], project);
    if (missing.length) throw missingBlobsError(missing);
  }

  async commitStream(request: StreamCommitRequest, files: AsyncIterable<unknown[]>, project: string): Promise<CommitResult> {
    checkCommitHeader(request);
    const spool = join(tmpdir(), `trove-manifest-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      const spooled = await spoolManifest(files, spool);
      // Content equal to a version of this artifact (so of this project) was checked when that version was committed.
      if (!(await this.meta.hasVersionDigest(request.project, request.name, spooled.digest))) {
        for await (const batch of spooledBatches(spool)) {
          const manifest: Manifest = Object.create(null) as Manifest;
          for (const f of batch) manifest[f.path] = f;
          await this.ensureBlobs(manifest, project);
        }
      }
      return await this.meta.commitSpooled(request, spooled);
    } finally {
      await unlink(spool).catch(() => undefined);
    }
  }

  packReadable(pack: string, project: string): Promise<boolean> {
    return this.meta.packReadable(pack, project);
  }

  async gc(dryRun: boolean, options: GcOptions = {}): Promise<GcResult> {
    // Commits take the same lock shared and check their blobs in the ledger inside it.
    return this.meta.withGcLock(async () => {
      const used = await this.meta.usedDigests();
      const r = await this.blobs.gc(used, dryRun, (options.minAgeSeconds ?? DEFAULT_GC_MIN_AGE_S) * 1000);
      return { ...r, dryRun };
    });
  }

  async close(): Promise<void> {
    await this.blobs.close();
    await this.meta.close();
  }
}

/** Opens (and prepares: schema, bucket) the backend the settings describe. */
export async function openServerBackend(s: BackendSettings): Promise<ServerBackend> {
  if (s.database || s.blobs) {
    if (!s.database || !s.blobs) throw usageError('Scale-out mode needs both --database postgres://… and --blobs s3://bucket.');
    if (s.store) throw usageError('Pass either --store (embedded) or --database with --blobs (scale-out), not both.');
    if (!/^postgres(ql)?:\/\//.test(s.database)) throw usageError(`--database must be a postgres:// URL, not "${s.database}".`);
    const { bucket, key } = parseS3Url(s.blobs);
    const prefix = key && !key.endsWith('/') ? `${key}/` : key;
    const meta = new PgStore(s.database);
    try {
      await meta.init();
      const blobs = new S3BlobStore(s3SettingsFromEnv(s.s3Endpoint), bucket, prefix, meta, s.s3PresignMaxBytes);
      await blobs.init();
      return new ScaleOutBackend(meta, blobs, s.s3PresignMaxBytes !== 0);
    } catch (e) {
      await meta.close().catch(() => undefined);
      throw e;
    }
  }
  if (s.s3Endpoint || s.s3PresignMaxBytes !== undefined) throw usageError('--s3-endpoint and --s3-presign-max-bytes go with --blobs s3://bucket.');
  const registry = new LocalRegistry(s.store!, { runOwner: false });
  registry.checkFormat(); // a store of another format is not served
  const backend = new EmbeddedBackend(registry);
  await backend.blobs.init();
  return backend;
}

/** For `trove token create`: the token store alone, without preparing blob storage. */
export async function openTokenStore(s: BackendSettings): Promise<{ tokens: TokenStore; location: string; close(): Promise<void> }> {
  if (s.database) {
    const meta = new PgStore(s.database, 1);
    await meta.init();
    return { tokens: meta, location: meta.location, close: () => meta.close() };
  }
  const root = s.store!;
  return { tokens: new FileTokenStore(serverTokensFile(root)), location: `embedded store ${root}`, close: async () => undefined };
}

import type { ArtifactRef } from './names';
import type {
  ArtifactSummary, ChangeListener, CommitRequest, CommitResult, DeleteOptions, DeleteResult, RestoreResult, GcOptions, GcResult,
  LineageGraph, LineageOptions, LocalFile, NewRun, ProjectSummary, RunRecord, RunStatus, StoredFile, TransferOptions, VersionDetail,
  VersionKey, VersionSummary, ManifestFile, ManifestPage, StreamCommitRequest,
} from './types';

/**
 * The one interface every face talks to. `LocalRegistry` (embedded store) and `HttpRegistry`
 * (a `trove serve` server) implement it; the contract tests in test/integration run against both.
 */
export interface Registry {
  /** Where the data lives, for people: "embedded store /home/me/.trove" or "server http://…". */
  readonly location: string;
  /** The embedded store's folder on this machine, which logs leave out of the folders they read. */
  readonly storeFolder?: string;
  /** Hears problems that do not stop an answer (a damaged artifact left out of a listing). */
  onWarning?: (message: string) => void;

  listProjects(): Promise<ProjectSummary[]>;
  listArtifacts(project: string): Promise<ArtifactSummary[]>;
  listVersions(project: string, name: string): Promise<VersionSummary[]>;
  /**
   * Resolves `:latest`, `:alias` or `:vN` and returns the version with its manifest, or with an
   * empty one when `manifest` is false (a version of a million files is then paged, not loaded).
   */
  getVersion(ref: ArtifactRef, options?: { manifest?: boolean }): Promise<VersionDetail>;
  /** Up to `limit` (default and most 5000) files of a version in path order, from `cursor` (null: the start). */
  manifestPage(key: VersionKey, cursor: string | null, limit?: number): Promise<ManifestPage>;

  createRun(run: NewRun): Promise<RunRecord>;
  getRun(id: string): Promise<RunRecord>;
  finishRun(id: string, status: Exclude<RunStatus, 'running'>): Promise<void>;
  /** Records that a run consumed a version (an edge version -> run in the lineage). */
  recordUse(runId: string, version: VersionKey): Promise<void>;

  /**
   * Puts the files' content in the store: files whose digest is unknown are hashed, and only
   * content the store lacks is written or uploaded. Returns every file with its digest.
   */
  storeFiles(files: LocalFile[], options?: TransferOptions): Promise<StoredFile[]>;
  /** Creates the next version from a manifest whose blobs are all stored (or reuses an equal one). */
  commitVersion(request: CommitRequest): Promise<CommitResult>;
  /**
   * commitVersion with the manifest as a stream of batches in path order (UTF-8 bytes), each
   * path once: neither side holds the whole manifest. The stream may store blobs as it goes.
   */
  commitVersionStream(request: StreamCommitRequest, files: AsyncIterable<ManifestFile[]>): Promise<CommitResult>;
  /** Writes one blob to `destPath` (which must not exist yet), checked against its digest. */
  fetchBlob(digest: string, destPath: string, options?: TransferOptions & { link?: 'copy' | 'hardlink' }): Promise<void>;
  /**
   * Optional: writes many blobs to new files at once, as fetchBlob does one, where a backend can
   * do it faster together. `onDone` hears how many files (and bytes) completed since it last did.
   */
  fetchBlobs?(items: { digest: string; size: number; destPath: string }[], options?: TransferOptions & { link?: 'copy' | 'hardlink'; onDone?: (files: number, bytes: number) => void }): Promise<void>;

  addAlias(ref: ArtifactRef, alias: string): Promise<void>;
  removeAlias(project: string, name: string, alias: string): Promise<void>;
  /**
   * Deletes one version (`vN` or an alias naming it). Its aliases go with it; `latest` moves to
   * the newest remaining version; numbers are never given again. The version stays as a
   * tombstone in the lineage, and `gc` frees the content no remaining version uses. Refused
   * while a protected alias names it (see DeleteOptions).
   */
  deleteVersion(ref: ArtifactRef, options?: DeleteOptions): Promise<DeleteResult>;
  /** Deletes every version of an artifact, as deleteVersion does each; the artifact leaves the listings. */
  deleteArtifact(project: string, name: string, options?: DeleteOptions): Promise<DeleteResult>;
  /** Undoes a deletion while gc has not freed the version's content (see RestoreResult for its aliases). */
  restoreVersion(key: VersionKey): Promise<RestoreResult>;
  /** The runs and versions around a version, `depth` hops away (see LineageOptions for `connected`). */
  lineage(ref: ArtifactRef, depth: number, options?: LineageOptions): Promise<LineageGraph>;
  /** Removes blobs that no version uses (and that are older than `minAgeSeconds`, default one hour). */
  gc(dryRun: boolean, options?: GcOptions): Promise<GcResult>;
  /** Checks a stored blob's bytes against its digest; false when corrupt or missing. */
  verifyBlob(digest: string): Promise<boolean>;

  /** Calls `listener` after a change made by this or another process; returns a disposer. */
  onDidChange(listener: ChangeListener): () => void;
  close(): Promise<void>;
}

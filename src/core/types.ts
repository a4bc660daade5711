/**
 * The data model shared by every face and every backend (see ../../README.md, "Data model").
 * Everything here is plain JSON so that it crosses the HTTP API unchanged.
 */

/** One file of a version. `ref` marks an external reference that is recorded, not copied. */
export interface ManifestEntry {
  /** SHA-256 of the content (lowercase hex); for an S3 reference, the ETag-derived checksum string. */
  digest: string;
  size: number;
  /** `file://`, `http(s)://` or `s3://` URI of an external reference. */
  ref?: string;
  /** For `s3://` references: the object's ETag and version id at log time. */
  etag?: string;
  versionId?: string;
}

/** One file of a version with its path: what pages and streams of a manifest carry. */
export interface ManifestFile extends ManifestEntry {
  path: string;
}

/** A page of a manifest in path order (UTF-8 bytes); `nextCursor` fetches the next one, null at the end. */
export interface ManifestPage {
  items: ManifestFile[];
  nextCursor: string | null;
}

/** Relative POSIX path -> entry. Keys are validated by `validateManifestPath`. */
export type Manifest = Record<string, ManifestEntry>;

export interface GitInfo {
  commit: string;
  branch?: string;
  /** Remote URL with any credentials removed. */
  remote?: string;
  dirty: boolean;
}

export type RunStatus = 'running' | 'finished' | 'failed';

export interface RunRecord {
  id: string;
  project: string;
  jobType: string;
  name: string;
  command?: string;
  host: string;
  startedAt: string;
  finishedAt?: string;
  status: RunStatus;
  git?: GitInfo;
  /** The run's configuration and final metrics, as a W&B client reports them (JSON objects). */
  config?: Record<string, unknown>;
  summary?: Record<string, unknown>;
}

/** What may change on a run after it started (the W&B door learns these as the run goes). */
export type RunUpdate = Partial<Pick<RunRecord, 'jobType' | 'name' | 'command' | 'host' | 'git' | 'config' | 'summary'>>;

export interface VersionKey {
  project: string;
  name: string;
  version: number;
}

export interface RunLink {
  runId: string;
  jobType: string;
}

export interface ProjectSummary {
  name: string;
  artifacts: number;
}

export interface ArtifactSummary {
  project: string;
  name: string;
  type: string;
  versions: number;
  /** Version number that `latest` names. */
  latest: number;
  updatedAt: string;
}

export interface VersionSummary {
  version: number;
  aliases: string[];
  digest: string;
  size: number;
  files: number;
  createdAt: string;
}

export interface VersionDetail extends VersionSummary {
  project: string;
  name: string;
  type: string;
  description: string;
  metadata: Record<string, unknown>;
  /** Empty when asked for without it (`getVersion(ref, { manifest: false })`); then page it with `manifestPage`. */
  manifest: Manifest;
  createdBy?: RunLink;
  usedBy: RunLink[];
}

export interface NewRun {
  project: string;
  jobType: string;
  name?: string;
  command?: string;
  git?: GitInfo;
}

export interface CommitRequest {
  project: string;
  name: string;
  type: string;
  manifest: Manifest;
  aliases: string[];
  description?: string;
  metadata?: Record<string, unknown>;
  runId?: string;
}

/** A commit whose manifest comes as a stream (`commitVersionStream`). */
export type StreamCommitRequest = Omit<CommitRequest, 'manifest'>;

export interface CommitResult {
  version: number;
  digest: string;
  /** False when content equal to an existing version was logged: that version was reused. */
  created: boolean;
  size: number;
  files: number;
}

export interface LineageNode {
  id: string;
  kind: 'run' | 'version';
  label: string;
  /** version nodes */
  project?: string;
  name?: string;
  version?: number;
  type?: string;
  /** run nodes */
  jobType?: string;
  runId?: string;
  /**
   * Version nodes: the version was deleted; the node is its tombstone (the label ends in
   * " (deleted)"), so a run that used or made it still says what.
   */
  deleted?: boolean;
  /**
   * Run nodes: a `download` run that produced nothing (someone fetched a version to look at it).
   * The lineage view leaves these out unless asked.
   */
  viewOnly?: boolean;
}

export interface LineageOptions {
  /**
   * False (default): from the start version, hops go up through producers and inputs and down
   * through consumers and outputs. True: every node reached is walked both ways, so the graph
   * holds everything connected to the version within `depth` hops (the whole pipeline,
   * siblings and cousins included).
   */
  connected?: boolean;
}

export interface LineageEdge {
  from: string;
  to: string;
}

export interface LineageGraph {
  nodes: LineageNode[];
  edges: LineageEdge[];
}

export interface VersionDiff {
  added: string[];
  removed: string[];
  modified: string[];
  renamed: { from: string; to: string }[];
}

/** A file on the local disk about to become part of a version. */
export interface LocalFile {
  /** Path inside the artifact (relative POSIX). */
  path: string;
  absPath: string;
  size: number;
  /** Known from the stat cache; hashed by the registry otherwise. */
  digest?: string;
}

export interface StoredFile {
  path: string;
  digest: string;
  size: number;
  /** True when this file's content was not in the store before. */
  stored: boolean;
}

export interface Progress {
  /** Called with the work done so far; totals may grow while scanning. */
  report(update: { files?: number; bytes?: number; totalFiles?: number; totalBytes?: number; phase?: string }): void;
}

export interface TransferOptions {
  signal?: AbortSignal;
  progress?: Progress;
}

export interface GcOptions {
  /** Leave alone what was stored less than this long ago (default 3600: a log may be storing it). */
  minAgeSeconds?: number;
}

export interface GcResult {
  blobs: number;
  bytes: number;
  dryRun: boolean;
  /** Runs left "running" by killed processes, now marked failed (embedded store). */
  runsFailed?: number;
  /** Run folders without run.json (a process killed while creating its run), removed. */
  runsRemoved?: number;
}

/** How a deletion is checked. */
export interface DeleteOptions {
  /**
   * Aliases that block the deletion of the version they name until they are removed. Default:
   * DEFAULT_PROTECTED_ALIASES (core/versionRules.ts). A server adds its own list to the caller's.
   */
  protectedAliases?: readonly string[];
}

/** One version a deletion took away, with the aliases that named it (they go with it). */
export interface DeletedVersion {
  version: number;
  aliases: string[];
}

export interface DeleteResult {
  project: string;
  name: string;
  /** The versions deleted by this call, oldest first. */
  deleted: DeletedVersion[];
  /** The version `latest` names afterwards; absent when the artifact has no version left. */
  latest?: number;
}

export interface RestoreResult {
  project: string;
  name: string;
  version: number;
  /** The aliases the version got back (those no other version took meanwhile). */
  aliases: string[];
}

/** Emitted when something in the backend changed (a version, an alias, a run). */
export type ChangeListener = () => void;

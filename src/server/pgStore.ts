import pg from 'pg';
import { invalid, notFound, TroveError } from '../core/errors';
import { buildLineage, type LineageSource } from '../core/lineage';
import { checkCommitHeader, checkCommitRequest, manifestSize, sortManifest } from '../core/manifest';
import { spooledBatches, type SpooledManifest } from '../core/manifestStream';
import { formatRef, parseVersionAlias, validateAlias, validateName, validateProject, validateType, type ArtifactRef } from '../core/names';
import { checkRunId, newRunRecord, runNotFound } from '../core/runs';
import type {
  ArtifactSummary, CommitRequest, CommitResult, DeleteOptions, DeleteResult, LineageGraph, LineageOptions, Manifest, ManifestFile, ManifestPage, NewRun,
  ProjectSummary, RestoreResult, RunLink, RunRecord, RunStatus, RunUpdate, StreamCommitRequest, VersionDetail, VersionKey, VersionSummary,
} from '../core/types';
import {
  aliasesByVersion, aliasesToMove, aliasesToRestore, aliasNotFound, artifactDeleted, artifactNotFound, checkArtifactType, compareVersionKeys, contentFreed,
  isDeletedError, LATEST, notDeleted, planDeletion, resolveAlias, sameContentLive, sortAliases, versionNotFound, versionRecordMissing, missingBlobsError,
} from '../core/versionRules';
import type { BlobLedger, BlobRef } from './blobStore';
import { EVERY_PROJECT, manifestDigests, type BlobScope } from './blobScope';
import type { MetadataStore } from './metadata';
import { validateTokenRequest, newToken, type TokenRecord, type TokenStore } from './tokens';

/**
 * The schema. Version allocation relies on PostgreSQL, not on the servers: a commit locks its
 * artifact row (`select … for update`), so commits of one artifact from any number of server
 * processes run one after another, take `next_version` in turn and move aliases without losing
 * an update; a unique index on `(artifact_id, digest)` over live versions makes equal content one
 * version. A deleted version keeps its row (`deleted_at` set: a tombstone for the lineage and for
 * a restore) and its aliases go; gc frees what only tombstones name.
 */
const SCHEMA = `
create table if not exists artifacts (
  id bigserial primary key,
  project text not null,
  name text not null,
  type text not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  next_version integer not null default 0,
  unique (project, name)
);
create table if not exists versions (
  artifact_id bigint not null references artifacts(id),
  version integer not null,
  digest text not null,
  size bigint not null,
  files integer not null,
  created_at timestamptz not null,
  description text not null,
  metadata jsonb not null,
  manifest text not null,
  created_by text,
  primary key (artifact_id, version)
);
create index if not exists versions_created_by on versions (created_by);
alter table versions add column if not exists deleted_at timestamptz;
alter table versions add column if not exists deleted_aliases jsonb;
alter table versions add column if not exists latest_after integer;
alter table versions drop constraint if exists versions_artifact_id_digest_key;
create unique index if not exists versions_live_digest on versions (artifact_id, digest) where deleted_at is null;
alter table versions alter column manifest drop not null;
create table if not exists manifest_entries (
  artifact_id bigint not null,
  version integer not null,
  path text collate "C" not null,
  digest text not null,
  size bigint not null,
  ref jsonb,
  primary key (artifact_id, version, path),
  foreign key (artifact_id, version) references versions(artifact_id, version)
);
create table if not exists aliases (
  artifact_id bigint not null,
  alias text not null,
  version integer not null,
  primary key (artifact_id, alias),
  foreign key (artifact_id, version) references versions(artifact_id, version)
);
create table if not exists runs (
  id text primary key,
  project text not null,
  job_type text not null,
  name text not null,
  command text,
  host text not null,
  started_at timestamptz not null,
  finished_at timestamptz,
  status text not null,
  git jsonb
);
alter table runs add column if not exists config jsonb;
alter table runs add column if not exists summary jsonb;
create table if not exists run_inputs (
  run_id text not null references runs(id),
  artifact_id bigint not null,
  version integer not null,
  primary key (run_id, artifact_id, version),
  foreign key (artifact_id, version) references versions(artifact_id, version)
);
create index if not exists run_inputs_version on run_inputs (artifact_id, version);
create table if not exists blobs (
  digest text primary key,
  size bigint not null,
  pack text,
  pack_offset bigint,
  created_at timestamptz not null default now()
);
create index if not exists blobs_pack on blobs (pack) where pack is not null;
create table if not exists blob_projects (
  project text not null,
  digest text not null,
  primary key (project, digest)
);
create index if not exists blob_projects_digest on blob_projects (digest);
create table if not exists blob_uploads (
  digest text primary key,
  project text not null,
  via text not null,
  issued_at timestamptz not null
);
create table if not exists tokens (
  id text primary key,
  hash text not null unique,
  project text not null,
  scope text not null,
  created_at timestamptz not null
);
create sequence if not exists changes;
`;

const SCHEMA_LOCK = 7_201_842_331; // advisory lock id: two servers starting at once create the schema once
/** Advisory lock id between gc (exclusive) and commits (shared), across every server on the database. */
export const GC_LOCK = 7_201_842_332;

const iso = (d: Date | string | null | undefined) => (d instanceof Date ? d.toISOString() : d ?? undefined);

/** Metadata (artifacts, versions, aliases, runs, tokens) and the blob ledger in PostgreSQL. */
export class PgStore implements MetadataStore, BlobLedger, TokenStore, BlobScope {
  readonly location: string;
  readonly pool: pg.Pool;

  constructor(readonly url: string, poolSize = 10) {
    this.pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000 });
    this.pool.on('error', () => undefined); // an idle client losing its connection is replaced on next use
    const safe = url.replace(/\/\/([^:@/]*)(:[^@/]*)?@/, (_m, user) => `//${user}@`);
    this.location = `PostgreSQL ${safe}`;
  }

  async init(): Promise<void> {
    const c = await this.connect();
    try {
      await c.query('select pg_advisory_lock($1)', [SCHEMA_LOCK]);
      try {
        const { rows } = await c.query<{ fresh: boolean }>("select to_regclass('blob_projects') is null as fresh");
        await c.query(SCHEMA);
        // A database from before blob scoping: its versions' blobs belong to their projects.
        if (rows[0].fresh) {
          await c.query(`insert into blob_projects (project, digest)
            select distinct a.project, e.value->>'digest' from versions v join artifacts a on a.id = v.artifact_id, jsonb_each(v.manifest::jsonb) e
             where e.value->>'ref' is null on conflict do nothing`);
        }
      } finally {
        await c.query('select pg_advisory_unlock($1)', [SCHEMA_LOCK]);
      }
    } finally {
      c.release();
    }
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (e) {
      throw new TroveError('unavailable', `Cannot connect to ${this.location}: ${(e as Error).message}.`);
    }
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (e) {
      throw this.dbError(e);
    }
  }

  private dbError(e: unknown): Error {
    if (e instanceof TroveError) return e;
    return new TroveError('unavailable', `The metadata database (${this.location}) failed: ${(e as Error).message}.`);
  }

  private async tx<T>(body: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.connect();
    try {
      await c.query('begin');
      const out = await body(c);
      await c.query('commit');
      return out;
    } catch (e) {
      await c.query('rollback').catch(() => undefined);
      throw this.dbError(e);
    } finally {
      c.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async changeToken(): Promise<string> {
    const { rows } = await this.query<{ last_value: string; is_called: boolean }>('select last_value, is_called from changes');
    return rows[0].is_called ? String(rows[0].last_value) : '0';
  }

  // ---- reading ------------------------------------------------------------------------------

  private async artifactRow(project: string, name: string): Promise<{ id: string; type: string; next_version: number }> {
    validateProject(project);
    validateName(name);
    const { rows } = await this.query<{ id: string; type: string; next_version: number; live: boolean; deleted_at: Date | null }>(
      `select a.id, a.type, a.next_version, exists (select 1 from versions v where v.artifact_id = a.id and v.deleted_at is null) as live,
              (select max(v.deleted_at) from versions v where v.artifact_id = a.id) as deleted_at
         from artifacts a where a.project = $1 and a.name = $2`, [project, name]);
    if (!rows[0]) {
      const p = await this.query('select 1 from artifacts where project = $1 limit 1', [project]);
      throw artifactNotFound(project, name, !!p.rowCount, this.location);
    }
    if (!rows[0].live && rows[0].deleted_at) throw artifactDeleted(project, name, iso(rows[0].deleted_at)!);
    return rows[0];
  }

  private resolve(artifactId: string, project: string, name: string, nextVersion: number, alias: string): Promise<number> {
    return resolveAlias({ project, name, nextVersion }, alias, {
      hasVersion: async (n) => !!(await this.query('select 1 from versions where artifact_id = $1 and version = $2 and deleted_at is null', [artifactId, n])).rowCount,
      deletedAt: async (n) => iso((await this.query<{ deleted_at: Date }>('select deleted_at from versions where artifact_id = $1 and version = $2 and deleted_at is not null', [artifactId, n])).rows[0]?.deleted_at),
      aliasTarget: async (a) => (await this.query<{ version: number }>('select version from aliases where artifact_id = $1 and alias = $2', [artifactId, a])).rows[0]?.version,
      aliasNames: async () => (await this.query<{ alias: string }>('select alias from aliases where artifact_id = $1 order by alias', [artifactId])).rows.map((r) => r.alias),
    });
  }

  async listProjects(): Promise<ProjectSummary[]> {
    const { rows } = await this.query<{ project: string; n: number }>(`select a.project, count(*)::int as n from artifacts a
        where exists (select 1 from versions v where v.artifact_id = a.id and v.deleted_at is null) group by a.project order by a.project`);
    return rows.map((r) => ({ name: r.project, artifacts: r.n }));
  }

  async listArtifacts(project: string): Promise<ArtifactSummary[]> {
    validateProject(project);
    const { rows } = await this.query<{ name: string; type: string; versions: number; latest: number; updated_at: Date }>(
      `select a.name, a.type, (select count(*)::int from versions v where v.artifact_id = a.id and v.deleted_at is null) as versions, l.version as latest, a.updated_at
         from artifacts a join aliases l on l.artifact_id = a.id and l.alias = 'latest'
        where a.project = $1`, [project]);
    return rows.map((r) => ({ project, name: r.name, type: r.type, versions: r.versions, latest: r.latest, updatedAt: iso(r.updated_at)! }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async listVersions(project: string, name: string): Promise<VersionSummary[]> {
    const a = await this.artifactRow(project, name);
    const [versions, aliases] = await Promise.all([
      this.query<{ version: number; digest: string; size: string; files: number; created_at: Date }>('select version, digest, size, files, created_at from versions where artifact_id = $1 and deleted_at is null order by version desc', [a.id]),
      this.query<{ alias: string; version: number }>('select alias, version from aliases where artifact_id = $1', [a.id]),
    ]);
    const byVersion = aliasesByVersion(aliases.rows.map((r) => [r.alias, r.version] as const));
    return versions.rows.map((v) => ({
      version: v.version, aliases: byVersion.get(v.version) ?? [], digest: v.digest, size: Number(v.size), files: v.files, createdAt: iso(v.created_at)!,
    }));
  }

  async getVersion(ref: ArtifactRef, options: { manifest?: boolean } = {}): Promise<VersionDetail> {
    const a = await this.artifactRow(ref.project, ref.name);
    const version = await this.resolve(a.id, ref.project, ref.name, a.next_version, ref.alias);
    const [v, aliases, usedBy] = await Promise.all([
      this.query<{ digest: string; size: string; files: number; created_at: Date; description: string; metadata: Record<string, unknown>; manifest: string; created_by: string | null; job_type: string | null }>(
        `select v.digest, v.size, v.files, v.created_at, v.description, v.metadata, ${options.manifest === false ? 'null as manifest' : 'v.manifest'}, v.created_by, r.job_type
           from versions v left join runs r on r.id = v.created_by where v.artifact_id = $1 and v.version = $2`, [a.id, version]),
      this.query<{ alias: string }>('select alias from aliases where artifact_id = $1 and version = $2', [a.id, version]),
      this.query<{ run_id: string; job_type: string }>('select i.run_id, r.job_type from run_inputs i join runs r on r.id = i.run_id where i.artifact_id = $1 and i.version = $2 order by i.run_id', [a.id, version]),
    ]);
    const row = v.rows[0];
    if (!row) throw versionRecordMissing({ project: ref.project, name: ref.name, version }, this.location);
    const createdBy: RunLink | undefined = row.created_by && row.job_type ? { runId: row.created_by, jobType: row.job_type } : undefined;
    return {
      project: ref.project, name: ref.name, type: a.type, version, aliases: sortAliases(aliases.rows.map((r) => r.alias)), digest: row.digest,
      size: Number(row.size), files: row.files, createdAt: iso(row.created_at)!, description: row.description, metadata: row.metadata,
      manifest: options.manifest === false ? {} : row.manifest !== null ? sortManifest(JSON.parse(row.manifest) as Manifest) : await this.entriesOf(a.id, version),
      ...(createdBy ? { createdBy } : {}),
      usedBy: usedBy.rows.map((r) => ({ runId: r.run_id, jobType: r.job_type })),
    };
  }

  /** A manifest kept as rows of manifest_entries, as one object (for callers that asked for it whole). */
  private async entriesOf(artifactId: string, version: number): Promise<Manifest> {
    const manifest: Manifest = {};
    let cursor: string | null = null;
    do {
      const page = await this.entryPage(artifactId, version, cursor, 5000);
      for (const { path, ...entry } of page.items) manifest[path] = entry;
      cursor = page.nextCursor;
    } while (cursor);
    return manifest;
  }

  /** Up to `limit` rows of manifest_entries after path `after`, in path order (the "C" collation orders by UTF-8 bytes). */
  private async entryPage(artifactId: string, version: number, after: string | null, limit: number): Promise<ManifestPage> {
    const { rows } = await this.query<{ path: string; digest: string; size: string; ref: { ref: string; etag?: string; versionId?: string } | null }>(
      `select path, digest, size, ref from manifest_entries where artifact_id = $1 and version = $2 ${after === null ? '' : 'and path > $4'} order by path limit $3`,
      after === null ? [artifactId, version, limit] : [artifactId, version, limit, after]);
    const items = rows.map((r) => ({ path: r.path, digest: r.digest, size: Number(r.size), ...(r.ref ?? {}) }));
    return { items, nextCursor: rows.length === limit ? `p:${rows[rows.length - 1].path}` : null };
  }

  async manifestPage(key: VersionKey, cursor: string | null, limit = 5000): Promise<ManifestPage> {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 5000) throw invalid('A manifest page holds 1 to 5000 files.');
    const a = await this.artifactRow(key.project, key.name);
    const { rows } = await this.query<{ inline: string | null }>('select manifest as inline from versions where artifact_id = $1 and version = $2', [a.id, key.version]);
    if (!rows[0]) throw notFound(`Version ${formatRef(key.project, key.name, key.version)} does not exist.`);
    if (rows[0].inline === null) {
      if (cursor !== null && !cursor.startsWith('p:')) throw invalid(`"${cursor.slice(0, 80)}" is not a cursor of this manifest; start again without one.`);
      return this.entryPage(a.id, key.version, cursor === null ? null : cursor.slice(2), limit);
    }
    // A manifest stored whole by an earlier release.
    const offset = cursor === null ? 0 : /^i:\d{1,9}$/.test(cursor) ? Number(cursor.slice(2)) : NaN;
    if (!Number.isSafeInteger(offset)) throw invalid(`"${String(cursor).slice(0, 80)}" is not a cursor of this manifest; start again without one.`);
    const manifest = sortManifest(JSON.parse(rows[0].inline) as Manifest);
    const paths = Object.keys(manifest);
    const items = paths.slice(offset, offset + limit).map((path) => ({ path, ...manifest[path] }));
    return { items, nextCursor: offset + limit < paths.length ? `i:${offset + limit}` : null };
  }

  // ---- runs ---------------------------------------------------------------------------------

  async createRun(input: NewRun): Promise<RunRecord> {
    const run = newRunRecord(input);
    await this.query('insert into runs (id, project, job_type, name, command, host, started_at, status, git) values ($1,$2,$3,$4,$5,$6,$7,$8,$9)',
      [run.id, run.project, run.jobType, run.name, run.command ?? null, run.host, new Date(run.startedAt), run.status, run.git ? JSON.stringify(run.git) : null]);
    return run;
  }

  async getRun(id: string): Promise<RunRecord> {
    checkRunId(id);
    const { rows } = await this.query<{ id: string; project: string; job_type: string; name: string; command: string | null; host: string; started_at: Date; finished_at: Date | null; status: RunStatus; git: RunRecord['git'] | null; config: RunRecord['config'] | null; summary: RunRecord['summary'] | null }>(
      'select * from runs where id = $1', [id]);
    const r = rows[0];
    if (!r) throw runNotFound(id, this.location);
    return {
      id: r.id, project: r.project, jobType: r.job_type, name: r.name, ...(r.command ? { command: r.command } : {}), host: r.host,
      startedAt: iso(r.started_at)!, ...(r.finished_at ? { finishedAt: iso(r.finished_at) } : {}), status: r.status, ...(r.git ? { git: r.git } : {}),
      ...(r.config ? { config: r.config } : {}), ...(r.summary ? { summary: r.summary } : {}),
    };
  }

  async finishRun(id: string, status: Exclude<RunStatus, 'running'>): Promise<void> {
    await this.getRun(id);
    await this.query("update runs set status = $2, finished_at = now() where id = $1", [id, status]);
    await this.query("select nextval('changes')");
  }

  async updateRun(id: string, update: RunUpdate): Promise<void> {
    if (update.jobType !== undefined) validateType(update.jobType);
    const cols: [string, unknown][] = [];
    if (update.jobType !== undefined) cols.push(['job_type', update.jobType]);
    if (update.name !== undefined) cols.push(['name', update.name]);
    if (update.command !== undefined) cols.push(['command', update.command]);
    if (update.host !== undefined) cols.push(['host', update.host]);
    if (update.git !== undefined) cols.push(['git', JSON.stringify(update.git)]);
    if (update.config !== undefined) cols.push(['config', JSON.stringify(update.config)]);
    if (update.summary !== undefined) cols.push(['summary', JSON.stringify(update.summary)]);
    if (!cols.length) return;
    const { rowCount } = await this.query(`update runs set ${cols.map(([c], i) => `${c} = $${i + 2}`).join(', ')} where id = $1`, [id, ...cols.map(([, v]) => v)]);
    if (!rowCount) throw runNotFound(id, this.location);
    await this.query("select nextval('changes')");
  }

  async recordUse(runId: string, k: VersionKey): Promise<void> {
    await this.getRun(runId);
    const a = await this.artifactRow(k.project, k.name);
    const { rowCount } = await this.query('select 1 from versions where artifact_id = $1 and version = $2 and deleted_at is null', [a.id, k.version]);
    if (!rowCount) throw versionNotFound(k);
    await this.query('insert into run_inputs (run_id, artifact_id, version) values ($1, $2, $3) on conflict do nothing', [runId, a.id, k.version]);
    await this.query("select nextval('changes')");
  }

  // ---- versions -----------------------------------------------------------------------------

  /** Whether the artifact has a version with this artifact digest. */
  async hasVersionDigest(project: string, name: string, digest: string): Promise<boolean> {
    const { rowCount } = await this.query('select 1 from versions v join artifacts a on a.id = v.artifact_id where a.project = $1 and a.name = $2 and v.digest = $3 and v.deleted_at is null', [project, name, digest]);
    return !!rowCount;
  }

  /**
   * Creates the next version. The caller (the server) has checked every blob is stored; here one
   * transaction locks the artifact row, so concurrent commits of one artifact serialize.
   */
  async commitVersion(req: CommitRequest): Promise<CommitResult> {
    const { manifest, digest } = checkCommitRequest(req);
    const paths = Object.keys(manifest); // sorted
    async function* batches(): AsyncGenerator<ManifestFile[]> {
      for (let i = 0; i < paths.length; i += 5000) yield paths.slice(i, i + 5000).map((path) => ({ path, ...manifest[path] }));
    }
    return this.commitEntries(req, { digest, files: paths.length, size: manifestSize(manifest) }, batches);
  }

  /** commitVersion for a manifest the server spooled to a file as it streamed in (checked and hashed on the way). */
  commitSpooled(req: StreamCommitRequest, spooled: SpooledManifest): Promise<CommitResult> {
    return this.commitEntries(req, spooled, () => spooledBatches(spooled.file));
  }

  /** The manifest goes into manifest_entries, a batch per statement, inside the commit's transaction. */
  private async commitEntries(req: StreamCommitRequest, tally: { digest: string; files: number; size: number }, entries: () => AsyncIterable<ManifestFile[]>): Promise<CommitResult> {
    const { aliases, metadata } = checkCommitHeader(req);
    const { digest, files, size } = tally;
    if (req.runId) await this.getRun(req.runId);
    return this.tx(async (c) => {
      const now = new Date();
      await c.query('insert into artifacts (project, name, type, created_at, updated_at) values ($1, $2, $3, $4, $4) on conflict (project, name) do nothing',
        [req.project, req.name, req.type, now]);
      const { rows: [a] } = await c.query<{ id: string; type: string; next_version: number }>(
        'select id, type, next_version from artifacts where project = $1 and name = $2 for update', [req.project, req.name]);
      checkArtifactType(req.project, req.name, a.type, req.type);
      const same = await c.query<{ version: number; size: string; files: number }>('select version, size, files from versions where artifact_id = $1 and digest = $2 and deleted_at is null', [a.id, digest]);
      let version: number;
      if (same.rows[0]) {
        version = same.rows[0].version;
      } else {
        // gc holds GC_LOCK exclusively while it decides and deletes: with it shared, the ledger
        // checked here keeps every blob of this version until the commit is visible to gc.
        await c.query('select pg_advisory_xact_lock_shared($1)', [GC_LOCK]);
        const asManifest = (batch: ManifestFile[]) => {
          const m: Manifest = Object.create(null) as Manifest;
          for (const f of batch) m[f.path] = f;
          return m;
        };
        for await (const batch of entries()) {
          const missing = await this.unknownBlobs(asManifest(batch), c);
          if (missing.length) throw missingBlobsError(missing.map((b) => b.digest));
        }
        version = a.next_version;
        await c.query(
          `insert into versions (artifact_id, version, digest, size, files, created_at, description, metadata, manifest, created_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8, null, $9)`,
          [a.id, version, digest, size, files, now, req.description ?? '', JSON.stringify(metadata), req.runId ?? null]);
        for await (const batch of entries()) {
          await c.query(
            `insert into manifest_entries (artifact_id, version, path, digest, size, ref)
             select $1, $2, * from unnest($3::text[], $4::text[], $5::bigint[], $6::jsonb[])`,
            [a.id, version, batch.map((f) => f.path), batch.map((f) => f.digest), batch.map((f) => f.size),
              batch.map((f) => (f.ref === undefined ? null : JSON.stringify({ ref: f.ref, ...(f.etag !== undefined ? { etag: f.etag } : {}), ...(f.versionId !== undefined ? { versionId: f.versionId } : {}) })))]);
          // The project's tokens may read what its versions name (blob scoping, API.md).
          await c.query('insert into blob_projects (project, digest) select $1, unnest($2::text[]) on conflict do nothing', [req.project, manifestDigests(asManifest(batch))]);
        }
        await c.query('update artifacts set next_version = $2 where id = $1', [a.id, version + 1]);
      }
      for (const alias of aliasesToMove(aliases)) {
        await c.query('insert into aliases (artifact_id, alias, version) values ($1, $2, $3) on conflict (artifact_id, alias) do update set version = excluded.version', [a.id, alias, version]);
      }
      await c.query('update artifacts set updated_at = $2 where id = $1', [a.id, now]);
      await c.query("select nextval('changes')");
      return { version, digest, created: !same.rows[0], size: same.rows[0] ? Number(same.rows[0].size) : size, files: same.rows[0] ? same.rows[0].files : files };
    });
  }

  async addAlias(ref: ArtifactRef, alias: string): Promise<void> {
    validateAlias(alias);
    const a = await this.artifactRow(ref.project, ref.name);
    await this.tx(async (c) => {
      await c.query('select 1 from artifacts where id = $1 for update', [a.id]);
      const version = await this.resolve(a.id, ref.project, ref.name, a.next_version, ref.alias);
      await c.query('insert into aliases (artifact_id, alias, version) values ($1, $2, $3) on conflict (artifact_id, alias) do update set version = excluded.version', [a.id, alias, version]);
      await c.query('update artifacts set updated_at = now() where id = $1', [a.id]);
      await c.query("select nextval('changes')");
    });
  }

  async removeAlias(project: string, name: string, alias: string): Promise<void> {
    validateAlias(alias);
    const a = await this.artifactRow(project, name);
    await this.tx(async (c) => {
      const r = await c.query('delete from aliases where artifact_id = $1 and alias = $2', [a.id, alias]);
      if (!r.rowCount) throw aliasNotFound(project, name, alias);
      await c.query('update artifacts set updated_at = now() where id = $1', [a.id]);
      await c.query("select nextval('changes')");
    });
  }

  // ---- deleting ------------------------------------------------------------------------------

  async deleteVersion(ref: ArtifactRef, options: DeleteOptions = {}): Promise<DeleteResult> {
    const a = await this.artifactRow(ref.project, ref.name);
    return this.tx(async (c) => {
      await c.query('select 1 from artifacts where id = $1 for update', [a.id]);
      const version = await this.resolve(a.id, ref.project, ref.name, a.next_version, ref.alias);
      return this.writeDeletion(c, a.id, ref.project, ref.name, [version], options);
    });
  }

  async deleteArtifact(project: string, name: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    const a = await this.artifactRow(project, name);
    return this.tx(async (c) => {
      await c.query('select 1 from artifacts where id = $1 for update', [a.id]);
      return this.writeDeletion(c, a.id, project, name, 'all', options);
    });
  }

  /** Inside the artifact row's lock: tombstones `targets` (the rules are planDeletion's). */
  private async writeDeletion(c: pg.PoolClient, artifactId: string, project: string, name: string, targets: number[] | 'all', options: DeleteOptions): Promise<DeleteResult> {
    const live = await c.query<{ version: number }>('select version from versions where artifact_id = $1 and deleted_at is null', [artifactId]);
    if (!live.rows.length) throw artifactNotFound(project, name, true, this.location);
    const aliases = await c.query<{ alias: string; version: number }>('select alias, version from aliases where artifact_id = $1', [artifactId]);
    const byVersion = aliasesByVersion(aliases.rows.map((r) => [r.alias, r.version] as const));
    const plan = planDeletion(project, name, live.rows.map((v) => ({ version: v.version, aliases: byVersion.get(v.version) ?? [] })),
      targets === 'all' ? live.rows.map((v) => v.version) : targets, options.protectedAliases);
    const now = new Date();
    for (const d of plan.deleted) {
      await c.query('update versions set deleted_at = $3, deleted_aliases = $4, latest_after = $5 where artifact_id = $1 and version = $2',
        [artifactId, d.version, now, JSON.stringify(d.aliases), d.aliases.includes(LATEST) && plan.latest !== undefined ? plan.latest : null]);
    }
    await c.query('delete from aliases where artifact_id = $1 and version = any($2::int[])', [artifactId, plan.deleted.map((d) => d.version)]);
    if (plan.latest !== undefined) {
      await c.query('insert into aliases (artifact_id, alias, version) values ($1, $2, $3) on conflict (artifact_id, alias) do update set version = excluded.version', [artifactId, LATEST, plan.latest]);
    }
    await c.query('update artifacts set updated_at = $2 where id = $1', [artifactId, now]);
    await c.query("select nextval('changes')");
    return { project, name, deleted: plan.deleted, ...(plan.latest !== undefined ? { latest: plan.latest } : {}) };
  }

  async restoreVersion(k: VersionKey): Promise<RestoreResult> {
    validateProject(k.project);
    validateName(k.name);
    const { rows: [a] } = await this.query<{ id: string }>('select id from artifacts where project = $1 and name = $2', [k.project, k.name]);
    if (!a) {
      const p = await this.query('select 1 from artifacts where project = $1 limit 1', [k.project]);
      throw artifactNotFound(k.project, k.name, !!p.rowCount, this.location);
    }
    return this.tx(async (c) => {
      await c.query('select 1 from artifacts where id = $1 for update', [a.id]);
      const { rows: [v] } = await c.query<{ digest: string; manifest: string | null; deleted_at: Date | null; deleted_aliases: string[] | null; latest_after: number | null }>(
        'select digest, manifest, deleted_at, deleted_aliases, latest_after from versions where artifact_id = $1 and version = $2', [a.id, k.version]);
      if (!v) throw versionNotFound(k);
      if (!v.deleted_at) throw notDeleted(k);
      const twin = await c.query<{ version: number }>('select version from versions where artifact_id = $1 and digest = $2 and deleted_at is null', [a.id, v.digest]);
      if (twin.rows[0]) throw sameContentLive(k, twin.rows[0].version);
      // As a commit: with GC_LOCK shared, the blobs checked here stay until the restore is visible to gc.
      await c.query('select pg_advisory_xact_lock_shared($1)', [GC_LOCK]);
      if (v.manifest !== null) {
        if ((await this.unknownBlobs(JSON.parse(v.manifest) as Manifest, c)).length) throw contentFreed(k);
      } else {
        // A manifest kept as rows: checked a page at a time.
        let cursor: string | null = null;
        do {
          const page = await this.entryPage(a.id, k.version, cursor, 5000);
          const m: Manifest = Object.create(null) as Manifest;
          for (const { path, ...entry } of page.items) m[path] = entry;
          if ((await this.unknownBlobs(m, c)).length) throw contentFreed(k);
          cursor = page.nextCursor === null ? null : page.nextCursor.slice(2);
        } while (cursor !== null);
      }
      const current = await c.query<{ alias: string; version: number }>('select alias, version from aliases where artifact_id = $1', [a.id]);
      const targets = new Map(current.rows.map((r) => [r.alias, r.version]));
      const back = aliasesToRestore({ version: k.version, deletedAt: iso(v.deleted_at)!, aliases: v.deleted_aliases ?? [], ...(v.latest_after !== null ? { latestAfter: v.latest_after } : {}) }, (x) => targets.get(x));
      if (!targets.has(LATEST) && !back.includes(LATEST)) back.unshift(LATEST);
      await c.query('update versions set deleted_at = null, deleted_aliases = null, latest_after = null where artifact_id = $1 and version = $2', [a.id, k.version]);
      for (const alias of back) {
        await c.query('insert into aliases (artifact_id, alias, version) values ($1, $2, $3) on conflict (artifact_id, alias) do update set version = excluded.version', [a.id, alias, k.version]);
      }
      await c.query('update artifacts set updated_at = now() where id = $1', [a.id]);
      await c.query("select nextval('changes')");
      return { project: k.project, name: k.name, version: k.version, aliases: back };
    });
  }

  async lineage(ref: ArtifactRef, depth: number, options: LineageOptions = {}): Promise<LineageGraph> {
    const start = await this.getVersion(ref).catch(async (e: unknown) => {
      // A deleted version named by number still has its lineage (its tombstone in the middle).
      const n = parseVersionAlias(ref.alias);
      if (n === undefined || !isDeletedError(e)) throw e;
      const { rowCount } = await this.query(
        'select 1 from versions v join artifacts a on a.id = v.artifact_id where a.project = $1 and a.name = $2 and v.version = $3 and v.deleted_at is not null', [ref.project, ref.name, n]);
      if (!rowCount) throw e;
      return { project: ref.project, name: ref.name, version: n };
    });
    const source: LineageSource = {
      versionNode: async (k) => {
        const { rows } = await this.query<{ id: string; type: string; created_by: string | null; deleted: boolean }>(
          'select a.id, a.type, v.created_by, v.deleted_at is not null as deleted from artifacts a join versions v on v.artifact_id = a.id where a.project = $1 and a.name = $2 and v.version = $3',
          [k.project, k.name, k.version]);
        if (!rows[0]) return undefined;
        const used = await this.query<{ run_id: string }>('select run_id from run_inputs where artifact_id = $1 and version = $2 order by run_id', [rows[0].id, k.version]);
        return { type: rows[0].type, ...(rows[0].created_by ? { createdBy: rows[0].created_by } : {}), usedBy: used.rows.map((r) => r.run_id), ...(rows[0].deleted ? { deleted: true } : {}) };
      },
      runNode: async (runId) => {
        const run = await this.getRun(runId).catch(() => undefined);
        if (!run) return undefined;
        const inputs = await this.query<{ project: string; name: string; version: number }>(
          'select a.project, a.name, i.version from run_inputs i join artifacts a on a.id = i.artifact_id where i.run_id = $1', [runId]);
        const outputs = await this.query<{ project: string; name: string; version: number }>(
          'select a.project, a.name, v.version from versions v join artifacts a on a.id = v.artifact_id where v.created_by = $1', [runId]);
        return { run, inputs: inputs.rows.sort(compareVersionKeys), outputs: outputs.rows.sort(compareVersionKeys) };
      },
    };
    return buildLineage(source, { project: start.project, name: start.name, version: start.version }, depth, options);
  }

  /** Every blob digest some version's manifest names (external references excluded). */
  async usedDigests(): Promise<Set<string>> {
    const used = new Set<string>();
    const c = await this.connect();
    try {
      // One manifest at a time: manifests can be large.
      // Deleted versions (tombstones) keep no content: what only they name is freed.
      const { rows } = await c.query<{ artifact_id: string; version: number }>('select artifact_id, version from versions where manifest is not null and deleted_at is null');
      for (const r of rows) {
        const m = await c.query<{ manifest: string }>('select manifest from versions where artifact_id = $1 and version = $2', [r.artifact_id, r.version]);
        for (const e of Object.values(JSON.parse(m.rows[0].manifest) as Manifest)) if (!e.ref) used.add(e.digest);
      }
      // Manifests kept as rows: their distinct digests, a bounded page at a time.
      let after = '';
      for (;;) {
        const page = await c.query<{ digest: string }>(
          `select distinct e.digest from manifest_entries e join versions v on v.artifact_id = e.artifact_id and v.version = e.version
           where v.deleted_at is null and e.ref is null and e.digest > $1 order by e.digest limit 50000`, [after]);
        for (const r of page.rows) used.add(r.digest);
        if (page.rows.length < 50000) break;
        after = page.rows[page.rows.length - 1].digest;
      }
    } finally {
      c.release();
    }
    return used;
  }

  // ---- blob ledger --------------------------------------------------------------------------

  async known(digests: string[]): Promise<Set<string>> {
    if (!digests.length) return new Set();
    const { rows } = await this.query<{ digest: string }>('select digest from blobs where digest = any($1::text[])', [digests]);
    return new Set(rows.map((r) => r.digest));
  }

  async record(blobs: (BlobRef & { pack?: string; offset?: number })[], uploader: string): Promise<void> {
    if (!blobs.length) return;
    const digests = blobs.map((b) => b.digest);
    await this.tx(async (c) => {
      await c.query(
        'insert into blobs (digest, size, pack, pack_offset) select * from unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[]) on conflict (digest) do nothing',
        [digests, blobs.map((b) => b.size), blobs.map((b) => b.pack ?? null), blobs.map((b) => b.offset ?? null)]);
      if (uploader !== EVERY_PROJECT) await c.query('insert into blob_projects (project, digest) select $1, unnest($2::text[]) on conflict do nothing', [uploader, digests]);
      // Stored now: no claim on these digests counts any more (see adoptUpload).
      await c.query('delete from blob_uploads where digest = any($1::text[])', [digests]);
    });
  }

  // ---- blob scoping (API.md "Blobs and projects") --------------------------------------------

  async readable(project: string, digests: string[]): Promise<Set<string>> {
    if (project === EVERY_PROJECT) return new Set(digests);
    if (!digests.length) return new Set();
    const { rows } = await this.query<{ digest: string }>('select digest from blob_projects where project = $1 and digest = any($2::text[])', [project, digests]);
    return new Set(rows.map((r) => r.digest));
  }

  async grant(project: string, digests: string[]): Promise<void> {
    if (project === EVERY_PROJECT || !digests.length) return;
    await this.query('insert into blob_projects (project, digest) select $1, unnest($2::text[]) on conflict do nothing', [project, digests]);
  }

  /** Whether every blob of a pack is readable by `project` (then it may fetch the pack whole). */
  async packReadable(pack: string, project: string): Promise<boolean> {
    if (project === EVERY_PROJECT) return true;
    const { rows } = await this.query<{ n: number }>(
      'select count(*)::int as n from blobs b where b.pack = $1 and not exists (select 1 from blob_projects p where p.project = $2 and p.digest = b.digest)', [pack, project]);
    return rows[0].n === 0;
  }

  /**
   * Claims the right to confirm a presigned upload of `digest` for `project`: granted when nobody
   * holds it, when this project holds it already, or when another project's presigned claim is
   * older than its URLs can live. Never while an upload through the server is running.
   */
  async claimUpload(digest: string, project: string, staleSeconds: number): Promise<boolean> {
    const r = await this.query(
      `insert into blob_uploads (digest, project, via, issued_at) values ($1, $2, 'presigned', now())
       on conflict (digest) do update set project = excluded.project, via = 'presigned', issued_at = now()
       where blob_uploads.via = 'presigned' and (blob_uploads.project = excluded.project or blob_uploads.issued_at < now() - make_interval(secs => $3))`,
      [digest, project, staleSeconds]);
    return r.rowCount === 1;
  }

  /** An upload through the server starts: any presigned claim on the digest is void from now on. */
  async holdUpload(digest: string, project: string): Promise<void> {
    await this.query(
      `insert into blob_uploads (digest, project, via, issued_at) values ($1, $2, 'server', now())
       on conflict (digest) do update set project = excluded.project, via = 'server', issued_at = now()`, [digest, project]);
  }

  /** An upload through the server failed: its hold goes (unless another upload took it over). */
  async releaseUpload(digest: string, project: string): Promise<void> {
    await this.query("delete from blob_uploads where digest = $1 and project = $2 and via = 'server'", [digest, project]);
  }

  /**
   * Records a blob that a presigned PUT put in the bucket, for the project holding its claim, and
   * only if nobody recorded the digest before: the object could otherwise hold bytes that someone
   * else uploaded. Call after checking the object exists.
   */
  async adoptUpload(blob: BlobRef, project: string): Promise<boolean> {
    return this.tx(async (c) => {
      const claim = await c.query<{ project: string; via: string }>('select project, via from blob_uploads where digest = $1 for update', [blob.digest]);
      if (claim.rows[0]?.project !== project || claim.rows[0]?.via !== 'presigned') return false;
      const inserted = await c.query('insert into blobs (digest, size) values ($1, $2) on conflict (digest) do nothing', [blob.digest, blob.size]);
      if (inserted.rowCount !== 1) return false;
      if (project !== EVERY_PROJECT) await c.query('insert into blob_projects (project, digest) values ($1, $2) on conflict do nothing', [project, blob.digest]);
      await c.query('delete from blob_uploads where digest = $1', [blob.digest]);
      return true;
    });
  }

  async locate(digest: string): Promise<{ size: number; pack?: string; offset?: number } | undefined> {
    const { rows } = await this.query<{ size: string; pack: string | null; pack_offset: string | null }>('select size, pack, pack_offset from blobs where digest = $1', [digest]);
    const r = rows[0];
    if (!r) return undefined;
    return { size: Number(r.size), ...(r.pack ? { pack: r.pack, offset: Number(r.pack_offset) } : {}) };
  }

  async packIndex(pack: string): Promise<{ digest: string; offset: number; size: number }[]> {
    const { rows } = await this.query<{ digest: string; pack_offset: string; size: string }>('select digest, pack_offset, size from blobs where pack = $1 order by pack_offset', [pack]);
    return rows.map((r) => ({ digest: r.digest, offset: Number(r.pack_offset), size: Number(r.size) }));
  }

  async packs(): Promise<Map<string, string[]>> {
    const { rows } = await this.query<{ pack: string; digest: string }>('select pack, digest from blobs where pack is not null');
    const out = new Map<string, string[]>();
    for (const r of rows) out.set(r.pack, [...(out.get(r.pack) ?? []), r.digest]);
    return out;
  }

  async forget(digests: string[]): Promise<void> {
    if (!digests.length) return;
    await this.query('delete from blobs where digest = any($1::text[])', [digests]);
    // Deleted blobs are nobody's: a later upload must prove its bytes again.
    await this.query('delete from blob_projects where digest = any($1::text[])', [digests]);
  }

  /** Digests of `manifest` that the ledger does not list with their size (on `c` when given: inside its transaction). */
  async unknownBlobs(manifest: Manifest, c?: pg.PoolClient): Promise<BlobRef[]> {
    const wanted = new Map<string, number>();
    for (const e of Object.values(manifest)) if (!e.ref) wanted.set(e.digest, e.size);
    if (!wanted.size) return [];
    const sql = 'select digest, size from blobs where digest = any($1::text[])';
    const { rows } = c ? await c.query<{ digest: string; size: string }>(sql, [[...wanted.keys()]]) : await this.query<{ digest: string; size: string }>(sql, [[...wanted.keys()]]);
    const known = new Map(rows.map((r) => [r.digest, Number(r.size)]));
    return [...wanted].filter(([d, size]) => known.get(d) !== size).map(([digest, size]) => ({ digest, size }));
  }

  /** Runs `body` (gc) while no commit checks or writes (GC_LOCK exclusive, on one session). */
  async withGcLock<T>(body: () => Promise<T>): Promise<T> {
    const c = await this.connect();
    let unlocked = false;
    try {
      await c.query('select pg_advisory_lock($1)', [GC_LOCK]).catch((e) => {
        throw this.dbError(e);
      });
      try {
        return await body();
      } finally {
        unlocked = await c.query('select pg_advisory_unlock($1)', [GC_LOCK]).then(() => true, () => false);
      }
    } finally {
      // A session that may still hold the lock is closed, not returned to the pool.
      c.release(!unlocked);
    }
  }

  // ---- tokens -------------------------------------------------------------------------------

  async create(projectIn: string, scopeIn: string): Promise<{ token: string; record: TokenRecord }> {
    const { project, scope } = validateTokenRequest(projectIn, scopeIn);
    const created = newToken(project, scope);
    const r = created.record;
    await this.query('insert into tokens (id, hash, project, scope, created_at) values ($1, $2, $3, $4, $5)', [r.id, r.hash, r.project, r.scope, new Date(r.createdAt)]);
    return created;
  }

  async list(): Promise<TokenRecord[]> {
    const { rows } = await this.query<{ id: string; hash: string; project: string; scope: 'read' | 'write'; created_at: Date }>('select * from tokens order by created_at');
    return rows.map((r) => ({ id: r.id, hash: r.hash, project: r.project, scope: r.scope, createdAt: iso(r.created_at)! }));
  }

  async revoke(id: string): Promise<boolean> {
    const r = await this.query('delete from tokens where id = $1', [id]);
    return !!r.rowCount;
  }

  async findByHash(hash: string): Promise<TokenRecord | undefined> {
    const { rows } = await this.query<{ id: string; hash: string; project: string; scope: 'read' | 'write'; created_at: Date }>('select * from tokens where hash = $1', [hash]);
    const r = rows[0];
    return r ? { id: r.id, hash: r.hash, project: r.project, scope: r.scope, createdAt: iso(r.created_at)! } : undefined;
  }
}

import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { TroveError } from '../../core/errors';
import type { Md5Entry, PendingArtifact, WandbState } from './state';

const SCHEMA = `
create table if not exists wandb_md5 (md5 text primary key, sha256 text not null, size bigint not null);
create index if not exists wandb_md5_sha256 on wandb_md5 (sha256);
create table if not exists wandb_runs (project text not null, wandb_id text not null, run_id text not null, primary key (project, wandb_id));
create table if not exists wandb_digests (project text not null, name text not null, digest text not null, version integer not null, primary key (project, name, digest));
create table if not exists wandb_pending (id text primary key, doc jsonb not null, created_at timestamptz not null default now());
create table if not exists wandb_settings (name text primary key, value text not null);
`;
const SCHEMA_LOCK = 7_201_842_332;

/** The scale-out backend's door state: tables `wandb_*` in the metadata database (API.md, "Storage layout"). */
export class PgWandbState implements WandbState {
  constructor(private readonly pool: pg.Pool) {}

  private async q<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (e) {
      throw new TroveError('unavailable', `The W&B door's tables cannot be reached: ${(e as Error).message}.`);
    }
  }

  /** Creates the tables (once, under an advisory lock) and returns the key every replica signs file URLs with. */
  async init(): Promise<Buffer> {
    const c = await this.pool.connect();
    try {
      await c.query('select pg_advisory_lock($1)', [SCHEMA_LOCK]);
      try {
        await c.query(SCHEMA);
        await c.query("insert into wandb_settings (name, value) values ('url-key', $1) on conflict do nothing", [randomBytes(32).toString('hex')]);
        const { rows } = await c.query<{ value: string }>("select value from wandb_settings where name = 'url-key'");
        return Buffer.from(rows[0].value, 'hex');
      } finally {
        await c.query('select pg_advisory_unlock($1)', [SCHEMA_LOCK]);
      }
    } finally {
      c.release();
    }
  }

  async md5Lookup(md5s: string[]): Promise<Map<string, Md5Entry>> {
    const { rows } = await this.q<{ md5: string; sha256: string; size: string }>('select md5, sha256, size from wandb_md5 where md5 = any($1)', [md5s]);
    return new Map(rows.map((r) => [r.md5, { md5: r.md5, sha256: r.sha256, size: Number(r.size) }]));
  }

  async md5OfSha256(shas: string[]): Promise<Map<string, Md5Entry>> {
    const { rows } = await this.q<{ md5: string; sha256: string; size: string }>('select md5, sha256, size from wandb_md5 where sha256 = any($1)', [shas]);
    return new Map(rows.map((r) => [r.sha256, { md5: r.md5, sha256: r.sha256, size: Number(r.size) }]));
  }

  async md5Record(entries: Md5Entry[]): Promise<void> {
    if (!entries.length) return;
    await this.q(`insert into wandb_md5 (md5, sha256, size) select * from unnest($1::text[], $2::text[], $3::bigint[])
                  on conflict (md5) do update set sha256 = excluded.sha256, size = excluded.size`,
    [entries.map((e) => e.md5), entries.map((e) => e.sha256), entries.map((e) => e.size)]);
  }

  async runFor(project: string, wandbRunId: string): Promise<string | undefined> {
    const { rows } = await this.q<{ run_id: string }>('select run_id from wandb_runs where project = $1 and wandb_id = $2', [project, wandbRunId]);
    return rows[0]?.run_id;
  }

  async bindRun(project: string, wandbRunId: string, troveRunId: string): Promise<void> {
    await this.q('insert into wandb_runs (project, wandb_id, run_id) values ($1, $2, $3) on conflict (project, wandb_id) do update set run_id = excluded.run_id', [project, wandbRunId, troveRunId]);
  }

  async versionForDigest(project: string, name: string, digest: string): Promise<number | undefined> {
    const { rows } = await this.q<{ version: number }>('select version from wandb_digests where project = $1 and name = $2 and digest = $3', [project, name, digest]);
    return rows[0]?.version;
  }

  async recordDigest(project: string, name: string, digest: string, version: number): Promise<void> {
    await this.q('insert into wandb_digests (project, name, digest, version) values ($1, $2, $3, $4) on conflict (project, name, digest) do update set version = excluded.version', [project, name, digest, version]);
  }

  async putPending(p: PendingArtifact): Promise<void> {
    await this.q('insert into wandb_pending (id, doc) values ($1, $2) on conflict (id) do update set doc = excluded.doc', [p.id, JSON.stringify(p)]);
  }

  async getPending(id: string): Promise<PendingArtifact | undefined> {
    if (!/^[0-9a-f]{24}$/.test(id)) return undefined;
    const { rows } = await this.q<{ doc: PendingArtifact }>('select doc from wandb_pending where id = $1', [id]);
    return rows[0]?.doc;
  }

  async close(): Promise<void> {
    // The pool belongs to the metadata store, which closes it.
  }
}

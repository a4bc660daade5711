import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../protocol';
import { fileURLToPath } from 'node:url';
import {
  buildSchema, execute, getNullableType, GraphQLError, isInputObjectType, isListType, Kind, parse, typeFromAST, validate,
  type DocumentNode, type GraphQLInputType, type GraphQLSchema,
} from 'graphql';
import { describeS3Reference } from '../../core/s3ref';
import { conflict, integrity, invalid, notFound, TroveError } from '../../core/errors';
import { validateManifest } from '../../core/manifest';
import { formatRef, parseRef, parseVersionAlias, validateAlias, validateName, validateProject, validateType, type ArtifactRef } from '../../core/names';
import { DEFAULT_PROTECTED_ALIASES, LATEST } from '../../core/versionRules';
import type { Manifest, ManifestEntry, RunRecord, VersionDetail, VersionKey } from '../../core/types';
import type { ServerBackend } from '../backend';
import { hashToken } from '../tokens';
import { b64ToHex, hexToB64, isB64Md5, parseWandbManifest, wandbDigest, type WandbEntry, type WandbManifest } from './manifest';
import { SCHEMA_SDL } from './schema';
import { newPendingId, type Md5Entry, type PendingArtifact, type WandbState } from './state';
import type { WandbFiles } from './files';

/** Who is calling the door: a token's project and scope (`*`: every project). */
export interface WandbPrincipal {
  tokenId: string | null;
  project: string;
  scope: 'read' | 'write';
}

export interface WandbDoorOptions {
  backend: ServerBackend;
  state: WandbState;
  files: WandbFiles;
  requireAuth: boolean;
  /** Keys valid on this door only (`trove run` gives its child one), by SHA-256 of the key. */
  extraKeys?: Map<string, WandbPrincipal>;
  /** `trove run`: the Trove run that the first new wandb run of the child becomes. */
  claimRun?: string;
  log?: (entry: Record<string, unknown>) => void;
  /** Aliases that refuse `artifact.delete()` (trove serve --protected-aliases; default DEFAULT_PROTECTED_ALIASES). */
  protectedAliases?: readonly string[];
}

/** What the door counts, for tests and benchmarks (GET /wandb/stats). */
export interface WandbStats {
  /** Bytes of artifact files received (not manifests, not run files). */
  artifactBytesReceived: number;
  artifactFilesReceived: number;
  /** Files announced by CreateArtifactFiles that got an upload URL, and those the store already had. */
  uploadUrlsIssued: number;
  uploadsSkipped: number;
  versionsCreated: number;
  /** CreateArtifact answered COMMITTED: equal to an existing version. */
  dedupedArtifacts: number;
}

/** The entity every project belongs to, unless the client names another (all entities name the same projects). */
export const DEFAULT_ENTITY = 'trove';
const MAX_JSON_BODY = 64 << 20;

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** Artifact ids: a committed version is `Artifact:project/name:vN`; one being logged is `ArtifactPending:<id>` (base64). */
function versionId(k: VersionKey): string {
  return b64(`Artifact:${k.project}/${k.name}:v${k.version}`);
}

type DecodedId = { kind: 'version'; key: VersionKey } | { kind: 'pending'; id: string };

function decodeArtifactId(id: string): DecodedId {
  const text = unb64(id);
  let m = /^Artifact:([^/]+)\/([^/:]+):v(\d+)$/.exec(text);
  if (m) return { kind: 'version', key: { project: validateProject(m[1]), name: validateName(m[2]), version: Number(m[3]) } };
  m = /^ArtifactPending:([0-9a-f]{24})$/.exec(text);
  if (m) return { kind: 'pending', id: m[1] };
  throw invalid(`"${id.slice(0, 60)}" is not an artifact id of this server.`);
}

class DoorError extends TroveError {}

type ResolvedId = { kind: 'version'; key: VersionKey } | { kind: 'pending'; p: PendingArtifact };

function check(who: WandbPrincipal, project: string, need: 'read' | 'write'): void {
  if (who.project !== '*' && who.project !== project) {
    throw new DoorError('forbidden', `Permission denied: this API key is for project "${who.project}" and cannot ${need} project "${project}".`);
  }
  if (need === 'write' && who.scope !== 'write') {
    throw new DoorError('forbidden', `Permission denied: this API key is read-only; writing to project "${project}" needs a key created with --scope write.`);
  }
}

/** W&B config `{"key": {"value": v, "desc": …}, "_wandb": {…}}` as plain `{key: v}`. */
function flattenConfig(text: string | null | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalid('The run config is not valid JSON.');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (k === '_wandb') continue;
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && 'value' in v ? (v as { value: unknown }).value : v;
  }
  return out;
}

interface Ctx {
  who: WandbPrincipal;
  /** Per request: versions read once. */
  versions: Map<string, Promise<VersionDetail>>;
}

/**
 * The W&B door of `trove serve`: GraphQL at `/graphql`, `file_stream`, the file URLs and the
 * client's download fallbacks, over the same backend as the REST API (see API.md, "The W&B door").
 */
export class WandbDoor {
  readonly stats: WandbStats = { artifactBytesReceived: 0, artifactFilesReceived: 0, uploadUrlsIssued: 0, uploadsSkipped: 0, versionsCreated: 0, dedupedArtifacts: 0 };
  private readonly schema: GraphQLSchema;
  private readonly backend: ServerBackend;
  private readonly state: WandbState;
  private readonly files: WandbFiles;
  private claimRun?: string;
  private readonly parsed = new Map<string, DocumentNode | readonly GraphQLError[]>();
  private readonly wandbManifests = new Map<string, WandbManifest>();

  constructor(private readonly opts: WandbDoorOptions) {
    this.schema = buildSchema(SCHEMA_SDL);
    this.backend = opts.backend;
    this.state = opts.state;
    this.files = opts.files;
    this.claimRun = opts.claimRun;
  }

  /** Whether a request path belongs to this door. */
  handles(pathname: string): boolean {
    return pathname === '/graphql' || pathname.startsWith('/files/') || pathname.startsWith('/wandb/')
      || pathname.startsWith('/artifactsV2/') || pathname.startsWith('/artifacts/');
  }

  /** Tells the file URLs where this server listens. */
  setBaseUrl(url: string): void {
    this.files.baseUrl = url.replace(/\/+$/, '');
  }

  async close(): Promise<void> {
    await this.state.close();
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      const path = url.pathname;
      if (path.startsWith('/wandb/files/')) return await this.files.serve(req, res, url, this);
      if (path === '/graphql') {
        if (req.method !== 'POST') throw new DoorError('invalid', 'Send GraphQL as POST /graphql.');
        const who = await this.authenticate(req);
        return await this.graphql(req, res, who);
      }
      if (path === '/wandb/stats' && req.method === 'GET') {
        await this.authenticate(req);
        return sendJson(res, 200, this.stats);
      }
      const fs = /^\/files\/([^/]+)\/([^/]+)\/([^/]+)\/file_stream$/.exec(path);
      if (fs && req.method === 'POST') {
        const who = await this.authenticate(req);
        return await this.fileStream(req, res, who, decodeURIComponent(fs[2]), decodeURIComponent(fs[3]));
      }
      if (req.method === 'GET' && (path.startsWith('/artifactsV2/') || path.startsWith('/artifacts/'))) {
        const who = await this.authenticate(req);
        return await this.fallbackDownload(res, who, path);
      }
      throw new DoorError('not_found', `No W&B route ${req.method} ${path}.`);
    } catch (e) {
      const status = e instanceof TroveError ? ({ unauthorized: 401, forbidden: 403, not_found: 404, invalid: 400, usage: 400, integrity: 422, conflict: 409 } as Record<string, number>)[e.code] ?? 500 : 500;
      const message = e instanceof TroveError ? e.message : 'The server hit an internal error; its log has the detail.';
      if (!(e instanceof TroveError)) this.opts.log?.({ time: new Date().toISOString(), event: 'wandb-error', error: (e as Error)?.stack ?? String(e) });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (!req.readableEnded) res.setHeader('connection', 'close');
      sendJson(res, status, { error: message, errors: [{ message }] });
    }
  }

  // ---- auth ---------------------------------------------------------------------------------

  async authenticate(req: IncomingMessage): Promise<WandbPrincipal> {
    const header = req.headers.authorization;
    let key: string | undefined;
    if (header) {
      const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (basic) {
        const text = Buffer.from(basic[1], 'base64').toString('utf8');
        const colon = text.indexOf(':');
        key = colon >= 0 ? text.slice(colon + 1) : text;
      } else if (bearer) key = bearer[1];
      else throw new DoorError('unauthorized', 'The Authorization header must be Basic api:<key>.');
    }
    if (key) {
      const hash = hashToken(key);
      const extra = this.opts.extraKeys?.get(hash);
      if (extra) return extra;
      const record = await this.backend.tokens.findByHash(hash);
      if (record) return { tokenId: record.id, project: record.project, scope: record.scope };
    }
    if (!this.opts.requireAuth && !this.opts.extraKeys?.size) return { tokenId: null, project: '*', scope: 'write' };
    throw new DoorError('unauthorized', key
      ? 'Invalid API key: this Trove server knows no such key; set WANDB_API_KEY to a token from `trove token create`.'
      : 'This Trove server requires an API key: set WANDB_API_KEY to a token from `trove token create`.');
  }

  // ---- GraphQL ------------------------------------------------------------------------------

  private async graphql(req: IncomingMessage, res: ServerResponse, who: WandbPrincipal): Promise<void> {
    const body = await readJsonBody(req) as { query?: unknown; variables?: unknown; operationName?: unknown };
    if (typeof body.query !== 'string') throw new DoorError('invalid', 'A GraphQL request needs a "query" string.');
    const requested = typeof body.operationName === 'string' && body.operationName ? body.operationName : undefined;
    const opName = requested ?? /(?:query|mutation)\s+(\w+)/.exec(body.query)?.[1] ?? 'anonymous';
    let doc = this.parsed.get(body.query);
    if (!doc) {
      try {
        const d = parse(body.query);
        const errors = validate(this.schema, d);
        doc = errors.length ? errors : d;
      } catch (e) {
        doc = [e as GraphQLError];
      }
      if (this.parsed.size > 500) this.parsed.clear();
      this.parsed.set(body.query, doc);
    }
    if (Array.isArray(doc)) {
      // Answered with 200: the client retries 5xx and 429 for minutes, and this will not change.
      const first = (doc as readonly GraphQLError[])[0];
      this.opts.log?.({ time: new Date().toISOString(), event: 'wandb-unsupported', operation: opName, error: first.message });
      return sendJson(res, 200, { data: null, errors: [{ message: `Trove's W&B door does not support the operation "${opName}": ${first.message}` }] });
    }
    const ctx: Ctx = { who, versions: new Map() };
    const variables = dropUnknownNulls(this.schema, doc as DocumentNode, body.variables);
    const result = await execute({
      schema: this.schema, document: doc as DocumentNode, rootValue: this.root(),
      contextValue: ctx, variableValues: variables,
      operationName: requested,
    });
    if (result.errors?.length) {
      const errors = result.errors.map((e) => {
        const orig = e.originalError;
        if (orig && !(orig instanceof TroveError) && !(orig instanceof GraphQLError)) {
          this.opts.log?.({ time: new Date().toISOString(), event: 'wandb-error', operation: opName, error: orig.stack ?? String(orig) });
          return { message: `${opName}: the server hit an internal error; its log has the detail.`, path: e.path };
        }
        return { message: e.message, path: e.path };
      });
      // A refused key or scope is the caller's fault, so no retry: 403 with the message.
      const forbidden = result.errors.find((e) => e.originalError instanceof TroveError && (e.originalError.code === 'forbidden' || e.originalError.code === 'unauthorized'));
      return sendJson(res, forbidden ? 403 : 200, { data: result.data ?? null, errors });
    }
    sendJson(res, 200, result);
  }

  private root(): Record<string, unknown> {
    return {
      viewer: (_: unknown, ctx: Ctx) => this.viewer(ctx),
      serverInfo: () => ({ features: [], cliVersionInfo: null, latestLocalVersionInfo: null }),
      project: (a: { name?: string | null; entityName?: string | null }, ctx: Ctx) => this.project(ctx, a.name, a.entityName),
      model: (a: { name?: string | null; entityName?: string | null }, ctx: Ctx) => this.project(ctx, a.name, a.entityName),
      artifact: (a: { id: string }, ctx: Ctx) => this.artifactById(ctx, a.id),
      entity: (a: { name?: string | null }) => ({ id: b64(`Entity:${a.name ?? DEFAULT_ENTITY}`), name: a.name ?? DEFAULT_ENTITY, organization: null }),
      upsertBucket: (a: { input: UpsertBucketInput }, ctx: Ctx) => this.upsertBucket(ctx, a.input),
      createRunFiles: (a: { input: { entityName: string; projectName: string; runName: string; files: string[] } }, ctx: Ctx) => this.createRunFiles(ctx, a.input),
      markRunFilesUploaded: () => ({ success: true }),
      createArtifact: (a: { input: CreateArtifactInput }, ctx: Ctx) => this.createArtifact(ctx, a.input),
      createArtifactManifest: (a: { input: { artifactID: string; type?: string | null } }, ctx: Ctx) => this.createArtifactManifest(ctx, a.input),
      createArtifactFiles: (a: { input: { artifactFiles: FileSpec[] } }, ctx: Ctx) => this.createArtifactFiles(ctx, a.input.artifactFiles),
      completeMultipartUploadArtifact: (a: { input: { artifactID: string; storagePath: string; uploadID: string; completedParts: { partNumber: number; hexMD5: string }[]; completeMultipartAction: string } }, ctx: Ctx) => this.files.completeMultipart(a.input, async (id) => this.writablePending(ctx, id)),
      commitArtifact: (a: { input: { artifactID: string } }, ctx: Ctx) => this.commitArtifact(ctx, a.input.artifactID),
      useArtifact: (a: { input: { artifactID: string; projectName: string; runName: string } }, ctx: Ctx) => this.useArtifact(ctx, a.input),
      addAliases: (a: { input: AliasesInput }, ctx: Ctx) => this.changeAliases(ctx, a.input, 'add'),
      deleteAliases: (a: { input: AliasesInput }, ctx: Ctx) => this.changeAliases(ctx, a.input, 'delete'),
      deleteArtifact: (a: { input: { artifactID: string; deleteAliases?: boolean | null } }, ctx: Ctx) => this.deleteArtifact(ctx, a.input),
    };
  }

  private viewer(ctx: Ctx) {
    return {
      id: b64(`User:${ctx.who.tokenId ?? 'local'}`), name: DEFAULT_ENTITY, username: DEFAULT_ENTITY, email: null, admin: false,
      flags: '{}', entity: DEFAULT_ENTITY, deletedAt: null, apiKeys: { edges: [] }, teams: { edges: [] },
    };
  }

  private entityObj(entity: string) {
    return { id: b64(`Entity:${entity}`), name: entity, organization: null };
  }

  /** W&B's `entity/project` is Trove's project `project`; the entity is a label every project answers to. */
  private project(ctx: Ctx, name: string | null | undefined, entityName: string | null | undefined) {
    const project = validateProject(name || 'uncategorized');
    check(ctx.who, project, 'read');
    const entity = entityName || DEFAULT_ENTITY;
    const self = {
      id: b64(`Project:${project}`), internalId: b64(`Project:${project}`), name: project, entityName: entity, entity: this.entityObj(entity),
      artifact: async (a: { name: string }) => this.orNull(async () => this.artifactObj(ctx, await this.version(ctx, this.refIn(project, a.name)), entity)),
      artifactType: async (a: { name: string }) => {
        const arts = await this.backend.meta.listArtifacts(project).catch(() => []);
        return arts.some((x) => x.type === a.name) ? { id: b64(`ArtifactType:${project}/${a.name}`), name: a.name } : null;
      },
      artifactCollection: async (a: { name: string }) => this.orNull(async () => {
        const art = (await this.backend.meta.listArtifacts(project)).find((x) => x.name === a.name);
        return art ? this.sequenceObj(ctx, project, art.name, art.type, art.updatedAt, entity) : null;
      }),
      artifactCollectionMembership: async (a: { name: string }) => this.orNull(async () => this.membershipObj(ctx, await this.version(ctx, this.refIn(project, a.name)), entity)),
      bucket: async (a: { name: string }) => this.runObjByWandbId(project, entity, a.name),
      run: async (a: { name: string }) => this.runObjByWandbId(project, entity, a.name),
    };
    return self;
  }

  private refIn(project: string, text: string): ArtifactRef {
    const ref = parseRef(text, project);
    return { ...ref, project };
  }

  private async orNull<T>(body: () => Promise<T>): Promise<T | null> {
    try {
      return await body();
    } catch (e) {
      if (e instanceof TroveError && e.code === 'not_found') return null;
      throw e;
    }
  }

  private version(ctx: Ctx, ref: ArtifactRef): Promise<VersionDetail> {
    const key = `${ref.project}/${ref.name}:${ref.alias}`;
    let p = ctx.versions.get(key);
    if (!p) {
      p = this.backend.meta.getVersion({ project: ref.project, name: ref.name, alias: ref.alias });
      ctx.versions.set(key, p);
    }
    return p;
  }

  private async runObjByWandbId(project: string, entity: string, wandbId: string) {
    const runId = await this.state.runFor(project, wandbId);
    if (!runId) return null;
    const run = await this.backend.meta.getRun(runId).catch(() => undefined);
    return run ? this.runObj(run, wandbId, entity) : null;
  }

  private runObj(run: RunRecord, wandbId: string, entity: string) {
    return {
      id: b64(`Run:${run.project}:${wandbId}`), name: wandbId, displayName: run.name, description: null, notes: null,
      config: JSON.stringify(Object.fromEntries(Object.entries(run.config ?? {}).map(([k, v]) => [k, { value: v }]))),
      summaryMetrics: JSON.stringify(run.summary ?? {}), sweepName: null, jobType: run.jobType, historyLineCount: 0, logLineCount: 0, eventsLineCount: 0,
      historyTail: '[]', eventsTail: '[]', tags: [], stopped: false, wandbConfig: '{}',
      project: () => ({ id: b64(`Project:${run.project}`), internalId: b64(`Project:${run.project}`), name: run.project, entityName: entity, entity: this.entityObj(entity) }),
    };
  }

  private sequenceObj(ctx: Ctx, project: string, name: string, type: string, createdAt: string, entity: string) {
    return {
      __typename: 'ArtifactSequence',
      id: b64(`ArtifactSequence:${project}/${name}`), name, description: null, createdAt,
      project: () => this.project(ctx, project, entity),
      defaultArtifactType: { id: b64(`ArtifactType:${project}/${type}`), name: type },
      artifactMembership: async (a: { aliasName: string }) => this.orNull(async () => this.membershipObj(ctx, await this.version(ctx, { project, name, alias: a.aliasName }), entity)),
      latestArtifact: async () => this.orNull(async () => this.artifactObj(ctx, await this.version(ctx, { project, name, alias: 'latest' }), entity)),
    };
  }

  private aliasObjs(ctx: Ctx, v: VersionDetail, entity: string) {
    const seq = this.sequenceObj(ctx, v.project, v.name, v.type, v.createdAt, entity);
    return v.aliases.map((alias) => ({ id: b64(`ArtifactAlias:${v.project}/${v.name}:${alias}`), alias, artifactCollection: seq }));
  }

  artifactObj(ctx: Ctx, v: VersionDetail, entity = DEFAULT_ENTITY) {
    const key = { project: v.project, name: v.name, version: v.version };
    const id = versionId(key);
    const manifest = () => this.wandbManifestOf(v);
    return {
      id, versionIndex: v.version,
      artifactSequence: this.sequenceObj(ctx, v.project, v.name, v.type, v.createdAt, entity),
      artifactType: { id: b64(`ArtifactType:${v.project}/${v.type}`), name: v.type },
      description: v.description || null, metadata: JSON.stringify(v.metadata ?? {}),
      ttlDurationSeconds: -1, ttlIsInherited: true, tags: [], historyStep: null, state: 'COMMITTED',
      size: v.size, digest: async () => wandbDigest((await manifest()).contents), digestAlgorithm: 'MANIFEST_MD5', commitHash: null,
      fileCount: v.files, createdAt: v.createdAt, updatedAt: v.createdAt,
      aliases: this.aliasObjs(ctx, v, entity),
      currentManifest: {
        id: b64(`ArtifactManifest:${v.project}/${v.name}:v${v.version}`),
        file: this.fileObj('wandb_manifest.json', { directUrl: this.files.manifestUrl(id), size: 0 }),
      },
      files: async (a: { names?: string[] | null; after?: string | null; first?: number | null }) => this.filesOf(v, id, await manifest(), a),
    };
  }

  private membershipObj(ctx: Ctx, v: VersionDetail, entity: string) {
    const art = this.artifactObj(ctx, v, entity);
    return {
      id: b64(`ArtifactCollectionMembership:${v.project}/${v.name}:v${v.version}`), versionIndex: v.version, createdAt: v.createdAt,
      aliases: this.aliasObjs(ctx, v, entity), artifactCollection: art.artifactSequence, artifact: art, files: art.files,
    };
  }

  private fileObj(name: string, f: { directUrl: string; size: number; md5?: string; storagePath?: string }) {
    return {
      id: b64(`File:${name}`), name, displayName: name, url: f.directUrl, sizeBytes: f.size, storagePath: f.storagePath ?? null,
      mimetype: null, updatedAt: null, digest: f.md5 ?? null, md5: f.md5 ?? null, directUrl: f.directUrl,
      uploadUrl: null, uploadHeaders: null, uploadMultipartUrls: null, artifact: null,
    };
  }

  private async filesOf(v: VersionDetail, id: string, wm: WandbManifest, a: { names?: string[] | null; after?: string | null; first?: number | null }) {
    let paths = Object.keys(wm.contents).filter((p) => !a.names || a.names.includes(p));
    paths.sort();
    const start = a.after ? Number(a.after) : 0;
    if (!Number.isInteger(start) || start < 0) throw invalid('"after" must be a cursor this server returned.');
    const first = Math.min(Math.max(a.first ?? 1000, 1), 10_000);
    const slice = paths.slice(start, start + first);
    const edges = slice.map((p, i) => {
      const e = v.manifest[p];
      const w = wm.contents[p];
      const directUrl = e.ref ? e.ref : this.files.blobUrl(e.digest, e.size);
      return { cursor: String(start + i + 1), node: this.fileObj(p, { directUrl, size: e.size, md5: w.digest }) };
    });
    void id;
    return {
      totalCount: paths.length, edges,
      pageInfo: { endCursor: edges.length ? edges[edges.length - 1].cursor : null, hasNextPage: start + first < paths.length },
    };
  }

  /**
   * A version as the W&B client reads it: entries named by base64 MD5 (from the index, or hashed
   * now for content that came in through Trove's own door), references with their checksums.
   */
  async wandbManifestOf(v: VersionDetail): Promise<WandbManifest> {
    const cacheKey = `${v.project}/${v.name}:v${v.version}:${v.digest}`;
    const cached = this.wandbManifests.get(cacheKey);
    if (cached) return cached;
    const id = versionId({ project: v.project, name: v.name, version: v.version });
    const shas = [...new Set(Object.values(v.manifest).filter((e) => !e.ref || e.ref.startsWith('file://')).map((e) => e.digest))];
    const known = await this.state.md5OfSha256(shas);
    const fresh: Md5Entry[] = [];
    for (const sha of shas) {
      if (known.has(sha)) continue;
      const entry = Object.values(v.manifest).find((e) => e.digest === sha)!;
      const md5 = entry.ref ? await md5OfFile(fileURLToPath(entry.ref)) : await this.files.md5OfBlob(sha);
      const rec = { md5, sha256: sha, size: entry.size };
      known.set(sha, rec);
      fresh.push(rec);
    }
    await this.state.md5Record(fresh);
    const contents: Record<string, WandbEntry> = {};
    for (const [path, e] of Object.entries(v.manifest)) {
      if (!e.ref) contents[path] = { digest: hexToB64(known.get(e.digest)!.md5), size: e.size, birthArtifactID: id };
      else if (e.ref.startsWith('file://')) contents[path] = { digest: hexToB64(known.get(e.digest)!.md5), size: e.size, ref: e.ref };
      else if (e.ref.startsWith('s3://')) contents[path] = { digest: e.etag ?? e.digest.replace(/^etag:/, ''), size: e.size, ref: e.ref, extra: { etag: `"${e.etag ?? ''}"`, ...(e.versionId ? { versionID: e.versionId } : {}) } };
      else contents[path] = { digest: e.digest.replace(/^etag:/, ''), size: e.size, ref: e.ref, ...(e.etag ? { extra: { etag: e.etag } } : {}) };
    }
    const wm: WandbManifest = { version: 1, storagePolicy: 'wandb-storage-policy-v1', storagePolicyConfig: { storageLayout: 'V2' }, contents };
    if (this.wandbManifests.size > 200) this.wandbManifests.clear();
    this.wandbManifests.set(cacheKey, wm);
    return wm;
  }

  /** An artifact id as what it names now: an artifact logged under a pending id answers as its version once committed. */
  private async resolveId(id: string): Promise<ResolvedId> {
    const d = decodeArtifactId(id);
    if (d.kind === 'version') return d;
    const p = await this.state.getPending(d.id);
    if (!p) throw notFound('This artifact is not being logged any more (it was abandoned); log it again.');
    return p.version === undefined ? { kind: 'pending', p } : { kind: 'version', key: { project: p.project, name: p.name, version: p.version } };
  }

  private async committedKey(id: string, what: string): Promise<VersionKey> {
    const r = await this.resolveId(id);
    if (r.kind !== 'version') throw invalid(`${what}: this artifact is not committed yet.`);
    return r.key;
  }

  private async artifactById(ctx: Ctx, id: string) {
    const r = await this.resolveId(id);
    if (r.kind === 'pending') {
      check(ctx.who, r.p.project, 'read');
      return this.pendingObj(ctx, r.p);
    }
    check(ctx.who, r.key.project, 'read');
    const obj = await this.orNull(async () => this.artifactObj(ctx, await this.version(ctx, { project: r.key.project, name: r.key.name, alias: `v${r.key.version}` })));
    // Asked by the id it was logged under: it keeps answering to that id.
    return obj ? { ...obj, id } : null;
  }

  /** The fields a client reads of an artifact still being logged. */
  private pendingObj(ctx: Ctx, p: PendingArtifact) {
    return {
      id: b64(`ArtifactPending:${p.id}`), versionIndex: null, state: 'PENDING', digest: p.digest, digestAlgorithm: 'MANIFEST_MD5',
      artifactSequence: this.sequenceObj(ctx, p.project, p.name, p.type, p.createdAt, p.entity),
      artifactType: { id: b64(`ArtifactType:${p.project}/${p.type}`), name: p.type },
      description: p.description ?? null, metadata: JSON.stringify(p.metadata ?? {}), ttlDurationSeconds: -1, ttlIsInherited: true,
      tags: [], historyStep: null, size: 0, commitHash: null, fileCount: 0, createdAt: p.createdAt, updatedAt: p.createdAt, aliases: [],
      currentManifest: null, files: { totalCount: 0, edges: [], pageInfo: { endCursor: null, hasNextPage: false } },
    };
  }

  async writablePending(ctx: { who: WandbPrincipal }, artifactId: string): Promise<PendingArtifact> {
    const r = await this.resolveId(artifactId);
    if (r.kind !== 'pending') throw invalid('This artifact version is already committed; log a new one to change it.');
    check(ctx.who, r.p.project, 'write');
    return r.p;
  }

  // ---- runs ---------------------------------------------------------------------------------

  /** The Trove run a wandb run is, made on first sight (or, under `trove run`, the run that started the child). */
  private async troveRun(project: string, wandbId: string, create?: UpsertBucketInput): Promise<{ run: RunRecord; inserted: boolean } | undefined> {
    const known = await this.state.runFor(project, wandbId);
    if (known) return { run: await this.backend.meta.getRun(known), inserted: false };
    if (!create) return undefined;
    let run: RunRecord | undefined;
    if (this.claimRun) {
      const claimed = await this.backend.meta.getRun(this.claimRun);
      if (claimed.project === project) {
        run = claimed;
        this.claimRun = undefined;
      }
    }
    run ??= await this.backend.meta.createRun({
      project, jobType: create.jobType ? validateType(create.jobType) : 'wandb', name: create.displayName || wandbId,
      ...(create.jobProgram ? { command: create.jobProgram } : {}),
      ...(create.commit ? { git: { commit: create.commit, ...(create.jobRepo ? { remote: stripCredentials(create.jobRepo) } : {}), dirty: false } } : {}),
    });
    await this.state.bindRun(project, wandbId, run.id);
    return { run, inserted: true };
  }

  private async upsertBucket(ctx: Ctx, input: UpsertBucketInput) {
    const project = validateProject(input.modelName || 'uncategorized');
    check(ctx.who, project, 'write');
    const entity = input.entityName || DEFAULT_ENTITY;
    let wandbId = input.name;
    if (!wandbId && input.id) wandbId = /^Run:[^:]+:(.+)$/.exec(unb64(input.id))?.[1];
    if (!wandbId || !/^[A-Za-z0-9_.-]{1,128}$/.test(wandbId)) throw invalid('UpsertBucket needs the run id ("name"): letters, digits, ".", "_" or "-".');
    const { run, inserted } = (await this.troveRun(project, wandbId, input))!;
    const config = flattenConfig(input.config);
    const summary = input.summaryMetrics ? flattenConfig(input.summaryMetrics) : undefined;
    const update = {
      ...(input.jobType ? { jobType: validateType(input.jobType) } : {}),
      ...(input.displayName ? { name: input.displayName } : {}),
      ...(input.host ? { host: input.host } : {}),
      ...(input.jobProgram && !run.command ? { command: input.jobProgram } : {}),
      ...(input.commit ? { git: { ...(run.git ?? { dirty: false }), commit: input.commit, ...(input.jobRepo ? { remote: stripCredentials(input.jobRepo) } : {}) } } : {}),
      ...(config ? { config: { ...(run.config ?? {}), ...config } } : {}),
      ...(summary ? { summary } : {}),
    };
    if (Object.keys(update).length) await this.backend.meta.updateRun(run.id, update);
    return { bucket: this.runObj({ ...run, ...update }, wandbId, entity), inserted };
  }

  private async createRunFiles(ctx: Ctx, input: { entityName: string; projectName: string; runName: string; files: string[] }) {
    const project = validateProject(input.projectName);
    check(ctx.who, project, 'write');
    const runId = await this.state.runFor(project, input.runName);
    if (!runId) throw notFound(`Run "${input.runName}" does not exist in project "${project}"; start it with wandb.init first.`);
    return {
      runID: b64(`Run:${project}:${input.runName}`), uploadHeaders: [],
      files: input.files.map((name) => ({ ...this.fileObj(name, { directUrl: '', size: 0 }), uploadUrl: this.files.runFileUploadUrl(runId, name) })),
    };
  }

  private async fileStream(req: IncomingMessage, res: ServerResponse, who: WandbPrincipal, projectIn: string, wandbId: string): Promise<void> {
    const project = validateProject(projectIn);
    check(who, project, 'write');
    const body = await readJsonBody(req) as { files?: Record<string, { offset?: number; content?: string[] }>; complete?: boolean; exitcode?: number };
    const runId = await this.state.runFor(project, wandbId);
    if (!runId) throw new DoorError('not_found', `Run "${wandbId}" does not exist in project "${project}"; start it with wandb.init first.`);
    const summaryLines = body.files?.['wandb-summary.json']?.content;
    if (Array.isArray(summaryLines) && summaryLines.length) {
      try {
        const summary = JSON.parse(summaryLines[summaryLines.length - 1]) as Record<string, unknown>;
        if (summary && typeof summary === 'object' && !Array.isArray(summary)) await this.backend.meta.updateRun(runId, { summary });
      } catch {
        throw new DoorError('invalid', 'The run summary sent on file_stream is not a JSON object.');
      }
    }
    if (body.complete === true) {
      const run = await this.backend.meta.getRun(runId);
      if (run.status === 'running') await this.backend.meta.finishRun(runId, body.exitcode === 0 || body.exitcode === undefined ? 'finished' : 'failed');
    }
    sendJson(res, 200, {});
  }

  // ---- logging an artifact ------------------------------------------------------------------

  private async createArtifact(ctx: Ctx, input: CreateArtifactInput) {
    const project = validateProject(input.projectName);
    check(ctx.who, project, 'write');
    const name = validateName(input.artifactCollectionName);
    const type = validateType(input.artifactTypeName);
    if (!/^[0-9a-f]{32}$/.test(input.digest)) throw invalid('The artifact digest must be 32 hex characters (MANIFEST_MD5).');
    if (input.distributedID) throw invalid('CreateArtifact: distributed (multi-writer) artifacts are not supported by this server; log the whole artifact from one run.');
    const aliases = [...new Set((input.aliases ?? []).map((a) => a.alias).filter((a) => a !== 'latest'))].map((a) => validateAlias(a));
    const existing = (await this.backend.meta.listArtifacts(project).catch(() => [])).find((a) => a.name === name);
    if (existing && existing.type !== type) {
      throw conflict(`Artifact "${project}/${name}" has type "${existing.type}", not "${type}"; log it with type "${existing.type}" or choose another name.`);
    }
    const run = input.runName ? await this.troveRun(project, input.runName) : undefined;
    let metadata: Record<string, unknown> | undefined;
    if (input.metadata) {
      try {
        metadata = JSON.parse(input.metadata) as Record<string, unknown>;
      } catch {
        throw invalid('The artifact metadata is not valid JSON.');
      }
    }
    const entity = input.entityName || DEFAULT_ENTITY;
    // Equal to a version this door committed before: that version, with the new aliases, is `latest`.
    const same = existing ? await this.state.versionForDigest(project, name, input.digest) : undefined;
    if (same !== undefined) {
      const v = await this.orNull(() => this.backend.meta.getVersion({ project, name, alias: `v${same}` }));
      if (v) {
        await this.backend.meta.commitVersion({ project, name, type, manifest: v.manifest, aliases, description: v.description, metadata: v.metadata, ...(run ? { runId: run.run.id } : {}) });
        this.stats.dedupedArtifacts++;
        const now = await this.backend.meta.getVersion({ project, name, alias: `v${same}` });
        ctx.versions.clear();
        return { artifact: this.artifactObj(ctx, now, entity) };
      }
    }
    const pending: PendingArtifact = {
      id: newPendingId(), project, entity, name, type, digest: input.digest, aliases, createdAt: new Date().toISOString(),
      ...(input.description ? { description: input.description } : {}), ...(metadata ? { metadata } : {}), ...(run ? { runId: run.run.id } : {}),
    };
    await this.state.putPending(pending);
    return { artifact: this.pendingObj(ctx, pending) };
  }

  private async createArtifactManifest(ctx: Ctx, input: { artifactID: string; type?: string | null }) {
    const p = await this.writablePending(ctx, input.artifactID);
    if (input.type && input.type !== 'FULL') throw invalid(`CreateArtifactManifest: ${input.type.toLowerCase()} manifests are not supported by this server; log the whole artifact.`);
    return {
      artifactManifest: {
        id: b64(`ArtifactManifest:${p.id}`),
        file: { ...this.fileObj('wandb_manifest.json', { directUrl: '', size: 0 }), uploadUrl: this.files.manifestUploadUrl(p.id), uploadHeaders: [] },
      },
    };
  }

  private async createArtifactFiles(ctx: Ctx, specs: FileSpec[]) {
    const pendings = new Map<string, PendingArtifact>();
    for (const s of specs) if (!pendings.has(s.artifactID)) pendings.set(s.artifactID, await this.writablePending(ctx, s.artifactID));
    for (const s of specs) if (!isB64Md5(s.md5)) throw invalid(`File "${s.name}" needs its MD5 in base64.`);
    const md5s = specs.map((s) => b64ToHex(s.md5));
    const known = await this.state.md5Lookup(md5s);
    // Stored, and readable by the artifact's project: no upload (the blob side decides, as for `trove log`).
    const missing = new Set<string>();
    for (const project of new Set([...pendings.values()].map((p) => p.project))) {
      const entries = specs.filter((s) => pendings.get(s.artifactID)!.project === project).map((s) => known.get(b64ToHex(s.md5))).filter((e) => e !== undefined);
      if (entries.length) for (const t of await this.backend.blobs.plan(entries.map((e) => ({ digest: e.sha256, size: e.size })), project)) missing.add(t.digest);
    }
    const edges = [];
    for (let i = 0; i < specs.length; i++) {
      const s = specs[i];
      const k = known.get(md5s[i]);
      const have = k && !missing.has(k.sha256);
      const target = have ? undefined : await this.files.artifactUploadTarget(md5s[i], pendings.get(s.artifactID)!.project);
      if (have) this.stats.uploadsSkipped++;
      else this.stats.uploadUrlsIssued++;
      edges.push({
        cursor: String(i + 1),
        node: {
          ...this.fileObj(s.name, { directUrl: '', size: 0, md5: s.md5, storagePath: target?.storagePath ?? `wandb/${md5s[i]}` }),
          uploadUrl: target?.url ?? null, uploadHeaders: target?.headers ?? [], uploadMultipartUrls: target?.multipart ?? null,
          artifact: { id: s.artifactID },
        },
      });
    }
    return { files: { totalCount: edges.length, edges, pageInfo: { endCursor: null, hasNextPage: false } } };
  }

  /** Counts a file received through a signed URL and indexes its MD5 (called by the file routes). */
  async recordUpload(got: { md5: string; sha256: string; size: number }): Promise<void> {
    await this.state.md5Record([{ md5: got.md5, sha256: got.sha256, size: got.size }]);
    this.stats.artifactBytesReceived += got.size;
    this.stats.artifactFilesReceived++;
  }

  /** The W&B manifest of a committed version, for its signed manifest URL. */
  async manifestForId(artifactId: string): Promise<WandbManifest> {
    const key = await this.committedKey(artifactId, 'The manifest');
    return this.wandbManifestOf(await this.backend.meta.getVersion({ project: key.project, name: key.name, alias: `v${key.version}` }));
  }

  /** Receives the client's manifest for a pending artifact (called by the file routes). */
  async receiveManifest(pendingId: string, body: Buffer): Promise<void> {
    const p = await this.state.getPending(pendingId);
    if (!p) throw notFound('This artifact is not being logged any more; log it again.');
    parseWandbManifest(body);
    await this.state.putPending({ ...p, manifest: JSON.parse(body.toString('utf8')) });
  }

  private async commitArtifact(ctx: Ctx, artifactId: string) {
    const p = await this.writablePending(ctx, artifactId);
    if (!p.manifest) throw invalid('CommitArtifact: the manifest of this artifact was not uploaded; log it again.');
    const wm = parseWandbManifest(Buffer.from(JSON.stringify(p.manifest)));
    if (wandbDigest(wm.contents) !== p.digest) throw integrity('CommitArtifact: the uploaded manifest does not have the digest the artifact was created with; nothing was committed.');
    const manifest = await this.troveManifest(wm, p.project);
    await this.backend.ensureBlobs(manifest, p.project);
    const result = await this.backend.meta.commitVersion({
      project: p.project, name: p.name, type: p.type, manifest, aliases: p.aliases,
      ...(p.description ? { description: p.description } : {}), ...(p.metadata ? { metadata: p.metadata } : {}), ...(p.runId ? { runId: p.runId } : {}),
    });
    if (result.created) this.stats.versionsCreated++;
    await this.state.recordDigest(p.project, p.name, p.digest, result.version);
    await this.state.putPending({ ...p, manifest: undefined, version: result.version });
    const v = await this.backend.meta.getVersion({ project: p.project, name: p.name, alias: `v${result.version}` });
    return { artifact: this.artifactObj(ctx, v, p.entity) };
  }

  /** The client's manifest as Trove's: every stored file by SHA-256 (through the MD5 index), references with their checksums. */
  private async troveManifest(wm: WandbManifest, project: string): Promise<Manifest> {
    const stored = Object.entries(wm.contents).filter(([, e]) => e.ref === undefined);
    const known = await this.state.md5Lookup(stored.map(([, e]) => b64ToHex(e.digest)));
    // Files the client sent to staging (scale-out): checked, stored as blobs and indexed now. That
    // includes content the index knows but this project may not read yet (it was sent again).
    const knownEntries = [...known.values()];
    const unreadable = new Set(knownEntries.length ? (await this.backend.blobs.plan(knownEntries.map((e) => ({ digest: e.sha256, size: e.size })), project)).map((t) => t.digest) : []);
    const toIngest = stored.filter(([, e]) => {
      const k = known.get(b64ToHex(e.digest));
      return !k || unreadable.has(k.sha256);
    });
    const staged = await this.files.ingestStaged(toIngest.map(([, e]) => ({ md5: b64ToHex(e.digest), size: e.size ?? null })), project);
    await this.state.md5Record(staged);
    for (const f of staged) {
      this.stats.artifactBytesReceived += f.size;
      this.stats.artifactFilesReceived++;
      known.set(f.md5, f);
    }
    const out: Record<string, ManifestEntry> = {};
    for (const [path, e] of Object.entries(wm.contents)) {
      if (e.ref === undefined) {
        const k = known.get(b64ToHex(e.digest));
        if (!k) throw integrity(`CommitArtifact: file "${path}" was never uploaded (MD5 ${b64ToHex(e.digest)}); nothing was committed.`);
        if (e.size !== undefined && e.size !== null && e.size !== k.size) throw integrity(`CommitArtifact: file "${path}" was uploaded with ${k.size} bytes, not ${e.size}; nothing was committed.`);
        out[path] = { digest: k.sha256, size: k.size };
      } else {
        out[path] = await this.referenceEntry(path, e);
      }
    }
    return validateManifest(out);
  }

  private async referenceEntry(path: string, e: WandbEntry): Promise<ManifestEntry> {
    const ref = e.ref!;
    if (ref.startsWith('s3://')) {
      const extra = e.extra ?? {};
      const etag = String(extra.etag ?? e.digest).replace(/^W\/|"/g, '');
      const versionId = typeof extra.versionID === 'string' ? extra.versionID : undefined;
      return { digest: `etag:${etag}`, size: e.size ?? 0, ref, etag, ...(versionId ? { versionId } : {}) };
    }
    if (ref.startsWith('file://')) {
      // The server reads the file (same machine as the client: `trove run`, or a shared mount),
      // checks it against the client's MD5 and records its SHA-256 as Trove does.
      let path2: string;
      try {
        path2 = fileURLToPath(ref);
      } catch {
        throw invalid(`Reference "${path}" is not a valid file:// URI.`);
      }
      const hashed = await hashFileBoth(path2).catch(() => {
        throw invalid(`Reference "${path}" names ${ref}, which this server cannot read; file:// references must be readable by the server.`);
      });
      if (isB64Md5(e.digest) && hexToB64(hashed.md5) !== e.digest) throw integrity(`Reference "${path}": ${ref} changed since the client hashed it; log again.`);
      await this.state.md5Record([{ md5: hashed.md5, sha256: hashed.sha256, size: hashed.size }]);
      return { digest: hashed.sha256, size: hashed.size, ref };
    }
    if (/^https?:\/\//.test(ref)) {
      const etag = typeof e.extra?.etag === 'string' ? e.extra.etag.replace(/^W\/|"/g, '') : undefined;
      return { digest: `etag:${etag ?? e.digest}`, size: e.size ?? 0, ref, ...(etag ? { etag } : {}) };
    }
    throw invalid(`Reference "${path}" uses a scheme this server does not record (${ref.split(':')[0]}); use s3://, file:// or http(s)://.`);
  }

  private async useArtifact(ctx: Ctx, input: { artifactID: string; projectName: string; runName: string }) {
    const d = { key: await this.committedKey(input.artifactID, 'UseArtifact') };
    check(ctx.who, d.key.project, 'read');
    const project = validateProject(input.projectName);
    check(ctx.who, project, 'write');
    const run = await this.troveRun(project, input.runName);
    if (!run) throw notFound(`UseArtifact: run "${input.runName}" does not exist in project "${project}".`);
    await this.backend.meta.recordUse(run.run.id, d.key);
    return { artifact: this.artifactObj(ctx, await this.version(ctx, { project: d.key.project, name: d.key.name, alias: `v${d.key.version}` })) };
  }

  private async changeAliases(ctx: Ctx, input: AliasesInput, how: 'add' | 'delete') {
    const d = { key: await this.committedKey(input.artifactID, 'Aliases') };
    check(ctx.who, d.key.project, 'write');
    for (const a of input.aliases) {
      if (a.alias === 'latest') continue;
      if (parseVersionAlias(a.alias) !== undefined) throw invalid(`Alias "${a.alias}" is a version number; it cannot be ${how === 'add' ? 'added' : 'removed'}.`);
      if (how === 'add') await this.backend.meta.addAlias({ project: d.key.project, name: d.key.name, alias: `v${d.key.version}` }, validateAlias(a.alias));
      else await this.backend.meta.removeAlias(d.key.project, d.key.name, validateAlias(a.alias));
    }
    return { success: true };
  }

  /**
   * `artifact.delete(delete_aliases=…)`: Trove's deleteVersion (the version stays a tombstone in
   * the lineage, gc frees its content). As in W&B, a version with aliases of its own is deleted
   * only with delete_aliases=True; protected aliases refuse it either way.
   */
  private async deleteArtifact(ctx: Ctx, input: { artifactID: string; deleteAliases?: boolean | null }) {
    const key = await this.committedKey(input.artifactID, 'DeleteArtifact');
    check(ctx.who, key.project, 'write');
    const ref = { project: key.project, name: key.name, alias: `v${key.version}` };
    const own = (await this.backend.meta.getVersion(ref)).aliases.filter((a) => a !== LATEST);
    if (own.length && !input.deleteAliases) {
      throw conflict(`${formatRef(key.project, key.name, key.version)} has the aliases ${own.join(', ')}; delete it with delete_aliases=True, or remove them first.`);
    }
    await this.backend.meta.deleteVersion(ref, { protectedAliases: this.opts.protectedAliases ?? DEFAULT_PROTECTED_ALIASES });
    ctx.versions.clear();
    return { artifact: { id: input.artifactID } };
  }

  // ---- downloads by MD5 (the client's fallbacks) ---------------------------------------------

  private async fallbackDownload(res: ServerResponse, who: WandbPrincipal, path: string): Promise<void> {
    // /artifactsV2/{region}/{entity}/{project}/{collection}/[{artifactId}/]{birthId}/{md5hex}/{name} or /artifacts/{entity}/{md5hex}
    const parts = path.split('/').slice(1).map((s) => decodeURIComponent(s));
    let md5: string | undefined;
    if (parts[0] === 'artifacts' && parts.length === 3) {
      md5 = parts[2];
      if (who.project !== '*') throw new DoorError('forbidden', 'Downloads by MD5 alone need a key for every project; use the file URLs the server hands out.');
    } else if (parts[0] === 'artifactsV2' && parts.length >= 8) {
      check(who, validateProject(parts[3]), 'read');
      md5 = [...parts].reverse().find((s) => /^[0-9a-f]{32}$/.test(s));
    }
    if (!md5 || !/^[0-9a-f]{32}$/.test(md5)) throw new DoorError('not_found', `No W&B file route ${path}.`);
    const k = (await this.state.md5Lookup([md5])).get(md5);
    if (!k) throw new DoorError('not_found', `No stored file has MD5 ${md5}.`);
    await this.files.sendBlob(res, k.sha256);
  }
}

interface UpsertBucketInput {
  id?: string | null; name?: string | null; modelName?: string | null; entityName?: string | null; displayName?: string | null;
  config?: string | null; commit?: string | null; host?: string | null; jobProgram?: string | null; jobRepo?: string | null;
  jobType?: string | null; summaryMetrics?: string | null;
}
interface CreateArtifactInput {
  aliases?: { alias: string }[] | null; artifactCollectionName: string; artifactTypeName: string; description?: string | null;
  digest: string; distributedID?: string | null; entityName: string; metadata?: string | null; projectName: string; runName?: string | null;
}
export interface FileSpec { artifactID: string; name: string; md5: string; uploadPartsInput?: { partNumber: number; hexMD5: string }[] | null }
interface AliasesInput { artifactID: string; aliases: { alias: string }[] }

/**
 * Newer clients send input fields this schema does not know yet, null when unused: those nulls
 * are dropped so that the operation runs. A non-null unknown field still fails (and is named),
 * since ignoring it could change what the client asked for.
 */
function dropUnknownNulls(schema: GraphQLSchema, doc: DocumentNode, variables: unknown): Record<string, unknown> {
  if (!variables || typeof variables !== 'object' || Array.isArray(variables)) return {};
  const out: Record<string, unknown> = { ...(variables as Record<string, unknown>) };
  const clean = (type: GraphQLInputType, value: unknown): unknown => {
    const named = getNullableType(type);
    if (value === null || value === undefined) return value;
    if (isListType(named)) return Array.isArray(value) ? value.map((v) => clean(named.ofType as GraphQLInputType, v)) : clean(named.ofType as GraphQLInputType, value);
    if (isInputObjectType(named) && typeof value === 'object' && !Array.isArray(value)) {
      const fields = named.getFields();
      const obj: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (fields[k]) obj[k] = clean(fields[k].type, v);
        else if (v !== null) obj[k] = v;
      }
      return obj;
    }
    return value;
  };
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const vd of def.variableDefinitions ?? []) {
      const name = vd.variable.name.value;
      const type = typeFromAST(schema, vd.type as never) as GraphQLInputType | undefined;
      if (type && name in out) out[name] = clean(type, out[name]);
    }
  }
  return out;
}

function stripCredentials(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//');
}

async function hashFileBoth(path: string): Promise<{ md5: string; sha256: string; size: number }> {
  const st = await stat(path);
  if (!st.isFile()) throw invalid(`${path} is not a file.`);
  const data = await readFile(path);
  return { md5: createHash('md5').update(data).digest('hex'), sha256: createHash('sha256').update(data).digest('hex'), size: data.length };
}

async function md5OfFile(path: string): Promise<string> {
  return (await hashFileBoth(path)).md5;
}

export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new DoorError('invalid', `The request body is larger than ${limit >> 20} MiB.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req, MAX_JSON_BODY);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new DoorError('invalid', 'The request body is not valid JSON.');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new DoorError('invalid', 'The request body must be a JSON object.');
  return value as Record<string, unknown>;
}


import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { invalid, TroveError, type TroveErrorCode } from '../core/errors';
import { validateManifest } from '../core/manifest';
import { parseVersionAlias, validateAlias, validateName, validateProject, type ArtifactRef } from '../core/names';
import { MAX_LINEAGE_DEPTH } from '../core/lineage';
import type { CommitRequest, NewRun } from '../core/types';
import type { PackAccess } from './blobStore';
import type { ServerBackend } from './backend';
import {
  API_PREFIX, API_VERSION, decodePack, DEFAULT_PAGE, ERROR_STATUS, isPackContentType, MAX_JSON_BODY, MAX_PAGE, PACK_CONTENT_TYPE, PACK_HEADER, requireDigestList, routePattern, Routes,
  type ErrorBody, type Route,
} from './protocol';
import { hashToken, type TokenRecord } from './tokens';

/** Uploads the server may hold in memory at once (a pack, or an S3 multipart part, is up to 64 MiB). */
const MAX_BUFFERED_UPLOADS = 8;

/** At most `limit` bodies run at once; the rest wait their turn in arrival order. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(body: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await body();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** Who is calling: a token's project and scope, or everyone when auth is off. */
interface Principal {
  tokenId: string | null;
  project: string;
  scope: 'read' | 'write';
}

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: string[];
  who: Principal;
}

export interface AppOptions {
  backend: ServerBackend;
  requireAuth: boolean;
  /** One JSON object per finished request (never a token). */
  log: (entry: Record<string, unknown>) => void;
}

class HttpError extends TroveError {
  constructor(code: TroveErrorCode, message: string, readonly status: number = ERROR_STATUS[code]) {
    super(code, message);
  }
}

type Handler = (c: Call) => Promise<void>;

/**
 * The REST API (documented in API.md). Handlers validate their input, check the caller's scope
 * and call the backend; every error becomes `{"error":{"code","message"}}` with a 4xx/5xx status.
 */
export function createApp(opts: AppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { backend } = opts;
  const buffered = new Semaphore(MAX_BUFFERED_UPLOADS);
  // Whole-pack downloads exist where packs are objects of their own (S3), and not when every
  // transfer must go through the server.
  const packs = 'packUrl' in backend.blobs && backend.presignDownloads ? (backend.blobs as unknown as PackAccess) : undefined;
  const packParam = (c: Call) => {
    if (!packs) throw new HttpError('not_found', 'This server does not hand out whole packs; fetch blobs one by one.');
    return digestParam(c);
  };
  const routes: [string, RegExp, Handler][] = [];
  const route = (r: Route, handler: Handler) => routes.push([r.method, routePattern(r), handler]);

  route(Routes.health, async (c) => send(c, 200, { status: 'ok', mode: backend.mode, api: API_VERSION }));

  route(Routes.listProjects, async (c) => {
    const all = await backend.meta.listProjects();
    page(c, all.filter((p) => c.who.project === '*' || p.name === c.who.project));
  });
  route(Routes.listArtifacts, async (c) => {
    const project = allow(c, 0, 'read');
    page(c, await backend.meta.listArtifacts(project));
  });
  route(Routes.listVersions, async (c) => {
    const project = allow(c, 0, 'read');
    page(c, await backend.meta.listVersions(project, name(c, 1)));
  });
  route(Routes.commitVersion, async (c) => {
    const project = allow(c, 0, 'write');
    const body = await json<Partial<CommitRequest>>(c);
    if (typeof body.type !== 'string') throw invalid('"type" is required (a word such as dataset or model).');
    if (body.aliases !== undefined && (!Array.isArray(body.aliases) || body.aliases.some((a) => typeof a !== 'string'))) throw invalid('"aliases" must be an array of strings.');
    if (body.description !== undefined && typeof body.description !== 'string') throw invalid('"description" must be a string.');
    if (body.metadata !== undefined && (typeof body.metadata !== 'object' || body.metadata === null || Array.isArray(body.metadata))) throw invalid('"metadata" must be a JSON object.');
    if (body.runId !== undefined && typeof body.runId !== 'string') throw invalid('"runId" must be a string.');
    const manifest = validateManifest(body.manifest);
    if (body.runId) {
      const run = await backend.meta.getRun(body.runId);
      if (run.project !== project && c.who.project !== '*') throw new HttpError('forbidden', `Run ${run.id} belongs to project "${run.project}", which this token cannot write.`);
    }
    await backend.ensureBlobs(manifest);
    const result = await backend.meta.commitVersion({
      project, name: name(c, 1), type: body.type, manifest, aliases: body.aliases ?? [], description: body.description, metadata: body.metadata, runId: body.runId,
    });
    send(c, result.created ? 201 : 200, result);
  });
  route(Routes.getVersion, async (c) => {
    const project = allow(c, 0, 'read');
    send(c, 200, await backend.meta.getVersion(ref(c, project)));
  });
  route(Routes.lineage, async (c) => {
    const project = allow(c, 0, 'read');
    const depth = c.url.searchParams.has('depth') ? Number(c.url.searchParams.get('depth')) : 2;
    if (!Number.isInteger(depth) || depth < 0 || depth > MAX_LINEAGE_DEPTH) throw invalid(`"depth" must be a whole number from 0 to ${MAX_LINEAGE_DEPTH}.`);
    const connected = c.url.searchParams.get('connected') ?? 'false';
    if (connected !== 'true' && connected !== 'false') throw invalid('"connected" must be true or false.');
    send(c, 200, await backend.meta.lineage(ref(c, project), depth, { connected: connected === 'true' }));
  });
  route(Routes.addAlias, async (c) => {
    const project = allow(c, 0, 'write');
    const body = await json<{ version?: unknown }>(c);
    const target = typeof body.version === 'number' ? `v${body.version}` : body.version;
    if (typeof target !== 'string') throw invalid('"version" is required: a version number, "vN" or an alias naming the version.');
    const alias = validateAlias(param(c, 2));
    await backend.meta.addAlias(refTo(project, name(c, 1), target), alias);
    send(c, 200, { alias, version: (await backend.meta.getVersion({ project, name: name(c, 1), alias })).version });
  });
  route(Routes.removeAlias, async (c) => {
    const project = allow(c, 0, 'write');
    await backend.meta.removeAlias(project, name(c, 1), validateAlias(param(c, 2)));
    send(c, 200, { removed: param(c, 2) });
  });

  route(Routes.createRun, async (c) => {
    const body = await json<Partial<NewRun>>(c);
    if (typeof body.project !== 'string' || typeof body.jobType !== 'string') throw invalid('"project" and "jobType" are required strings.');
    for (const k of ['name', 'command'] as const) if (body[k] !== undefined && typeof body[k] !== 'string') throw invalid(`"${k}" must be a string.`);
    if (body.git !== undefined && (typeof body.git !== 'object' || body.git === null || typeof body.git.commit !== 'string')) throw invalid('"git" must be an object with a "commit".');
    check(c.who, validateProject(body.project), 'write');
    send(c, 201, await backend.meta.createRun(body as NewRun));
  });
  route(Routes.getRun, async (c) => {
    const run = await backend.meta.getRun(param(c, 0));
    check(c.who, run.project, 'read');
    send(c, 200, run);
  });
  route(Routes.finishRun, async (c) => {
    const run = await backend.meta.getRun(param(c, 0));
    check(c.who, run.project, 'write');
    const { status } = await json<{ status?: unknown }>(c);
    if (status !== 'finished' && status !== 'failed') throw invalid('"status" must be "finished" or "failed".');
    await backend.meta.finishRun(run.id, status);
    send(c, 200, { id: run.id, status });
  });
  route(Routes.recordUse, async (c) => {
    const run = await backend.meta.getRun(param(c, 0));
    check(c.who, run.project, 'write');
    const body = await json<{ project?: unknown; name?: unknown; version?: unknown }>(c);
    if (typeof body.project !== 'string' || typeof body.name !== 'string' || !Number.isSafeInteger(body.version)) throw invalid('"project", "name" and "version" (a number) are required.');
    check(c.who, validateProject(body.project), 'read');
    await backend.meta.recordUse(run.id, { project: body.project, name: validateName(body.name), version: body.version as number });
    send(c, 200, { runId: run.id });
  });

  route(Routes.missingBlobs, async (c) => {
    requireWriter(c.who);
    const blobs = requireDigestList((await json<{ blobs?: unknown }>(c)).blobs);
    const missing = new Set(await backend.blobs.missing(blobs));
    const seen = new Set<string>();
    const targets = blobs.filter((b) => missing.has(b.digest) && !seen.has(b.digest) && seen.add(b.digest)).map((b) => backend.blobs.uploadTarget(b));
    send(c, 200, { missing: targets });
  });
  route(Routes.confirmBlobs, async (c) => {
    requireWriter(c.who);
    const blobs = requireDigestList((await json<{ blobs?: unknown }>(c)).blobs);
    send(c, 200, { missing: await backend.blobs.confirm(blobs) });
  });
  route(Routes.uploadPack, async (c) => {
    requireWriter(c.who);
    if (!isPackContentType(c.req.headers['content-type'])) throw new HttpError('invalid', `Send a pack as Content-Type: ${PACK_CONTENT_TYPE}.`, 415);
    // A pack is held in memory while it is checked: bound how many are, whoever sends them.
    const members = await buffered.run(async () => {
      const m = await decodePack(c.req);
      await backend.blobs.receivePack(m);
      return m;
    });
    send(c, 201, { stored: members.length });
  });
  route(Routes.putBlob, async (c) => {
    requireWriter(c.who);
    const digest = digestParam(c);
    const length = c.req.headers['content-length'];
    if (length === undefined || !/^\d+$/.test(length)) throw new HttpError('invalid', 'A blob upload needs a Content-Length header.', 411);
    await buffered.run(() => backend.blobs.receive({ digest, size: Number(length) }, c.req));
    send(c, 201, { digest, size: Number(length) });
  });
  route(Routes.getBlob, async (c) => {
    const digest = digestParam(c);
    const source = await backend.blobs.open(digest);
    if ('redirect' in source) {
      c.res.writeHead(302, { location: source.redirect, 'cache-control': 'no-store', 'content-length': 0 });
      c.res.end();
      return;
    }
    c.res.setHeader('content-type', 'application/octet-stream');
    c.res.setHeader('content-length', source.size);
    // Tells the client the blob sits in a pack it may fetch whole (GET /packs/{pack}).
    if (source.pack && packs) c.res.setHeader(PACK_HEADER, source.pack);
    c.res.writeHead(200);
    await pipeline(source.stream, c.res);
  });
  route(Routes.getPack, async (c) => {
    const pack = packParam(c);
    await packs!.packIndex(pack); // 404 for an unknown pack
    c.res.writeHead(302, { location: packs!.packUrl(pack), 'cache-control': 'no-store', 'content-length': 0 });
    c.res.end();
  });
  route(Routes.packIndex, async (c) => {
    const pack = packParam(c);
    send(c, 200, { pack, blobs: await packs!.packIndex(pack) });
  });
  route(Routes.verifyBlob, async (c) => {
    const digest = digestParam(c);
    send(c, 200, { digest, ok: await backend.blobs.verify(digest) });
  });
  route(Routes.gc, async (c) => {
    if (c.who.project !== '*' || c.who.scope !== 'write') {
      throw new HttpError('forbidden', 'Garbage collection needs a write token for every project (trove token create --project "*" --scope write).');
    }
    const { dryRun, minAgeSeconds } = await json<{ dryRun?: unknown; minAgeSeconds?: unknown }>(c);
    if (minAgeSeconds !== undefined && !(Number.isSafeInteger(minAgeSeconds) && (minAgeSeconds as number) >= 0)) throw invalid('"minAgeSeconds" must be a whole number of seconds.');
    send(c, 200, await backend.gc(dryRun === true, minAgeSeconds === undefined ? {} : { minAgeSeconds: minAgeSeconds as number }));
  });
  route(Routes.changes, async (c) => send(c, 200, { token: await backend.meta.changeToken() }));

  async function authenticate(req: IncomingMessage): Promise<Principal> {
    const header = req.headers.authorization;
    if (!header) {
      if (!opts.requireAuth) return { tokenId: null, project: '*', scope: 'write' };
      throw new HttpError('unauthorized', 'This server requires a token: set TROVE_TOKEN (create one with `trove token create --project P --scope read|write` on the server).');
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new HttpError('unauthorized', 'The Authorization header must be "Bearer <token>".');
    const record: TokenRecord | undefined = await backend.tokens.findByHash(hashToken(m[1]));
    if (!record) throw new HttpError('unauthorized', 'The token is not valid on this server; create one with `trove token create`.');
    return { tokenId: record.id, project: record.project, scope: record.scope };
  }

  return (req, res) => {
    const started = process.hrtime.bigint();
    let who: Principal | undefined;
    let failure: string | undefined;
    res.on('finish', () => {
      opts.log({
        time: new Date().toISOString(), method: req.method, path: (req.url ?? '').split('?')[0], status: res.statusCode,
        ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
        bytesIn: Number(req.headers['content-length'] ?? 0), bytesOut: Number(res.getHeader('content-length') ?? 0), token: who?.tokenId ?? null,
        remote: req.socket.remoteAddress, ...(failure ? { error: failure } : {}),
      });
    });
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://server');
      try {
        const matched = routes.filter(([, re]) => re.test(url.pathname));
        if (!matched.length) throw new HttpError('not_found', `No API route ${url.pathname}; see API.md for the routes of ${API_PREFIX}.`);
        const hit = matched.find(([method]) => method === req.method);
        if (!hit) throw new HttpError('invalid', `${req.method} is not allowed on ${url.pathname}.`, 405);
        who = await authenticate(req);
        const params = hit[1].exec(url.pathname)!.slice(1).map((p) => {
          try {
            return decodeURIComponent(p);
          } catch {
            throw invalid(`Bad percent-encoding in ${url.pathname}.`);
          }
        });
        await hit[2]({ req, res, url, params, who });
      } catch (e) {
        const status = (e instanceof HttpError ? e.status : e instanceof TroveError ? ERROR_STATUS[e.code] : undefined) ?? 500;
        const code: TroveErrorCode | 'internal' = e instanceof TroveError ? e.code : 'internal';
        const message = e instanceof TroveError ? e.message : 'The server hit an internal error; its log has the detail.';
        failure = e instanceof Error ? e.message : String(e);
        if (res.headersSent) {
          res.destroy();
          return;
        }
        // An upload refused before its body was read: drain nothing, close the connection after answering.
        if (!req.readableEnded) res.setHeader('connection', 'close');
        const body: ErrorBody = { error: { code, message } };
        sendRaw(res, status, body);
      }
    })();
  };
}

function sendRaw(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.setHeader('cache-control', 'no-store');
  res.writeHead(status);
  res.end(text);
}

function send(c: Call, status: number, body: unknown): void {
  sendRaw(c.res, status, body);
}

/** `?limit=&cursor=` paging over a list: `{items, nextCursor}` (nextCursor null on the last page). */
function page<T>(c: Call, all: T[]): void {
  const limitText = c.url.searchParams.get('limit');
  const cursorText = c.url.searchParams.get('cursor');
  const limit = limitText === null ? DEFAULT_PAGE : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw invalid(`"limit" must be a whole number from 1 to ${MAX_PAGE}.`);
  const offset = cursorText === null ? 0 : Number(cursorText);
  if (!Number.isInteger(offset) || offset < 0) throw invalid('"cursor" must be a value returned as nextCursor.');
  const items = all.slice(offset, offset + limit);
  send(c, 200, { items, nextCursor: offset + limit < all.length ? String(offset + limit) : null });
}

async function json<T>(c: Call): Promise<T> {
  const type = c.req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) throw new HttpError('invalid', 'Send the request body as JSON (Content-Type: application/json).', 415);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of c.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_BODY) throw new HttpError('invalid', `The request body is larger than ${MAX_JSON_BODY >> 20} MiB.`, 413);
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw invalid('The request body is not valid JSON.');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalid('The request body must be a JSON object.');
  return value as T;
}

function param(c: Call, i: number): string {
  return c.params[i];
}

function name(c: Call, i: number): string {
  return validateName(c.params[i]);
}

function digestParam(c: Call): string {
  const d = c.params[0];
  if (!/^[0-9a-f]{64}$/.test(d)) throw invalid(`"${d.slice(0, 80)}" is not a blob digest (64 lowercase hex characters).`);
  return d;
}

function ref(c: Call, project: string): ArtifactRef {
  return refTo(project, name(c, 1), param(c, 2));
}

function refTo(project: string, artifact: string, alias: string): ArtifactRef {
  if (parseVersionAlias(alias) === undefined) validateAlias(alias, { allowLatest: true });
  return { project, name: artifact, alias };
}

function check(who: Principal, project: string, need: 'read' | 'write'): void {
  if (who.project !== '*' && who.project !== project) {
    throw new HttpError('forbidden', `This token is for project "${who.project}" and cannot ${need} project "${project}".`);
  }
  if (need === 'write' && who.scope !== 'write') {
    throw new HttpError('forbidden', `This token is read-only; writing to project "${project}" needs a token created with --scope write.`);
  }
}

/** Checks the caller may act on the project named by path parameter `i`, and returns it. */
function allow(c: Call, i: number, need: 'read' | 'write'): string {
  const project = validateProject(c.params[i]);
  check(c.who, project, need);
  return project;
}

function requireWriter(who: Principal): void {
  if (who.scope !== 'write') throw new HttpError('forbidden', 'This token is read-only; uploading needs a token created with --scope write.');
}

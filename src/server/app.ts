import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { invalid, notFound, TroveError, type TroveErrorCode } from '../core/errors';
import { isDigest, validateManifest } from '../core/manifest';
import { parseVersionAlias, validateAlias, validateName, validateProject, type ArtifactRef } from '../core/names';
import { MAX_LINEAGE_DEPTH } from '../core/lineage';
import { runNotFound } from '../core/runs';
import { DEFAULT_PROTECTED_ALIASES, parseProtectedAliases } from '../core/versionRules';
import type { CommitRequest, LineageGraph, ManifestPage, NewRun, RunRecord, VersionDetail } from '../core/types';
import { batches, linesOf } from '../core/manifestStream';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { EVERY_PROJECT } from './blobScope';
import { bodyOf, checkUnauthenticatedRequest, FairSlots, GuardError, isLoopbackHostName } from './guards';
import type { PackAccess } from './blobStore';
import type { ServerBackend } from './backend';
import {
  API_PREFIX, API_VERSION, decodePack, PROTECTED_PARAM, DEFAULT_PAGE, ERROR_STATUS, isManifestStreamContentType, isPackContentType, MAX_FETCH_BLOB, MAX_FETCH_BLOBS,
  MAX_FETCH_BYTES, MAX_JSON_BODY, MAX_MANIFEST_LINE, MAX_PAGE, PACK_CONTENT_TYPE, PACK_HEADER, requireDigestList, routePattern, Routes,
  type ErrorBody, type Route,
  sendJson,
} from './protocol';
import { hashToken, type TokenRecord } from './tokens';

/** Uploads the server may hold in memory at once (a pack, or an S3 multipart part, is up to 64 MiB). */
const MAX_BUFFERED_UPLOADS = 8;
/** ... and how many of them one client may hold, so that others always get a turn. */
const MAX_BUFFERED_UPLOADS_PER_CLIENT = 4;
/** A request body from which no byte arrives for this long is cut off (408). */
export const DEFAULT_BODY_IDLE_MS = 30_000;
/** JSON bodies other than manifests and blob lists are small. */
const MAX_SMALL_JSON_BODY = 1 << 20;

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
  /** The request body, cut off when it stalls. */
  body(): AsyncGenerator<Buffer>;
}

export interface AppOptions {
  backend: ServerBackend;
  requireAuth: boolean;
  /** One JSON object per finished request (never a token). */
  log: (entry: Record<string, unknown>) => void;
  /** Cut off a request body after this many milliseconds without a byte (default 30 s). */
  bodyIdleMs?: number;
  /** Aliases that block deletion whatever the caller says (`trove serve --protected-aliases`; default DEFAULT_PROTECTED_ALIASES). */
  protectedAliases?: readonly string[];
  /** The W&B door (src/server/wandb), answering its own paths. */
  wandb?: { handles(pathname: string): boolean; handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> };
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
  const buffered = new FairSlots(MAX_BUFFERED_UPLOADS, MAX_BUFFERED_UPLOADS_PER_CLIENT);
  const idleMs = opts.bodyIdleMs ?? DEFAULT_BODY_IDLE_MS;
  /** Whom a slot is charged to: the token; without one, the address, or the connection on loopback (where every client has the same address). */
  const clientOf = (c: Call) => c.who.tokenId ?? (isLoopbackHostName(c.req.socket.remoteAddress ?? '') ? `${c.req.socket.remoteAddress}:${c.req.socket.remotePort}` : c.req.socket.remoteAddress ?? '?');
  // Whole-pack downloads exist where packs are objects of their own (S3), and not when every
  // transfer must go through the server.
  const packs = 'packUrl' in backend.blobs && backend.presignDownloads ? (backend.blobs as unknown as PackAccess) : undefined;
  const packParam = (c: Call) => {
    if (!packs) throw new HttpError('not_found', 'This server does not hand out whole packs; fetch blobs one by one.');
    return digestParam(c);
  };
  const routes: [string, RegExp, Handler, { public?: boolean; reads?: boolean }][] = [];
  /** `reads`: a POST that only reads (its body is a question), open to read-only tokens. */
  const route = (r: Route, handler: Handler, flags: { public?: boolean; reads?: boolean } = {}) => routes.push([r.method, routePattern(r), handler, flags]);

  // For load balancers and `curl`: no token, and nothing in the answer that needs one.
  route(Routes.health, async (c) => send(c, 200, { status: 'ok', mode: backend.mode, api: API_VERSION }), { public: true });

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
    if (isManifestStreamContentType(c.req.headers['content-type'])) {
      // A streamed manifest: the commit's fields on the first line, then one file per line.
      const lines = ndjsonLines(c);
      const first = await lines.next();
      if (first.done) throw invalid('The request body is empty; send the commit fields on the first line.');
      const body = checkCommitFields(first.value);
      await checkRun(c, project, body.runId);
      const result = await backend.commitStream({ project, name: name(c, 1), type: body.type, aliases: body.aliases ?? [], description: body.description, metadata: body.metadata, runId: body.runId }, batches(lines), c.who.project);
      send(c, result.created ? 201 : 200, result);
      return;
    }
    const body = await json<Partial<CommitRequest>>(c, MAX_JSON_BODY);
    const fields = checkCommitFields(body);
    const manifest = validateManifest(body.manifest);
    await checkRun(c, project, body.runId);
    await backend.ensureBlobs(manifest, c.who.project);
    const result = await backend.meta.commitVersion({
      project, name: name(c, 1), type: fields.type, manifest, aliases: body.aliases ?? [], description: body.description, metadata: body.metadata, runId: body.runId,
    });
    send(c, result.created ? 201 : 200, result);
  });
  route(Routes.getVersion, async (c) => {
    const project = allow(c, 0, 'read');
    if (c.url.searchParams.get('manifest') === 'false') return send(c, 200, await visibleRuns(c, await backend.meta.getVersion(ref(c, project), { manifest: false })));
    // The whole manifest, for clients that ask for it: written a page at a time, never one string.
    await sendStreamed(c, await visibleRuns(c, await backend.meta.getVersion(ref(c, project), { manifest: false })), backend.meta);
  });
  route(Routes.manifestPage, async (c) => {
    const project = allow(c, 0, 'read');
    const detail = await backend.meta.getVersion(ref(c, project), { manifest: false });
    const limitText = c.url.searchParams.get('limit');
    const limit = limitText === null ? MAX_PAGE : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw invalid(`"limit" must be a whole number from 1 to ${MAX_PAGE}.`);
    send(c, 200, await backend.meta.manifestPage({ project, name: detail.name, version: detail.version }, c.url.searchParams.get('cursor'), limit));
  });
  route(Routes.lineage, async (c) => {
    const project = allow(c, 0, 'read');
    const depth = c.url.searchParams.has('depth') ? Number(c.url.searchParams.get('depth')) : 2;
    if (!Number.isInteger(depth) || depth < 0 || depth > MAX_LINEAGE_DEPTH) throw invalid(`"depth" must be a whole number from 0 to ${MAX_LINEAGE_DEPTH}.`);
    const connected = c.url.searchParams.get('connected') ?? 'false';
    if (connected !== 'true' && connected !== 'false') throw invalid('"connected" must be true or false.');
    send(c, 200, await visibleLineage(c, await backend.meta.lineage(ref(c, project), depth, { connected: connected === 'true' })));
  });
  /** The server's protected aliases and the caller's (`?protected=a,b`), both enforced. */
  const protectedFor = (c: Call) => {
    const own = opts.protectedAliases ?? DEFAULT_PROTECTED_ALIASES;
    const asked = c.url.searchParams.get(PROTECTED_PARAM);
    return [...new Set([...own, ...(asked ? parseProtectedAliases(asked, `The "${PROTECTED_PARAM}" parameter`) : [])])];
  };
  route(Routes.deleteVersion, async (c) => {
    const project = allow(c, 0, 'write');
    send(c, 200, await backend.meta.deleteVersion(ref(c, project), { protectedAliases: protectedFor(c) }));
  });
  route(Routes.deleteArtifact, async (c) => {
    const project = allow(c, 0, 'write');
    send(c, 200, await backend.meta.deleteArtifact(project, name(c, 1), { protectedAliases: protectedFor(c) }));
  });
  route(Routes.restoreVersion, async (c) => {
    const project = allow(c, 0, 'write');
    const version = parseVersionAlias(param(c, 2));
    if (version === undefined) throw invalid(`Restore names a deleted version by number (vN), not "${param(c, 2).slice(0, 80)}".`);
    send(c, 200, await backend.meta.restoreVersion({ project, name: name(c, 1), version }));
  });
  route(Routes.addAlias, async (c) => {
    const project = allow(c, 0, 'write');
    const body = await json<{ version?: unknown }>(c, MAX_SMALL_JSON_BODY);
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
    const body = await json<Partial<NewRun>>(c, MAX_SMALL_JSON_BODY);
    if (typeof body.project !== 'string' || typeof body.jobType !== 'string') throw invalid('"project" and "jobType" are required strings.');
    for (const k of ['name', 'command'] as const) if (body[k] !== undefined && typeof body[k] !== 'string') throw invalid(`"${k}" must be a string.`);
    if (body.git !== undefined && (typeof body.git !== 'object' || body.git === null || typeof body.git.commit !== 'string')) throw invalid('"git" must be an object with a "commit".');
    check(c.who, validateProject(body.project), 'write');
    send(c, 201, await backend.meta.createRun(body as NewRun));
  });
  route(Routes.getRun, async (c) => {
    send(c, 200, await readableRun(c, param(c, 0)));
  });
  route(Routes.finishRun, async (c) => {
    const run = await readableRun(c, param(c, 0));
    check(c.who, run.project, 'write');
    const { status } = await json<{ status?: unknown }>(c, MAX_SMALL_JSON_BODY);
    if (status !== 'finished' && status !== 'failed') throw invalid('"status" must be "finished" or "failed".');
    await backend.meta.finishRun(run.id, status);
    send(c, 200, { id: run.id, status });
  });
  route(Routes.recordUse, async (c) => {
    const run = await readableRun(c, param(c, 0));
    check(c.who, run.project, 'write');
    const body = await json<{ project?: unknown; name?: unknown; version?: unknown }>(c, MAX_SMALL_JSON_BODY);
    if (typeof body.project !== 'string' || typeof body.name !== 'string' || !Number.isSafeInteger(body.version)) throw invalid('"project", "name" and "version" (a number) are required.');
    check(c.who, validateProject(body.project), 'read');
    await backend.meta.recordUse(run.id, { project: body.project, name: validateName(body.name), version: body.version as number });
    send(c, 200, { runId: run.id });
  });

  route(Routes.missingBlobs, async (c) => {
    const blobs = requireDigestList((await json<{ blobs?: unknown }>(c, MAX_JSON_BODY)).blobs);
    // "Missing" for this token's project: a blob that only other projects store is missing too.
    send(c, 200, { missing: await backend.blobs.plan(blobs, c.who.project) });
  });
  route(Routes.confirmBlobs, async (c) => {
    const blobs = requireDigestList((await json<{ blobs?: unknown }>(c, MAX_JSON_BODY)).blobs);
    send(c, 200, { missing: await backend.blobs.confirm(blobs, c.who.project) });
  });
  route(Routes.uploadPack, async (c) => {
    if (!isPackContentType(c.req.headers['content-type'])) throw new HttpError('invalid', `Send a pack as Content-Type: ${PACK_CONTENT_TYPE}.`, 415);
    // A pack is held in memory while it is checked: bound how many are, whoever sends them.
    const members = await buffered.run(clientOf(c), async () => {
      const m = await decodePack(c.body());
      await backend.blobs.receivePack(m, c.who.project);
      return m;
    });
    send(c, 201, { stored: members.length });
  });
  route(Routes.fetchBlobs, async (c) => {
    // Many small blobs in one answer (a download of a million files is not a million requests).
    // Scale-out servers hand out whole packs from the object store instead (GET /packs/{pack}).
    if (backend.mode !== 'embedded') throw new HttpError('not_found', 'This server does not send blobs in batches; fetch them with GET /blobs/{digest}.');
    const digests = (await json<{ blobs?: unknown }>(c, MAX_SMALL_JSON_BODY)).blobs;
    if (!Array.isArray(digests) || !digests.length || digests.length > MAX_FETCH_BLOBS || digests.some((d) => !isDigest(d))) {
      throw invalid(`"blobs" must be a list of 1 to ${MAX_FETCH_BLOBS} blob digests.`);
    }
    // Only blobs this token may read (API.md "Blobs and projects"), as GET /blobs/{digest}.
    const readable = await backend.scope.readable(c.who.project, digests as string[]);
    const unreadable = (digests as string[]).find((d) => !readable.has(d));
    if (unreadable) throw notFound(`Blob ${unreadable.slice(0, 12)} is not in the store.`);
    const parts: { digest: string; size: number; stream: Readable }[] = [];
    let total = 0;
    try {
      for (const digest of digests as string[]) {
        const source = await backend.blobs.open(digest);
        if ('redirect' in source) throw new HttpError('not_found', 'This server does not send blobs in batches; fetch them with GET /blobs/{digest}.');
        parts.push({ digest, size: source.size, stream: source.stream });
        total += source.size;
        if (source.size > MAX_FETCH_BLOB || total > MAX_FETCH_BYTES) {
          throw invalid(`A batch holds blobs of up to ${MAX_FETCH_BLOB >> 20} MiB and ${MAX_FETCH_BYTES >> 20} MiB in all; fetch larger ones with GET /blobs/{digest}.`);
        }
      }
    } catch (e) {
      for (const p of parts) p.stream.destroy();
      throw e;
    }
    const head = Buffer.from(JSON.stringify({ blobs: parts.map((p) => ({ digest: p.digest, size: p.size })) }) + '\n');
    c.res.setHeader('content-type', PACK_CONTENT_TYPE);
    c.res.setHeader('content-length', head.length + total);
    c.res.writeHead(200);
    c.res.write(head);
    for (const p of parts) {
      for await (const chunk of p.stream) if (!c.res.write(chunk)) await once(c.res, 'drain');
    }
    c.res.end();
  }, { reads: true });
  route(Routes.putBlob, async (c) => {
    const digest = digestParam(c);
    const length = c.req.headers['content-length'];
    if (length === undefined || !/^\d+$/.test(length)) throw new HttpError('invalid', 'A blob upload needs a Content-Length header.', 411);
    const blob = { digest, size: Number(length) };
    // A blob streamed to disk holds no memory; one buffered on its way to S3 takes a slot.
    if (backend.blobs.buffersUploads) await buffered.run(clientOf(c), () => backend.blobs.receive(blob, c.body(), c.who.project));
    else await backend.blobs.receive(blob, c.body(), c.who.project);
    send(c, 201, { digest, size: Number(length) });
  });
  route(Routes.getBlob, async (c) => {
    const digest = await readableDigest(c);
    const source = await backend.blobs.open(digest);
    if ('redirect' in source) {
      c.res.writeHead(302, { location: source.redirect, 'cache-control': 'no-store', 'content-length': 0 });
      c.res.end();
      return;
    }
    c.res.setHeader('content-type', 'application/octet-stream');
    c.res.setHeader('content-length', source.size);
    // Tells the client the blob sits in a pack it may fetch whole (GET /packs/{pack}).
    // Only when this token may read every blob in it: a pack may hold other projects' blobs.
    if (source.pack && packs && (await backend.packReadable(source.pack, c.who.project))) c.res.setHeader(PACK_HEADER, source.pack);
    c.res.writeHead(200);
    await pipeline(source.stream, c.res);
  });
  route(Routes.getPack, async (c) => {
    const pack = await readablePack(c);
    c.res.writeHead(302, { location: packs!.packUrl(pack), 'cache-control': 'no-store', 'content-length': 0 });
    c.res.end();
  });
  route(Routes.packIndex, async (c) => {
    const pack = await readablePack(c);
    send(c, 200, { pack, blobs: await packs!.packIndex(pack) });
  });
  route(Routes.verifyBlob, async (c) => {
    const digest = digestParam(c);
    const readable = (await backend.scope.readable(c.who.project, [digest])).has(digest);
    // A blob this token may not read verifies like one that is not stored.
    send(c, 200, { digest, ok: readable && (await backend.blobs.verify(digest)) });
  });
  route(Routes.gc, async (c) => {
    if (c.who.project !== '*' || c.who.scope !== 'write') {
      throw new HttpError('forbidden', 'Garbage collection needs a write token for every project (trove token create --project "*" --scope write).');
    }
    const { dryRun, minAgeSeconds } = await json<{ dryRun?: unknown; minAgeSeconds?: unknown }>(c, MAX_SMALL_JSON_BODY);
    if (minAgeSeconds !== undefined && !(Number.isSafeInteger(minAgeSeconds) && (minAgeSeconds as number) >= 0)) throw invalid('"minAgeSeconds" must be a whole number of seconds.');
    send(c, 200, await backend.gc(dryRun === true, minAgeSeconds === undefined ? {} : { minAgeSeconds: minAgeSeconds as number }));
  });
  route(Routes.changes, async (c) => send(c, 200, { token: await backend.meta.changeToken() }));

  // ---- what a token may read (API.md "Blobs and projects"; the W&B door calls these too) ----

  /** The digest of the path, when this token may read that blob; otherwise the answer for a blob that is not stored. */
  async function readableDigest(c: Call): Promise<string> {
    const digest = digestParam(c);
    if (!(await backend.scope.readable(c.who.project, [digest])).has(digest)) throw notFound(`Blob ${digest.slice(0, 12)} is not in the store.`);
    return digest;
  }

  async function readablePack(c: Call): Promise<string> {
    const pack = packParam(c);
    await packs!.packIndex(pack); // 404 for an unknown pack
    if (!(await backend.packReadable(pack, c.who.project))) throw notFound(`Pack ${pack.slice(0, 12)} is not in the store.`);
    return pack;
  }

  /** Exactly what the backend answers for a run that does not exist. */
  function noSuchRun(id: string): TroveError {
    return runNotFound(id, backend.meta.location);
  }

  /** A run this token may read; another project's run is answered exactly like a run that does not exist. */
  async function readableRun(c: Call, id: string): Promise<RunRecord> {
    const run = await backend.meta.getRun(id);
    if (c.who.project !== EVERY_PROJECT && run.project !== c.who.project) throw noSuchRun(id);
    return run;
  }

  /** Whether each run id belongs to a project this token may read. */
  async function runsReadable(c: Call, ids: string[]): Promise<Set<string>> {
    if (c.who.project === EVERY_PROJECT) return new Set(ids);
    const out = new Set<string>();
    await Promise.all([...new Set(ids)].map(async (id) => {
      const run = await backend.meta.getRun(id).catch(() => undefined);
      if (run?.project === c.who.project) out.add(id);
    }));
    return out;
  }

  /** A version's createdBy and usedBy, without other projects' runs. */
  async function visibleRuns(c: Call, v: VersionDetail): Promise<VersionDetail> {
    const ok = await runsReadable(c, [...(v.createdBy ? [v.createdBy.runId] : []), ...v.usedBy.map((u) => u.runId)]);
    const { createdBy, ...rest } = v;
    return { ...rest, ...(createdBy && ok.has(createdBy.runId) ? { createdBy } : {}), usedBy: v.usedBy.filter((u) => ok.has(u.runId)) };
  }

  /** A lineage graph without other projects' runs and versions (and the edges to them). */
  async function visibleLineage(c: Call, g: LineageGraph): Promise<LineageGraph> {
    if (c.who.project === EVERY_PROJECT) return g;
    const ok = await runsReadable(c, g.nodes.filter((n) => n.kind === 'run' && n.runId).map((n) => n.runId!));
    const nodes = g.nodes.filter((n) => (n.kind === 'run' ? ok.has(n.runId ?? '') : n.project === c.who.project));
    const ids = new Set(nodes.map((n) => n.id));
    return { nodes, edges: g.edges.filter((e) => ids.has(e.from) && ids.has(e.to)) };
  }

  /** A version may name as its creator only a run of its own project (another project's run is, to this token, no run at all). */
  async function checkRun(c: Call, project: string, runId: string | undefined): Promise<void> {
    if (!runId) return;
    const run = await readableRun(c, runId);
    if (run.project !== project) throw noSuchRun(runId);
  }

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
    let failedStatus: number | undefined;
    // 'close' comes after 'finish', and also when a connection is cut off (a stalled body).
    res.on('close', () => {
      const cut = !res.writableFinished;
      opts.log({
        time: new Date().toISOString(), method: req.method, path: (req.url ?? '').split('?')[0], status: cut ? failedStatus ?? 0 : res.statusCode, ...(cut ? { aborted: true } : {}),
        ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
        bytesIn: Number(req.headers['content-length'] ?? 0), bytesOut: Number(res.getHeader('content-length') ?? 0), token: who?.tokenId ?? null,
        remote: req.socket.remoteAddress, ...(failure ? { error: failure } : {}),
      });
    });
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://server');
      if (opts.wandb?.handles(url.pathname)) return opts.wandb.handle(req, res, url);
      try {
        if (!opts.requireAuth) checkUnauthenticatedRequest(req.method ?? 'GET', req.headers);
        const matched = routes.filter(([, re]) => re.test(url.pathname));
        if (!matched.length) throw new HttpError('not_found', `No API route ${url.pathname}; see API.md for the routes of ${API_PREFIX}.`);
        const hit = matched.find(([method]) => method === req.method);
        if (!hit) throw new HttpError('invalid', `${req.method} is not allowed on ${url.pathname}.`, 405);
        who = hit[3].public ? { tokenId: null, project: '', scope: 'read' } : await authenticate(req);
        // Every route but GET writes: a read-only token is refused before a byte of its body is read.
        if (req.method !== 'GET' && !hit[3].reads) requireWriter(who);
        const params = hit[1].exec(url.pathname)!.slice(1).map((p) => {
          try {
            return decodeURIComponent(p);
          } catch {
            throw invalid(`Bad percent-encoding in ${url.pathname}.`);
          }
        });
        await hit[2]({ req, res, url, params, who, body: () => bodyOf(req, idleMs) });
      } catch (e) {
        const status = (e instanceof HttpError || e instanceof GuardError ? e.status : e instanceof TroveError ? ERROR_STATUS[e.code] : undefined) ?? 500;
        const code: TroveErrorCode | 'internal' = e instanceof TroveError ? e.code : 'internal';
        const message = e instanceof TroveError ? e.message : 'The server hit an internal error; its log has the detail.';
        failure = e instanceof Error ? e.message : String(e);
        failedStatus = status;
        // A body cut off for idling closed the connection: nobody to answer.
        if (res.headersSent || res.destroyed || req.socket.destroyed) {
          res.destroy();
          return;
        }
        // An upload refused before its body was read: drain nothing, close the connection after answering.
        if (!req.readableEnded) res.setHeader('connection', 'close');
        const body: ErrorBody = { error: { code, message } };
        sendJson(res, status, body);
      }
    })();
  };
}

function send(c: Call, status: number, body: unknown): void {
  sendJson(c.res, status, body);
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

async function json<T>(c: Call, limit: number): Promise<T> {
  const type = c.req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) throw new HttpError('invalid', 'Send the request body as JSON (Content-Type: application/json).', 415);
  const tooLarge = () => new HttpError('invalid', `The request body is larger than the ${limit >> 20} MiB this route takes.`, 413);
  // Refused before reading when the client announces the size.
  if (Number(c.req.headers['content-length'] ?? 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of c.body()) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
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

/** The fields of a commit besides its manifest, checked. */
function checkCommitFields(value: unknown): Omit<Partial<CommitRequest>, 'type'> & { type: string } {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalid('The commit must be a JSON object.');
  const body = value as Partial<CommitRequest>;
  if (typeof body.type !== 'string') throw invalid('"type" is required (a word such as dataset or model).');
  if (body.aliases !== undefined && (!Array.isArray(body.aliases) || body.aliases.some((a) => typeof a !== 'string'))) throw invalid('"aliases" must be an array of strings.');
  if (body.description !== undefined && typeof body.description !== 'string') throw invalid('"description" must be a string.');
  if (body.metadata !== undefined && (typeof body.metadata !== 'object' || body.metadata === null || Array.isArray(body.metadata))) throw invalid('"metadata" must be a JSON object.');
  if (body.runId !== undefined && typeof body.runId !== 'string') throw invalid('"runId" must be a string.');
  return body as Omit<Partial<CommitRequest>, 'type'> & { type: string };
}

/** The JSON values of an `application/x-ndjson` body, one per line, read as the bytes arrive. */
async function* ndjsonLines(c: Call): AsyncGenerator<unknown> {
  let n = 0;
  for await (const { line } of linesOf(c.body())) {
    n++;
    if (line.length > MAX_MANIFEST_LINE) throw new HttpError('invalid', `Line ${n} of the body is longer than ${MAX_MANIFEST_LINE} bytes.`, 413);
    if (!line.trim()) continue;
    try {
      yield JSON.parse(line);
    } catch {
      throw invalid(`Line ${n} of the body is not valid JSON.`);
    }
  }
}

/** A VersionDetail with its whole manifest, written as JSON a page of the manifest at a time. */
async function sendStreamed(c: Call, detail: VersionDetail, meta: ServerBackend['meta']): Promise<void> {
  const { manifest: _omitted, ...rest } = detail;
  const res = c.res;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.writeHead(200);
  const write = async (text: string) => {
    if (!res.write(text)) await once(res, 'drain');
  };
  await write(JSON.stringify(rest).slice(0, -1) + ',"manifest":{');
  let cursor: string | null = null;
  let first = true;
  do {
    const page: ManifestPage = await meta.manifestPage({ project: detail.project, name: detail.name, version: detail.version }, cursor, MAX_PAGE);
    let text = '';
    for (const { path, ...entry } of page.items) {
      text += `${first ? '' : ','}${JSON.stringify(path)}:${JSON.stringify(entry)}`;
      first = false;
    }
    await write(text);
    cursor = page.nextCursor;
  } while (cursor);
  res.end('}}');
}

function param(c: Call, i: number): string {
  return c.params[i];
}

function name(c: Call, i: number): string {
  return validateName(c.params[i]);
}

function digestParam(c: Call): string {
  const d = c.params[0];
  if (!isDigest(d)) throw invalid(`"${String(d).slice(0, 80)}" is not a blob digest (64 lowercase hex characters).`);
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
  if (who.scope !== 'write') throw new HttpError('forbidden', 'This token is read-only; writing (uploads, versions, aliases, runs) needs a token created with --scope write.');
}

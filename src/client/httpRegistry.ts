import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RequestInit, Response } from 'node-fetch';
import { integrity, invalid, TroveError, type TroveErrorCode } from '../core/errors';
import { forEachLimit, hashFile } from '../core/hash';
import { formatRef, type ArtifactRef } from '../core/names';
import { isDigest, withoutPrototype } from '../core/manifest';
import { PackCache } from '../core/packCache';
import type { Registry } from '../core/registry';
import { DEFAULT_PROTECTED_ALIASES } from '../core/versionRules';
import type {
  ArtifactSummary, ChangeListener, CommitRequest, CommitResult, DeleteOptions, DeleteResult, GcOptions, GcResult, LineageGraph, LineageOptions, LocalFile,
  ManifestFile, ManifestPage, NewRun, ProjectSummary, RestoreResult, RunRecord, RunStatus, StoredFile, StreamCommitRequest, TransferOptions, VersionDetail,
  VersionKey, VersionSummary,
} from '../core/types';
import {
  bearer, encodePack, MANIFEST_STREAM_CONTENT_TYPE, MAX_PAGE, PACK_CONTENT_TYPE, PACK_HEADER, PACK_MAX_BLOBS, PACK_MAX_BYTES, parseErrorBody, PROTECTED_PARAM,
  routePath, Routes,
  type Page, type Route, type UploadTarget,
} from '../server/protocol';

export interface HttpRegistryOptions {
  /** Base URL of `trove serve`, e.g. http://127.0.0.1:8470 */
  url: string;
  /** Bearer token (TROVE_TOKEN). */
  token?: string;
  /** Blob transfers in flight at once (default 16). */
  concurrency?: number;
  /** Per-request timeout for API calls in ms (default 60 s); blob transfers get more time per byte. */
  timeoutMs?: number;
  /** Retries after a network error or a 5xx answer (default 4), with exponential backoff. */
  retries?: number;
  /** How often `onDidChange` asks the server whether something changed (default 2 s). */
  pollMs?: number;
}


interface CallOptions {
  /** What the call does, for error messages ("listing projects"). */
  what: string;
  body?: unknown;
  signal?: AbortSignal;
  /** Safe to send twice. Non-idempotent calls are retried only when the connection was refused. */
  idempotent?: boolean;
}

/** A streamed commit lasts as long as the log that feeds it (hashing and uploading a million files). */
const STREAM_TIMEOUT_MS = 24 * 60 * 60 * 1000;
const STREAM_KEEPALIVE_MS = 5000;
/** Downloads of small blobs go in batches of up to this many blobs and bytes (the server allows 5000 and 16 MiB). */
const FETCH_BATCH_BLOBS = 2000;
const FETCH_BATCH_BYTES = 8 << 20;
const FETCH_BLOB_MAX = 1 << 20;
/** Small files are uploaded from memory; anything larger is streamed from disk. */
const BUFFER_LIMIT = 256 << 10;
const BUFFER_BUDGET = 256 << 20;
const MISSING_CHUNK = 20_000;
/** Small files go to the server in packs of about half what the server accepts, so a pack never reaches its limits. */
const PACK_TARGET_BYTES = PACK_MAX_BYTES / 2;
const PACK_TARGET_BLOBS = PACK_MAX_BLOBS / 2;
/** Whole packs kept in memory for downloads. */
const PACK_CACHE_BYTES = 256 << 20;
/**
 * Pack members whose place the client remembers (about 200 bytes each): past this, the indexes
 * learnt first are forgotten, so that a download of a million packed files (or a long-lived
 * client's many downloads) does not keep a map entry per file. Downloads go in path order, the
 * order packs were written in, so the packs forgotten are those already served.
 */
export const PACK_INDEX_ENTRIES_MAX = 200_000;
const CONFIRM_BATCH = 1000;

/** node-fetch, loaded on the first request: a CLI run on the embedded store never pays for it. */
let fetchModule: Promise<typeof import('node-fetch')> | undefined;
const loadFetch = async () => (await (fetchModule ??= import('node-fetch'))).default;

/**
 * The Registry over HTTP: talks to `trove serve` with node-fetch (which goes through Node's
 * http module, so VS Code's proxy support applies). Keep-alive connections, bounded parallel
 * blob transfers, retries with backoff, timeouts, cancellation through AbortSignal, and errors
 * that name the server and the step that failed. The upload protocol is in src/server/API.md.
 */
export class HttpRegistry implements Registry {
  readonly location: string;
  readonly baseUrl: string;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly listeners = new Set<ChangeListener>();
  private poll?: NodeJS.Timeout;
  private lastChange?: string;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly pollMs: number;

  constructor(private readonly options: HttpRegistryOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw invalid(`"${options.url}" is not a server URL; write it like http://127.0.0.1:8470.`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalid(`The server URL must start with http:// or https://, not "${options.url}".`);
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.location = `server ${this.baseUrl}`;
    this.packData = new PackCache(PACK_CACHE_BYTES, this.baseUrl);
    this.concurrency = options.concurrency ?? 16;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.retries = options.retries ?? 4;
    this.pollMs = options.pollMs ?? 2000;
    const agentOptions = { keepAlive: true, maxSockets: Math.max(this.concurrency, 8) * 2, keepAliveMsecs: 10_000 };
    this.agent = parsed.protocol === 'https:' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  }

  // ---- transport ----------------------------------------------------------------------------

  private agentFor = (url: URL) => (url.protocol === 'https:' ? (this.agent instanceof HttpsAgent ? this.agent : undefined) : (this.agent instanceof HttpAgent ? this.agent : undefined));

  /** One HTTP exchange with retries; `send` builds a fresh request each attempt. */
  private async exchange(what: string, target: string, init: () => RequestInit, opts: { signal?: AbortSignal; idempotent: boolean; timeoutMs: number }): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      if (opts.signal?.aborted) throw new TroveError('cancelled', 'Cancelled.');
      const timeout = AbortSignal.timeout(opts.timeoutMs);
      // Many transfers share one caller signal (one per file in flight): that is expected.
      if (opts.signal) setMaxListeners(0, opts.signal);
      const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
      let res: Response;
      const request = init();
      try {
        res = await (await loadFetch())(target, { ...request, agent: this.agentFor, signal: signal as never });
      } catch (e) {
        // A streamed body (a file) is reopened by the next attempt; close this one now.
        (request.body as { destroy?: () => void } | undefined)?.destroy?.();
        if (opts.signal?.aborted) throw new TroveError('cancelled', 'Cancelled.');
        const err = e as { code?: string; name?: string; message?: string; erroredSysCall?: string };
        const timedOut = timeout.aborted;
        const code = err.code ?? (timedOut ? 'timeout' : err.name);
        const retryable = timedOut ? opts.idempotent : opts.idempotent ? true : code === 'ECONNREFUSED';
        if (retryable && attempt < this.retries) {
          await this.backoff(attempt, opts.signal);
          continue;
        }
        const seconds = opts.timeoutMs < 10_000 ? (opts.timeoutMs / 1000).toFixed(1) : String(Math.round(opts.timeoutMs / 1000));
        if (!target.startsWith(this.baseUrl)) {
          // A presigned object-store URL the server handed out.
          const host = new URL(target).host;
          if (timedOut) throw new TroveError('unavailable', `The object store ${host} (named by ${this.baseUrl}) did not answer within ${seconds} s while ${what}; try again later.`);
          throw new TroveError('unavailable', `Cannot reach the object store ${host} (named by ${this.baseUrl}) while ${what} (${code ?? err.message}); the server's S3 endpoint must be reachable from this machine.`);
        }
        if (timedOut) throw new TroveError('unavailable', `Server ${this.baseUrl} did not answer within ${seconds} s while ${what}; try again later.`);
        throw new TroveError('unavailable', `Cannot reach server ${this.baseUrl} while ${what} (${code ?? err.message}); check --server / TROVE_SERVER and that \`trove serve\` is running.`);
      }
      if (res.status >= 500 && res.status !== 501 && opts.idempotent && attempt < this.retries) {
        await res.arrayBuffer().catch(() => undefined);
        await this.backoff(attempt, opts.signal);
        continue;
      }
      return res;
    }
  }

  private async backoff(attempt: number, signal?: AbortSignal): Promise<void> {
    const ms = Math.min(5000, 200 * 2 ** attempt) * (0.5 + Math.random());
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(t);
        reject(new TroveError('cancelled', 'Cancelled.'));
      };
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private headers(json: boolean): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json' };
    if (json) h['content-type'] = 'application/json';
    if (this.options.token) h.authorization = bearer(this.options.token);
    return h;
  }

  /** Turns an error answer into a TroveError that says what failed and where. */
  private async failure(res: Response, what: string): Promise<TroveError> {
    const text = await res.text().catch(() => '');
    let code: TroveErrorCode = 'unavailable';
    let message = '';
    const body = parseErrorBody(text);
    if (body) {
      message = body.message;
      if (body.code && body.code !== 'internal') code = body.code;
    } else {
      message = text.slice(0, 200).trim();
    }
    if (res.status === 401) return new TroveError('unauthorized', `Server ${this.baseUrl} refused the request while ${what} (401): ${message || 'a valid token is required'}`);
    if (res.status === 403) return new TroveError('forbidden', `Server ${this.baseUrl} refused the request while ${what} (403): ${message || 'the token does not allow this'}`);
    if (res.status >= 500 || !message) return new TroveError(code, `Server ${this.baseUrl} failed while ${what}: HTTP ${res.status}${message ? `, ${message}` : ''}`);
    return new TroveError(code, message);
  }

  /** One API call: the route with its path parameters (and an optional query string). */
  private async call<T>(route: Route, params: Record<string, string | number>, opts: CallOptions & { query?: string }): Promise<T> {
    const method = route.method;
    const res = await this.exchange(opts.what, `${this.baseUrl}${routePath(route, params)}${opts.query ?? ''}`, () => ({
      method, headers: this.headers(opts.body !== undefined), ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    }), { signal: opts.signal, idempotent: opts.idempotent ?? method === 'GET', timeoutMs: this.timeoutMs });
    if (!res.ok) throw await this.failure(res, opts.what);
    return (await res.json()) as T;
  }

  private async list<T>(route: Route, params: Record<string, string>, what: string): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<T> = await this.call(route, params, { what, query: `?limit=${MAX_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}` });
      for (const item of page.items) out.push(item); // a spread would put up to 5,000 arguments on the stack
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  // ---- reading ------------------------------------------------------------------------------

  listProjects(): Promise<ProjectSummary[]> {
    return this.list(Routes.listProjects, {}, 'listing projects');
  }

  listArtifacts(project: string): Promise<ArtifactSummary[]> {
    return this.list(Routes.listArtifacts, { project }, `listing the artifacts of ${project}`);
  }

  listVersions(project: string, name: string): Promise<VersionSummary[]> {
    return this.list(Routes.listVersions, { project, name }, `listing the versions of ${project}/${name}`);
  }

  async getVersion(ref: ArtifactRef, options: { manifest?: boolean } = {}): Promise<VersionDetail> {
    const v = await this.call<VersionDetail>(Routes.getVersion, { project: ref.project, name: ref.name, alias: ref.alias }, {
      what: `reading ${formatRef(ref.project, ref.name, ref.alias)}`, query: options.manifest === false ? '?manifest=false' : undefined,
    });
    return { ...v, manifest: withoutPrototype(v.manifest) };
  }

  manifestPage(key: VersionKey, cursor: string | null, limit = MAX_PAGE): Promise<ManifestPage> {
    return this.call(Routes.manifestPage, { project: key.project, name: key.name, alias: `v${key.version}` }, {
      what: `reading the files of ${formatRef(key.project, key.name, key.version)}`, query: `?limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
    });
  }

  // ---- runs ---------------------------------------------------------------------------------

  createRun(run: NewRun): Promise<RunRecord> {
    return this.call(Routes.createRun, {}, { what: 'starting a run', body: run, idempotent: false });
  }

  getRun(id: string): Promise<RunRecord> {
    return this.call(Routes.getRun, { runId: id }, { what: `reading run ${id}` });
  }

  async finishRun(id: string, status: Exclude<RunStatus, 'running'>): Promise<void> {
    await this.call(Routes.finishRun, { runId: id }, { what: `finishing run ${id}`, body: { status }, idempotent: true });
    this.changed();
  }

  async recordUse(runId: string, version: VersionKey): Promise<void> {
    await this.call(Routes.recordUse, { runId }, { what: `recording that run ${runId} used ${formatRef(version.project, version.name, version.version)}`, body: version, idempotent: true });
    this.changed();
  }

  // ---- blobs --------------------------------------------------------------------------------

  /**
   * Hashes files without a digest, asks the server which blobs it lacks, uploads only those
   * (in parallel, streamed, retried) to the URLs it names, and confirms each batch so that an
   * interrupted log resumes without sending confirmed blobs again.
   */
  async storeFiles(files: LocalFile[], options: TransferOptions = {}): Promise<StoredFile[]> {
    const { signal, progress } = options;
    const totalBytes = files.reduce((s, f) => s + f.size, 0);
    progress?.report({ totalFiles: files.length, totalBytes, phase: 'hashing' });
    const digests: string[] = files.map((f) => f.digest ?? '');
    const buffers = new Map<number, Buffer>();
    let budget = BUFFER_BUDGET;
    let hashedBytes = 0;
    // Small files: synchronous reads in short batches (one async fs call costs more than reading
    // a small file), yielding between batches so cancellation and progress stay responsive.
    const large: number[] = [];
    for (let i = 0; i < files.length; i++) {
      const f = files[i];
      if (digests[i]) continue;
      if (f.size > BUFFER_LIMIT) {
        large.push(i);
        continue;
      }
      const data = readFileSync(f.absPath);
      digests[i] = createHash('sha256').update(data).digest('hex');
      if (budget >= data.length) {
        budget -= data.length;
        buffers.set(i, data);
      }
      progress?.report({ bytes: (hashedBytes += data.length) });
      if (i % 256 === 255) {
        if (signal?.aborted) throw new TroveError('cancelled', 'Cancelled.');
        await new Promise((r) => setImmediate(r));
      }
    }
    await forEachLimit(large, 4, async (i) => {
      digests[i] = (await hashFile(files[i].absPath, signal, (n) => progress?.report({ bytes: (hashedBytes += n) }))).digest;
    }, signal);

    const firstIndex = new Map<string, number>();
    digests.forEach((d, i) => {
      if (!firstIndex.has(d)) firstIndex.set(d, i);
    });
    const unique = [...firstIndex].map(([digest, i]) => ({ digest, size: files[i].size }));
    const targets: UploadTarget[] = [];
    for (let i = 0; i < unique.length; i += MISSING_CHUNK) {
      const r = await this.call<{ missing: UploadTarget[] }>(Routes.missingBlobs, {}, {
        what: 'asking which files the server lacks', body: { blobs: unique.slice(i, i + MISSING_CHUNK) }, signal, idempotent: true,
      });
      for (const t of r.missing) targets.push(t); // up to 100,000: too many to spread as arguments
    }
    const uploaded = new Set<string>();
    const sizeOf = (t: UploadTarget) => files[firstIndex.get(t.digest)!].size;
    const missingBytes = targets.reduce((s, t) => s + sizeOf(t), 0);
    progress?.report({ phase: 'uploading', totalBytes: missingBytes, bytes: 0, files: 0, totalFiles: targets.length });
    let sentBytes = 0;
    let sentFiles = 0;

    // Small files: packs of many blobs, each one request, which the server verifies and stores whole.
    const packs: UploadTarget[][] = [];
    let current: UploadTarget[] = [];
    let currentBytes = 0;
    for (const t of targets.filter((x) => x.via === 'pack')) {
      if (current.length && (currentBytes + sizeOf(t) > PACK_TARGET_BYTES || current.length >= PACK_TARGET_BLOBS)) {
        packs.push(current);
        current = [];
        currentBytes = 0;
      }
      current.push(t);
      currentBytes += sizeOf(t);
    }
    if (current.length) packs.push(current);
    await forEachLimit(packs, 4, async (pack) => {
      await this.uploadPack(pack[0].url, pack.map((t) => {
        const i = firstIndex.get(t.digest)!;
        return { file: files[i], digest: t.digest, buffer: buffers.get(i) };
      }), signal);
      for (const t of pack) {
        buffers.delete(firstIndex.get(t.digest)!);
        uploaded.add(t.digest);
      }
      progress?.report({ files: (sentFiles += pack.length), bytes: (sentBytes += pack.reduce((s, t) => s + sizeOf(t), 0)) });
    }, signal);

    // Larger files: one streamed PUT each (presigned object-store URL or the server), confirmed in batches.
    const singles = targets.filter((x) => x.via !== 'pack');
    for (let b = 0; b < singles.length; b += CONFIRM_BATCH) {
      const batch = singles.slice(b, b + CONFIRM_BATCH);
      await forEachLimit(batch, this.concurrency, async (t) => {
        const i = firstIndex.get(t.digest)!;
        await this.upload(t, files[i], buffers.get(i), signal);
        buffers.delete(i);
        progress?.report({ files: ++sentFiles, bytes: (sentBytes += files[i].size) });
      }, signal);
      const blobs = batch.map((t) => ({ digest: t.digest, size: sizeOf(t) }));
      const r = await this.call<{ missing: string[] }>(Routes.confirmBlobs, {}, { what: 'confirming uploaded files', body: { blobs }, signal, idempotent: true });
      if (r.missing.length) {
        const path = files[firstIndex.get(r.missing[0])!].path;
        throw integrity(`Server ${this.baseUrl} did not receive ${r.missing.length} uploaded file(s) (first: ${path}); log again to resume.`);
      }
      batch.forEach((t) => uploaded.add(t.digest));
    }
    return files.map((f, i) => ({ path: f.path, digest: digests[i], size: f.size, stored: uploaded.has(digests[i]) && firstIndex.get(digests[i]) === i }));
  }

  /** One pack: a JSON line listing the blobs, then their bytes back to back. */
  private async uploadPack(url: string, members: { file: LocalFile; digest: string; buffer?: Buffer }[], signal?: AbortSignal): Promise<void> {
    const datas = await Promise.all(members.map((m) => m.buffer ?? readFile(m.file.absPath, { signal })));
    const body = encodePack(members.map((m, k) => ({ digest: m.digest, size: m.file.size, data: datas[k] })));
    const what = `uploading ${members.length} small files (first: ${members[0].file.path})`;
    const res = await this.exchange(what, new URL(url, this.baseUrl + '/').toString(), () => ({
      method: Routes.uploadPack.method, body, headers: { 'content-type': PACK_CONTENT_TYPE, 'content-length': String(body.length), ...(this.options.token ? { authorization: bearer(this.options.token) } : {}) },
    }), { signal, idempotent: true, timeoutMs: this.timeoutMs });
    if (res.ok) {
      await res.arrayBuffer().catch(() => undefined);
      return;
    }
    if (res.status === 422) {
      const bad = members.find((m, k) => m.file.size !== datas[k].length || createHash('sha256').update(datas[k]).digest('hex') !== m.digest);
      await res.arrayBuffer().catch(() => undefined);
      throw integrity(`${bad?.file.path ?? members[0].file.path} changed while it was being logged (its content no longer matches its digest); log again.`);
    }
    throw await this.failure(res, what);
  }

  private async upload(t: UploadTarget, file: LocalFile, buffer: Buffer | undefined, signal?: AbortSignal): Promise<void> {
    const target = new URL(t.url, this.baseUrl + '/').toString();
    const what = `uploading ${file.path}`;
    const res = await this.exchange(what, target, () => ({
      method: t.method,
      headers: { ...t.headers, 'content-length': String(file.size), 'content-type': 'application/octet-stream', ...(t.auth && this.options.token ? { authorization: bearer(this.options.token) } : {}) },
      body: buffer ?? (file.size === 0 ? Buffer.alloc(0) : createReadStream(file.absPath, { highWaterMark: 1 << 20 })),
    }), { signal, idempotent: true, timeoutMs: Math.round(this.timeoutMs + file.size / 1000) });
    if (res.ok) {
      await res.arrayBuffer().catch(() => undefined);
      return;
    }
    const text = await res.text().catch(() => '');
    if (res.status === 422 || (res.status === 400 && /XAmzContentSHA256Mismatch|BadDigest/.test(text))) {
      throw integrity(`${file.path} changed while it was being logged (its content no longer matches its digest); log again.`);
    }
    if (t.auth) {
      let message = text.slice(0, 200);
      try {
        message = (JSON.parse(text) as { error: { message: string } }).error.message;
      } catch {
        // not JSON: keep the text
      }
      throw new TroveError(res.status === 401 ? 'unauthorized' : res.status === 403 ? 'forbidden' : 'unavailable', `Server ${this.baseUrl} refused the upload of ${file.path} (HTTP ${res.status}): ${message}`);
    }
    const s3code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    throw new TroveError('unavailable', `The object store ${new URL(target).host} refused the upload of ${file.path}: HTTP ${res.status}${s3code ? ` ${s3code}` : ''}.`);
  }

  /** Where blobs sit inside packs that this client may fetch whole, learnt from the server. */
  private readonly packOf = new Map<string, { pack: string; offset: number; size: number }>();
  private readonly packIndexes = new Map<string, Promise<void>>();
  /** Whole packs fetched recently, at most PACK_CACHE_BYTES. */
  private readonly packData: PackCache;

  /** The packs whose members are in packOf, learnt first first, with those members' digests. */
  private readonly learnt = new Map<string, string[]>();
  private learntEntries = 0;

  private learnPack(pack: string): void {
    if (this.packIndexes.has(pack)) return;
    const loading = this.call<{ blobs: { digest: string; offset: number; size: number }[] }>(Routes.packIndex, { pack }, { what: `reading the index of pack ${pack.slice(0, 12)}` })
      .then((r) => {
        const digests: string[] = [];
        for (const b of r.blobs) {
          this.packOf.set(b.digest, { pack, offset: b.offset, size: b.size });
          digests.push(b.digest);
        }
        this.learnt.set(pack, digests);
        this.learntEntries += digests.length;
        for (const [old, members] of this.learnt) {
          if (this.learntEntries <= PACK_INDEX_ENTRIES_MAX || old === pack) break;
          for (const d of members) if (this.packOf.get(d)?.pack === old) this.packOf.delete(d);
          this.learnt.delete(old);
          this.packIndexes.delete(old); // learnt again if one of its blobs is asked for later
          this.learntEntries -= members.length;
        }
      });
    // Knowing a pack only saves requests: if its index cannot be read, blobs come one by one.
    loading.catch(() => undefined);
    this.packIndexes.set(pack, loading);
  }

  private packBytes(pack: string, signal?: AbortSignal): Promise<Buffer> {
    const what = `downloading pack ${pack.slice(0, 12)}`;
    return this.packData.get(pack, async () => {
      const res0 = await this.exchange(what, `${this.baseUrl}${routePath(Routes.getPack, { pack })}`, () => ({ method: Routes.getPack.method, headers: this.headers(false), redirect: 'manual' }),
        { signal, idempotent: true, timeoutMs: this.timeoutMs });
      await res0.arrayBuffer().catch(() => undefined);
      const location = res0.headers.get('location');
      if (res0.status !== 302 || !location) throw new TroveError('unavailable', `Server ${this.baseUrl} did not hand out pack ${pack.slice(0, 12)} (HTTP ${res0.status}).`);
      const res = await this.exchange(what, new URL(location, this.baseUrl).toString(), () => ({ method: 'GET' }), { signal, idempotent: true, timeoutMs: this.timeoutMs });
      if (!res.ok) throw new TroveError('unavailable', `The object store refused ${what}: HTTP ${res.status}.`);
      return Buffer.from(await res.arrayBuffer());
    });
  }

  /** Whether the server sends small blobs in batches (POST /blobs/fetch); learnt on the first try. */
  private batchFetch = true;

  /**
   * Many blobs into new files: small ones in batches of one request each (embedded servers), each
   * checked against its SHA-256; large ones, and everything when the server does not batch, one
   * by one as fetchBlob does.
   */
  async fetchBlobs(items: { digest: string; size: number; destPath: string }[], options: TransferOptions & { link?: 'copy' | 'hardlink'; onDone?: (files: number, bytes: number) => void } = {}): Promise<void> {
    if (options.link === 'hardlink') throw invalid(`Hard links need the embedded store; files from ${this.location} are always copied (drop --link hardlink).`);
    const single: typeof items = [];
    const groups: (typeof items)[] = [];
    let group: typeof items = [];
    let bytes = 0;
    for (const item of items) {
      if (item.size > FETCH_BLOB_MAX || !this.batchFetch) {
        single.push(item);
        continue;
      }
      if (group.length >= FETCH_BATCH_BLOBS || bytes + item.size > FETCH_BATCH_BYTES) {
        groups.push(group);
        group = [];
        bytes = 0;
      }
      group.push(item);
      bytes += item.size;
    }
    if (group.length) groups.push(group);
    await forEachLimit(groups, 4, async (batch) => {
      if (!this.batchFetch || !(await this.fetchBatch(batch, options))) {
        await forEachLimit(batch, 4, async (item) => {
          await this.fetchBlob(item.digest, item.destPath, options);
          options.onDone?.(1, item.size);
        }, options.signal);
      }
    }, options.signal);
    await forEachLimit(single, this.concurrency, async (item) => {
      await this.fetchBlob(item.digest, item.destPath, options);
      options.onDone?.(1, item.size);
    }, options.signal);
  }

  /** One POST /blobs/fetch; false when the server does not offer it. */
  private async fetchBatch(batch: { digest: string; size: number; destPath: string }[], options: TransferOptions & { onDone?: (files: number, bytes: number) => void }): Promise<boolean> {
    const what = `downloading ${batch.length} files`;
    const res = await this.exchange(what, `${this.baseUrl}${routePath(Routes.fetchBlobs)}`, () => ({
      method: Routes.fetchBlobs.method, headers: this.headers(true), body: JSON.stringify({ blobs: batch.map((b) => b.digest) }),
    }), { signal: options.signal, idempotent: true, timeoutMs: this.timeoutMs });
    if (res.status === 404 || res.status === 405) {
      await res.arrayBuffer().catch(() => undefined);
      this.batchFetch = false;
      return false;
    }
    if (!res.ok) throw await this.failure(res, what);
    let body: Buffer;
    try {
      body = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      if (options.signal?.aborted) throw new TroveError('cancelled', 'Cancelled.');
      throw new TroveError('unavailable', `Server ${this.baseUrl}: ${what} broke off (${(e as Error).message}).`);
    }
    const nl = body.indexOf(10);
    let index: { blobs: { digest: string; size: number }[] };
    try {
      index = JSON.parse(body.toString('utf8', 0, nl)) as typeof index;
    } catch {
      throw new TroveError('unavailable', `Server ${this.baseUrl} sent a damaged answer while ${what}.`);
    }
    let offset = nl + 1;
    for (let i = 0; i < batch.length; i++) {
      const want = batch[i];
      const got = index.blobs[i];
      const data = body.subarray(offset, offset + (got?.size ?? 0));
      offset += got?.size ?? 0;
      if (!got || got.digest !== want.digest || data.length !== want.size || createHash('sha256').update(data).digest('hex') !== want.digest) {
        throw integrity(`Blob ${want.digest.slice(0, 12)} from ${this.location} does not match its digest; the server's store is damaged (run \`trove verify\` there).`);
      }
      writeFileSync(want.destPath, data, { flag: 'wx' }); // one async call per small file costs more than the write
      options.onDone?.(1, want.size);
      if (i % 256 === 255) await new Promise((r) => setImmediate(r));
    }
    return true;
  }

  /** Streams a blob to `destPath` (which must not exist) and checks its SHA-256. */
  async fetchBlob(digest: string, destPath: string, options: TransferOptions & { link?: 'copy' | 'hardlink' } = {}): Promise<void> {
    if (options.link === 'hardlink') throw invalid(`Hard links need the embedded store; files from ${this.location} are always copied (drop --link hardlink).`);
    const packed = this.packOf.get(digest);
    if (packed) {
      // A small blob from a pack fetched whole: one object-store GET serves thousands of files.
      const data = await this.packBytes(packed.pack, options.signal).catch(() => undefined);
      const slice = data?.subarray(packed.offset, packed.offset + packed.size);
      if (slice && createHash('sha256').update(slice).digest('hex') === digest) {
        await writeFile(destPath, slice, { flag: 'wx' });
        return;
      }
      this.packOf.delete(digest); // fall back to fetching it alone
    }
    const what = `downloading blob ${digest.slice(0, 12)}`;
    for (let attempt = 0; ; attempt++) {
      const res0 = await this.exchange(what, `${this.baseUrl}${routePath(Routes.getBlob, { digest })}`, () => ({ method: Routes.getBlob.method, headers: this.headers(false), redirect: 'manual' }),
        { signal: options.signal, idempotent: true, timeoutMs: this.timeoutMs });
      let res = res0;
      if (res0.status === 302 || res0.status === 307) {
        await res0.arrayBuffer().catch(() => undefined);
        // A presigned object-store URL: its signature is the authorisation, so no bearer token goes there.
        const location = res0.headers.get('location');
        if (!location) throw new TroveError('unavailable', `Server ${this.baseUrl} redirected ${what} without a location.`);
        res = await this.exchange(what, new URL(location, this.baseUrl).toString(), () => ({ method: 'GET' }), { signal: options.signal, idempotent: true, timeoutMs: this.timeoutMs * 10 });
        if (!res.ok) {
          const code = /<Code>([^<]+)<\/Code>/.exec(await res.text().catch(() => ''))?.[1];
          throw new TroveError('unavailable', `The object store refused ${what}: HTTP ${res.status}${code ? ` ${code}` : ''}.`);
        }
      } else if (!res0.ok) {
        throw await this.failure(res0, what);
      } else {
        const pack = res0.headers.get(PACK_HEADER);
        if (isDigest(pack)) this.learnPack(pack);
      }
      const hash = createHash('sha256');
      try {
        await pipeline(res.body!, async function* (source) {
          for await (const chunk of source) {
            hash.update(chunk as Buffer);
            yield chunk;
          }
        }, createWriteStream(destPath, { flags: 'wx' }), { signal: options.signal });
      } catch (e) {
        await unlink(destPath).catch(() => undefined);
        if (options.signal?.aborted) throw new TroveError('cancelled', 'Cancelled.');
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw e;
        if (attempt < this.retries) {
          await this.backoff(attempt, options.signal);
          continue;
        }
        throw new TroveError('unavailable', `Server ${this.baseUrl}: ${what} broke off (${(e as Error).message}).`);
      }
      if (hash.digest('hex') !== digest) {
        await unlink(destPath).catch(() => undefined);
        throw integrity(`Blob ${digest.slice(0, 12)} from ${this.baseUrl} does not match its digest; the server's copy is damaged (run \`trove verify\`).`);
      }
      return;
    }
  }

  async verifyBlob(digest: string): Promise<boolean> {
    const r = await this.call<{ ok: boolean }>(Routes.verifyBlob, { digest }, { what: `verifying blob ${digest.slice(0, 12)}` });
    return r.ok;
  }

  // ---- versions -----------------------------------------------------------------------------

  /**
   * The manifest goes as `application/x-ndjson` (the commit's fields, then one file per line),
   * written as the stream yields it: one request for the whole log, no body held in memory.
   */
  async commitVersionStream(request: StreamCommitRequest, files: AsyncIterable<ManifestFile[]>): Promise<CommitResult> {
    const { project, name, ...fields } = request;
    let failure: unknown;
    const body = Readable.from((async function* () {
      try {
        yield Buffer.from(JSON.stringify(fields) + '\n');
        // While the log stores a window of files, a blank line every few seconds keeps the body
        // alive (the server cuts off a body from which nothing arrives for 30 s).
        const it = files[Symbol.asyncIterator]();
        let next = it.next();
        for (;;) {
          let timer: NodeJS.Timeout | undefined;
          const idle = new Promise<null>((r) => (timer = setTimeout(() => r(null), STREAM_KEEPALIVE_MS)));
          const got = await Promise.race([next, idle]).finally(() => clearTimeout(timer));
          if (got === null) {
            yield Buffer.from('\n');
            continue;
          }
          if (got.done) break;
          let text = '';
          for (const f of got.value) text += JSON.stringify(f) + '\n';
          next = it.next();
          yield Buffer.from(text);
        }
      } catch (e) {
        failure = e; // the caller hears this error, not the broken request it causes
        throw e;
      }
    })(), { objectMode: false, highWaterMark: 256 << 10 }); // bytes, not 16 batches, wait in the stream
    const what = `committing ${project}/${name}`;
    let res: Response;
    try {
      res = await this.exchange(what, `${this.baseUrl}${routePath(Routes.commitVersion, { project, name })}`, () => ({
        method: Routes.commitVersion.method, body, headers: { ...this.headers(false), 'content-type': MANIFEST_STREAM_CONTENT_TYPE },
      }), { idempotent: false, timeoutMs: STREAM_TIMEOUT_MS });
    } catch (e) {
      throw failure ?? e;
    }
    if (failure) throw failure;
    if (!res.ok) throw await this.failure(res, what);
    const result = (await res.json()) as CommitResult;
    this.changed();
    return result;
  }

  async commitVersion(request: CommitRequest): Promise<CommitResult> {
    const { project, name, ...body } = request;
    // Idempotent: committing equal content again names the same version.
    const result = await this.call<CommitResult>(Routes.commitVersion, { project, name }, { what: `committing ${project}/${name}`, body, idempotent: true });
    this.changed();
    return result;
  }

  async addAlias(ref: ArtifactRef, alias: string): Promise<void> {
    await this.call(Routes.addAlias, { project: ref.project, name: ref.name, alias }, { what: `setting alias ${alias} on ${formatRef(ref.project, ref.name, ref.alias)}`, body: { version: ref.alias }, idempotent: true });
    this.changed();
  }

  async removeAlias(project: string, name: string, alias: string): Promise<void> {
    await this.call(Routes.removeAlias, { project, name, alias }, { what: `removing alias ${alias} from ${project}/${name}`, idempotent: false });
    this.changed();
  }

  async deleteVersion(ref: ArtifactRef, options: DeleteOptions = {}): Promise<DeleteResult> {
    const result = await this.call<DeleteResult>(Routes.deleteVersion, { project: ref.project, name: ref.name, alias: ref.alias }, {
      what: `deleting ${formatRef(ref.project, ref.name, ref.alias)}`, query: protectedQuery(options), idempotent: false,
    });
    this.changed();
    return result;
  }

  async deleteArtifact(project: string, name: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    const result = await this.call<DeleteResult>(Routes.deleteArtifact, { project, name }, { what: `deleting ${project}/${name}`, query: protectedQuery(options), idempotent: false });
    this.changed();
    return result;
  }

  async restoreVersion(k: VersionKey): Promise<RestoreResult> {
    const result = await this.call<RestoreResult>(Routes.restoreVersion, { project: k.project, name: k.name, alias: `v${k.version}` }, {
      what: `restoring ${formatRef(k.project, k.name, k.version)}`, body: {}, idempotent: false,
    });
    this.changed();
    return result;
  }

  lineage(ref: ArtifactRef, depth: number, options: LineageOptions = {}): Promise<LineageGraph> {
    return this.call(Routes.lineage, { project: ref.project, name: ref.name, alias: ref.alias }, {
      what: `reading the lineage of ${formatRef(ref.project, ref.name, ref.alias)}`, query: `?depth=${depth}${options.connected ? '&connected=true' : ''}`,
    });
  }

  gc(dryRun: boolean, options: GcOptions = {}): Promise<GcResult> {
    return this.call(Routes.gc, {}, { what: 'collecting unused blobs', body: { dryRun, ...(options.minAgeSeconds !== undefined ? { minAgeSeconds: options.minAgeSeconds } : {}) }, idempotent: true });
  }

  // ---- changes ------------------------------------------------------------------------------

  /** Polls the server's change token while someone listens (a cheap GET every pollMs). */
  onDidChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    if (!this.poll) {
      const tick = async () => {
        try {
          const { token } = await this.call<{ token: string }>(Routes.changes, {}, { what: 'checking for changes' });
          if (this.lastChange !== undefined && token !== this.lastChange) this.changed();
          this.lastChange = token;
        } catch {
          // An unreachable server shows up on the next real request; polling just tries again.
        }
      };
      void tick();
      this.poll = setInterval(() => void tick(), this.pollMs);
      this.poll.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (!this.listeners.size && this.poll) {
        clearInterval(this.poll);
        this.poll = undefined;
        this.lastChange = undefined;
      }
    };
  }

  async close(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
    this.listeners.clear();
    this.agent.destroy();
  }
}

/** The caller's protected aliases as the delete routes take them (the server adds its own). */
function protectedQuery(options: DeleteOptions): string {
  return `?${PROTECTED_PARAM}=${encodeURIComponent((options.protectedAliases ?? DEFAULT_PROTECTED_ALIASES).join(','))}`;
}

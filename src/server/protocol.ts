/**
 * The HTTP contract between `trove serve` (src/server/app.ts) and its client `HttpRegistry`
 * (src/client/httpRegistry.ts), declared once and imported by both sides: routes, headers, the
 * limits a request must keep to, the error body, and the upload-pack format. API.md documents
 * it for people; this file is what both sides compile against. Plain Node, no dependencies.
 */
import type { ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { integrity, invalid, type TroveErrorCode } from '../core/errors';
import { digestMismatch } from '../core/hash';
import { isDigest } from '../core/manifest';

export const API_VERSION = 'v1';
const V = `/api/${API_VERSION}`;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** A route: its method and path, `{name}` standing for one percent-encoded path segment. */
export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
}

/** Every route of the API, in the order API.md lists them. */
export const Routes = {
  health: { method: 'GET', path: '/healthz' },
  listProjects: { method: 'GET', path: `${V}/projects` },
  listArtifacts: { method: 'GET', path: `${V}/projects/{project}/artifacts` },
  listVersions: { method: 'GET', path: `${V}/projects/{project}/artifacts/{name}/versions` },
  commitVersion: { method: 'POST', path: `${V}/projects/{project}/artifacts/{name}/versions` },
  getVersion: { method: 'GET', path: `${V}/projects/{project}/artifacts/{name}/versions/{alias}` },
  deleteVersion: { method: 'DELETE', path: `${V}/projects/{project}/artifacts/{name}/versions/{alias}` },
  restoreVersion: { method: 'POST', path: `${V}/projects/{project}/artifacts/{name}/versions/{alias}/restore` },
  deleteArtifact: { method: 'DELETE', path: `${V}/projects/{project}/artifacts/{name}` },
  manifestPage: { method: 'GET', path: `${V}/projects/{project}/artifacts/{name}/versions/{alias}/manifest` },
  lineage: { method: 'GET', path: `${V}/projects/{project}/artifacts/{name}/versions/{alias}/lineage` },
  addAlias: { method: 'PUT', path: `${V}/projects/{project}/artifacts/{name}/aliases/{alias}` },
  removeAlias: { method: 'DELETE', path: `${V}/projects/{project}/artifacts/{name}/aliases/{alias}` },
  createRun: { method: 'POST', path: `${V}/runs` },
  getRun: { method: 'GET', path: `${V}/runs/{runId}` },
  finishRun: { method: 'POST', path: `${V}/runs/{runId}/finish` },
  recordUse: { method: 'POST', path: `${V}/runs/{runId}/inputs` },
  missingBlobs: { method: 'POST', path: `${V}/blobs/missing` },
  confirmBlobs: { method: 'POST', path: `${V}/blobs/confirm` },
  uploadPack: { method: 'POST', path: `${V}/blobs/pack` },
  putBlob: { method: 'PUT', path: `${V}/blobs/{digest}` },
  fetchBlobs: { method: 'POST', path: `${V}/blobs/fetch` },
  getBlob: { method: 'GET', path: `${V}/blobs/{digest}` },
  getPack: { method: 'GET', path: `${V}/packs/{pack}` },
  packIndex: { method: 'GET', path: `${V}/packs/{pack}/index` },
  verifyBlob: { method: 'GET', path: `${V}/blobs/{digest}/verify` },
  gc: { method: 'POST', path: `${V}/gc` },
  changes: { method: 'GET', path: `${V}/changes` },
} as const satisfies Record<string, Route>;

/** The path of a route with its `{name}` segments filled in (percent-encoded). */
export function routePath(route: Route, params: Record<string, string | number> = {}): string {
  return route.path.replace(/\{(\w+)\}/g, (_m, key: string) => {
    if (params[key] === undefined) throw new Error(`routePath: ${route.path} needs "${key}"`);
    return encodeURIComponent(String(params[key]));
  });
}

/** The pattern a server matches a request path against: one capture group per `{name}`, in order. */
export function routePattern(route: Route): RegExp {
  return new RegExp(`^${route.path.replace(/\{\w+\}/g, '([^/]+)')}$`);
}

/** The prefix of every API route but the health check (for messages). */
export const API_PREFIX = V;

// ---- headers --------------------------------------------------------------------------------

/** Content type of an upload pack (see encodePack). */
export const PACK_CONTENT_TYPE = 'application/x-trove-pack';

/** Whether a Content-Type header announces an upload pack (parameters such as charset allowed). */
export function isPackContentType(value: string | undefined): boolean {
  return /^application\/x-trove-pack\b/i.test(value ?? '');
}
/** Content type of a streamed commit: the commit's fields on the first line, then one manifest file per line (API.md "Large manifests"). */
export const MANIFEST_STREAM_CONTENT_TYPE = 'application/x-ndjson';

/** Whether a Content-Type header announces a streamed commit. */
export function isManifestStreamContentType(value: string | undefined): boolean {
  return /^application\/x-ndjson\b/i.test(value ?? '');
}

/** The longest line of a streamed manifest: a path of up to 4096 characters and its entry. */
export const MAX_MANIFEST_LINE = 64 << 10;

/** POST /blobs/fetch: blobs per request, the largest blob in one, and the bytes of a whole answer. */
export const MAX_FETCH_BLOBS = 5000;
export const MAX_FETCH_BLOB = 1 << 20;
export const MAX_FETCH_BYTES = 16 << 20;

/** Response header of `GET /blobs/{digest}`: the pack holding the blob, which the client may fetch whole. */
export const PACK_HEADER = 'x-trove-pack';

/**
 * Query parameter of the delete routes: the caller's protected aliases, comma-separated (empty:
 * none of its own). The server refuses a deletion when an alias of this list or of its own
 * (`trove serve --protected-aliases`) names a version that would go.
 */
export const PROTECTED_PARAM = 'protected';

/** The Authorization header value for a token. */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}

// ---- limits ---------------------------------------------------------------------------------

/** Blobs up to this size travel in packs: one request and one object for many small files. */
export const PACK_MEMBER_MAX = 1 << 20;
/** A pack body holds at most this many bytes of blobs (the server buffers one pack to verify it). */
export const PACK_MAX_BYTES = 16 << 20;
/** A pack lists at most this many blobs. */
export const PACK_MAX_BLOBS = 20_000;
/** `{blobs:[…]}` bodies (missing, confirm) list at most this many blobs. */
export const MAX_BLOBS_PER_REQUEST = 100_000;
/** Paged lists: `?limit=` defaults to this, and may be at most MAX_PAGE. */
export const DEFAULT_PAGE = 500;
export const MAX_PAGE = 5000;
/** A JSON request body is at most this many bytes. */
export const MAX_JSON_BODY = 128 << 20;

// ---- bodies ---------------------------------------------------------------------------------

/** A blob named by its SHA-256 and size, as request bodies list them. */
export interface BlobRef {
  digest: string;
  size: number;
}

/**
 * Where a client puts one missing blob (an item of the `POST /blobs/missing` answer). `auth`
 * says whether the request carries the client's bearer token (server endpoints) or must not
 * (presigned object-store URLs, whose signature is the authorisation). A relative `url` is
 * resolved against the server's URL.
 */
export interface UploadTarget {
  digest: string;
  /** `put`: one request to `url`; `pack`: send it inside a pack to the pack endpoint. */
  via: 'put' | 'pack';
  method: 'PUT';
  url: string;
  headers: Record<string, string>;
  auth: boolean;
}

/** A page of a list: `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The HTTP status of each error code; the body says the code again. */
export const ERROR_STATUS: Record<TroveErrorCode, number> = {
  usage: 400, invalid: 400, not_found: 404, conflict: 409, io: 500, integrity: 422,
  unauthorized: 401, forbidden: 403, unavailable: 503, cancelled: 499,
};

/** Every error answer's body. `internal`: a server fault whose detail stays in the server's log. */
export interface ErrorBody {
  error: { code: TroveErrorCode | 'internal'; message: string };
}

/** Reads an error answer's body; undefined when it is not an ErrorBody (a proxy's page, say). */
export function parseErrorBody(text: string): ErrorBody['error'] | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<ErrorBody>;
    return parsed?.error && typeof parsed.error.message === 'string' ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}

/** Checks a request's `blobs` list: at most `max` items, each a SHA-256 and a size. */
export function requireDigestList(value: unknown, max = MAX_BLOBS_PER_REQUEST): BlobRef[] {
  if (!Array.isArray(value)) throw invalid('"blobs" must be an array of {digest, size}.');
  if (value.length > max) throw invalid(`At most ${max} blobs per request; split the list.`);
  return value.map((b, i) => {
    const { digest, size } = (b ?? {}) as BlobRef;
    if (!isDigest(digest)) throw invalid(`blobs[${i}].digest must be a SHA-256 (64 lowercase hex characters).`);
    if (!Number.isSafeInteger(size) || size < 0) throw invalid(`blobs[${i}].size must be a whole number of bytes.`);
    return { digest, size };
  });
}

// ---- upload packs ---------------------------------------------------------------------------

export interface PackMember extends BlobRef {
  data: Buffer;
}

/**
 * An upload pack: a first line of JSON `{"blobs":[{"digest","size"},…]}` then the blobs' bytes
 * back to back in that order.
 */
export function encodePack(members: readonly PackMember[]): Buffer {
  const index = Buffer.from(JSON.stringify({ blobs: members.map((m) => ({ digest: m.digest, size: m.size })) }) + '\n');
  return Buffer.concat([index, ...members.map((m) => m.data)]);
}

/**
 * Reads an upload pack (see encodePack). Every blob is hashed and checked against its digest;
 * any mismatch, short or long body rejects the whole pack before anything is stored.
 */
export async function decodePack(body: AsyncIterable<Buffer>): Promise<PackMember[]> {
  let head: Buffer = Buffer.alloc(0);
  let index: BlobRef[] | undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  let total = 0;
  for await (const chunk of body) {
    if (index) {
      chunks.push(chunk);
      received += chunk.length;
    } else {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl < 0) {
        if (head.length > 4 << 20) throw invalid('A pack must start with one line of JSON listing its blobs (at most 4 MiB).');
        continue;
      }
      let parsed: { blobs?: unknown };
      try {
        parsed = JSON.parse(head.subarray(0, nl).toString('utf8')) as { blobs?: unknown };
      } catch {
        throw invalid('The first line of a pack must be JSON: {"blobs":[{"digest","size"},…]}.');
      }
      index = requireDigestList(parsed?.blobs, PACK_MAX_BLOBS);
      total = index.reduce((s, b) => s + b.size, 0);
      if (index.some((b) => b.size > PACK_MEMBER_MAX)) throw invalid(`Pack members must be at most ${PACK_MEMBER_MAX} bytes; upload larger blobs on their own.`);
      if (total > PACK_MAX_BYTES) throw invalid(`A pack may hold at most ${PACK_MAX_BYTES >> 20} MiB of blobs.`);
      const rest = head.subarray(nl + 1);
      chunks.push(rest);
      received += rest.length;
    }
    if (received > total) throw integrity(`The pack carries more bytes than its ${index.length} blobs add up to; nothing was stored.`);
  }
  if (!index) throw invalid('The pack is empty: it needs a first line of JSON listing its blobs.');
  if (received !== total) throw integrity(`The pack carries ${received} bytes of blobs, not the ${total} its index announces; nothing was stored.`);
  const all = Buffer.concat(chunks, received);
  const members: PackMember[] = [];
  let offset = 0;
  for (const b of index) {
    const data = all.subarray(offset, offset + b.size);
    offset += b.size;
    const digest = createHash('sha256').update(data).digest('hex');
    if (digest !== b.digest) throw digestMismatch(b, digest, data.length);
    members.push({ ...b, data });
  }
  return members;
}

/** A JSON answer as both doors send it (never cached). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.setHeader('cache-control', 'no-store');
  res.writeHead(status);
  res.end(text);
}

import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { integrity, invalid, notFound, TroveError } from '../../core/errors';
import { validateManifestPath } from '../../core/manifest';
import { Readable } from 'node:stream';
import type { BlobStore, LocalBlobStore, S3BlobStore } from '../blobStore';
import { PACK_MAX_BLOBS, PACK_MAX_BYTES, PACK_MEMBER_MAX, type PackMember } from '../protocol';
import type { WandbDoor } from './door';
import { readBody } from './door';
import { sendJson } from '../protocol';
import type { UrlSigner } from './signing';

const MAX_MANIFEST_BYTES = 512 << 20;
const MAX_RUN_FILE_BYTES = 256 << 20;

export interface WandbUploadTarget {
  url: string;
  /** `Name:Value` strings, as the client wants them. */
  headers: string[];
  storagePath: string;
  multipart: { uploadID: string; uploadUrlParts: { partNumber: number; uploadUrl: string }[] } | null;
}

/**
 * Where the W&B client's bytes go and come from. Every URL handed out authorises itself (the
 * client's file transfers carry no credentials): HMAC-signed URLs served by `trove serve` for
 * the embedded store, presigned object-store URLs for the scale-out backend.
 */
export interface WandbFiles {
  /** The server's own URL, known once it listens. */
  baseUrl: string;
  /** Where the client sends a file of `project` the store lacks. */
  artifactUploadTarget(md5hex: string, project: string): Promise<WandbUploadTarget>;
  manifestUploadUrl(pendingId: string): string;
  manifestUrl(artifactId: string): string;
  blobUrl(sha256: string, size: number): string;
  runFileUploadUrl(runId: string, name: string): string;
  md5OfBlob(sha256: string): Promise<string>;
  /** Files the client uploaded to staging (scale-out): checked, stored as blobs, returned; others are left out. */
  ingestStaged(files: { md5: string; size: number | null }[], project: string): Promise<StagedFile[]>;
  sendBlob(res: ServerResponse, sha256: string): Promise<void>;
  completeMultipart(input: { artifactID: string; storagePath: string; uploadID: string }, pending: (id: string) => Promise<unknown>): Promise<{ digest: string | null }>;
  /** Requests to `/wandb/files/…` (the signed URLs this server hands out). */
  serve(req: IncomingMessage, res: ServerResponse, url: URL, door: WandbDoor): Promise<void>;
}

const enc = (s: string) => encodeURIComponent(s);

/**
 * The file URLs both backends share: manifests, and blob downloads through the server (which
 * answers a blob stored as its own S3 object with a redirect to a presigned GET), each signed for
 * one verb on one object.
 */
abstract class SignedFiles implements WandbFiles {
  baseUrl = '';

  constructor(protected readonly blobs: BlobStore, protected readonly signer: UrlSigner) {}

  protected url(verb: 'GET' | 'PUT', path: string): string {
    return `${this.baseUrl}${this.signer.sign(verb, path)}`;
  }

  abstract artifactUploadTarget(md5hex: string, project: string): Promise<WandbUploadTarget>;
  abstract runFileUploadUrl(runId: string, name: string): string;
  abstract ingestStaged(files: { md5: string; size: number | null }[], project: string): Promise<StagedFile[]>;

  manifestUploadUrl(pendingId: string): string {
    return this.url('PUT', `/wandb/files/manifest-upload/${pendingId}`);
  }

  manifestUrl(artifactId: string): string {
    return this.url('GET', `/wandb/files/manifest/${Buffer.from(artifactId, 'base64').toString('base64url')}`);
  }

  blobUrl(sha256: string): string {
    return this.url('GET', `/wandb/files/blob/${sha256}`);
  }

  private async blobStream(sha256: string): Promise<{ stream: Readable; size: number } | { redirect: string }> {
    return this.blobs.open(sha256);
  }

  async md5OfBlob(sha256: string): Promise<string> {
    const src = await this.blobStream(sha256);
    const h = createHash('md5');
    if ('redirect' in src) {
      const res = await fetch(src.redirect);
      if (!res.ok || !res.body) throw new TroveError('unavailable', `Blob ${sha256.slice(0, 12)} could not be read from the object store (HTTP ${res.status}).`);
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) h.update(chunk);
    } else {
      for await (const chunk of src.stream) h.update(chunk as Buffer);
    }
    return h.digest('hex');
  }

  async sendBlob(res: ServerResponse, sha256: string): Promise<void> {
    const src = await this.blobStream(sha256);
    if ('redirect' in src) {
      res.writeHead(302, { location: src.redirect, 'cache-control': 'no-store', 'content-length': 0 });
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('content-length', src.size);
    res.writeHead(200);
    await pipeline(src.stream, res);
  }

  async completeMultipart(): Promise<{ digest: string | null }> {
    throw invalid('CompleteMultipartUploadArtifact: this server hands out no multipart uploads; send each file in one PUT.');
  }

  /** Routes only one backend has (uploads through the server); false when the path is not one. */
  protected async serveMore(_req: IncomingMessage, _res: ServerResponse, _path: string, _door: WandbDoor): Promise<boolean> {
    return false;
  }

  async serve(req: IncomingMessage, res: ServerResponse, url: URL, door: WandbDoor): Promise<void> {
    const path = url.pathname;
    const verb = req.method ?? '';
    const refusal = this.signer.check(verb, path, url.searchParams);
    if (refusal) throw new TroveError('forbidden', refusal);
    let m = /^\/wandb\/files\/manifest-upload\/([0-9a-f]{24})$/.exec(path);
    if (m && verb === 'PUT') {
      await door.receiveManifest(m[1], await readBody(req, MAX_MANIFEST_BYTES));
      return sendJson(res, 200, {});
    }
    m = /^\/wandb\/files\/manifest\/([A-Za-z0-9_-]+)$/.exec(path);
    if (m && verb === 'GET') {
      const text = JSON.stringify(await door.manifestForId(Buffer.from(m[1], 'base64url').toString('base64')));
      res.setHeader('content-type', 'application/json');
      res.setHeader('content-length', Buffer.byteLength(text));
      res.writeHead(200);
      res.end(text);
      return;
    }
    m = /^\/wandb\/files\/blob\/([0-9a-f]{64})$/.exec(path);
    if (m && verb === 'GET') return this.sendBlob(res, m[1]);
    if (await this.serveMore(req, res, path, door)) return;
    throw notFound(`No W&B file route ${verb} ${path}.`);
  }
}

/** A file the client uploaded to staging, once checked and stored as a blob. */
export interface StagedFile {
  md5: string;
  sha256: string;
  size: number;
}

/** The embedded store: uploads come to `trove serve` itself, which hashes them on the way in. */
export class LocalWandbFiles extends SignedFiles {
  constructor(protected readonly blobs: LocalBlobStore, signer: UrlSigner, private readonly runFilesRoot: string) {
    super(blobs, signer);
  }

  async artifactUploadTarget(md5hex: string, project: string): Promise<WandbUploadTarget> {
    // One PUT, whatever the size: the server streams it to disk while hashing (no multipart needed).
    return { url: this.url('PUT', `/wandb/files/upload/${project}/${md5hex}`), headers: [], storagePath: `wandb/${md5hex}`, multipart: null };
  }

  runFileUploadUrl(runId: string, name: string): string {
    return this.url('PUT', `/wandb/files/run/${enc(runId)}/${name.split('/').map(enc).join('/')}`);
  }

  async ingestStaged(): Promise<StagedFile[]> {
    return []; // every upload was stored as it arrived
  }

  protected async serveMore(req: IncomingMessage, res: ServerResponse, path: string, door: WandbDoor): Promise<boolean> {
    const verb = req.method;
    let m = /^\/wandb\/files\/upload\/([A-Za-z0-9._-]{1,128})\/([0-9a-f]{32})$/.exec(path);
    if (m && verb === 'PUT') {
      const got = await this.blobs.receiveByMd5(req, m[2], m[1]);
      await door.recordUpload(got);
      sendJson(res, 200, { md5: got.md5 });
      return true;
    }
    m = /^\/wandb\/files\/run\/([A-Za-z0-9_-]{1,64})\/(.+)$/.exec(path);
    if (m && verb === 'PUT') {
      const name = validateManifestPath(m[2].split('/').map(decodeURIComponent).join('/'));
      const dest = join(this.runFilesRoot, m[1], name);
      await mkdir(dirname(dest), { recursive: true });
      const tmp = `${dest}.${process.pid}.tmp`;
      let size = 0;
      try {
        await pipeline(req, async function* (source) {
          for await (const chunk of source) {
            size += (chunk as Buffer).length;
            if (size > MAX_RUN_FILE_BYTES) throw invalid(`A run file may hold at most ${MAX_RUN_FILE_BYTES >> 20} MiB.`);
            yield chunk;
          }
        }, createWriteStream(tmp));
        await rename(tmp, dest);
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
      sendJson(res, 200, {});
      return true;
    }
    return false;
  }
}

const STAGING = 'wandb-staging';

/**
 * The scale-out backend: the client PUTs each file straight to the object store, to a staging key
 * named by its MD5 with a presigned URL that binds Content-MD5 (the store refuses other bytes).
 * At commit the server reads each staged object, checks its MD5 again, hashes it to SHA-256 and
 * stores it as a Trove blob (small ones packed, as `trove log` does), then removes the staging copy.
 */
export class S3WandbFiles extends SignedFiles {
  constructor(protected readonly blobs: S3BlobStore, signer: UrlSigner) {
    super(blobs, signer);
  }

  async artifactUploadTarget(md5hex: string): Promise<WandbUploadTarget> {
    const b64 = Buffer.from(md5hex, 'hex').toString('base64');
    const signed = this.blobs.presignPut(STAGING, md5hex, b64);
    return { url: signed.url, headers: Object.entries(signed.headers).map(([k, v]) => `${k}:${v}`), storagePath: `${STAGING}/${md5hex}`, multipart: null };
  }

  runFileUploadUrl(runId: string, name: string): string {
    return this.blobs.presignPut('wandb-run-files', `${runId}/${validateManifestPath(name)}`).url;
  }

  async ingestStaged(files: { md5: string; size: number | null }[], project: string): Promise<StagedFile[]> {
    const out: StagedFile[] = [];
    let pack: (PackMember)[] = [];
    let packBytes = 0;
    const flush = async () => {
      if (pack.length) await this.blobs.receivePack(pack, project);
      pack = [];
      packBytes = 0;
    };
    const unique = [...new Map(files.map((f) => [f.md5, f])).values()];
    const read = async (f: { md5: string }) => {
      const body = await this.blobs.readObject(STAGING, f.md5);
      if (!body) return undefined;
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    // Read a few at a time; blobs of 1 MiB or less go into packs of up to 16 MiB, larger ones alone.
    for (let i = 0; i < unique.length; i += 16) {
      const batch = unique.slice(i, i + 16);
      const datas = await Promise.all(batch.map(read));
      for (let j = 0; j < batch.length; j++) {
        const data = datas[j];
        if (!data) continue;
        const md5 = createHash('md5').update(data).digest('hex');
        if (md5 !== batch[j].md5) throw integrity(`The staged upload ${batch[j].md5} has MD5 ${md5}; nothing was committed.`);
        const sha256 = createHash('sha256').update(data).digest('hex');
        const missing = await this.blobs.plan([{ digest: sha256, size: data.length }], project);
        if (missing.length) {
          if (data.length <= PACK_MEMBER_MAX) {
            pack.push({ digest: sha256, size: data.length, data });
            packBytes += data.length;
            if (packBytes >= PACK_MAX_BYTES || pack.length >= PACK_MAX_BLOBS) await flush();
          } else {
            await this.blobs.receive({ digest: sha256, size: data.length }, Readable.from([data]), project);
          }
        }
        out.push({ md5, sha256, size: data.length });
      }
    }
    await flush();
    for (let i = 0; i < out.length; i += 16) await Promise.all(out.slice(i, i + 16).map((f) => this.blobs.deleteObject(STAGING, f.md5)));
    return out;
  }
}


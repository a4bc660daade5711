import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { invalid, notFound, TroveError } from '../../core/errors';
import { validateManifestPath } from '../../core/manifest';
import type { LocalBlobStore } from '../blobStore';
import type { WandbDoor } from './door';
import { readBody, sendJson } from './door';
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
  sendBlob(res: ServerResponse, sha256: string): Promise<void>;
  completeMultipart(input: { artifactID: string; storagePath: string; uploadID: string }, pending: (id: string) => Promise<unknown>): Promise<{ digest: string | null }>;
  /** Requests to `/wandb/files/…` (the signed URLs this server hands out). */
  serve(req: IncomingMessage, res: ServerResponse, url: URL, door: WandbDoor): Promise<void>;
}

const enc = (s: string) => encodeURIComponent(s);

/** The embedded store's file URLs: served by `trove serve` itself, each signed for one verb on one object. */
export class LocalWandbFiles implements WandbFiles {
  baseUrl = '';

  constructor(private readonly blobs: LocalBlobStore, private readonly signer: UrlSigner, private readonly runFilesRoot: string) {}

  private url(verb: 'GET' | 'PUT', path: string): string {
    return `${this.baseUrl}${this.signer.sign(verb, path)}`;
  }

  async artifactUploadTarget(md5hex: string, project: string): Promise<WandbUploadTarget> {
    // One PUT, whatever the size: the server streams it to disk while hashing (no multipart needed).
    return { url: this.url('PUT', `/wandb/files/upload/${project}/${md5hex}`), headers: [], storagePath: `wandb/${md5hex}`, multipart: null };
  }

  manifestUploadUrl(pendingId: string): string {
    return this.url('PUT', `/wandb/files/manifest-upload/${pendingId}`);
  }

  manifestUrl(artifactId: string): string {
    return this.url('GET', `/wandb/files/manifest/${Buffer.from(artifactId, 'base64').toString('base64url')}`);
  }

  blobUrl(sha256: string): string {
    return this.url('GET', `/wandb/files/blob/${sha256}`);
  }

  runFileUploadUrl(runId: string, name: string): string {
    return this.url('PUT', `/wandb/files/run/${enc(runId)}/${name.split('/').map(enc).join('/')}`);
  }

  async md5OfBlob(sha256: string): Promise<string> {
    const src = await this.blobs.open(sha256);
    if ('redirect' in src) throw new TroveError('io', 'A local blob cannot be a redirect.');
    const h = createHash('md5');
    for await (const chunk of src.stream) h.update(chunk as Buffer);
    return h.digest('hex');
  }

  async sendBlob(res: ServerResponse, sha256: string): Promise<void> {
    const src = await this.blobs.open(sha256);
    if ('redirect' in src) throw new TroveError('io', 'A local blob cannot be a redirect.');
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('content-length', src.size);
    res.writeHead(200);
    await pipeline(src.stream, res);
  }

  async completeMultipart(): Promise<{ digest: string | null }> {
    throw invalid('CompleteMultipartUploadArtifact: this server hands out no multipart uploads; send each file in one PUT.');
  }

  async serve(req: IncomingMessage, res: ServerResponse, url: URL, door: WandbDoor): Promise<void> {
    const path = url.pathname;
    const verb = req.method ?? '';
    const refusal = this.signer.check(verb, path, url.searchParams);
    if (refusal) throw new TroveError('forbidden', refusal);
    let m = /^\/wandb\/files\/upload\/([A-Za-z0-9._-]{1,128})\/([0-9a-f]{32})$/.exec(path);
    if (m && verb === 'PUT') {
      const got = await this.blobs.receiveByMd5(req, m[2], m[1]);
      await door.recordUpload(got);
      return sendJson(res, 200, { md5: got.md5 });
    }
    m = /^\/wandb\/files\/manifest-upload\/([0-9a-f]{24})$/.exec(path);
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
      return sendJson(res, 200, {});
    }
    throw notFound(`No W&B file route ${verb} ${path}.`);
  }
}

export { MAX_MANIFEST_BYTES };

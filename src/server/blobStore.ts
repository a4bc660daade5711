import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand,
  DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand,
  UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { notFound } from '../core/errors';
import { digestMismatch, forEachLimit } from '../core/hash';
import { PackCache } from '../core/packCache';
import type { LocalBlobs } from '../store/blobs';
import type { BlobScope } from './blobScope';
import { presignS3 } from './presign';
import { PACK_MEMBER_MAX, routePath, Routes, type BlobRef, type PackMember, type UploadTarget } from './protocol';
import { makeS3Client, s3EndpointUrl, s3Failure, s3Status, type S3Settings } from '../core/s3';

export type { BlobRef, PackMember } from './protocol';

/** A blob for download: a URL to redirect to, or bytes (with the pack holding it, when packed in S3). */
export type BlobSource = { redirect: string } | { stream: Readable; size: number; pack?: string };

/** A pack of blobs that clients may fetch whole (scale-out mode). */
export interface PackAccess {
  /** The blobs of a pack with their byte ranges. */
  packIndex(pack: string): Promise<{ digest: string; offset: number; size: number }[]>;
  /** A presigned URL of the whole pack object. */
  packUrl(pack: string): string;
}

/**
 * Blob storage behind `trove serve`: the embedded store's blob folder, or an S3 bucket. `project`
 * is the caller's (a token's project, or `*` for a token of every project and when auth is off):
 * a blob counts as stored for a project only when the project may read it (src/server/blobScope.ts),
 * and what a project uploads becomes readable by it.
 */
export interface BlobStore {
  readonly description: string;
  init(): Promise<void>;
  /** Where to send each blob of `blobs` that is not stored for `project` (each digest once). */
  plan(blobs: BlobRef[], project: string): Promise<UploadTarget[]>;
  /** Whether `receive` holds a blob's bytes in memory (then the server bounds how many run at once). */
  readonly buffersUploads: boolean;
  /** Takes a blob's bytes through the server, hashing on the way; nothing is stored unless the SHA-256 matches. */
  receive(blob: BlobRef, body: AsyncIterable<Buffer>, project: string): Promise<void>;
  /**
   * Takes a pack (blobs already split out of the request by `decodePack`, each verified against its
   * digest) and stores all of its blobs, or none.
   */
  receivePack(blobs: PackMember[], project: string): Promise<void>;
  /** After direct uploads: checks the blobs are there with the right size and records them; returns those that are not. */
  confirm(blobs: BlobRef[], project: string): Promise<string[]>;
  open(digest: string): Promise<BlobSource>;
  verify(digest: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The blobs of a list, each digest once, in first-seen order. */
function distinct(blobs: BlobRef[]): BlobRef[] {
  const seen = new Set<string>();
  return blobs.filter((b) => !seen.has(b.digest) && !!seen.add(b.digest));
}

/** Where a client sends a blob that goes through the server: in a pack, or alone. */
function throughServer(blob: BlobRef): UploadTarget {
  const via = blob.size <= PACK_MEMBER_MAX ? 'pack' : 'put';
  return { digest: blob.digest, via, method: 'PUT', url: via === 'pack' ? routePath(Routes.uploadPack) : routePath(Routes.putBlob, { digest: blob.digest }), headers: {}, auth: true };
}

/** Blobs in the embedded store, through the store's own blob owner (src/store/blobs.ts). */
export class LocalBlobStore implements BlobStore {
  readonly description: string;
  /** Blobs stream to a file in the store's tmp folder. */
  readonly buffersUploads = false;

  constructor(private readonly blobs: LocalBlobs, readonly root: string, private readonly scope: BlobScope) {
    this.description = `blobs in ${root}`;
  }

  async init(): Promise<void> {
    this.blobs.createFolders();
  }

  /** The digests among `blobs` not stored, or not readable by `project`. */
  private async missing(blobs: BlobRef[], project: string): Promise<string[]> {
    const readable = await this.scope.readable(project, blobs.map((b) => b.digest));
    return blobs.filter((b) => !readable.has(b.digest) || !this.blobs.has(b.digest, b.size)).map((b) => b.digest);
  }

  async plan(blobs: BlobRef[], project: string): Promise<UploadTarget[]> {
    const missing = new Set(await this.missing(blobs, project));
    return distinct(blobs).filter((b) => missing.has(b.digest)).map(throughServer);
  }

  async receivePack(blobs: PackMember[], project: string): Promise<void> {
    this.blobs.storeVerified(blobs);
    await this.scope.grant(project, blobs.map((b) => b.digest));
  }

  async receive(blob: BlobRef, body: AsyncIterable<Buffer>, project: string): Promise<void> {
    await this.blobs.receive(blob, Readable.from(body));
    await this.scope.grant(project, [blob.digest]);
  }

  async confirm(blobs: BlobRef[], project: string): Promise<string[]> {
    return this.missing(blobs, project);
  }

  /** For the W&B door: bytes named by their MD5, stored by SHA-256 (see LocalBlobs.receiveByMd5), readable by `project`. */
  async receiveByMd5(body: Readable, expectMd5: string, project: string): Promise<{ sha256: string; md5: string; size: number; stored: boolean }> {
    const got = await this.blobs.receiveByMd5(body, expectMd5);
    await this.scope.grant(project, [got.sha256]);
    return got;
  }

  async open(digest: string): Promise<BlobSource> {
    const found = this.blobs.open(digest);
    if (!found) throw notFound(`Blob ${digest.slice(0, 12)} is not in the store.`);
    return found;
  }

  verify(digest: string): Promise<boolean> {
    return this.blobs.verify(digest);
  }

  async close(): Promise<void> {}
}

/** Which blobs the metadata database knows to be stored and verified, and who may read them. */
export interface BlobLedger extends BlobScope {
  known(digests: string[]): Promise<Set<string>>;
  /** Where a blob lives: its own object, or a byte range of a pack object. */
  locate(digest: string): Promise<{ size: number; pack?: string; offset?: number } | undefined>;
  /** Records stored blobs, readable from now on by `uploader` (nobody in particular for `*`). */
  record(blobs: (BlobRef & { pack?: string; offset?: number })[], uploader: string): Promise<void>;
  /** Presigned uploads: see PgStore.claimUpload, holdUpload, releaseUpload and adoptUpload. */
  claimUpload(digest: string, project: string, staleSeconds: number): Promise<boolean>;
  holdUpload(digest: string, project: string): Promise<void>;
  releaseUpload(digest: string, project: string): Promise<void>;
  adoptUpload(blob: BlobRef, project: string): Promise<boolean>;
  packReadable(pack: string, project: string): Promise<boolean>;
  forget(digests: string[]): Promise<void>;
  /** Packs and the digests each holds. */
  packs(): Promise<Map<string, string[]>>;
  /** The blobs of one pack, in offset order. */
  packIndex(pack: string): Promise<{ digest: string; offset: number; size: number }[]>;
}

/** Single PUTs are limited to 5 GiB by S3; larger blobs are streamed through the server. */
export const MAX_PRESIGNED_PUT = 5 * 1024 ** 3;
const PART_SIZE = 64 << 20;
const URL_LIFETIME_S = 3600;
const PACK_CACHE_BYTES = 128 << 20;
/** A presigned claim older than this is void: every URL it was given for has expired. */
const CLAIM_STALE_S = 2 * URL_LIFETIME_S;

/**
 * Blobs in an S3 bucket under `<prefix>blobs/<sha256>`. Uploads go straight to the object store
 * with presigned PUT URLs whose signature covers the blob's SHA-256 (`x-amz-content-sha256`), so
 * the store itself refuses bytes that do not match; `confirm` then checks each object is there
 * with the announced size before the ledger (PostgreSQL) counts it as stored. Blobs too large for
 * one PUT go through the server, which hashes them while streaming a multipart upload and
 * completes it only when the digest matches.
 */
export class S3BlobStore implements BlobStore, PackAccess {
  readonly description: string;
  /** A blob through the server is buffered up to one 64 MiB part. */
  readonly buffersUploads = true;
  readonly client: S3Client;

  /**
   * `presignMaxBytes`: the largest blob clients PUT straight to S3. Larger ones go through the
   * server; 0 sends every transfer (uploads and downloads) through the server, for object stores
   * that clients cannot reach.
   */
  constructor(private readonly settings: S3Settings, readonly bucket: string, private readonly prefix: string, private readonly ledger: BlobLedger, private readonly presignMaxBytes = MAX_PRESIGNED_PUT) {
    this.client = makeS3Client(settings);
    this.description = `s3://${bucket}/${prefix} at ${s3EndpointUrl(settings)}`;
  }

  key(digest: string): string {
    return `${this.prefix}blobs/${digest}`;
  }

  async init(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (e) {
      const status = s3Status(e);
      if (status !== 404 && status !== 403 && status !== 301) throw s3Failure(`access to bucket ${this.bucket} at ${s3EndpointUrl(this.settings)}`, e);
      if (status !== 404) throw s3Failure(`access to bucket ${this.bucket}`, e);
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw s3Failure(`creating bucket ${this.bucket}`, e);
    }
  }

  /**
   * Blobs the server checks itself (packs, PUTs through it) can be taken from anyone. A presigned
   * PUT bypasses the server, so whoever confirms one must be the one who was sent its URL: the
   * project that asks first holds a claim on the digest (PgStore.claimUpload) and only it can
   * adopt the object; others upload through the server, which voids the claim when it starts.
   * A blob stored already, but not readable by the asking project, goes through the server too:
   * the project shows it holds the bytes instead of learning them from a digest.
   */
  async plan(blobs: BlobRef[], project: string): Promise<UploadTarget[]> {
    const list = distinct(blobs);
    const digests = list.map((b) => b.digest);
    const [known, readable] = await Promise.all([this.ledger.known(digests), this.ledger.readable(project, digests)]);
    const target = new Map<string, UploadTarget>();
    const singles: BlobRef[] = [];
    for (const b of list) {
      if (known.has(b.digest)) {
        if (!readable.has(b.digest)) target.set(b.digest, throughServer(b));
      } else if (b.size <= PACK_MEMBER_MAX || !this.presignable(b)) {
        target.set(b.digest, throughServer(b));
      } else {
        singles.push(b);
      }
    }
    // Large blobs may sit in the bucket unconfirmed (a log interrupted after their PUT): one HEAD
    // each finds them, so an interrupted upload resumes without sending them again.
    await forEachLimit(singles, 32, async (b) => {
      if ((await this.objectSize(b.digest)) === b.size) {
        if (!(await this.ledger.adoptUpload(b, project))) target.set(b.digest, throughServer(b));
      } else {
        target.set(b.digest, (await this.ledger.claimUpload(b.digest, project, CLAIM_STALE_S)) ? this.presignedTarget(b) : throughServer(b));
      }
    });
    return list.filter((b) => target.has(b.digest)).map((b) => target.get(b.digest)!);
  }

  private presignable(blob: BlobRef): boolean {
    return blob.size <= Math.min(this.presignMaxBytes, MAX_PRESIGNED_PUT);
  }

  /** The size of the blob's own object, or undefined when there is none. */
  private async objectSize(digest: string): Promise<number | undefined> {
    try {
      // Ceph may return an empty ETag after a multipart upload; the size is what we check.
      return (await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(digest) }))).ContentLength;
    } catch (e) {
      if (s3Status(e) === 404) return undefined;
      throw s3Failure(`checking blob ${digest.slice(0, 12)}`, e);
    }
  }

  packKey(pack: string): string {
    return `${this.prefix}packs/${pack}`;
  }

  /**
   * Objects under `<prefix><area>/` that are not blobs (the W&B door's staged uploads and run
   * files): a presigned PUT, bound to the body's MD5 when given (the object store checks it).
   */
  presignPut(area: string, name: string, contentMd5?: string): { url: string; headers: Record<string, string> } {
    return presignS3({
      method: 'PUT', endpoint: s3EndpointUrl(this.settings), bucket: this.bucket, key: `${this.prefix}${area}/${name}`, region: this.settings.region,
      accessKeyId: this.settings.accessKeyId, secretAccessKey: this.settings.secretAccessKey, sessionToken: this.settings.sessionToken,
      expiresSeconds: URL_LIFETIME_S, ...(contentMd5 ? { contentMd5 } : {}),
    });
  }

  /** Reads one such object; undefined when it does not exist. */
  async readObject(area: string, name: string): Promise<Readable | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}${area}/${name}` }));
      return r.Body as Readable;
    } catch (e) {
      if (s3Status(e) === 404) return undefined;
      throw s3Failure(`reading ${area}/${name}`, e);
    }
  }

  async deleteObject(area: string, name: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}${area}/${name}` })).catch((e) => {
      throw s3Failure(`removing ${area}/${name}`, e);
    });
  }

  private presignedTarget(blob: BlobRef): UploadTarget {
    const signed = presignS3({
      method: 'PUT', endpoint: s3EndpointUrl(this.settings), bucket: this.bucket, key: this.key(blob.digest), region: this.settings.region,
      accessKeyId: this.settings.accessKeyId, secretAccessKey: this.settings.secretAccessKey, sessionToken: this.settings.sessionToken,
      expiresSeconds: URL_LIFETIME_S, payloadSha256: blob.digest,
    });
    return { digest: blob.digest, via: 'put', method: 'PUT', url: signed.url, headers: signed.headers, auth: false };
  }

  /** One object `packs/<sha256 of its bytes>` holding the blobs back to back; the ledger keeps each blob's offset. */
  async receivePack(blobs: PackMember[], project: string): Promise<void> {
    const body = Buffer.concat(blobs.map((b) => b.data));
    const pack = createHash('sha256').update(body).digest('hex');
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.packKey(pack), Body: body, ContentLength: body.length })).catch((e) => {
      throw s3Failure(`storing a pack of ${blobs.length} blobs`, e);
    });
    let offset = 0;
    const entries = blobs.map((b) => {
      const entry = { digest: b.digest, size: b.size, pack, offset };
      offset += b.size;
      return entry;
    });
    await this.ledger.record(entries, project);
  }

  async receive(blob: BlobRef, body: AsyncIterable<Buffer>, project: string): Promise<void> {
    // From now until the blob is recorded, nobody can adopt an object under this digest that a
    // presigned URL may have put there: the object about to appear holds these checked bytes.
    await this.ledger.holdUpload(blob.digest, project);
    try {
      await this.receiveChecked(blob, body, project);
    } catch (e) {
      await this.ledger.releaseUpload(blob.digest, project).catch(() => undefined);
      throw e;
    }
  }

  private async receiveChecked(blob: BlobRef, body: AsyncIterable<Buffer>, project: string): Promise<void> {
    const hash = createHash('sha256');
    let size = 0;
    const Key = this.key(blob.digest);
    if (blob.size <= PART_SIZE) {
      const chunks: Buffer[] = [];
      for await (const chunk of body) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
        if (size > blob.size) throw digestMismatch(blob, '', size);
        chunks.push(chunk as Buffer);
      }
      const digest = hash.digest('hex');
      if (digest !== blob.digest || size !== blob.size) throw digestMismatch(blob, digest, size);
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: Buffer.concat(chunks), ContentLength: size })).catch((e) => {
        throw s3Failure(`storing blob ${blob.digest.slice(0, 12)}`, e);
      });
      await this.ledger.record([blob], project);
      return;
    }
    // A multipart upload is invisible until completed: completing it only after the hash matched
    // means a wrong upload never becomes an object.
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key })).catch((e) => {
      throw s3Failure(`starting the upload of blob ${blob.digest.slice(0, 12)}`, e);
    });
    const parts: { ETag?: string; PartNumber: number }[] = [];
    try {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        const PartNumber = parts.length + 1;
        const r = await this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key, UploadId, PartNumber, Body: Buffer.concat(pending), ContentLength: pendingBytes }));
        parts.push({ ETag: r.ETag, PartNumber });
        pending = [];
        pendingBytes = 0;
      };
      for await (const chunk of body) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
        if (size > blob.size) throw digestMismatch(blob, '', size);
        pending.push(chunk as Buffer);
        pendingBytes += (chunk as Buffer).length;
        if (pendingBytes >= PART_SIZE) await flush();
      }
      if (pendingBytes > 0 || parts.length === 0) await flush();
      const digest = hash.digest('hex');
      if (digest !== blob.digest || size !== blob.size) throw digestMismatch(blob, digest, size);
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
    } catch (e) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId })).catch(() => undefined);
      throw e;
    }
    await this.ledger.record([blob], project);
  }

  /** Blobs PUT with presigned URLs: each is recorded when its object is there with the announced size and `project` holds its claim. */
  async confirm(blobs: BlobRef[], project: string): Promise<string[]> {
    const list = distinct(blobs);
    const digests = list.map((b) => b.digest);
    const [known, readable] = await Promise.all([this.ledger.known(digests), this.ledger.readable(project, digests)]);
    const absent: string[] = [];
    await forEachLimit(list, 32, async (b) => {
      if (known.has(b.digest)) {
        if (!readable.has(b.digest)) absent.push(b.digest);
      } else if ((await this.objectSize(b.digest)) !== b.size || !(await this.ledger.adoptUpload(b, project))) {
        absent.push(b.digest);
      }
    });
    return absent;
  }

  /**
   * Packs recently read, whole: a download of a version asks for its small blobs one by one, and
   * they sit next to each other in a few packs, so one GET per pack serves them all.
   */
  private readonly packCache = new PackCache(PACK_CACHE_BYTES, 'the object store');

  private loadPack(pack: string): Promise<Buffer> {
    return this.packCache.get(pack, async () => {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.packKey(pack) }));
      return Buffer.from(await r.Body!.transformToByteArray());
    });
  }

  private async readPacked(where: { size: number; pack?: string; offset?: number }): Promise<Readable> {
    const data = await this.loadPack(where.pack!);
    return Readable.from([data.subarray(where.offset!, where.offset! + where.size)]);
  }

  async open(digest: string): Promise<BlobSource> {
    const where = await this.ledger.locate(digest);
    if (!where) throw notFound(`Blob ${digest.slice(0, 12)} is not in the store.`);
    if (where.pack) {
      // A byte range of a pack: streamed through the server (a redirect cannot carry the Range).
      const stream = await this.readPacked(where).catch((e) => {
        throw s3Failure(`reading blob ${digest.slice(0, 12)}`, e);
      });
      return { stream, size: where.size, pack: where.pack };
    }
    if (this.presignMaxBytes === 0) {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(digest) })).catch((e) => {
        throw s3Failure(`reading blob ${digest.slice(0, 12)}`, e);
      });
      return { stream: r.Body as Readable, size: where.size };
    }
    const signed = presignS3({
      method: 'GET', endpoint: s3EndpointUrl(this.settings), bucket: this.bucket, key: this.key(digest), region: this.settings.region,
      accessKeyId: this.settings.accessKeyId, secretAccessKey: this.settings.secretAccessKey, sessionToken: this.settings.sessionToken,
      expiresSeconds: URL_LIFETIME_S,
    });
    return { redirect: signed.url };
  }

  async packIndex(pack: string): Promise<{ digest: string; offset: number; size: number }[]> {
    const blobs = await this.ledger.packIndex(pack);
    if (!blobs.length) throw notFound(`Pack ${pack.slice(0, 12)} is not in the store.`);
    return blobs;
  }

  packUrl(pack: string): string {
    return presignS3({
      method: 'GET', endpoint: s3EndpointUrl(this.settings), bucket: this.bucket, key: this.packKey(pack), region: this.settings.region,
      accessKeyId: this.settings.accessKeyId, secretAccessKey: this.settings.secretAccessKey, sessionToken: this.settings.sessionToken,
      expiresSeconds: URL_LIFETIME_S,
    }).url;
  }

  async verify(digest: string): Promise<boolean> {
    try {
      const where = await this.ledger.locate(digest);
      if (!where) return false;
      const body = where.pack ? await this.readPacked(where) : (await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(digest) }))).Body as Readable;
      const hash = createHash('sha256');
      for await (const chunk of body) hash.update(chunk as Buffer);
      return hash.digest('hex') === digest;
    } catch (e) {
      if (s3Status(e) === 404) return false;
      throw s3Failure(`reading blob ${digest.slice(0, 12)}`, e);
    }
  }

  /** Deletes objects no version uses and older than `graceMs` (a log may be uploading them now). */
  async gc(used: Set<string>, dryRun: boolean, graceMs: number): Promise<{ blobs: number; bytes: number }> {
    let token: string | undefined;
    let blobs = 0;
    let bytes = 0;
    const cutoff = Date.now() - graceMs;
    const base = `${this.prefix}blobs/`;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base, ContinuationToken: token })).catch((e) => {
        throw s3Failure(`listing bucket ${this.bucket}`, e);
      });
      const doomed = (page.Contents ?? []).filter((o) => {
        const digest = o.Key!.slice(base.length);
        return !used.has(digest) && (o.LastModified?.getTime() ?? 0) < cutoff;
      });
      blobs += doomed.length;
      bytes += doomed.reduce((s, o) => s + (o.Size ?? 0), 0);
      if (!dryRun && doomed.length) {
        await this.ledger.forget(doomed.map((o) => o.Key!.slice(base.length)));
        // One DeleteObject each: the batch call needs a Content-MD5 that some S3 servers insist on.
        await forEachLimit(doomed, 16, async (o) => {
          await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: o.Key! }));
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    // A pack goes when none of its blobs is used any more (packs are not rewritten).
    const packs = await this.ledger.packs();
    for (const [pack, digests] of packs) {
      if (digests.some((d) => used.has(d))) continue;
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.packKey(pack) })).catch(() => undefined);
      if (head && (head.LastModified?.getTime() ?? 0) >= cutoff) continue;
      blobs += digests.length;
      bytes += head?.ContentLength ?? 0;
      if (!dryRun) {
        await this.ledger.forget(digests);
        if (head) await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.packKey(pack) }));
      }
    }
    return { blobs, bytes };
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { integrity, TroveError } from './errors';
import { makeS3Client, parseS3Url, s3EndpointUrl, s3SettingsFromEnv, s3Status } from './s3';
import type { ManifestEntry } from './types';

/**
 * `s3://bucket/key` references, recorded as W&B does: the object's ETag, version id (when the
 * bucket is versioned) and size, without reading or copying the bytes. The checksum string is
 * `etag:<ETag>`. Credentials and endpoint come from the usual AWS variables (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for S3-compatible stores).
 */
let shared: S3Client | undefined;
function client(): S3Client {
  shared ??= makeS3Client(s3SettingsFromEnv());
  return shared;
}

const unquote = (etag: string | undefined) => (etag ?? '').replace(/^W\/|"/g, '');

function where(uri: string): string {
  try {
    return `${uri} (${s3EndpointUrl(s3SettingsFromEnv())})`;
  } catch {
    return uri;
  }
}

export async function describeS3Reference(uri: string, signal?: AbortSignal): Promise<ManifestEntry> {
  const { bucket, key } = parseS3Url(uri);
  if (!key) throw new TroveError('invalid', `The reference ${uri} names a bucket but no object; write s3://bucket/path/to/object.`);
  let head;
  try {
    head = await client().send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
  } catch (e) {
    if (e instanceof TroveError) throw e;
    const status = s3Status(e);
    if (status === 404) throw new TroveError('invalid', `Referenced object ${where(uri)} does not exist; check the bucket and key.`);
    throw new TroveError('unavailable', `Cannot read referenced object ${where(uri)}: ${(e as Error).name}${status ? ` (HTTP ${status})` : ''}.`);
  }
  const etag = unquote(head.ETag);
  if (!etag) throw new TroveError('unavailable', `The object store returned no ETag for ${uri}; it cannot be recorded as a reference.`);
  return { digest: `etag:${etag}`, size: head.ContentLength ?? 0, ref: uri, etag, ...(head.VersionId && head.VersionId !== 'null' ? { versionId: head.VersionId } : {}) };
}

/** Fetches the recorded object (that version, when known) and refuses it if it changed. */
export async function fetchS3Reference(entry: ManifestEntry, destPath: string, signal?: AbortSignal): Promise<void> {
  const uri = entry.ref!;
  const { bucket, key } = parseS3Url(uri);
  const changed = (why: string) => integrity(`The referenced object ${uri} changed since it was logged (${why}); log a new version to record its current content.`);
  let res;
  try {
    res = await client().send(new GetObjectCommand({
      Bucket: bucket, Key: key, ...(entry.versionId ? { VersionId: entry.versionId } : {}), ...(entry.etag ? { IfMatch: `"${entry.etag}"` } : {}),
    }), { abortSignal: signal });
  } catch (e) {
    const status = s3Status(e);
    const name = (e as Error).name;
    if (status === 412) throw changed('its ETag is different');
    if (status === 404) throw changed(entry.versionId ? `the recorded version ${entry.versionId} is gone` : 'it no longer exists');
    throw new TroveError('unavailable', `Cannot fetch referenced object ${where(uri)}: ${name}${status ? ` (HTTP ${status})` : ''}.`);
  }
  if (entry.etag && unquote(res.ETag) !== entry.etag) throw changed('its ETag is different');
  if (res.ContentLength !== undefined && res.ContentLength !== entry.size) throw changed(`its size is ${res.ContentLength} bytes, not ${entry.size}`);
  let size = 0;
  try {
    await pipeline(res.Body as Readable, async function* (source) {
      for await (const chunk of source) {
        size += (chunk as Buffer).length;
        yield chunk;
      }
    }, createWriteStream(destPath, { flags: 'wx' }));
  } catch (e) {
    await unlink(destPath).catch(() => undefined);
    throw e;
  }
  if (size !== entry.size) {
    await unlink(destPath).catch(() => undefined);
    throw changed(`it now has ${size} bytes, not ${entry.size}`);
  }
}

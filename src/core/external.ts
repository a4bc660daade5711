import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { integrity, invalid, TroveError } from './errors';
import type { ManifestEntry } from './types';

/**
 * External references: files that stay where they are (`file://`, `http(s)://`) and are
 * recorded with a checksum of their content. Download fetches them and refuses content that
 * no longer matches. (`s3://` references are resolved by the S3 module of the server issue.)
 */
export type ExternalFetcher = (uri: string, signal?: AbortSignal) => Promise<NodeJS.ReadableStream>;

export function referenceScheme(uri: string): 'file' | 'http' | 's3' {
  if (uri.startsWith('file://')) return 'file';
  if (/^https?:\/\//.test(uri)) return 'http';
  if (uri.startsWith('s3://')) return 's3';
  throw invalid(`Unsupported reference "${uri}": use a file://, http(s):// or s3:// URI.`);
}

async function openReference(uri: string, signal?: AbortSignal): Promise<{ stream: NodeJS.ReadableStream; etag?: string }> {
  const scheme = referenceScheme(uri);
  if (scheme === 'file') {
    const path = fileURLToPath(uri);
    await stat(path).catch(() => {
      throw invalid(`Referenced file ${path} does not exist; fix the reference or restore the file.`);
    });
    return { stream: createReadStream(path, { highWaterMark: 1 << 20 }) };
  }
  if (scheme === 'http') {
    let res;
    try {
      // Loaded on first use: most runs never fetch a reference, and start-up time matters to the CLI.
      const { default: fetch } = await import('node-fetch');
      res = await fetch(uri, { signal: signal as never });
    } catch (e) {
      throw new TroveError('unavailable', `Cannot fetch ${uri}: ${(e as Error).message}.`);
    }
    if (!res.ok || !res.body) throw new TroveError('unavailable', `Fetching ${uri} failed with HTTP ${res.status}; check the URL.`);
    return { stream: res.body, etag: res.headers.get('etag') ?? undefined };
  }
  throw invalid(`s3:// references need a server with S3 configured; "${uri}" cannot be read here.`);
}

/** Reads a reference once to record its SHA-256 and size. */
export async function describeReference(uri: string, signal?: AbortSignal): Promise<ManifestEntry> {
  const { stream, etag } = await openReference(uri, signal);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: hash.digest('hex'), size, ref: uri, ...(etag ? { etag } : {}) };
}

/** Fetches a reference to `destPath`, checking it still has the recorded content. */
export async function fetchReference(entry: ManifestEntry, destPath: string, signal?: AbortSignal): Promise<void> {
  const { stream } = await openReference(entry.ref!, signal);
  const hash = createHash('sha256');
  let size = 0;
  try {
    await pipeline(
      Readable.from(stream as AsyncIterable<Buffer>),
      async function* (source) {
        for await (const chunk of source) {
          hash.update(chunk as Buffer);
          size += (chunk as Buffer).length;
          yield chunk;
        }
      },
      createWriteStream(destPath, { flags: 'wx' }),
    );
  } catch (e) {
    await unlink(destPath).catch(() => undefined);
    throw e;
  }
  if (hash.digest('hex') !== entry.digest || size !== entry.size) {
    await unlink(destPath).catch(() => undefined);
    throw integrity(`The referenced content at ${entry.ref} changed since it was logged (checksum mismatch); log a new version to record the new content.`);
  }
}

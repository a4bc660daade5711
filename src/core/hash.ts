import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { integrity, throwIfAborted, type TroveError } from './errors';

/** Files up to this size are read whole; larger ones are streamed. */
export const SMALL_FILE = 1 << 20;

/** Bytes received for a blob (an upload, a pack member) that are not the blob they were sent as. */
export function digestMismatch(blob: { digest: string; size: number }, gotDigest: string, gotSize: number): TroveError {
  return integrity(gotSize !== blob.size
    ? `The upload of blob ${blob.digest.slice(0, 12)} carried ${gotSize} bytes, not the ${blob.size} announced; nothing was stored.`
    : `The uploaded bytes have SHA-256 ${gotDigest.slice(0, 12)}…, not the digest ${blob.digest.slice(0, 12)}… they were sent under; nothing was stored.`);
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function hashFile(path: string, signal?: AbortSignal, onBytes?: (n: number) => void): Promise<{ digest: string; size: number }> {
  throwIfAborted(signal);
  const hash = createHash('sha256');
  let size = 0;
  const stream = createReadStream(path, { highWaterMark: 1 << 20, signal });
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
    onBytes?.((chunk as Buffer).length);
  }
  return { digest: hash.digest('hex'), size };
}

export async function readAndHash(path: string): Promise<{ data: Buffer; digest: string }> {
  const data = await readFile(path);
  return { data, digest: sha256(data) };
}

/** Runs `worker` over `items` with at most `limit` in flight; stops at the first error. */
export async function forEachLimit<T>(items: readonly T[], limit: number, worker: (item: T, index: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let failed: unknown;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        throwIfAborted(signal);
        await worker(items[i], i);
      } catch (e) {
        if (failed === undefined) failed = e;
      }
    }
  });
  await Promise.all(lanes);
  if (failed !== undefined) throw failed;
}

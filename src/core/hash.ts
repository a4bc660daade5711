import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { throwIfAborted } from './errors';

/** Files up to this size are read whole; larger ones are streamed. */
export const SMALL_FILE = 1 << 20;

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

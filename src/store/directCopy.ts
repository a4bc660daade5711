import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import { throwIfAborted } from '../core/errors';

const CHUNK = 8 << 20;
const BUFFERS = 3;
/** Buffer address, file offset and length alignment that O_DIRECT needs on any common disk. */
const ALIGN = 4096;
/** Node's buffers are 16-byte aligned; an aligned window is found by trying each such offset. */
const MALLOC_ALIGN = 16;

/** Copies at once: each holds BUFFERS x CHUNK of memory, and the disk is the limit anyway. */
const MAX_COPIES = 2;
let copies = 0;
const waiting: (() => void)[] = [];

/**
 * Copies `src` to a new file `dest` (which must not exist) and hashes it, reading the source
 * once: what is written is exactly what was hashed. A source that changes meanwhile yields a
 * copy of some state of it, with that copy's digest; one that grows is copied up to the first
 * read that reaches its end.
 *
 * The destination is written with O_DIRECT where the filesystem allows it. A buffered copy of a
 * large file allocates a page-cache page for every 4 KiB written, and on virtual machines whose
 * free memory is handed back to the host that allocation, not the disk, is what takes the time
 * (a 1 GiB copy: about 3 s buffered against 0.5 s direct here). Reads, hashing and writes
 * overlap: one buffer is hashed while the next is read and the previous one is written.
 * `direct: false` asks for a buffered copy; the result's `direct` tells which one was made.
 * On failure or cancellation a destination this call created is removed.
 */
export async function copyAndHash(src: string, dest: string, options: { signal?: AbortSignal; onBytes?: (n: number) => void; direct?: boolean } = {}): Promise<{ digest: string; size: number; direct: boolean }> {
  throwIfAborted(options.signal);
  // A free slot is handed straight from the copy that ends to the first one waiting.
  if (copies < MAX_COPIES) copies++;
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await copy(src, dest, options);
  } finally {
    const next = waiting.shift();
    if (next) next();
    else copies--;
  }
}

async function copy(src: string, dest: string, options: { signal?: AbortSignal; onBytes?: (n: number) => void; direct?: boolean }): Promise<{ digest: string; size: number; direct: boolean }> {
  throwIfAborted(options.signal);
  const input = await open(src, 'r');
  let output: FileHandle | undefined;
  let created = false;
  const writes: Promise<void>[] = [];
  let reading: Promise<number> | undefined;
  try {
    const { size: expected } = await input.stat();
    const chunk = Math.min(CHUNK, roundUp(Math.max(expected, 1), ALIGN));
    // Zeroed, so that neither the alignment probe nor the padding of the last block can put
    // stale process memory on disk, even for the moment before the truncate.
    const arena = Buffer.alloc(chunk * BUFFERS + ALIGN);
    let shift = -1;
    output = options.direct === false ? undefined : await openDirect(dest);
    created = !!output;
    if (output) {
      shift = await findAlignedWindow(output, arena);
      if (shift < 0) {
        // The filesystem took O_DIRECT at open but refuses every aligned write: copy buffered.
        await output.close();
        output = undefined;
        output = await open(dest, 'w');
      }
    } else {
      output = await open(dest, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      created = true;
    }
    const direct = shift >= 0;
    const base = Math.max(shift, 0);
    const buffers = Array.from({ length: BUFFERS }, (_, i) => arena.subarray(base + i * chunk, base + (i + 1) * chunk));
    const hash = createHash('sha256');
    let size = 0;
    let k = 0;
    reading = settleLater(readFull(input, buffers[0], 0));
    while (reading) {
      const bytesRead: number = await reading;
      reading = undefined;
      if (bytesRead === 0) break;
      throwIfAborted(options.signal);
      const buffer = buffers[k % BUFFERS];
      const next = (k + 1) % BUFFERS;
      // A short read reached the end: no read after it, so that every write but the last
      // starts on a block boundary even if the file grows meanwhile.
      if (bytesRead === chunk) {
        await writes[next]; // the buffer the next read fills must be written out first
        reading = settleLater(readFull(input, buffers[next], size + bytesRead));
      }
      hash.update(buffer.subarray(0, bytesRead));
      // A direct write must cover whole blocks; the padding past the end is truncated below.
      writes[k % BUFFERS] = settleLater(writeAll(output, dest, buffer, direct ? roundUp(bytesRead, ALIGN) : bytesRead, size));
      size += bytesRead;
      options.onBytes?.(bytesRead);
      k++;
    }
    await Promise.all(writes);
    if (direct) await output.truncate(size);
    const out = output;
    output = undefined;
    await out.close(); // a failed close can be a failed write: it fails the copy
    return { digest: hash.digest('hex'), size, direct };
  } catch (e) {
    await Promise.allSettled([...writes, reading]);
    await Promise.allSettled([output?.close()]);
    output = undefined;
    if (created) await unlink(dest).catch(() => undefined);
    throw e;
  } finally {
    await Promise.allSettled([output?.close(), input.close()]);
  }
}

/** Writes all `length` bytes at `position`; a write the disk cuts short (full, quota) fails. */
async function writeAll(output: FileHandle, path: string, buffer: Buffer, length: number, position: number): Promise<void> {
  const { bytesWritten } = await output.write(buffer, 0, length, position);
  if (bytesWritten !== length) {
    throw Object.assign(new Error(`Only ${bytesWritten} of ${length} bytes could be written to ${path}.`), { code: 'ENOSPC', path });
  }
}

/**
 * Fills `buffer` from `position` on, stopping early only at the end of the file, so that every
 * write but the last starts on a block boundary.
 */
async function readFull(input: FileHandle, buffer: Buffer, position: number): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await input.read(buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** Opens `dest` for direct writes, or returns undefined where the filesystem has no O_DIRECT (some FUSE filesystems). */
async function openDirect(dest: string): Promise<FileHandle | undefined> {
  if (!constants.O_DIRECT) return undefined;
  try {
    return await open(dest, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT, 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EINVAL') return undefined;
    throw e;
  }
}

/**
 * Node gives no buffer addresses, so the offset into `arena` at which memory is aligned for
 * O_DIRECT is found by writing one block from each candidate offset: a misaligned buffer fails
 * with EINVAL before any I/O. Returns -1 if none is accepted.
 */
async function findAlignedWindow(output: FileHandle, arena: Buffer): Promise<number> {
  for (let offset = 0; offset < ALIGN; offset += MALLOC_ALIGN) {
    try {
      await output.write(arena, offset, ALIGN, 0);
      return offset;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
    }
  }
  return -1;
}

/** Marks `p` as handled now (it is awaited later, maybe after it fails) and returns it. */
function settleLater<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

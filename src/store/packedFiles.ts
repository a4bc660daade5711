import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { integrity, throwIfAborted, TroveError } from '../core/errors';

/** One small blob to write out of its pack into a new file. */
export interface PackedFileJob {
  dest: string;
  /** The pack file's path. */
  pack: string;
  offset: number;
  size: number;
  /** SHA-256 the bytes must have: a blob damaged in its pack is never handed out. */
  digest: string;
}

/** Below this many files a second thread costs more (its start-up) than it saves. */
const PARALLEL_FROM = 1000;
/** Files between progress reports, and between checks for cancellation. */
const REPORT_EVERY = 256;

/**
 * Writes blobs out of packs into new files (which must not exist). File creation is what takes
 * the time on common filesystems, and the kernel creates files in different folders in
 * parallel: from PARALLEL_FROM files on, a worker thread writes half of them (whole folders
 * where there are several) while this thread writes the other half.
 */
export async function writePackedFiles(jobs: PackedFileJob[], options: { signal?: AbortSignal; onDone?: (files: number, bytes: number) => void } = {}): Promise<void> {
  const { signal } = options;
  const report = (files: number, bytes: number) => options.onDone?.(files, bytes);
  const writeHere = async (list: PackedFileJob[]) => {
    for (let i = 0; i < list.length; i += REPORT_EVERY) {
      throwIfAborted(signal);
      const part = list.slice(i, i + REPORT_EVERY);
      try {
        writeFromPacks(part, fs, crypto);
      } catch (e) {
        throw asTroveError(e);
      }
      report(part.length, part.reduce((s, j) => s + j.size, 0));
      await new Promise((r) => setImmediate(r)); // lets the worker's reports and a cancel through
    }
  };
  if (jobs.length < PARALLEL_FROM) return writeHere(jobs);
  const [mine, theirs] = splitByFolder(jobs);
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { jobs: theirs, every: REPORT_EVERY } });
  let onAbort: (() => void) | undefined;
  const theirsDone = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: { files?: number; bytes?: number; error?: { message: string; code?: string; path?: string } }) => {
      if (m.error) reject(asTroveError(Object.assign(new Error(m.error.message), { code: m.error.code, path: m.error.path })));
      else if (m.files === undefined) resolve();
      else report(m.files, m.bytes ?? 0);
    });
    worker.on('error', reject);
    worker.on('exit', () => reject(new Error('The file-writing thread stopped early.')));
    onAbort = () => reject(new TroveError('cancelled', 'Cancelled.'));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  theirsDone.catch(() => undefined); // awaited below, possibly after this thread failed
  try {
    await writeHere(mine);
    await theirsDone;
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    await worker.terminate();
  }
}

/** A damaged blob becomes the store's integrity error; file-system errors stay as they are. */
function asTroveError(e: unknown): unknown {
  return (e as { code?: string }).code === 'TROVE_INTEGRITY' ? integrity((e as Error).message) : e;
}

/**
 * Two shares of about equal size: whole folders go to the smaller share, so that the two
 * threads rarely create files in the same folder; a single big folder is cut in half.
 */
function splitByFolder(jobs: PackedFileJob[]): [PackedFileJob[], PackedFileJob[]] {
  const folders = new Map<string, PackedFileJob[]>();
  for (const job of jobs) {
    const folder = job.dest.slice(0, Math.max(job.dest.lastIndexOf('/'), job.dest.lastIndexOf('\\')));
    let list = folders.get(folder);
    if (!list) folders.set(folder, (list = []));
    list.push(job);
  }
  const groups = [...folders.values()].sort((a, b) => b.length - a.length);
  if (groups[0].length > jobs.length / 2) {
    const half = Math.ceil(jobs.length / 2);
    return [jobs.slice(0, half), jobs.slice(half)];
  }
  const shares: [PackedFileJob[], PackedFileJob[]] = [[], []];
  for (const group of groups) shares[shares[0].length <= shares[1].length ? 0 : 1].push(...group);
  return shares;
}

/**
 * The writing itself. It runs on this thread and, from its source text, in the worker: so it
 * may use nothing but its parameters and JavaScript's globals.
 */
function writeFromPacks(jobs: PackedFileJob[], files: typeof fs, hashes: typeof crypto): void {
  const packs = new Map<string, number>();
  let buffer = Buffer.allocUnsafe(64 << 10);
  try {
    for (const job of jobs) {
      let fd = packs.get(job.pack);
      if (fd === undefined) {
        fd = files.openSync(job.pack, 'r');
        packs.set(job.pack, fd);
      }
      if (buffer.length < job.size) buffer = Buffer.allocUnsafe(job.size);
      let read = 0;
      while (read < job.size) {
        const n = files.readSync(fd, buffer, read, job.size - read, job.offset + read);
        if (n === 0) throw new Error(`The pack ${job.pack} is shorter than its index says; run \`trove verify\`.`);
        read += n;
      }
      const data = buffer.subarray(0, job.size);
      if (hashes.createHash('sha256').update(data).digest('hex') !== job.digest) {
        throw Object.assign(new Error(`Blob ${job.digest.slice(0, 12)} is damaged in its pack (its content no longer matches its digest); run \`trove verify\`.`), { code: 'TROVE_INTEGRITY' });
      }
      const out = files.openSync(job.dest, 'wx');
      try {
        let written = 0;
        while (written < job.size) written += files.writeSync(out, data, written, job.size - written);
      } finally {
        files.closeSync(out);
      }
    }
  } finally {
    for (const fd of packs.values()) files.closeSync(fd);
  }
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const write = ${writeFromPacks.toString()};
const { jobs, every } = workerData;
try {
  for (let i = 0; i < jobs.length; i += every) {
    const part = jobs.slice(i, i + every);
    write(part, fs, crypto);
    parentPort.postMessage({ files: part.length, bytes: part.reduce((s, j) => s + j.size, 0) });
  }
  parentPort.postMessage({});
} catch (e) {
  parentPort.postMessage({ error: { message: e.message, code: e.code, path: e.path } });
}
`;

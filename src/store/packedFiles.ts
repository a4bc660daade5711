import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { integrity, throwIfAborted } from '../core/errors';

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
/** Files per batch: between progress reports and checks for cancellation, and handed to the worker. */
const BATCH = 128;
/** Batches the worker holds at once, so that it never waits for this thread to hand it more. */
const WORKER_AHEAD = 2;

type WorkerMessage = { files: number; bytes: number } | { error: { message: string; code?: string; path?: string } };

/**
 * Writes blobs out of packs into new files (which must not exist). File creation is what takes
 * the time on common filesystems, and the kernel creates files in different folders in
 * parallel: from PARALLEL_FROM files on, a worker thread helps. The jobs come in path order;
 * this thread takes batches from the front and the worker from the back, so the two work in
 * different folders until they meet, and whichever is faster does more.
 */
export async function writePackedFiles(jobs: PackedFileJob[], options: { signal?: AbortSignal; onDone?: (files: number, bytes: number) => void } = {}): Promise<void> {
  const { signal } = options;
  const batches: PackedFileJob[][] = [];
  for (let i = 0; i < jobs.length; i += BATCH) batches.push(jobs.slice(i, i + BATCH));
  const report = (batch: PackedFileJob[]) => options.onDone?.(batch.length, batch.reduce((s, j) => s + j.size, 0));
  let front = 0;
  let back = batches.length;
  let worker: Worker | undefined;
  let workerFailed: unknown;
  let wake: (() => void) | undefined;
  const handedOut: PackedFileJob[][] = [];
  const handOut = () => {
    while (worker && workerFailed === undefined && handedOut.length < WORKER_AHEAD && front < back) {
      const batch = batches[--back];
      handedOut.push(batch);
      worker.postMessage(batch);
    }
  };
  if (jobs.length >= PARALLEL_FROM) {
    worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', (m: WorkerMessage) => {
      if ('error' in m) workerFailed = asTroveError(Object.assign(new Error(m.error.message), { code: m.error.code, path: m.error.path }));
      else report(handedOut.shift()!);
      handOut();
      wake?.();
    });
    worker.on('error', (e) => {
      workerFailed = e;
      wake?.();
    });
    worker.on('exit', () => {
      if (handedOut.length && workerFailed === undefined) workerFailed = new Error('The file-writing thread stopped early.');
      wake?.();
    });
    handOut();
  }
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    while (front < back) {
      throwIfAborted(signal);
      if (workerFailed !== undefined) throw workerFailed;
      const batch = batches[front++];
      try {
        writeFromPacks(batch, fs, crypto);
      } catch (e) {
        throw asTroveError(e);
      }
      report(batch);
      await new Promise((r) => setImmediate(r)); // lets the worker's messages and a cancel through
    }
    while (handedOut.length && workerFailed === undefined) {
      throwIfAborted(signal);
      await new Promise<void>((resolve) => (wake = resolve));
    }
    throwIfAborted(signal);
    if (workerFailed !== undefined) throw workerFailed;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    wake = undefined;
    await worker?.terminate();
  }
}

/** A damaged blob becomes the store's integrity error; file-system errors stay as they are. */
function asTroveError(e: unknown): unknown {
  return (e as { code?: string }).code === 'TROVE_INTEGRITY' ? integrity((e as Error).message) : e;
}

/**
 * The writing itself. It runs on this thread and, from its source text, in the worker: so it
 * may use nothing but its parameters and JavaScript's globals. Jobs whose bytes lie close
 * together in one pack (a version's files are stored in path order, so most of them do) are
 * read with one read of up to 1 MiB instead of one each.
 */
function writeFromPacks(jobs: PackedFileJob[], files: typeof fs, hashes: typeof crypto): void {
  const SPAN = 1 << 20;
  const GAP = 64 << 10;
  const digestOf = typeof hashes.hash === 'function'
    ? (data: Buffer) => hashes.hash('sha256', data)
    : (data: Buffer) => hashes.createHash('sha256').update(data).digest('hex');
  const packs = new Map<string, number>();
  let buffer = Buffer.allocUnsafe(SPAN);
  try {
    for (let i = 0; i < jobs.length;) {
      const first = jobs[i];
      let fd = packs.get(first.pack);
      if (fd === undefined) {
        fd = files.openSync(first.pack, 'r');
        packs.set(first.pack, fd);
      }
      // The run of jobs read together: same pack, each after the last, within SPAN of the first.
      let end = first.offset + first.size;
      let next = i + 1;
      while (next < jobs.length) {
        const job = jobs[next];
        if (job.pack !== first.pack || job.offset < end || job.offset - end > GAP || job.offset + job.size - first.offset > SPAN) break;
        end = job.offset + job.size;
        next++;
      }
      const length = end - first.offset;
      if (buffer.length < length) buffer = Buffer.allocUnsafe(length);
      let read = 0;
      while (read < length) {
        const n = files.readSync(fd, buffer, read, length - read, first.offset + read);
        if (n === 0) throw Object.assign(new Error(`The pack ${first.pack} is shorter than its index says; run \`trove verify\`.`), { code: 'TROVE_INTEGRITY' });
        read += n;
      }
      for (; i < next; i++) {
        const job = jobs[i];
        const data = buffer.subarray(job.offset - first.offset, job.offset - first.offset + job.size);
        if (digestOf(data) !== job.digest) {
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
    }
  } finally {
    for (const fd of packs.values()) files.closeSync(fd);
  }
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const write = ${writeFromPacks.toString()};
parentPort.on('message', (batch) => {
  try {
    write(batch, fs, crypto);
    parentPort.postMessage({ files: batch.length, bytes: batch.reduce((s, j) => s + j.size, 0) });
  } catch (e) {
    parentPort.postMessage({ error: { message: e.message, code: e.code, path: e.path } });
  }
});
`;

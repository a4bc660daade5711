import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TroveError } from '../core/errors';

/** An empty lock older than this was left by a writer killed between creating and filling it. */
const EMPTY_LOCK_STALE_MS = 5_000;

/**
 * An exclusive lock between processes: a file holding `pid@host`, which appears with its content
 * already in it (written to a private file, then hard-linked to the lock's name: the link fails
 * if the lock exists). A lock left by a process that died on this host is taken over, and so is
 * an empty one that has been empty for seconds; anything else is waited for.
 */
export async function withLock<T>(lockPath: string, body: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const owner = `${process.pid}@${hostname()}`;
  const mine = `${lockPath}.${process.pid}-${randomBytes(4).toString('hex')}`;
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  await writeFile(mine, owner);
  try {
    for (;;) {
      try {
        await link(mine, lockPath);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const holder = await readFile(lockPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return undefined; // released meanwhile: try again at once
          throw err;
        });
        if (holder === undefined) continue;
        if (holder ? isDeadLocalProcess(holder) : await emptyForLong(lockPath)) {
          await takeOverStaleLock(lockPath, holder);
          continue;
        }
        if (Date.now() > deadline) {
          throw new TroveError('conflict', `The store is locked by process ${holder || 'unknown'} (${lockPath}); wait for it to finish or remove the lock file if that process is gone.`);
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 50);
      }
    }
  } finally {
    await unlink(mine).catch(() => undefined);
  }
  try {
    return await body();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}

/**
 * Moves a dead process's lock aside. Two waiters may both see it dead: the rename lets only one
 * move a given file, and a waiter that finds it moved a live lock instead links it back.
 */
async function takeOverStaleLock(lockPath: string, deadHolder: string): Promise<void> {
  const aside = `${lockPath}.stale-${process.pid}-${Date.now()}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = await readFile(aside, 'utf8').catch(() => deadHolder);
  if (moved !== deadHolder) await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

async function emptyForLong(lockPath: string): Promise<boolean> {
  const st = await stat(lockPath).catch(() => undefined);
  return !!st && st.size === 0 && Date.now() - st.mtimeMs > EMPTY_LOCK_STALE_MS;
}

export function isDeadLocalProcess(holder: string): boolean {
  const [pid, host] = holder.split('@');
  if (host !== hostname()) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** How long gc waits for commits that hold their gate before it gives up. */
const GC_WAIT_MS = 120_000;

/**
 * Commits and garbage collection exclude each other, store-wide; commits do not exclude each
 * other. A commit puts a marker file holding `pid@host` into `<gateDir>/commits/`, then looks
 * for `<gateDir>/gc.lock`: if a live gc holds it, the commit takes its marker back and waits.
 * gc takes `gc.lock` (withLock), then waits until `commits/` holds no marker of a live process.
 * Each side writes its own file before it looks for the other's, so at least one of them sees
 * the other: a commit never checks its blobs while gc deletes.
 */
export async function withCommitGate<T>(gateDir: string, body: () => Promise<T>): Promise<T> {
  const owner = `${process.pid}@${hostname()}`;
  const commits = join(gateDir, 'commits');
  const marker = join(commits, `${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(commits, { recursive: true });
  let delay = 5;
  for (;;) {
    await writeFile(marker, owner);
    const holder = await readFile(join(gateDir, 'gc.lock'), 'utf8').catch(() => undefined);
    if (holder === undefined || isDeadLocalProcess(holder)) break;
    await unlink(marker).catch(() => undefined);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await body();
  } finally {
    await unlink(marker).catch(() => undefined);
  }
}

/** gc's side of the gate: runs `body` while no commit runs (see withCommitGate). */
export async function withGcGate<T>(gateDir: string, body: () => Promise<T>): Promise<T> {
  const commits = join(gateDir, 'commits');
  await mkdir(commits, { recursive: true });
  return withLock(join(gateDir, 'gc.lock'), async () => {
    const deadline = Date.now() + GC_WAIT_MS;
    let delay = 2;
    for (;;) {
      let live = 0;
      for (const name of await readdir(commits).catch(() => [] as string[])) {
        const holder = await readFile(join(commits, name), 'utf8').catch(() => undefined);
        if (holder === undefined) continue;
        // A marker of a killed committer goes; an empty one is being written (live) unless it
        // stayed empty for seconds (its writer was killed between creating and filling it).
        if (holder ? isDeadLocalProcess(holder) : await emptyForLong(join(commits, name))) await unlink(join(commits, name)).catch(() => undefined);
        else live++;
      }
      if (!live) break;
      if (Date.now() > deadline) throw new TroveError('conflict', `Garbage collection waited ${GC_WAIT_MS / 1000} s for logs to finish committing (${commits}); run it again later.`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 50);
    }
    return body();
  }, GC_WAIT_MS);
}

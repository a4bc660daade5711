import { hostname } from 'node:os';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { TroveError } from '../core/errors';

/**
 * An exclusive lock between processes: a file created with O_EXCL holding `pid@host`.
 * A lock left by a process that died on this host is taken over; anything else is waited for.
 */
export async function withLock<T>(lockPath: string, body: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const owner = `${process.pid}@${hostname()}`;
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx');
      await fh.writeFile(owner);
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = await readFile(lockPath, 'utf8').catch(() => '');
      if (holder && isDeadLocalProcess(holder)) {
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

function isDeadLocalProcess(holder: string): boolean {
  const [pid, host] = holder.split('@');
  if (host !== hostname()) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

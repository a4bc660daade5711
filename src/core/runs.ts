import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { invalid, notFound, type TroveError } from './errors';
import { validateProject, validateType } from './names';
import type { Registry } from './registry';
import type { NewRun, RunRecord } from './types';

/**
 * The record of a run that starts now, as every backend stores it: an id that sorts by start
 * time (`YYYYMMDDhhmmss-<8 hex>`), a default name `<jobType>-<last 8 of the id>`, this host.
 */
export function newRunRecord(input: NewRun): RunRecord {
  validateProject(input.project);
  validateType(input.jobType);
  const startedAt = new Date();
  const id = `${startedAt.toISOString().replace(/[-:TZ.]/g, '').slice(0, 14)}-${randomBytes(4).toString('hex')}`;
  return {
    id, project: input.project, jobType: input.jobType, name: input.name || `${input.jobType}-${id.slice(-8)}`,
    ...(input.command ? { command: input.command } : {}), host: hostname(), startedAt: startedAt.toISOString(), status: 'running',
    ...(input.git ? { git: input.git } : {}),
  };
}

/** Run ids as newRunRecord makes them (and older clients may): letters, digits, `_` and `-`. */
const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Returns `id` when it can be a run id; otherwise throws, before any backend looks it up. */
export function checkRunId(id: string): string {
  if (!RUN_ID.test(id)) throw invalid(`Invalid run id "${id}".`);
  return id;
}

/** A run id that is well formed but not in the backend at `location`. */
export function runNotFound(id: string, location: string): TroveError {
  return notFound(`Run "${id}" does not exist in ${location}.`);
}

/**
 * The bookkeeping around one piece of work done as a run: `body` runs, then the run is marked
 * finished, or failed when `body` throws (the error is passed on; a failure to record the failure
 * is not allowed to hide it). `runId` undefined: the work is not recorded as a run.
 */
export async function finishRunAfter<T>(registry: Pick<Registry, 'finishRun'>, runId: string | undefined, body: () => PromiseLike<T>): Promise<T> {
  try {
    const result = await body();
    if (runId) await registry.finishRun(runId, 'finished');
    return result;
  } catch (e) {
    if (runId) await registry.finishRun(runId, 'failed').catch(() => undefined);
    throw e;
  }
}

/** Starts a run, does `body` as its work, and marks the run finished or failed (see finishRunAfter). */
export async function withRun<T>(registry: Pick<Registry, 'createRun' | 'finishRun'>, input: NewRun, body: (run: RunRecord) => PromiseLike<T>): Promise<T> {
  const run = await registry.createRun(input);
  return finishRunAfter(registry, run.id, () => body(run));
}

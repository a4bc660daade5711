import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { validateProject, validateType } from './names';
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

import type { Progress } from './types';

export type ProgressUpdate = Parameters<Progress['report']>[0];

/**
 * What a stream of progress reports adds up to, for a face that shows it (the CLI's bar, VS
 * Code's notification): each report names only what changed, so the last value of each field
 * counts; and redraws are throttled to one per `intervalMs`.
 */
export class ProgressTally {
  files = 0;
  bytes = 0;
  totalFiles = 0;
  totalBytes = 0;
  phase = '';
  private lastDraw = 0;

  constructor(private readonly intervalMs = 100) {}

  /** Takes one report; returns whether it moved to another phase. */
  add(u: ProgressUpdate): boolean {
    if (u.files !== undefined) this.files = u.files;
    if (u.bytes !== undefined) this.bytes = u.bytes;
    if (u.totalFiles !== undefined) this.totalFiles = u.totalFiles;
    if (u.totalBytes !== undefined) this.totalBytes = u.totalBytes;
    const phaseChanged = u.phase !== undefined && u.phase !== this.phase;
    if (u.phase !== undefined) this.phase = u.phase;
    return phaseChanged;
  }

  /** Whether to redraw now: when `force`d, or when `intervalMs` passed since the last redraw (which this one becomes). */
  due(force = false): boolean {
    const now = Date.now();
    if (!force && now - this.lastDraw < this.intervalMs) return false;
    this.lastDraw = now;
    return true;
  }
}

import { formatSize } from '../core/format';
import type { Progress } from '../core/types';

/**
 * A one-line progress bar on stderr, redrawn at most every 100 ms; silent unless stderr is a
 * terminal (and the CLI turns it off for --json).
 */
export class TerminalProgress implements Progress {
  private files = 0;
  private bytes = 0;
  private totalFiles = 0;
  private totalBytes = 0;
  private phase = '';
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  report(u: { files?: number; bytes?: number; totalFiles?: number; totalBytes?: number; phase?: string }): void {
    if (u.files !== undefined) this.files = u.files;
    if (u.bytes !== undefined) this.bytes = u.bytes;
    if (u.totalFiles !== undefined) this.totalFiles = u.totalFiles;
    if (u.totalBytes !== undefined) this.totalBytes = u.totalBytes;
    if (u.phase !== undefined) this.phase = u.phase;
    const now = Date.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.draw();
  }

  private draw(): void {
    const frac = this.totalBytes > 0 ? Math.min(1, this.bytes / this.totalBytes) : this.totalFiles > 0 ? this.files / this.totalFiles : 0;
    const width = 24;
    const full = Math.round(frac * width);
    const bar = '#'.repeat(full) + '-'.repeat(width - full);
    const line = `${this.phase.padEnd(11)} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}%  ${this.files}/${this.totalFiles} files  ${formatSize(this.bytes)}/${formatSize(this.totalBytes)}`;
    this.stream.write(`\r${line.slice(0, (this.stream.columns || 100) - 1)}\x1b[K`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
  }
}

export function progressFor(json: boolean): TerminalProgress | undefined {
  return !json && process.stderr.isTTY ? new TerminalProgress() : undefined;
}

import { formatSize } from '../core/format';
import { ProgressTally, type ProgressUpdate } from '../core/progress';
import type { Progress } from '../core/types';

/**
 * A one-line progress bar on stderr, redrawn at most every 100 ms; silent unless stderr is a
 * terminal (and the CLI turns it off for --json).
 */
export class TerminalProgress implements Progress {
  private readonly tally = new ProgressTally();
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  report(u: ProgressUpdate): void {
    this.tally.add(u);
    if (this.tally.due()) this.draw();
  }

  private draw(): void {
    const { files, bytes, totalFiles, totalBytes, phase } = this.tally;
    const frac = totalBytes > 0 ? Math.min(1, bytes / totalBytes) : totalFiles > 0 ? files / totalFiles : 0;
    const width = 24;
    const full = Math.round(frac * width);
    const bar = '#'.repeat(full) + '-'.repeat(width - full);
    const line = `${phase.padEnd(11)} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}%  ${files}/${totalFiles} files  ${formatSize(bytes)}/${formatSize(totalBytes)}`;
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

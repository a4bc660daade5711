import * as vscode from 'vscode';
import type { TransferOptions } from '../core/types';
import { formatSize } from '../core/format';
import { ProgressTally } from '../core/progress';

/**
 * Runs a Registry operation under a cancellable progress notification: Registry progress reports
 * (files hashed, bytes stored) become the notification's message and bar, and Cancel aborts the
 * operation's signal.
 */
export function withTransferProgress<T>(title: string, task: (options: TransferOptions) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    const tally = new ProgressTally();
    let shownPercent = 0;
    const draw = (force: boolean) => {
      if (!tally.due(force)) return;
      const { files, bytes, totalFiles, totalBytes, phase } = tally;
      const percent = totalBytes > 0 ? Math.min(100, (bytes / totalBytes) * 100) : 0;
      const parts = [phase, totalFiles ? `${files}/${totalFiles} files` : '', totalBytes ? `${formatSize(bytes)} of ${formatSize(totalBytes)}` : ''].filter(Boolean);
      progress.report({ message: parts.join(' · '), increment: Math.max(0, percent - shownPercent) });
      shownPercent = Math.max(shownPercent, percent);
    };
    try {
      return await task({
        signal: abort.signal,
        progress: {
          report(u) {
            draw(tally.add(u));
          },
        },
      });
    } finally {
      sub.dispose();
    }
  });
}

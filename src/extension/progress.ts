import * as vscode from 'vscode';
import type { TransferOptions } from '../core/types';
import { formatSize } from '../core/format';

/**
 * Runs a Registry operation under a cancellable progress notification: Registry progress reports
 * (files hashed, bytes stored) become the notification's message and bar, and Cancel aborts the
 * operation's signal.
 */
export function withTransferProgress<T>(title: string, task: (options: TransferOptions) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    let files = 0;
    let bytes = 0;
    let totalFiles = 0;
    let totalBytes = 0;
    let phase = '';
    let shownPercent = 0;
    let lastDraw = 0;
    const draw = (force: boolean) => {
      const now = Date.now();
      if (!force && now - lastDraw < 100) return;
      lastDraw = now;
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
            if (u.files !== undefined) files = u.files;
            if (u.bytes !== undefined) bytes = u.bytes;
            if (u.totalFiles !== undefined) totalFiles = u.totalFiles;
            if (u.totalBytes !== undefined) totalBytes = u.totalBytes;
            const phaseChanged = u.phase !== undefined && u.phase !== phase;
            if (u.phase !== undefined) phase = u.phase;
            draw(phaseChanged);
          },
        },
      });
    } finally {
      sub.dispose();
    }
  });
}

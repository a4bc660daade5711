import * as vscode from 'vscode';
import { describeError, isTroveError } from '../core/errors';

/**
 * The extension's log channel and its error reporting: the detail (stack included) goes to the
 * "Trove" output channel, the user sees one sentence with a "Show Output" button.
 */
export class TroveLog implements vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel('Trove', { log: true });
  /** The last message shown to the user for a failure (read by the extension-host tests). */
  lastError: string | undefined;

  info(message: string): void {
    this.channel.info(message);
  }

  /** Reports a failure of `what` (for example "Log Folder as Artifact"). */
  report(what: string, e: unknown): void {
    if (isTroveError(e) && e.code === 'cancelled') {
      this.channel.info(`${what}: cancelled`);
      return;
    }
    const message = describeError(e);
    this.lastError = message;
    this.channel.error(`${what} failed: ${message}`);
    if (e instanceof Error && !isTroveError(e) && e.stack) this.channel.debug(e.stack);
    void vscode.window.showErrorMessage(message, 'Show Output').then((choice) => {
      if (choice) this.channel.show(true);
    });
  }

  /** Wraps a command body so that every failure is logged and reported the same way. */
  wrap<A extends unknown[], R>(what: string, body: (...args: A) => Promise<R>): (...args: A) => Promise<R | undefined> {
    return async (...args: A) => {
      try {
        return await body(...args);
      } catch (e) {
        this.report(what, e);
        return undefined;
      }
    };
  }

  dispose(): void {
    this.channel.dispose();
  }
}

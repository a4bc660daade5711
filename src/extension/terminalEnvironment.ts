import { delimiter, join } from 'node:path';
import * as vscode from 'vscode';
import { defaultStorePath } from '../core/config';
import { affectsTrove, isServerUrl, readConfig } from './config';
import type { TroveLog } from './log';
import { terminalVariables, writeTerminalCli } from './terminalCli';

/**
 * `trove` in VS Code's integrated terminals: the extension's bundled CLI on PATH (a launcher in
 * the extension's global storage that runs it on the editor's own Node), and the backend the
 * settings name in TROVE_STORE / TROVE_SERVER / TROVE_PROJECT, so that `trove log` in a terminal
 * lands in the store the tree shows. The token stays in SecretStorage: terminals never get it.
 */
export class TerminalEnvironment implements vscode.Disposable {
  private readonly collection: vscode.GlobalEnvironmentVariableCollection;
  private readonly subscription: vscode.Disposable;

  constructor(context: vscode.ExtensionContext, private readonly log: TroveLog) {
    this.collection = context.environmentVariableCollection;
    this.collection.description = 'Puts the `trove` CLI on PATH, with the store, project and server from the Trove settings.';
    const binDir = join(context.globalStorageUri.fsPath, 'bin');
    const version = String((context.extension.packageJSON as { version?: unknown }).version ?? '');
    // PATH changes at once (new terminals may start before the file is written: it is, by then).
    this.collection.prepend('PATH', `${binDir}${delimiter}`);
    this.applySettings();
    void writeTerminalCli(binDir, { execPath: process.execPath, cliPath: join(context.extensionPath, 'dist', 'cli.js'), version }).then(
      (file) => log.info(`trove ${version} on PATH in integrated terminals: ${file}`),
      (e) => log.report('Putting the trove CLI on PATH in terminals', e),
    );
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (affectsTrove(e)) this.applySettings();
    });
  }

  private applySettings(): void {
    const c = readConfig();
    const server = isServerUrl(c.backend) ? c.backend : undefined;
    const protectedAliases = vscode.workspace.getConfiguration('trove').get<string[] | null>('protectedAliases');
    const vars = terminalVariables({ server, store: defaultStorePath(c.storePath), project: c.project, protectedAliases });
    for (const [name, value] of Object.entries(vars)) {
      if (value === undefined) this.collection.delete(name);
      else this.collection.replace(name, value);
    }
  }

  dispose(): void {
    this.subscription.dispose();
  }
}

import * as vscode from 'vscode';
import type { Backend } from './backend';
import { Commands } from './commandIds';

/** Shows the backend (embedded store path or server) and its health; a click selects another. */
export class BackendStatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('trove.backend', vscode.StatusBarAlignment.Left, 10);
  private readonly subscription: vscode.Disposable;

  constructor(private readonly backend: Backend) {
    this.item.name = 'Trove Backend';
    this.item.command = Commands.selectBackend;
    this.subscription = backend.onDidChangeState(() => this.update());
    this.update();
    this.item.show();
  }

  update(): void {
    const b = this.backend;
    const icon = b.state === 'unreachable' ? '$(error)' : b.state === undefined ? '$(sync~spin)' : '$(database)';
    this.item.text = `${icon} Trove: ${b.label}`;
    const health = b.state === 'unreachable' ? `unreachable: ${b.error}` : b.state === 'empty' ? 'reachable, no artifacts yet' : b.state === 'ok' ? 'reachable' : 'connecting…';
    this.item.tooltip = `Trove backend: ${b.location}\nHealth: ${health}\nClick to select another backend.`;
    this.item.backgroundColor = b.state === 'unreachable' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}

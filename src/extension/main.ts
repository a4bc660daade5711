import { bundleLoadStart } from './activationClock';
import * as vscode from 'vscode';
import { TroveContext, type TroveApi } from './context';

/** Every import above has been evaluated once this line runs. */
const bundleLoadEnd = performance.now();
let trove: TroveContext | undefined;

export function activate(context: vscode.ExtensionContext): TroveApi | undefined {
  const activateStart = performance.now();
  try {
    trove = new TroveContext(context, { loadStart: bundleLoadStart, loadEnd: bundleLoadEnd, activateStart });
    context.subscriptions.push(trove);
    return trove.api;
  } catch (e) {
    // VS Code only logs a failed activation; say it where the user looks.
    void vscode.window.showErrorMessage(`Trove could not start: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

export function deactivate(): void {
  trove = undefined;
}

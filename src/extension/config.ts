import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import * as vscode from 'vscode';

/** The `trove.*` settings, read through typed getters. */
export interface TroveConfig {
  /** `embedded` or a server URL. */
  backend: string;
  /** Absolute store folder, or undefined for TROVE_STORE / ~/.trove. */
  storePath?: string;
  project?: string;
  downloadRoot: string;
}

export function readConfig(): TroveConfig {
  const c = vscode.workspace.getConfiguration('trove');
  const backend = (c.get<string>('backend') ?? 'embedded').trim() || 'embedded';
  const store = (c.get<string>('storePath') ?? '').trim();
  const project = (c.get<string>('project') ?? '').trim();
  return {
    backend,
    storePath: store ? absolutePath(store) : undefined,
    project: project || undefined,
    downloadRoot: (c.get<string>('downloadRoot') ?? '').trim() || 'artifacts',
  };
}

/** `~` is the home folder; a relative path is relative to the first workspace folder. */
export function absolutePath(p: string): string {
  if (p === '~' || p.startsWith('~/')) return join(homedir(), p.slice(1));
  if (isAbsolute(p)) return resolve(p);
  const ws = vscode.workspace.workspaceFolders?.[0];
  return resolve(ws ? ws.uri.fsPath : homedir(), p);
}

export { isServerUrl } from '../core/backendChoice';

export const affectsTrove = (e: vscode.ConfigurationChangeEvent) => e.affectsConfiguration('trove');

/** Settings that decide which backend is open (the editor-feature switches do not). */
export const affectsBackend = (e: vscode.ConfigurationChangeEvent) =>
  ['trove.backend', 'trove.storePath', 'trove.project', 'trove.downloadRoot'].some((k) => e.affectsConfiguration(k));

/** SecretStorage key of the server token (never a setting). */
export const TOKEN_SECRET = 'trove.serverToken';

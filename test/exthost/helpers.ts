import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Registry } from '../../src/core/registry';
import type { TroveApi } from '../../src/extension/context';
import { openRegistry } from '../../src/sdk/backend';

export const EXTENSION_ID = 'trove.trove';

export async function troveApi(): Promise<TroveApi> {
  const ext = vscode.extensions.getExtension<TroveApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded`);
  const api = await ext.activate();
  await api.ready;
  return api;
}

export function workspaceDir(): string {
  const ws = vscode.workspace.workspaceFolders?.[0];
  if (!ws) throw new Error('the tests need the demo workspace open');
  return ws.uri.fsPath;
}

/** The same embedded store as the extension, opened independently (as another process would). */
export function storeRegistry(): Registry {
  const store = vscode.workspace.getConfiguration('trove').get<string>('storePath');
  if (!store) throw new Error('the demo workspace sets trove.storePath');
  return openRegistry({ store }).registry;
}

export function storePath(): string {
  return vscode.workspace.getConfiguration('trove').get<string>('storePath')!;
}

/** A new folder inside the workspace with the given files (relative path -> content). */
export function makeFolder(name: string, files: Record<string, string>): string {
  const dir = join(workspaceDir(), 'data', name);
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
  return dir;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs the real `trove` CLI (dist/cli.js of the extension under test) on the same store. */
export function troveCli(args: string[], cwd = workspaceDir()): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
  return execFileSync(process.execPath, [join(ext.extensionPath, 'dist', 'cli.js'), ...args], {
    cwd, encoding: 'utf8', env: { ...process.env, TROVE_STORE: storePath(), TROVE_PROJECT: 'mnist-demo', TROVE_RUN_ID: '' },
  });
}

export function waitFor<T>(event: vscode.Event<T>, timeoutMs: number, what: string, predicate: (value: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const sub = event((value) => {
      if (!predicate(value)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(value);
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

import { statSync } from 'node:fs';
import * as vscode from 'vscode';
import { isDirectory } from '../core/config';
import { invalid } from '../core/errors';
import { formatRef, parseRef } from '../core/names';
import type { VersionDiff } from '../core/types';
import { looksLikeText, type VersionPath } from '../shared/versionUri';
import { versionUri } from './artifactsTree';
import type { Backend } from './backend';
import { Commands, type CommandTable } from './commandIds';
import type { CommandPickers, VersionTarget } from './commandPickers';
import { CompareDocuments } from './compareDocuments';
import { folderDiff } from './lazyModules';

export interface CompareOptions {
  /** Open VS Code's diff editor on this modified file instead of offering a pick. */
  diffPath?: string;
  /** Offer a pick of the modified files to open in the diff editor (default true). */
  askForDiff?: boolean;
}

/**
 * Comparing as Git does: two versions (the summary document, then VS Code's multi-file diff
 * editor, Open All Changes, or one file's diff), a version with a downloaded or edited copy in
 * the workspace, and a file of a version with a workspace file. The version (the older one of
 * two) is always the base, on the left, and every picker says so.
 */
export class CompareCommands {
  constructor(
    private readonly backend: Backend,
    private readonly pickers: CommandPickers,
    private readonly compare: CompareDocuments,
  ) {}

  commands() {
    return {
      [Commands.compareWithPrevious]: ['Compare with Previous Version', (t?: unknown, o?: CompareOptions) => this.compareWithPrevious(t, o)],
      [Commands.compareVersions]: ['Compare Versions', (t?: unknown, other?: unknown, o?: CompareOptions) => this.compareVersions(t, other, o)],
      [Commands.compareWithFolder]: ['Compare with Workspace Folder', (t?: unknown, folder?: string | vscode.Uri) => this.compareWithFolder(t, folder)],
      [Commands.compareWithFile]: ['Compare with Workspace File', (t?: unknown, file?: string | vscode.Uri) => this.compareWithFile(t, file)],
    } satisfies CommandTable;
  }

  async compareWithPrevious(target?: unknown, options: CompareOptions = {}): Promise<VersionDiff | undefined> {
    const t = await this.pickers.versionTarget(target, 'Compare with Previous Version');
    if (!t) return undefined;
    const previous = (await this.backend.registry.listVersions(t.project, t.name)).map((v) => v.version).filter((n) => n < t.version).sort((a, b) => b - a)[0];
    if (previous === undefined) throw invalid(`${t.name}:v${t.version} is the first version; there is nothing before it to compare with.`);
    return this.openComparison(t, previous, t.version, options);
  }

  async compareVersions(target?: unknown, other?: unknown, options: CompareOptions = {}): Promise<VersionDiff | undefined> {
    const a = await this.pickers.versionTarget(target, 'Compare Versions');
    if (!a) return undefined;
    let b: number | undefined;
    if (typeof other === 'string') {
      const v = await this.backend.registry.getVersion(parseRef(other.includes(':') || other.includes('/') ? other : `${a.project}/${a.name}:${other}`, a.project), { manifest: false });
      if (v.project !== a.project || v.name !== a.name) throw invalid(`Compare two versions of one artifact: ${formatRef(v.project, v.name, v.version)} is not a version of ${a.project}/${a.name}.`);
      b = v.version;
    } else {
      b = await this.pickers.pickVersion(a, 'Compare Versions', `Compare v${a.version} with… (the older of the two is the base)`, a.version);
    }
    if (b === undefined) return undefined;
    const [older, newer] = a.version < b ? [a.version, b] : [b, a.version];
    return this.openComparison(a, older, newer, options);
  }

  private async openComparison(t: VersionTarget, a: number, b: number, options: CompareOptions): Promise<VersionDiff> {
    const doc = await vscode.workspace.openTextDocument(CompareDocuments.uri(t.project, t.name, a, b));
    // Not a preview: the diff editor opened next would replace a preview tab.
    await vscode.window.showTextDocument(doc, { preview: false });
    const diff = await this.compare.compare(t.project, t.name, a, b);
    if (options.diffPath) {
      if (!diff.modified.includes(options.diffPath)) throw invalid(`${options.diffPath} is not modified between v${a} and v${b} of ${t.name}.`);
      await this.openFileDiff(t, a, b, options.diffPath);
    } else if (diff.modified.length && options.askForDiff !== false) {
      const ALL = '$(diff-multiple) Open All Changes';
      const path = await vscode.window.showQuickPick([ALL, ...diff.modified], { title: `${t.name}: v${a} (base) → v${b}`, placeHolder: 'Open all changes, or the diff of one modified file (Esc to close)' });
      if (path === ALL) await this.openAllChanges(t, a, b, diff);
      else if (path) await this.openFileDiff(t, a, b, path);
    }
    return diff;
  }

  /** Every added, removed and modified file of two versions in VS Code's multi-file diff editor (as Git's Open All Changes). */
  private async openAllChanges(t: VersionTarget, a: number, b: number, diff: VersionDiff): Promise<void> {
    await openChanges(`${t.name}: v${a} ↔ v${b}`, diff, (p) => versionUri(t.project, t.name, a, p), (p) => versionUri(t.project, t.name, b, p));
  }

  private async openFileDiff(t: VersionTarget, a: number, b: number, path: string): Promise<void> {
    const left = versionUri(t.project, t.name, a, path);
    const right = versionUri(t.project, t.name, b, path);
    const [l, r] = await Promise.all([vscode.workspace.fs.readFile(left), vscode.workspace.fs.readFile(right)]);
    if (!looksLikeText(l) || !looksLikeText(r)) {
      void vscode.window.showInformationMessage(`${path} is a binary file; the diff editor compares text files only.`);
      return;
    }
    await vscode.commands.executeCommand('vscode.diff', left, right, `${t.name}/${path} (v${a} ↔ v${b})`, { preview: true });
  }


  /**
   * A version (the base) against a folder of the workspace: a downloaded copy (offered first), a
   * folder it was logged from, or any other; every added, removed, modified and renamed file in the
   * multi-file diff editor. `folderArg`: the folder, absolute or relative to the workspace.
   */
  async compareWithFolder(target?: unknown, folderArg?: string | vscode.Uri): Promise<VersionDiff | undefined> {
    const t = await this.pickers.versionTarget(target, 'Compare with Workspace Folder');
    if (!t) return undefined;
    const folder = folderArg !== undefined ? this.pickers.workspaceUri(folderArg) : await this.pickers.pickFolder(
      `Compare ${t.name}:v${t.version} (base) with a workspace folder`,
      `Pick the copy to compare with: v${t.version} is the base, the folder the changed side`, 'Compare', this.pickers.copiesOf(t));
    if (!folder) return undefined;
    if (folder.scheme !== 'file' || !isDirectory(folder.fsPath)) throw invalid(`${folder.scheme === 'file' ? folder.fsPath : folder.toString()} is not a folder on this machine; pick a folder of the workspace.`);
    const shown = vscode.workspace.asRelativePath(folder, false);
    // Without its manifest: diffFolder pages it beside the folder's scan.
    const detail = await this.backend.registry.getVersion({ project: t.project, name: t.name, alias: `v${t.version}` }, { manifest: false });
    const { diffFolder } = await folderDiff();
    const diff = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Comparing ${shown} with ${t.name}:v${t.version}` },
      () => diffFolder(this.backend.registry, detail, folder.fsPath, this.backend.cacheDir));
    if (!diff.added.length && !diff.removed.length && !diff.modified.length && !diff.renamed.length) {
      void vscode.window.showInformationMessage(`${shown} has the same files as ${t.name}:v${t.version}.`);
      return diff;
    }
    await openChanges(`${t.name}:v${t.version} (base) ↔ ${shown}`, diff, (p) => versionUri(t.project, t.name, t.version, p), (p) => vscode.Uri.joinPath(folder, ...p.split('/')));
    return diff;
  }

  /**
   * A file of a version (the base) against a file of the workspace in the diff editor: the same
   * file in a downloaded copy or a folder the artifact was logged from is offered first, then the
   * workspace's files of that name. `fileArg`: the file, absolute or relative to the workspace.
   */
  async compareWithFile(target?: unknown, fileArg?: string | vscode.Uri): Promise<vscode.Uri | undefined> {
    const f = this.pickers.fileTarget(target, 'Compare with Workspace File');
    const file = fileArg !== undefined ? this.pickers.workspaceUri(fileArg) : await this.pickWorkspaceFile(f);
    if (!file) return undefined;
    const shown = vscode.workspace.asRelativePath(file, false);
    if (file.scheme !== 'file' || !isFile(file.fsPath)) throw invalid(`${shown} is not a file on this machine; pick a file of the workspace.`);
    const left = versionUri(f.project, f.name, f.version, f.path);
    const [l, r] = await Promise.all([vscode.workspace.fs.readFile(left), vscode.workspace.fs.readFile(file)]);
    if (!looksLikeText(l) || !looksLikeText(r)) {
      void vscode.window.showInformationMessage(`${f.path} or ${shown} is a binary file; the diff editor compares text files only.`);
      return file;
    }
    await vscode.commands.executeCommand('vscode.diff', left, file, `${f.name}/${f.path} (v${f.version}, base) ↔ ${shown}`, { preview: true });
    return file;
  }

  private async pickWorkspaceFile(f: VersionPath): Promise<vscode.Uri | undefined> {
    type Item = vscode.QuickPickItem & { uri?: vscode.Uri };
    const items: Item[] = [];
    const seen = new Set<string>();
    const add = (uri: vscode.Uri, description?: string) => {
      if (seen.has(uri.fsPath)) return;
      seen.add(uri.fsPath);
      items.push({ label: `$(file) ${vscode.workspace.asRelativePath(uri, false)}`, description, uri });
    };
    for (const copy of this.pickers.copiesOf(f)) {
      const uri = vscode.Uri.joinPath(copy.uri, ...f.path.split('/'));
      if (isFile(uri.fsPath)) add(uri, copy.description);
    }
    const name = f.path.split('/').pop()!;
    const found = await vscode.workspace.findFiles(`**/${name.replace(/[[\]{}*?!]/g, '[$&]')}`, '**/node_modules/**', 50);
    for (const uri of found.sort((a, b) => a.fsPath.localeCompare(b.fsPath))) add(uri);
    items.push({ label: '$(folder-opened) Browse…' });
    const picked = await vscode.window.showQuickPick(items, {
      title: `Compare ${f.name}:v${f.version}/${f.path} (base) with a workspace file`,
      placeHolder: `Pick the file to compare with: v${f.version}'s ${name} is the base, the workspace file the changed side`,
    });
    if (!picked) return undefined;
    if (picked.uri) return picked.uri;
    const chosen = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: false, canSelectMany: false, openLabel: 'Compare' });
    return chosen?.[0];
  }
}

/** The files of `diff` in VS Code's multi-file diff editor: `left` gives a path's base side, `right` its changed side. */
async function openChanges(title: string, diff: VersionDiff, left: (path: string) => vscode.Uri, right: (path: string) => vscode.Uri): Promise<void> {
  const resources: [vscode.Uri, vscode.Uri | undefined, vscode.Uri | undefined][] = [];
  for (const p of diff.modified) resources.push([right(p), left(p), right(p)]);
  for (const p of diff.added) resources.push([right(p), undefined, right(p)]);
  for (const p of diff.removed) resources.push([left(p), left(p), undefined]);
  for (const r of diff.renamed) resources.push([right(r.to), left(r.from), right(r.to)]);
  await vscode.commands.executeCommand('vscode.changes', title, resources);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

import * as vscode from 'vscode';
import { invalid } from '../core/errors';
import { formatRef, parseRef } from '../core/names';
import type { VersionDiff } from '../core/types';
import type { TreeElement } from '../shared/artifactTree';
import { looksLikeText } from '../shared/versionUri';
import { versionUri } from './artifactsTree';
import type { Backend } from './backend';
import { Commands, type CommandTable } from './commandIds';
import type { CommandPickers, VersionTarget } from './commandPickers';
import { CompareDocuments } from './compareDocuments';

export interface CompareOptions {
  /** Open VS Code's diff editor on this modified file instead of offering a pick. */
  diffPath?: string;
  /** Offer a pick of the modified files to open in the diff editor (default true). */
  askForDiff?: boolean;
}

/**
 * Comparing versions as Git does: the summary document, VS Code's multi-file diff editor (Open
 * All Changes) or one file's diff; and opening a file of a version.
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
      [Commands.openFile]: ['Open File', (t?: unknown) => this.openFile(t)],
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
      const v = await this.backend.registry.getVersion(parseRef(other.includes(':') || other.includes('/') ? other : `${a.project}/${a.name}:${other}`, a.project));
      if (v.project !== a.project || v.name !== a.name) throw invalid(`Compare two versions of one artifact: ${formatRef(v.project, v.name, v.version)} is not a version of ${a.project}/${a.name}.`);
      b = v.version;
    } else {
      b = await this.pickers.pickVersion(a, 'Compare Versions', `Compare v${a.version} with…`, a.version);
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
    const left = (p: string) => versionUri(t.project, t.name, a, p);
    const right = (p: string) => versionUri(t.project, t.name, b, p);
    const resources: [vscode.Uri, vscode.Uri | undefined, vscode.Uri | undefined][] = [];
    for (const p of diff.modified) resources.push([right(p), left(p), right(p)]);
    for (const p of diff.added) resources.push([right(p), undefined, right(p)]);
    for (const p of diff.removed) resources.push([left(p), left(p), undefined]);
    for (const r of diff.renamed) resources.push([right(r.to), left(r.from), right(r.to)]);
    await vscode.commands.executeCommand('vscode.changes', `${t.name}: v${a} ↔ v${b}`, resources);
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

  async openFile(target?: unknown): Promise<vscode.Uri | undefined> {
    let uri: vscode.Uri | undefined;
    if (target instanceof vscode.Uri) uri = target;
    else if (target && typeof target === 'object' && (target as TreeElement).kind === 'file') {
      const f = target as TreeElement & { kind: 'file' };
      uri = versionUri(f.project, f.name, f.version, f.path);
    }
    if (!uri) throw invalid('Open File works on a file of a version: expand a version in the Trove view and click a file.');
    await vscode.commands.executeCommand('vscode.open', uri, { preview: true });
    return uri;
  }
}

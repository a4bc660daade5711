import * as vscode from 'vscode';
import { formatRef } from '../core/names';
import { diffVersionFiles, type VersionFileDiff } from '../core/operations';
import type { ManifestEntry, VersionDiff } from '../core/types';
import { diffReport } from '../shared/diffReport';
import type { Backend } from './backend';
import type { VersionCache } from './versionCache';

export const COMPARE_SCHEME = 'trove-compare';

/**
 * Virtual documents `trove-compare:/<project>/<name>/v<A>..v<B>.txt` listing the files added,
 * removed, modified and renamed from version A to version B. The two manifests are walked side by
 * side a page at a time (diffVersionFiles): only the changed files are held, never either manifest.
 */
export class CompareDocuments implements vscode.TextDocumentContentProvider {
  /** The last few comparisons (a command opens the document and then lists the same diff). */
  private readonly diffs = new Map<string, Promise<VersionFileDiff>>();

  constructor(private readonly backend: Backend) {}

  /** Forgets the comparisons (another backend may hold other versions under the same names). */
  clear(): void {
    this.diffs.clear();
  }

  static uri(project: string, name: string, a: number, b: number): vscode.Uri {
    return vscode.Uri.from({ scheme: COMPARE_SCHEME, path: `/${project}/${name}/v${a}..v${b}.txt` });
  }

  private files(project: string, name: string, a: number, b: number): Promise<VersionFileDiff> {
    const key = `${project}/${name}:v${a}..v${b}`;
    let diff = this.diffs.get(key);
    if (!diff) {
      // The two records without their manifests; no folder index (a million files take a pass of their own to index).
      const detail = (v: number) => this.backend.registry.getVersion({ project, name, alias: `v${v}` }, { manifest: false });
      diff = Promise.all([detail(a), detail(b)]).then(([va, vb]) => diffVersionFiles(this.backend.registry, va, vb));
      diff.catch(() => this.diffs.delete(key));
      if (this.diffs.size >= 4) this.diffs.delete(this.diffs.keys().next().value!);
      this.diffs.set(key, diff);
    }
    return diff;
  }

  async compare(project: string, name: string, a: number, b: number): Promise<VersionDiff> {
    const d = await this.files(project, name, a, b);
    return { added: d.added.map((f) => f.path), removed: d.removed.map((f) => f.path), modified: d.modified.map((m) => m.to.path), renamed: d.renamed.map((r) => ({ from: r.from.path, to: r.to.path })) };
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const m = /^\/([^/]+)\/([^/]+)\/v(\d+)\.\.v(\d+)\.txt$/.exec(uri.path);
    if (!m) return `Not a Trove comparison: ${uri.toString()}\n`;
    const [, project, name, a, b] = m;
    const d = await this.files(project, name, Number(a), Number(b));
    // The report names each changed file's size: the entries of the changed files, nothing else.
    const before: Record<string, ManifestEntry> = Object.create(null) as Record<string, ManifestEntry>;
    const after: Record<string, ManifestEntry> = Object.create(null) as Record<string, ManifestEntry>;
    for (const f of d.removed) before[f.path] = f;
    for (const f of d.added) after[f.path] = f;
    for (const { from, to } of d.modified) {
      before[from.path] = from;
      after[to.path] = to;
    }
    const diff = await this.compare(project, name, Number(a), Number(b));
    return diffReport(formatRef(project, name, Number(a)), formatRef(project, name, Number(b)), before, after, diff);
  }
}

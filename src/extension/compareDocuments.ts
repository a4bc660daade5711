import * as vscode from 'vscode';
import { diffManifests } from '../core/manifest';
import { formatRef } from '../core/names';
import type { VersionDiff } from '../core/types';
import { diffReport } from '../shared/diffReport';
import type { VersionCache } from './versionCache';

export const COMPARE_SCHEME = 'trove-compare';

/**
 * Virtual documents `trove-compare:/<project>/<name>/v<A>..v<B>.txt` listing the files added,
 * removed, modified and renamed from version A to version B.
 */
export class CompareDocuments implements vscode.TextDocumentContentProvider {
  constructor(private readonly versions: VersionCache) {}

  static uri(project: string, name: string, a: number, b: number): vscode.Uri {
    return vscode.Uri.from({ scheme: COMPARE_SCHEME, path: `/${project}/${name}/v${a}..v${b}.txt` });
  }

  async compare(project: string, name: string, a: number, b: number): Promise<VersionDiff> {
    const [va, vb] = await Promise.all([this.versions.get(project, name, a), this.versions.get(project, name, b)]);
    return diffManifests(va.manifest, vb.manifest);
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const m = /^\/([^/]+)\/([^/]+)\/v(\d+)\.\.v(\d+)\.txt$/.exec(uri.path);
    if (!m) return `Not a Trove comparison: ${uri.toString()}\n`;
    const [, project, name, a, b] = m;
    const [va, vb] = await Promise.all([this.versions.get(project, name, Number(a)), this.versions.get(project, name, Number(b))]);
    return diffReport(formatRef(project, name, va.version), formatRef(project, name, vb.version), va.manifest, vb.manifest, diffManifests(va.manifest, vb.manifest));
  }
}

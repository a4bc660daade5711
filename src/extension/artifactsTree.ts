import * as vscode from 'vscode';
import { describeError } from '../core/errors';
import type { ArtifactSummary } from '../core/types';
import { formatDate, formatSize } from '../core/format';
import { contextValue, elementId, page, PAGE_SIZE, parentOf, type TreeElement } from '../shared/artifactTree';
import type { FolderIndex } from '../shared/folderIndex';
import { TROVE_SCHEME, formatVersionPath } from '../shared/versionUri';
import type { Backend } from './backend';
import { ClientCommands } from '../lsp/clientCommands';
import { versionSummaryMarkdown } from '../lsp/versionSummary';
import { Commands } from './commandIds';
import type { TroveLog } from './log';
import type { VersionCache } from './versionCache';

const TYPE_ICONS: Record<string, string> = { dataset: 'database', model: 'hubot', code: 'code', evaluation: 'graph' };

/**
 * Projects > artifact types > artifacts > versions > folders and files, loaded lazily. Elements
 * are plain data with stable ids (src/shared/artifactTree.ts); listings are cached until the next
 * refresh, and versions' folders (immutable; indexed a manifest page at a time) in the shared VersionCache.
 */
export class ArtifactsTreeProvider implements vscode.TreeDataProvider<TreeElement>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<TreeElement | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private artifactLists = new Map<string, Promise<ArtifactSummary[]>>();
  /** How many children each parent shows; grows with "Load more". */
  private readonly limits = new Map<string, number>();
  /** The instances handed to VS Code, so a refresh of one parent can name it. */
  private readonly known = new Map<string, TreeElement>();

  constructor(private readonly backend: Backend, private readonly versions: VersionCache, private readonly log: TroveLog) {}

  refresh(): void {
    this.artifactLists.clear();
    this.emitter.fire(undefined);
  }

  /** Shows the next page of a parent's children. */
  loadMore(item: TreeElement): void {
    if (item.kind !== 'loadMore') return;
    this.limits.set(item.parentId, item.shown + PAGE_SIZE);
    this.emitter.fire(item.parentId === 'root' ? undefined : this.known.get(item.parentId));
  }

  getParent(element: TreeElement): TreeElement | undefined {
    const parent = parentOf(element);
    return parent && (this.known.get(elementId(parent)) ?? parent);
  }

  async getChildren(element?: TreeElement): Promise<TreeElement[]> {
    const parentId = element ? elementId(element) : 'root';
    const limit = this.limits.get(parentId) ?? PAGE_SIZE;
    let children: TreeElement[];
    let total: number;
    try {
      const loaded = await this.loadChildren(element, limit);
      [children, total] = Array.isArray(loaded) ? [loaded, loaded.length] : [loaded.items, loaded.total];
    } catch (e) {
      // Something vanished or the backend stopped answering: show nothing there, say why in the log.
      this.log.channel.warn(`Artifacts tree: cannot list ${parentId}: ${describeError(e)}`);
      if (!element) void this.backend.checkHealth();
      return [];
    }
    const shown = page(parentId, children, limit, total);
    for (const c of shown) this.known.set(elementId(c), c);
    return shown;
  }

  /** The children of an element: all of them, or (for a version's folders) the first `limit` and how many there are. */
  private async loadChildren(element: TreeElement | undefined, limit: number): Promise<TreeElement[] | { items: TreeElement[]; total: number }> {
    if (!element) {
      if (this.backend.state === 'unreachable') return [];
      const projects = await this.backend.registry.listProjects();
      return projects.map((p) => ({ kind: 'project', project: p.name, artifacts: p.artifacts }));
    }
    switch (element.kind) {
      case 'project': {
        const artifacts = await this.artifactsOf(element.project);
        const types = new Map<string, number>();
        for (const a of artifacts) types.set(a.type, (types.get(a.type) ?? 0) + 1);
        return [...types.keys()].sort().map((type) => ({ kind: 'typeGroup', project: element.project, type, artifacts: types.get(type)! }));
      }
      case 'typeGroup': {
        const artifacts = (await this.artifactsOf(element.project)).filter((a) => a.type === element.type);
        return artifacts.map((a) => ({ kind: 'artifact', project: a.project, name: a.name, type: a.type, versions: a.versions, latest: a.latest, updatedAt: a.updatedAt }));
      }
      case 'artifact': {
        const versions = await this.backend.registry.listVersions(element.project, element.name);
        const numbers = versions.map((v) => v.version);
        const lowest = numbers.reduce((m, n) => Math.min(m, n), Infinity);
        return versions.map((v) => ({
          kind: 'version', project: element.project, name: element.name, type: element.type, version: v.version,
          aliases: v.aliases, size: v.size, files: v.files, createdAt: v.createdAt, digest: v.digest, hasPrevious: v.version > lowest,
        }));
      }
      case 'version':
      case 'folder': {
        const { folders } = await this.versions.get(element.project, element.name, element.version);
        return this.folderChildren(element, folders, element.kind === 'folder' ? element.path : '', limit);
      }
      default:
        return [];
    }
  }

  /**
   * A folder's subfolders, then its files, in path order: only the first `limit` (the pages of the
   * manifest they are on are read, not the whole manifest), and how many there are in all.
   */
  private async folderChildren(element: TreeElement & { kind: 'version' | 'folder' }, index: FolderIndex, dir: string, limit: number): Promise<{ items: TreeElement[]; total: number }> {
    const listing = await index.list(dir, 0, limit);
    if (!listing) return { items: [], total: 0 };
    const base = { project: element.project, name: element.name, type: element.type, version: element.version };
    const join = (n: string) => (dir ? `${dir}/${n}` : n);
    const items: TreeElement[] = [];
    for (const f of listing.folders) {
      if (items.length === limit) break;
      items.push({ kind: 'folder', ...base, path: join(f) });
    }
    for (const f of listing.files) {
      if (items.length === limit) break;
      items.push({ kind: 'file', ...base, path: f.path, size: f.size, external: !!f.ref });
    }
    return { items, total: listing.folders.length + listing.totalFiles };
  }

  private artifactsOf(project: string): Promise<ArtifactSummary[]> {
    let list = this.artifactLists.get(project);
    if (!list) {
      list = this.backend.registry.listArtifacts(project);
      list.catch(() => this.artifactLists.delete(project));
      this.artifactLists.set(project, list);
    }
    return list;
  }

  getTreeItem(e: TreeElement): vscode.TreeItem {
    const Collapsed = vscode.TreeItemCollapsibleState.Collapsed;
    let item: vscode.TreeItem;
    switch (e.kind) {
      case 'project':
        item = new vscode.TreeItem(e.project, Collapsed);
        item.iconPath = new vscode.ThemeIcon('folder-library');
        item.description = `${e.artifacts} artifact${e.artifacts === 1 ? '' : 's'}`;
        break;
      case 'typeGroup':
        item = new vscode.TreeItem(e.type, Collapsed);
        item.iconPath = new vscode.ThemeIcon(TYPE_ICONS[e.type] ?? 'package');
        item.description = String(e.artifacts);
        break;
      case 'artifact':
        item = new vscode.TreeItem(e.name, Collapsed);
        item.iconPath = new vscode.ThemeIcon('archive');
        item.description = `v${e.latest} · ${e.versions} version${e.versions === 1 ? '' : 's'}`;
        item.tooltip = `${e.project}/${e.name} (${e.type}), ${e.versions} versions, latest v${e.latest}, updated ${formatDate(e.updatedAt)}`;
        break;
      case 'version': {
        item = new vscode.TreeItem(`v${e.version}`, Collapsed);
        item.iconPath = new vscode.ThemeIcon(e.aliases.includes('latest') ? 'tag' : 'versions');
        item.description = e.aliases.join(', ');
        // The tooltip is the hover's summary, made when the pointer rests on the item (resolveTreeItem).
        break;
      }
      case 'folder':
        item = new vscode.TreeItem(e.path.slice(e.path.lastIndexOf('/') + 1), Collapsed);
        item.iconPath = vscode.ThemeIcon.Folder;
        item.resourceUri = versionUri(e.project, e.name, e.version, e.path);
        break;
      case 'file':
        item = new vscode.TreeItem(e.path.slice(e.path.lastIndexOf('/') + 1), vscode.TreeItemCollapsibleState.None);
        item.iconPath = vscode.ThemeIcon.File;
        item.resourceUri = versionUri(e.project, e.name, e.version, e.path);
        item.description = e.external ? `${formatSize(e.size)} · reference` : formatSize(e.size);
        item.command = { command: Commands.openFile, title: 'Open File', arguments: [e] };
        break;
      case 'loadMore':
        item = new vscode.TreeItem(`Load more… (${e.shown} of ${e.total} shown)`, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: Commands.loadMore, title: 'Load More', arguments: [e] };
        break;
    }
    item.id = elementId(e);
    item.contextValue = contextValue(e);
    return item;
  }

  /**
   * A version's tooltip: the same summary as the editor hover (description, metadata, the run that
   * made it, links), read when VS Code asks for it.
   */
  async resolveTreeItem(item: vscode.TreeItem, e: TreeElement): Promise<vscode.TreeItem> {
    if (e.kind !== 'version' || item.tooltip) return item;
    try {
      const registry = this.backend.registry;
      // Without the manifest: the summary names the file count, and a version may hold a million files.
      const v = await registry.getVersion({ project: e.project, name: e.name, alias: `v${e.version}` }, { manifest: false });
      const run = v.createdBy ? await registry.getRun(v.createdBy.runId).catch(() => undefined) : undefined;
      const tip = new vscode.MarkdownString(versionSummaryMarkdown(v, run, { links: true }));
      tip.isTrusted = { enabledCommands: Object.values(ClientCommands) };
      item.tooltip = tip;
    } catch (err) {
      item.tooltip = `${e.project}/${e.name}:v${e.version}: ${describeError(err)}`;
    }
    return item;
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

export function versionUri(project: string, name: string, version: number, path: string): vscode.Uri {
  return vscode.Uri.from({ scheme: TROVE_SCHEME, path: formatVersionPath({ project, name, version, path }) });
}

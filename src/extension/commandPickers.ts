import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { defaultProject } from '../core/config';
import { describeError, invalid } from '../core/errors';
import { formatDate, formatSize } from '../core/format';
import { formatRef, parseRef, validateProject } from '../core/names';
import { elementId, type TreeElement } from '../shared/artifactTree';
import { parseVersionPath, TROVE_SCHEME, type VersionPath } from '../shared/versionUri';
import type { ArtifactsTreeProvider } from './artifactsTree';
import type { Backend } from './backend';
import type { TroveLog } from './log';

const FOLDER_ARTIFACTS_KEY = 'trove.folderArtifacts';

/** A folder offered in a pick, with why it is offered. */
export interface FolderChoice {
  uri: vscode.Uri;
  label: string;
  description?: string;
}

/** A version a command acts on. */
export interface VersionTarget {
  project: string;
  name: string;
  type: string;
  version: number;
}

/**
 * What the command features share: finding the version a command acts on (a tree element, a
 * `project/name:alias` string, or quick picks), the project new versions go to, where an
 * artifact's aliases are, and revealing a version in the tree afterwards.
 */
export class CommandPickers {
  constructor(
    private readonly backend: Backend,
    private readonly tree: ArtifactsTreeProvider,
    private readonly treeView: vscode.TreeView<TreeElement>,
    private readonly log: TroveLog,
    private readonly workspaceState: vscode.Memento,
  ) {}

  workspaceFolder(): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.[0];
  }

  /** A folder or file named by a command's argument: a Uri, or a path absolute or relative to the workspace folder. */
  workspaceUri(arg: string | vscode.Uri): vscode.Uri {
    if (arg instanceof vscode.Uri) return arg;
    const base = this.workspaceFolder()?.uri.fsPath;
    if (!isAbsolute(arg) && !base) throw invalid(`"${arg}" is relative, and no folder is open; give an absolute path.`);
    return vscode.Uri.file(isAbsolute(arg) ? arg : join(base!, arg));
  }

  /** The project new versions go to (core's defaultProject: the setting, TROVE_PROJECT, the git top folder's or folder's name). */
  projectFor(folder?: string): string {
    return validateProject(defaultProject(folder ?? this.workspaceFolder()?.uri.fsPath ?? process.cwd(), this.backend.config.project));
  }

  /** Resolves a tree element, a `project/name:alias` string, or asks with quick picks. */
  async versionTarget(arg: unknown, title: string): Promise<VersionTarget | undefined> {
    const el = arg as TreeElement | undefined;
    if (el && typeof el === 'object' && 'kind' in el) {
      if (el.kind === 'version' || el.kind === 'file' || el.kind === 'folder') return { project: el.project, name: el.name, type: el.type, version: el.version };
      if (el.kind === 'artifact') return { project: el.project, name: el.name, type: el.type, version: el.latest };
    }
    if (typeof arg === 'string') {
      const v = await this.backend.registry.getVersion(parseRef(arg, this.projectFor()), { manifest: false });
      return { project: v.project, name: v.name, type: v.type, version: v.version };
    }
    const artifact = await this.pickArtifact(title);
    if (!artifact) return undefined;
    const version = await this.pickVersion(artifact, title, 'Pick a version');
    return version === undefined ? undefined : { ...artifact, version };
  }

  /** The file of a version a file command acts on: a file of the tree, or a `trove:` file Uri. */
  fileTarget(arg: unknown, command: string): VersionPath & { type?: string } {
    if (arg instanceof vscode.Uri && arg.scheme === TROVE_SCHEME) {
      const p = parseVersionPath(arg.path);
      if (p.path) return p;
    }
    const el = arg as TreeElement | undefined;
    if (el && typeof el === 'object' && 'kind' in el && el.kind === 'file') return { project: el.project, name: el.name, version: el.version, path: el.path, type: el.type };
    throw invalid(`${command} works on a file of a version: expand a version in the Trove view and pick one of its files.`);
  }

  async pickArtifact(title: string): Promise<Omit<VersionTarget, 'version'> | undefined> {
    const registry = this.backend.registry;
    const projects = await registry.listProjects();
    const lists = await Promise.all(projects.map((p) => registry.listArtifacts(p.name)));
    const items = lists.flat().map((a) => ({ label: a.name, description: `${a.project} · ${a.type} · v${a.latest}`, artifact: a }));
    if (!items.length) throw invalid(`There are no artifacts in ${registry.location} yet; log a folder first.`);
    const picked = await vscode.window.showQuickPick(items, { title, placeHolder: 'Pick an artifact', matchOnDescription: true });
    return picked && { project: picked.artifact.project, name: picked.artifact.name, type: picked.artifact.type };
  }

  async pickVersion(a: { project: string; name: string }, title: string, placeHolder: string, exclude?: number): Promise<number | undefined> {
    const versions = (await this.backend.registry.listVersions(a.project, a.name)).filter((v) => v.version !== exclude);
    const items = versions.map((v) => ({
      label: `v${v.version}`, description: v.aliases.join(', '), detail: `${formatSize(v.size)} in ${v.files} files · ${formatDate(v.createdAt)}`, version: v.version,
    }));
    const picked = await vscode.window.showQuickPick(items, { title: `${title}: ${a.name}`, placeHolder });
    return picked?.version;
  }

  /** The artifact each folder was last logged as, in this workspace (proposed when it is logged again). */
  folderArtifacts(): Record<string, { project: string; name: string }> {
    return this.workspaceState.get<Record<string, { project: string; name: string }>>(FOLDER_ARTIFACTS_KEY) ?? {};
  }

  async rememberFolderArtifact(folder: string, artifact: { project: string; name: string }): Promise<void> {
    await this.workspaceState.update(FOLDER_ARTIFACTS_KEY, { ...this.folderArtifacts(), [folder]: artifact });
  }

  /**
   * The workspace's copies of an artifact: the folders its versions were downloaded into
   * (`<trove.downloadRoot>/<name>-v<K>`) and the folders it was logged from, newest version first.
   */
  copiesOf(t: { project: string; name: string }): FolderChoice[] {
    const ws = this.workspaceFolder();
    const out: FolderChoice[] = [];
    if (ws) {
      const root = join(ws.uri.fsPath, this.backend.config.downloadRoot);
      const pattern = new RegExp(`^${t.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-v(0|[1-9][0-9]*)$`);
      const entries = existsSync(root) ? readdirSync(root, { withFileTypes: true }) : [];
      const downloads = entries.filter((e) => e.isDirectory() && pattern.test(e.name)).map((e) => ({ name: e.name, version: Number(pattern.exec(e.name)![1]) }));
      for (const d of downloads.sort((a, b) => b.version - a.version)) {
        const uri = vscode.Uri.file(join(root, d.name));
        out.push({ uri, label: vscode.workspace.asRelativePath(uri, false), description: `downloaded v${d.version}` });
      }
    }
    for (const [folder, a] of Object.entries(this.folderArtifacts())) {
      if (a.project !== t.project || a.name !== t.name || !existsSync(folder)) continue;
      const uri = vscode.Uri.file(folder);
      out.push({ uri, label: vscode.workspace.asRelativePath(uri, false), description: `logged as ${t.name}` });
    }
    return out;
  }

  /**
   * Picks a folder: `suggested` first, then each workspace folder and its top-level folders, then
   * Browse… (the system's folder dialog, its button saying `openLabel`).
   */
  async pickFolder(title: string, placeHolder: string, openLabel: string, suggested: FolderChoice[] = []): Promise<vscode.Uri | undefined> {
    type Item = vscode.QuickPickItem & { uri?: vscode.Uri };
    const items: Item[] = suggested.map((c) => ({ label: `$(folder-active) ${c.label}`, description: c.description, uri: c.uri }));
    const seen = new Set(suggested.map((c) => c.uri.fsPath));
    for (const f of vscode.workspace.workspaceFolders ?? []) {
      if (!seen.has(f.uri.fsPath)) items.push({ label: `$(root-folder) ${f.name}`, description: f.uri.fsPath, uri: f.uri });
      const entries = await vscode.workspace.fs.readDirectory(f.uri).then((e) => e, () => [] as [string, vscode.FileType][]);
      for (const [n, kind] of entries.sort(([a], [b]) => a.localeCompare(b))) {
        const uri = vscode.Uri.joinPath(f.uri, n);
        if (kind === vscode.FileType.Directory && !n.startsWith('.') && n !== 'node_modules' && !seen.has(uri.fsPath)) items.push({ label: `$(folder) ${f.name}/${n}`, uri });
      }
    }
    items.push({ label: '$(folder-opened) Browse…' });
    const picked = await vscode.window.showQuickPick(items, { title, placeHolder });
    if (!picked) return undefined;
    if (picked.uri) return picked.uri;
    const chosen = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel });
    return chosen?.[0];
  }

  /** Which version of the artifact holds each of `aliases` now (those that none holds are left out). */
  async aliasPlaces(project: string, name: string, aliases: string[]): Promise<Map<string, number>> {
    const places = new Map<string, number>();
    if (!aliases.length) return places;
    const versions = await this.backend.registry.listVersions(project, name).catch(() => []);
    for (const v of versions) for (const a of v.aliases) if (aliases.includes(a) && a !== 'latest') places.set(a, v.version);
    return places;
  }

  /** Refreshes the tree and selects the version (best effort: the tree may be hidden). */
  async reveal(t: VersionTarget): Promise<void> {
    this.tree.refresh();
    const v = await this.backend.registry.listVersions(t.project, t.name).then((vs) => vs.find((x) => x.version === t.version));
    if (!v) return;
    const element: TreeElement = { kind: 'version', ...t, aliases: v.aliases, size: v.size, files: v.files, createdAt: v.createdAt, digest: v.digest, hasPrevious: false };
    // The store watch refreshes the tree shortly after a change, which can cut a reveal short: check and retry.
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        await this.treeView.reveal(element, { select: true, focus: false, expand: false });
      } catch (e) {
        this.log.channel.debug(`reveal ${formatRef(t.project, t.name, t.version)}: ${describeError(e)}`);
      }
      await new Promise((r) => setTimeout(r, 350));
      if (this.treeView.selection.some((s) => elementId(s) === elementId(element))) return;
    }
  }
}

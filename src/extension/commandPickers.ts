import * as vscode from 'vscode';
import { defaultProject } from '../core/config';
import { describeError, invalid } from '../core/errors';
import { formatDate, formatSize } from '../core/format';
import { formatRef, parseRef, validateProject } from '../core/names';
import { elementId, type TreeElement } from '../shared/artifactTree';
import type { ArtifactsTreeProvider } from './artifactsTree';
import type { Backend } from './backend';
import type { TroveLog } from './log';

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
  ) {}

  workspaceFolder(): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.[0];
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
      const v = await this.backend.registry.getVersion(parseRef(arg, this.projectFor()));
      return { project: v.project, name: v.name, type: v.type, version: v.version };
    }
    const artifact = await this.pickArtifact(title);
    if (!artifact) return undefined;
    const version = await this.pickVersion(artifact, title, 'Pick a version');
    return version === undefined ? undefined : { ...artifact, version };
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

import * as vscode from 'vscode';
import { describeRestore, previewDeletion, undoDeletion, type DeletionTarget } from '../core/deletion';
import { invalid } from '../core/errors';
import { formatRef, parseRef } from '../core/names';
import type { DeleteResult } from '../core/types';
import { parseProtectedAliases, protectedAliasesFromEnv } from '../core/versionRules';
import type { TreeElement } from '../shared/artifactTree';
import type { ArtifactsTreeProvider } from './artifactsTree';
import type { Backend } from './backend';
import { Commands, type CommandTable } from './commandIds';
import type { CommandPickers } from './commandPickers';
import type { TroveLog } from './log';

/** Answers given up front (tests, scripts): `yes` skips the confirmation, as `trove rm --yes` does. */
export interface DeleteCommandOptions {
  yes?: boolean;
}

/**
 * Delete Version and Delete Artifact (tree context menu and palette): a modal confirmation that
 * names what goes (from core/deletion.ts, the words `trove rm` uses), refused with the backend's
 * sentence while a protected alias names a version that would go; afterwards a notification
 * with Undo, which restores what was deleted as long as gc has not freed its content (the
 * backends keep a deleted version as a tombstone until then).
 */
export class DeleteCommands {
  constructor(
    private readonly backend: Backend,
    private readonly pickers: CommandPickers,
    private readonly tree: ArtifactsTreeProvider,
    private readonly log: TroveLog,
  ) {}

  commands() {
    return {
      [Commands.deleteVersion]: ['Delete Version', (t?: unknown, o?: DeleteCommandOptions) => this.deleteVersion(t, o)],
      [Commands.deleteArtifact]: ['Delete Artifact', (t?: unknown, o?: DeleteCommandOptions) => this.deleteArtifact(t, o)],
    } satisfies CommandTable;
  }

  /** The protected aliases: the `trove.protectedAliases` setting, else TROVE_PROTECTED_ALIASES, else the default. */
  private protectedAliases(): string[] {
    const setting = vscode.workspace.getConfiguration('trove').get<string[] | null>('protectedAliases');
    return Array.isArray(setting) ? parseProtectedAliases(setting.join(','), 'The trove.protectedAliases setting') : protectedAliasesFromEnv();
  }

  async deleteVersion(target?: unknown, options: DeleteCommandOptions = {}): Promise<DeleteResult | undefined> {
    const el = target as TreeElement | undefined;
    let t: DeletionTarget | undefined;
    if (el && typeof el === 'object' && 'kind' in el && (el.kind === 'version' || el.kind === 'file' || el.kind === 'folder')) {
      t = { project: el.project, name: el.name, alias: `v${el.version}` };
    } else if (typeof target === 'string') {
      const ref = parseRef(target, this.pickers.projectFor());
      if (!target.includes(':')) throw invalid(`"${target}" names an artifact, not a version; write ${ref.project}/${ref.name}:vN, or use Delete Artifact.`);
      t = { project: ref.project, name: ref.name, alias: ref.alias };
    } else {
      const artifact = await this.pickers.pickArtifact('Delete Version');
      const version = artifact && (await this.pickers.pickVersion(artifact, 'Delete Version', 'Pick the version to delete'));
      if (!artifact || version === undefined) return undefined;
      t = { project: artifact.project, name: artifact.name, alias: `v${version}` };
    }
    return this.confirmAndDelete(t, options);
  }

  async deleteArtifact(target?: unknown, options: DeleteCommandOptions = {}): Promise<DeleteResult | undefined> {
    const el = target as TreeElement | undefined;
    let t: DeletionTarget | undefined;
    if (el && typeof el === 'object' && 'kind' in el && 'name' in el) {
      t = { project: el.project, name: el.name };
    } else if (typeof target === 'string') {
      const ref = parseRef(target, this.pickers.projectFor());
      t = { project: ref.project, name: ref.name };
    } else {
      const artifact = await this.pickers.pickArtifact('Delete Artifact');
      if (!artifact) return undefined;
      t = { project: artifact.project, name: artifact.name };
    }
    return this.confirmAndDelete(t, options);
  }

  private async confirmAndDelete(t: DeletionTarget, options: DeleteCommandOptions): Promise<DeleteResult | undefined> {
    const registry = this.backend.registry;
    const protectedAliases = this.protectedAliases();
    // Refuses (protected alias, unknown or deleted version) before asking anything.
    const preview = await previewDeletion(registry, t, { protectedAliases });
    if (!options.yes) {
      const answer = await vscode.window.showWarningMessage(`Delete ${preview.summary}?`, {
        modal: true,
        detail: 'Runs that used or made it keep it in their lineage, marked "(deleted)". Its files stay in the store until "trove gc" frees them; until then Undo brings it back.',
      }, 'Delete');
      if (answer !== 'Delete') return undefined;
    }
    const result = t.alias === undefined
      ? await registry.deleteArtifact(t.project, t.name, { protectedAliases })
      : await registry.deleteVersion({ project: t.project, name: t.name, alias: t.alias }, { protectedAliases });
    const what = result.deleted.length === 1 && t.alias !== undefined
      ? formatRef(result.project, result.name, result.deleted[0].version)
      : `${result.project}/${result.name} (${result.deleted.map((d) => `v${d.version}`).join(', ')})`;
    const message = `Deleted ${what}${result.latest !== undefined ? `; latest names v${result.latest}` : ''}.`;
    this.log.info(message);
    this.tree.refresh();
    void vscode.window.showInformationMessage(message, 'Undo').then((choice) => {
      if (choice === 'Undo') void this.log.wrap('Undo Delete', () => this.undo(result))();
    });
    return result;
  }

  /** Undo: restores every version the deletion took (newest first), while gc has not freed their content. */
  private async undo(result: DeleteResult): Promise<void> {
    const restored = await undoDeletion(this.backend.registry, result);
    const message = restored.length === 1 ? describeRestore(restored[0]) : `Restored ${result.project}/${result.name} (${restored.map((r) => `v${r.version}`).join(', ')}).`;
    this.log.info(message);
    this.tree.refresh();
    void vscode.window.showInformationMessage(message);
  }
}

import * as vscode from 'vscode';
import { invalid } from '../core/errors';
import { formatRef, validateAlias } from '../core/names';
import type { ArtifactsTreeProvider } from './artifactsTree';
import type { Backend } from './backend';
import { Commands, type CommandTable } from './commandIds';
import type { CommandPickers } from './commandPickers';
import type { TroveLog } from './log';
import { problem } from './steps';

/** Add Alias (moving one that another version holds only after asking) and Remove Alias. */
export class AliasCommands {
  constructor(
    private readonly backend: Backend,
    private readonly pickers: CommandPickers,
    private readonly tree: ArtifactsTreeProvider,
    private readonly log: TroveLog,
  ) {}

  commands() {
    return {
      [Commands.addAlias]: ['Add Alias', (t?: unknown, alias?: string) => this.addAlias(t, alias)],
      [Commands.removeAlias]: ['Remove Alias', (t?: unknown, alias?: string) => this.removeAlias(t, alias)],
    } satisfies CommandTable;
  }

  async addAlias(target?: unknown, aliasArg?: string): Promise<string | undefined> {
    const t = await this.pickers.versionTarget(target, 'Add Alias');
    if (!t) return undefined;
    const alias = aliasArg ?? await vscode.window.showInputBox({
      title: `Add an alias to ${t.name}:v${t.version}`, prompt: 'Alias (moves from another version of this artifact if it is there)', validateInput: (v) => problem(() => validateAlias(v.trim())),
    });
    if (alias === undefined) return undefined;
    const wanted = validateAlias(alias.trim());
    const from = (await this.pickers.aliasPlaces(t.project, t.name, [wanted])).get(wanted);
    if (from === t.version) {
      void vscode.window.showInformationMessage(`${t.name}:v${t.version} already has the alias "${wanted}".`);
      return wanted;
    }
    // Moving an alias another version holds: asked when the user typed it (callers that pass it decided).
    if (from !== undefined && aliasArg === undefined) {
      const ok = await vscode.window.showWarningMessage(`"${wanted}" is on v${from} of ${t.name}. Move it to v${t.version}?`, { modal: true }, 'Move');
      if (ok !== 'Move') return undefined;
    }
    await this.backend.registry.addAlias({ project: t.project, name: t.name, alias: `v${t.version}` }, wanted);
    const message = from === undefined ? `${wanted} -> ${t.name}:v${t.version}` : `${wanted} moved from v${from} to v${t.version} of ${t.name}`;
    this.log.info(`${message} (${formatRef(t.project, t.name, t.version)})`);
    if (aliasArg === undefined) void vscode.window.showInformationMessage(message);
    this.tree.refresh();
    return wanted;
  }

  async removeAlias(target?: unknown, aliasArg?: string): Promise<string | undefined> {
    const t = await this.pickers.versionTarget(target, 'Remove Alias');
    if (!t) return undefined;
    const v = await this.backend.registry.getVersion({ project: t.project, name: t.name, alias: `v${t.version}` }, { manifest: false });
    const custom = v.aliases.filter((a) => a !== 'latest');
    if (!aliasArg && !custom.length) throw invalid(`${t.name}:v${t.version} has no alias to remove ("latest" always names the version logged last).`);
    const alias = aliasArg ?? (await vscode.window.showQuickPick(custom, { title: `Remove an alias from ${t.name}:v${t.version}` }));
    if (alias === undefined) return undefined;
    if (!v.aliases.includes(alias)) throw invalid(`${t.name}:v${t.version} has no alias "${alias}".`);
    await this.backend.registry.removeAlias(t.project, t.name, alias);
    this.log.info(`removed alias ${alias} from ${formatRef(t.project, t.name, t.version)}`);
    this.tree.refresh();
    return alias;
  }
}

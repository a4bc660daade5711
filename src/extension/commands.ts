import * as vscode from 'vscode';
import type { TreeElement } from '../shared/artifactTree';
import { AliasCommands } from './aliasCommands';
import type { ArtifactsTreeProvider } from './artifactsTree';
import type { Backend } from './backend';
import { BackendCommands } from './backendCommands';
import type { CommandEntry, CommandId } from './commandIds';
import { CommandPickers } from './commandPickers';
import { CompareCommands } from './compareCommands';
import { DeleteCommands } from './deleteCommands';
import type { CompareDocuments } from './compareDocuments';
import { DownloadCommands } from './downloadCommands';
import { FileCommands } from './fileCommands';
import type { LineagePanels } from './lineagePanel';
import type { TroveLog } from './log';
import { LogCommands } from './logCommands';
import { RunCommands } from './runCommands';
import { ViewCommands } from './viewCommands';

/** What the command features are built from (the extension's objects; each feature takes the few it needs). */
export interface CommandDeps {
  context: vscode.ExtensionContext;
  backend: Backend;
  tree: ArtifactsTreeProvider;
  treeView: vscode.TreeView<TreeElement>;
  compare: CompareDocuments;
  lineage: LineagePanels;
  log: TroveLog;
}

/**
 * Registers every command of the extension, from the feature that owns it (log, download,
 * aliases, deleting, compare, files of a version, the view, running a script, the backend); each body runs inside the log's
 * error wrapper. The table's type makes a command id that no feature registers a compile error.
 */
export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  const pickers = new CommandPickers(d.backend, d.tree, d.treeView, d.log, d.context.workspaceState);
  const table: Record<CommandId, CommandEntry> = {
    ...new LogCommands(d.context, d.backend, pickers, d.log).commands(),
    ...new DownloadCommands(d.backend, pickers, d.log).commands(),
    ...new AliasCommands(d.backend, pickers, d.tree, d.log).commands(),
    ...new DeleteCommands(d.backend, pickers, d.tree, d.log).commands(),
    ...new CompareCommands(d.backend, pickers, d.compare).commands(),
    ...new FileCommands(d.backend, pickers, d.log).commands(),
    ...new ViewCommands(pickers, d.tree, d.lineage, d.log).commands(),
    ...new RunCommands(d.log).commands(),
    ...new BackendCommands(d.context, d.backend, d.tree, d.log).commands(),
  };
  return Object.entries(table).map(([id, [what, body]]) => vscode.commands.registerCommand(id, d.log.wrap(what, body as (...args: unknown[]) => Promise<unknown>)));
}

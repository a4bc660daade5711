import { isAbsolute, join, relative } from 'node:path';
import * as vscode from 'vscode';
import { conflict, invalid } from '../core/errors';
import { formatRef } from '../core/names';
import type { DownloadOutcome } from '../core/operations';
import { withRun } from '../core/runs';
import type { Backend } from './backend';
import { Commands, type CommandTable } from './commandIds';
import type { CommandPickers } from './commandPickers';
import { operations, provenance } from './lazyModules';
import type { TroveLog } from './log';
import { withTransferProgress } from './progress';


export interface DownloadOptions {
  /** Absolute folder, or relative to the workspace folder; default `<trove.downloadRoot>/<name>-v<K>`. */
  root?: string;
  /** Overwrite changed files without asking (true) or refuse (false); undefined asks. */
  overwrite?: boolean;
}

/** Download Version: a version's files into the workspace, recorded as a run that used it. */
export class DownloadCommands {
  constructor(
    private readonly backend: Backend,
    private readonly pickers: CommandPickers,
    private readonly log: TroveLog,
  ) {}

  commands() {
    return {
      [Commands.downloadVersion]: ['Download Version', (t?: unknown, o?: DownloadOptions) => this.downloadVersion(t, o)],
    } satisfies CommandTable;
  }

  async downloadVersion(target?: unknown, options: DownloadOptions = {}): Promise<DownloadOutcome | undefined> {
    const t = await this.pickers.versionTarget(target, 'Download Version into Workspace');
    if (!t) return undefined;
    const ws = this.pickers.workspaceFolder();
    if (!ws && !(options.root && isAbsolute(options.root))) throw invalid('Open a folder first: versions are downloaded into the workspace.');
    const base = ws?.uri.fsPath ?? '';
    const root = options.root ? (isAbsolute(options.root) ? options.root : join(base, options.root)) : join(base, this.backend.config.downloadRoot, `${t.name}-v${t.version}`);
    const registry = this.backend.registry;
    const [{ downloadVersion: downloadVersionFiles, findConflicts }, { gitProvenance }] = await Promise.all([operations(), provenance()]);
    // Without its manifest: the conflict check and the download page it (a version may hold a million files).
    const detail = await registry.getVersion({ project: t.project, name: t.name, alias: `v${t.version}` }, { manifest: false });
    const ref = formatRef(t.project, t.name, t.version);
    const shown = ws ? relative(base, root) || '.' : root;
    const conflicts = await findConflicts(detail, root, undefined, registry);
    let overwrite = false;
    if (conflicts.length) {
      if (options.overwrite === undefined) {
        const answer = await vscode.window.showWarningMessage(
          `${conflicts.length} file(s) in ${shown} differ from ${ref} (first: ${conflicts[0]}). Overwrite them?`, { modal: true }, 'Overwrite');
        if (answer !== 'Overwrite') return undefined;
        overwrite = true;
      } else if (options.overwrite) {
        overwrite = true;
      } else {
        throw conflict(`${conflicts.length} file(s) in ${shown} differ from ${ref} (first: ${conflicts[0]}); choose another folder or allow overwriting.`);
      }
    }
    const run = { project: t.project, jobType: 'download', command: `VS Code: Download ${ref}`, git: ws ? await gitProvenance(base) : undefined };
    const outcome: DownloadOutcome = await withRun(registry, run, async ({ id }) => {
      await registry.recordUse(id, { project: t.project, name: t.name, version: t.version });
      return withTransferProgress(`Downloading ${ref}`, (transfer) => downloadVersionFiles(registry, detail, { root, overwrite, ...transfer }));
    });
    const message = `${t.name}:v${t.version} downloaded: ${outcome.files} files in ${shown}${outcome.unchanged ? ` (${outcome.unchanged} already up to date)` : ''}`;
    this.log.info(message);
    void vscode.window.showInformationMessage(message);
    if (ws && !relative(base, root).startsWith('..')) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(root));
    return outcome;
  }
}

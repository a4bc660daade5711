import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { isDirectory } from '../core/config';
import { invalid } from '../core/errors';
import { formatRef } from '../core/names';
import { versionUri } from './artifactsTree';
import type { Backend } from './backend';
import { Commands, type CommandTable } from './commandIds';
import type { CommandPickers } from './commandPickers';
import type { TroveLog } from './log';

/** A file of a version, as VS Code's Explorer offers for a file: open (here or to the side), copy its path, save a copy. */
export class FileCommands {
  constructor(
    private readonly backend: Backend,
    private readonly pickers: CommandPickers,
    private readonly log: TroveLog,
  ) {}

  commands() {
    return {
      [Commands.openFile]: ['Open File', (t?: unknown) => this.openFile(t)],
      [Commands.openFileToSide]: ['Open to the Side', (t?: unknown) => this.openFile(t, vscode.ViewColumn.Beside)],
      [Commands.copyFilePath]: ['Copy Path', (t?: unknown) => this.copyFilePath(t)],
      [Commands.saveFileAs]: ['Save As', (t?: unknown, destination?: string | vscode.Uri) => this.saveFileAs(t, destination)],
    } satisfies CommandTable;
  }

  async openFile(target?: unknown, column?: vscode.ViewColumn): Promise<vscode.Uri | undefined> {
    const f = this.pickers.fileTarget(target, column ? 'Open to the Side' : 'Open File');
    const uri = versionUri(f.project, f.name, f.version, f.path);
    await vscode.commands.executeCommand('vscode.open', uri, column ? { preview: true, viewColumn: column } : { preview: true });
    return uri;
  }

  /** Copies the file's path inside the version (`data/train.csv`): where it is in every download of it. */
  async copyFilePath(target?: unknown): Promise<string> {
    const f = this.pickers.fileTarget(target, 'Copy Path');
    await vscode.env.clipboard.writeText(f.path);
    void vscode.window.showInformationMessage(`Copied ${f.path} (its path in ${f.name}:v${f.version}).`);
    return f.path;
  }

  /**
   * Saves a copy of the file where the user says (the save dialog asks before replacing a file).
   * The content is fetched next to the destination, checked against its digest, then renamed into
   * place, so an interrupted save leaves no half-written file. `destination`: absolute, or
   * relative to the workspace folder, instead of the dialog.
   */
  async saveFileAs(target?: unknown, destination?: string | vscode.Uri): Promise<vscode.Uri | undefined> {
    const f = this.pickers.fileTarget(target, 'Save As');
    const ref = `${formatRef(f.project, f.name, f.version)}/${f.path}`;
    const entry = (await this.backend.registry.getVersion({ project: f.project, name: f.name, alias: `v${f.version}` })).manifest[f.path];
    if (!entry) throw invalid(`${ref} does not exist.`);
    if (entry.ref) throw invalid(`${f.path} is a reference to ${entry.ref}; Trove records its checksum but does not store it. Download the version to fetch it.`);
    const ws = this.pickers.workspaceFolder();
    const dest = destination !== undefined ? this.pickers.workspaceUri(destination) : await vscode.window.showSaveDialog({
      title: `Save ${f.path} of ${f.name}:v${f.version} as`, saveLabel: 'Save Copy',
      defaultUri: ws ? vscode.Uri.joinPath(ws.uri, basename(f.path)) : undefined,
    });
    if (!dest) return undefined;
    if (dest.scheme !== 'file') throw invalid(`${dest.toString()} is not on this machine; save the copy into a local folder.`);
    if (isDirectory(dest.fsPath)) throw invalid(`${dest.fsPath} is a folder; give the copy a file name.`);
    const tmp = join(dirname(dest.fsPath), `.${basename(dest.fsPath)}.trove-${randomBytes(4).toString('hex')}`);
    try {
      await this.backend.registry.fetchBlob(entry.digest, tmp);
      await rename(tmp, dest.fsPath);
    } finally {
      await rm(tmp, { force: true });
    }
    const shown = vscode.workspace.asRelativePath(dest, false);
    this.log.info(`Saved ${ref} as ${dest.fsPath}`);
    void vscode.window.showInformationMessage(`Saved ${f.path} of ${f.name}:v${f.version} as ${shown}.`);
    return dest;
  }
}

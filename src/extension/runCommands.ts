import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { invalid } from '../core/errors';
import { Commands, type CommandTable } from './commandIds';
import type { TroveLog } from './log';

const RUN_TERMINAL = 'Trove';

/** A path as one word for the terminal's shell (POSIX sh, PowerShell). */
function shellQuote(path: string): string {
  return process.platform === 'win32' ? `'${path.replace(/'/g, "''")}'` : `'${path.replace(/'/g, `'\\''`)}'`;
}

/** Run Python File with Trove: a script as one run, in the integrated terminal. */
export class RunCommands {
  constructor(private readonly log: TroveLog) {}

  commands() {
    return {
      [Commands.runPythonFile]: ['Run Python File with Trove', (u?: unknown) => this.runPythonFile(u)],
    } satisfies CommandTable;
  }

  /**
   * Runs a Python file as `trove run -- python3 FILE` in the integrated terminal "Trove": a
   * `wandb` script logs into the store the tree shows (over a private W&B endpoint, see the CLI),
   * and the tree refreshes as versions appear. The terminal has the `trove` CLI and the backend
   * settings on PATH and in its environment (terminalEnvironment.ts); never a token.
   */
  async runPythonFile(target?: unknown): Promise<void> {
    const uri = target instanceof vscode.Uri ? target : vscode.window.activeTextEditor?.document.uri;
    if (!uri) throw invalid('Open a Python file, or right-click one in the Explorer, to run it with Trove.');
    if (uri.scheme !== 'file') throw invalid(`${uri.toString()} is not a file on this machine; Trove runs local Python files.`);
    if (!uri.fsPath.endsWith('.py')) throw invalid(`${basename(uri.fsPath)} is not a Python file (.py).`);
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open?.isDirty) await open.save();
    // The virtual environment the editor was started in, when there is one; else python3 on PATH.
    const venv = process.env.VIRTUAL_ENV;
    const python = venv ? shellQuote(join(venv, process.platform === 'win32' ? 'Scripts\\python.exe' : 'bin/python')) : process.platform === 'win32' ? 'python' : 'python3';
    const terminal = vscode.window.terminals.find((t) => t.name === RUN_TERMINAL && t.exitStatus === undefined)
      ?? vscode.window.createTerminal({ name: RUN_TERMINAL, cwd: vscode.Uri.file(dirname(uri.fsPath)) });
    terminal.show(true);
    terminal.sendText(`trove run -- ${python} ${shellQuote(uri.fsPath)}`);
    this.log.info(`Running ${uri.fsPath} with trove run in the "${RUN_TERMINAL}" terminal.`);
  }
}

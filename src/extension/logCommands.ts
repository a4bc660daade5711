import { basename } from 'node:path';
import * as vscode from 'vscode';
import { isDirectory } from '../core/config';
import { invalid } from '../core/errors';
import { formatSize } from '../core/format';
import { validateAlias, validateName, validateProject, validateType } from '../core/names';
import type { LogOutcome } from '../core/operations';
import { withRun } from '../core/runs';
import type { Backend } from './backend';
import { Commands, type CommandTable } from './commandIds';
import type { CommandPickers } from './commandPickers';
import { operations, provenance } from './lazyModules';
import type { TroveLog } from './log';
import { withTransferProgress } from './progress';
import { BACK, inputStep, pickStep, problem } from './steps';

/** Answers given up front (tests, the language server's quick fix); what is missing is asked. */
export interface LogFolderOptions {
  name: string;
  type?: string;
  project?: string;
  aliases?: string[];
  description?: string;
}

const TYPES = ['dataset', 'model'];
const LAST_TYPE_KEY = 'trove.lastArtifactType';

/** ", best moved from v0" for the aliases that were on another version than `version`. */
function movedText(before: Map<string, number>, version: number): string {
  const moved = [...before].filter(([, v]) => v !== version);
  return moved.length ? `; ${moved.map(([a, v]) => `${a} moved from v${v}`).join(', ')}` : '';
}

/** Log Folder as Artifact: the folder, its four answers (each step with Back), the run, the reveal. */
export class LogCommands {
  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly backend: Backend,
    private readonly pickers: CommandPickers,
    private readonly log: TroveLog,
  ) {}

  commands() {
    return {
      [Commands.logFolder]: ['Log Folder as Artifact', (a?: unknown, b?: unknown) => this.logFolder(a, b)],
    } satisfies CommandTable;
  }

  async logFolder(target?: unknown, second?: unknown): Promise<LogOutcome | undefined> {
    const options = isLogOptions(second) ? second : isLogOptions(target) ? target : undefined;
    const uri = target instanceof vscode.Uri ? target : await this.pickers.pickFolder('Log Folder as Artifact', 'Pick the folder to log', 'Log Folder');
    if (!uri) return undefined;
    if (uri.scheme !== 'file') throw invalid(`${uri.toString()} is not a folder on this machine; Trove logs local folders.`);
    const folder = uri.fsPath;
    if (!isDirectory(folder)) throw invalid(`${folder} is not a folder; right-click a folder in the Explorer.`);
    const project = options?.project ? validateProject(options.project) : this.pickers.projectFor(folder);
    const title = `Log ${basename(folder)} as an artifact of ${project}`;

    let name: string;
    let type: string;
    let aliases: string[];
    let description: string | undefined;
    if (options) {
      name = options.name;
      const picked = options.type ?? (await this.pickType(title));
      if (picked === undefined) return undefined;
      type = picked;
      aliases = options.aliases ?? [];
      description = options.description;
    } else {
      const answers = await this.askLogAnswers(folder, project, title);
      if (!answers) return undefined;
      ({ name, type, aliases, description } = answers);
    }
    validateName(name.trim());
    validateType(type);
    aliases.forEach((a) => validateAlias(a));
    const before = await this.pickers.aliasPlaces(project, name.trim(), aliases);

    const registry = this.backend.registry;
    const [{ logArtifact }, { gitProvenance }] = await Promise.all([operations(), provenance()]);
    const run = { project, jobType: 'log', command: `VS Code: Log Folder as Artifact ${folder}`, git: await gitProvenance(folder) };
    const outcome: LogOutcome = await withRun(registry, run, ({ id }) => withTransferProgress(`Logging ${name.trim()}`, (transfer) => logArtifact(registry, {
      project, name: name.trim(), type, content: { dirs: [{ absPath: folder }], files: [], references: [] }, aliases,
      description: description || undefined, runId: id, cacheDir: this.backend.cacheDir,
    }, transfer)));
    const short = `${name.trim()}:v${outcome.version}`;
    const moved = movedText(before, outcome.version);
    const message = (outcome.created
      ? `${short} created: ${outcome.files} files, ${formatSize(outcome.size)} (${outcome.storedFiles} new in the store)`
      : `unchanged: same as v${outcome.version} of ${name.trim()}`) + moved;
    await this.pickers.rememberFolderArtifact(folder, { project, name: name.trim() });
    this.log.info(`${outcome.ref}: ${message}`);
    for (const s of outcome.skipped) this.log.channel.warn(`left out ${s.path}: ${s.reason}`);
    if (outcome.skipped.length) {
      void vscode.window.showWarningMessage(`${message}; ${outcome.skipped.length} ${outcome.skipped.length === 1 ? 'entry was' : 'entries were'} left out (first: ${outcome.skipped[0].path}, ${outcome.skipped[0].reason}).`, 'Show Output').then((a) => {
        if (a) this.log.channel.show(true);
      });
    } else {
      void vscode.window.showInformationMessage(message);
    }
    await this.pickers.reveal({ project, name: name.trim(), type, version: outcome.version });
    return outcome;
  }

  /**
   * The four answers of Log Folder as Artifact, each step with Back: the name (the artifact this
   * folder was last logged as, else one made from the folder's name), the type (the artifact's own
   * when it exists), aliases and a description. When the folder's content equals an existing
   * version, the aliases and description steps say which before asking; an alias that another
   * version holds is moved only after the user agrees.
   */
  private async askLogAnswers(folder: string, project: string, title: string): Promise<{ name: string; type: string; aliases: string[]; description: string } | undefined> {
    const registry = this.backend.registry;
    const remembered = this.pickers.folderArtifacts()[folder];
    let name = remembered?.project === project ? remembered.name : suggestName(basename(folder));
    let type = '';
    let aliasText = '';
    let description = '';
    let equal: number | undefined;
    const total = 4;
    for (let step = 1; step <= total;) {
      if (step === 1) {
        const answer = await inputStep({ title, step, totalSteps: total, prompt: 'Artifact name', value: name, validate: (v) => problem(() => validateName(v.trim())) });
        if (answer === undefined) return undefined;
        if (answer === BACK) continue;
        name = answer.trim();
      } else if (step === 2) {
        const existing = (await registry.listArtifacts(project).catch(() => [])).find((a) => a.name === name);
        const last = existing?.type ?? this.context.globalState.get<string>(LAST_TYPE_KEY) ?? 'dataset';
        const labels = [last, ...TYPES.filter((t) => t !== last), 'other…'];
        const answer = await pickStep({
          title, step, totalSteps: total, items: labels.map((label) => ({ label })),
          placeholder: existing ? `Artifact type: ${name} is a ${existing.type}` : 'Artifact type (remembered for next time)',
        });
        if (answer === undefined) return undefined;
        if (answer === BACK) {
          step--;
          continue;
        }
        if (answer.label === 'other…') {
          const typed = await inputStep({ title, step, totalSteps: total, prompt: 'Artifact type (one word, for example evaluation)', validate: (v) => problem(() => validateType(v.trim())) });
          if (typed === undefined) return undefined;
          if (typed === BACK) continue;
          type = typed.trim();
        } else {
          type = answer.label;
        }
        await this.context.globalState.update(LAST_TYPE_KEY, type);
        const { equalVersion } = await operations();
        equal = await equalVersion(registry, { project, name, absPath: folder, cacheDir: this.backend.cacheDir }).catch(() => undefined);
      } else if (step === 3) {
        const unchanged = equal === undefined ? '' : `Unchanged: this folder equals v${equal} of ${name}, so no version is made. `;
        const answer = await inputStep({
          title, step, totalSteps: total, value: aliasText, placeholder: 'best, candidate',
          prompt: `${unchanged}Aliases (optional, separated by spaces or commas; "latest" is set automatically)`,
          validate: (v) => problem(() => splitAliases(v).forEach((a) => validateAlias(a))),
        });
        if (answer === undefined) return undefined;
        if (answer === BACK) {
          step--;
          continue;
        }
        aliasText = answer;
        // Moving an alias that another version holds: ask first.
        const places = await this.pickers.aliasPlaces(project, name, splitAliases(aliasText));
        const taken = [...places].filter(([, v]) => v !== equal);
        if (taken.length) {
          const list = taken.map(([a, v]) => `"${a}" from v${v}`).join(', ');
          const target = equal === undefined ? 'the new version' : `v${equal}`;
          const ok = await vscode.window.showWarningMessage(`Move ${list} of ${name} to ${target}?`, { modal: true }, 'Move');
          if (ok !== 'Move') continue;
        }
      } else {
        const unchanged = equal === undefined ? '' : `Unchanged: this folder equals v${equal} of ${name}; v${equal} keeps its description. `;
        const answer = await inputStep({ title, step, totalSteps: total, value: description, prompt: `${unchanged}Description (optional)` });
        if (answer === undefined) return undefined;
        if (answer === BACK) {
          step--;
          continue;
        }
        description = answer;
      }
      step++;
    }
    return { name, type, aliases: splitAliases(aliasText), description };
  }

  private async pickType(title: string): Promise<string | undefined> {
    const last = this.context.globalState.get<string>(LAST_TYPE_KEY) ?? 'dataset';
    const labels = [last, ...TYPES.filter((t) => t !== last), 'other…'];
    const picked = await vscode.window.showQuickPick(labels.map((label) => ({ label })), { title, placeHolder: 'Artifact type (remembered for next time)', ignoreFocusOut: true });
    if (!picked) return undefined;
    let type = picked.label;
    if (type === 'other…') {
      const typed = await vscode.window.showInputBox({ title, prompt: 'Artifact type (one word, for example evaluation)', ignoreFocusOut: true, validateInput: (v) => problem(() => validateType(v.trim())) });
      if (typed === undefined) return undefined;
      type = typed.trim();
    }
    await this.context.globalState.update(LAST_TYPE_KEY, type);
    return type;
  }
}

function isLogOptions(x: unknown): x is LogFolderOptions {
  return !!x && typeof x === 'object' && !Array.isArray(x) && !(x instanceof vscode.Uri) && typeof (x as LogFolderOptions).name === 'string';
}

export function splitAliases(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((a) => a.trim()).filter(Boolean))];
}

/** A folder name made into a valid artifact name. */
function suggestName(folderName: string): string {
  return folderName.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '').slice(0, 128) || 'artifact';
}

import { versionDocumentUri } from '../lsp/versionDocuments';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import * as vscode from 'vscode';
import { defaultProject, isDirectory } from '../core/config';
import { conflict, describeError, invalid } from '../core/errors';
import { formatRef, parseRef, validateAlias, validateName, validateProject, validateType } from '../core/names';
import type { DownloadOutcome, LogOutcome } from '../core/operations';
import { withRun } from '../core/runs';
import type { VersionDiff } from '../core/types';
import { formatDate, formatSize } from '../core/format';
import { elementId, type TreeElement } from '../shared/artifactTree';
import { usageSnippet, type SnippetLanguage } from '../shared/usageSnippets';
import { looksLikeText } from '../shared/versionUri';
import { versionUri, type ArtifactsTreeProvider } from './artifactsTree';
import type { Backend } from './backend';
import { ARTIFACTS_VIEW, Commands, type CommandId } from './commandIds';
import { CompareDocuments } from './compareDocuments';
import { isServerUrl, TOKEN_SECRET } from './config';
import type { LineagePanels } from './lineagePanel';
import type { TroveLog } from './log';
import { withTransferProgress } from './progress';
import { BACK, inputStep, pickStep } from './steps';

/**
 * The log/download machinery pulls in node-fetch (external references) and simple-git: loaded on
 * first use so that activation stays fast.
 */
const operations = () => import('../core/operations');
const provenance = () => import('../core/provenance');

/** A version a command acts on. */
export interface VersionTarget {
  project: string;
  name: string;
  type: string;
  version: number;
}

/** Answers given up front (tests, the language server's quick fix); what is missing is asked. */
export interface LogFolderOptions {
  name: string;
  type?: string;
  project?: string;
  aliases?: string[];
  description?: string;
}

export interface DownloadOptions {
  /** Absolute folder, or relative to the workspace folder; default `<trove.downloadRoot>/<name>-v<K>`. */
  root?: string;
  /** Overwrite changed files without asking (true) or refuse (false); undefined asks. */
  overwrite?: boolean;
}

export interface CompareOptions {
  /** Open VS Code's diff editor on this modified file instead of offering a pick. */
  diffPath?: string;
  /** Offer a pick of the modified files to open in the diff editor (default true). */
  askForDiff?: boolean;
}

const TYPES = ['dataset', 'model'];
const LAST_TYPE_KEY = 'trove.lastArtifactType';
const FOLDER_ARTIFACTS_KEY = 'trove.folderArtifacts';

/** ", best moved from v0" for the aliases that were on another version than `version`. */
function movedText(before: Map<string, number>, version: number): string {
  const moved = [...before].filter(([, v]) => v !== version);
  return moved.length ? `; ${moved.map(([a, v]) => `${a} moved from v${v}`).join(', ')}` : '';
}

const RUN_TERMINAL = 'Trove';

/** A path as one word for the terminal's shell (POSIX sh, PowerShell). */
function shellQuote(path: string): string {
  return process.platform === 'win32' ? `'${path.replace(/'/g, "''")}'` : `'${path.replace(/'/g, `'\\''`)}'`;
}

/** Every command of the extension; each body runs inside the log's error wrapper. */
export class TroveCommands {
  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly backend: Backend,
    private readonly tree: ArtifactsTreeProvider,
    private readonly treeView: vscode.TreeView<TreeElement>,
    private readonly compare: CompareDocuments,
    private readonly lineage: LineagePanels,
    private readonly log: TroveLog,
  ) {}

  register(): vscode.Disposable[] {
    const table: Record<CommandId, [string, (...args: never[]) => Promise<unknown>]> = {
      [Commands.logFolder]: ['Log Folder as Artifact', (a?: unknown, b?: unknown) => this.logFolder(a, b)],
      [Commands.downloadVersion]: ['Download Version', (t?: unknown, o?: DownloadOptions) => this.downloadVersion(t, o)],
      [Commands.showLineage]: ['Show Lineage', (t?: unknown) => this.showLineage(t)],
      [Commands.addAlias]: ['Add Alias', (t?: unknown, alias?: string) => this.addAlias(t, alias)],
      [Commands.removeAlias]: ['Remove Alias', (t?: unknown, alias?: string) => this.removeAlias(t, alias)],
      [Commands.compareWithPrevious]: ['Compare with Previous Version', (t?: unknown, o?: CompareOptions) => this.compareWithPrevious(t, o)],
      [Commands.compareVersions]: ['Compare Versions', (t?: unknown, other?: unknown, o?: CompareOptions) => this.compareVersions(t, other, o)],
      [Commands.openFile]: ['Open File', (t?: unknown) => this.openFile(t)],
      [Commands.copyUsageSnippet]: ['Copy Usage Snippet', (t?: unknown, lang?: SnippetLanguage) => this.copyUsageSnippet(t, lang)],
      [Commands.copyReference]: ['Copy Reference', (t?: unknown) => this.copyReference(t)],
      [Commands.refresh]: ['Refresh', () => this.refresh()],
      [Commands.selectBackend]: ['Select Backend', (choice?: { backend?: string; storePath?: string }) => this.selectBackend(choice)],
      [Commands.showOutput]: ['Show Output', async () => this.log.channel.show(true)],
      [Commands.loadMore]: ['Load More', async (t?: TreeElement) => t && this.tree.loadMore(t)],
      [Commands.revealVersion]: ['Reveal Version', (t?: unknown) => this.revealVersion(t)],
      [Commands.openDetails]: ['Open Details', (t?: unknown) => this.openDetails(t)],
      [Commands.signIn]: ['Sign In', (a?: { server?: string; token?: string }) => this.signIn(a)],
      [Commands.signOut]: ['Sign Out', () => this.signOut()],
      [Commands.runPythonFile]: ['Run Python File with Trove', (u?: unknown) => this.runPythonFile(u)],
    };
    return Object.entries(table).map(([id, [what, body]]) => vscode.commands.registerCommand(id, this.log.wrap(what, body as (...args: unknown[]) => Promise<unknown>)));
  }

  /**
   * Runs a Python file as `trove run -- python3 FILE` in the integrated terminal "Trove": a
   * `wandb` script logs into the store the tree shows (over a private W&B endpoint, see the CLI),
   * and the tree refreshes as versions appear. The terminal has the `trove` CLI and the backend
   * settings on PATH and in its environment (terminalEnvironment.ts); never a token.
   */
  private async runPythonFile(target?: unknown): Promise<void> {
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

  // ---- helpers ------------------------------------------------------------------------------

  private workspaceFolder(): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.[0];
  }

  /** The project new versions go to (core's defaultProject: the setting, TROVE_PROJECT, the git top folder's or folder's name). */
  private projectFor(folder?: string): string {
    return validateProject(defaultProject(folder ?? this.workspaceFolder()?.uri.fsPath ?? process.cwd(), this.backend.config.project));
  }

  /** Resolves a tree element, a `project/name:alias` string, or asks with quick picks. */
  private async versionTarget(arg: unknown, title: string): Promise<VersionTarget | undefined> {
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

  private async pickArtifact(title: string): Promise<Omit<VersionTarget, 'version'> | undefined> {
    const registry = this.backend.registry;
    const projects = await registry.listProjects();
    const lists = await Promise.all(projects.map((p) => registry.listArtifacts(p.name)));
    const items = lists.flat().map((a) => ({ label: a.name, description: `${a.project} · ${a.type} · v${a.latest}`, artifact: a }));
    if (!items.length) throw invalid(`There are no artifacts in ${registry.location} yet; log a folder first.`);
    const picked = await vscode.window.showQuickPick(items, { title, placeHolder: 'Pick an artifact', matchOnDescription: true });
    return picked && { project: picked.artifact.project, name: picked.artifact.name, type: picked.artifact.type };
  }

  private async pickVersion(a: { project: string; name: string }, title: string, placeHolder: string, exclude?: number): Promise<number | undefined> {
    const versions = (await this.backend.registry.listVersions(a.project, a.name)).filter((v) => v.version !== exclude);
    const items = versions.map((v) => ({
      label: `v${v.version}`, description: v.aliases.join(', '), detail: `${formatSize(v.size)} in ${v.files} files · ${formatDate(v.createdAt)}`, version: v.version,
    }));
    const picked = await vscode.window.showQuickPick(items, { title: `${title}: ${a.name}`, placeHolder });
    return picked?.version;
  }

  /** Refreshes the tree and selects the version (best effort: the tree may be hidden). */
  private async reveal(t: VersionTarget): Promise<void> {
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

  /** Selects a version in the Artifacts tree (from the language server's links and definitions). */
  async revealVersion(target?: unknown): Promise<void> {
    const t = await this.versionTarget(target, 'Reveal Version');
    if (!t) return;
    await vscode.commands.executeCommand(`${ARTIFACTS_VIEW}.focus`);
    await this.reveal(t);
  }

  /**
   * Opens a version's card rendered in VS Code's Markdown preview: the same card as Go to
   * Definition (`trove-version:` documents, written by the language server).
   */
  async openDetails(target?: unknown): Promise<vscode.Uri | undefined> {
    const t = await this.versionTarget(target, 'Open Details');
    if (!t) return undefined;
    const uri = vscode.Uri.parse(versionDocumentUri(t));
    await vscode.commands.executeCommand('markdown.showPreview', uri);
    return uri;
  }

  // ---- log ----------------------------------------------------------------------------------

  async logFolder(target?: unknown, second?: unknown): Promise<LogOutcome | undefined> {
    const options = isLogOptions(second) ? second : isLogOptions(target) ? target : undefined;
    const uri = target instanceof vscode.Uri ? target : await this.pickFolder();
    if (!uri) return undefined;
    if (uri.scheme !== 'file') throw invalid(`${uri.toString()} is not a folder on this machine; Trove logs local folders.`);
    const folder = uri.fsPath;
    if (!isDirectory(folder)) throw invalid(`${folder} is not a folder; right-click a folder in the Explorer.`);
    const project = options?.project ? validateProject(options.project) : this.projectFor(folder);
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
    const before = await this.aliasPlaces(project, name.trim(), aliases);

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
    await this.context.workspaceState.update(FOLDER_ARTIFACTS_KEY, { ...this.folderArtifacts(), [folder]: { project, name: name.trim() } });
    this.log.info(`${outcome.ref}: ${message}`);
    for (const s of outcome.skipped) this.log.channel.warn(`left out ${s.path}: ${s.reason}`);
    if (outcome.skipped.length) {
      void vscode.window.showWarningMessage(`${message}; ${outcome.skipped.length} ${outcome.skipped.length === 1 ? 'entry was' : 'entries were'} left out (first: ${outcome.skipped[0].path}, ${outcome.skipped[0].reason}).`, 'Show Output').then((a) => {
        if (a) this.log.channel.show(true);
      });
    } else {
      void vscode.window.showInformationMessage(message);
    }
    await this.reveal({ project, name: name.trim(), type, version: outcome.version });
    return outcome;
  }

  private async pickFolder(): Promise<vscode.Uri | undefined> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    type Item = vscode.QuickPickItem & { uri?: vscode.Uri };
    const items: Item[] = [];
    for (const f of folders) {
      items.push({ label: `$(root-folder) ${f.name}`, description: f.uri.fsPath, uri: f.uri });
      const entries = await vscode.workspace.fs.readDirectory(f.uri).then((e) => e, () => [] as [string, vscode.FileType][]);
      for (const [n, kind] of entries.sort(([a], [b]) => a.localeCompare(b))) {
        if (kind === vscode.FileType.Directory && !n.startsWith('.') && n !== 'node_modules') items.push({ label: `$(folder) ${f.name}/${n}`, uri: vscode.Uri.joinPath(f.uri, n) });
      }
    }
    items.push({ label: '$(folder-opened) Browse…' });
    const picked = await vscode.window.showQuickPick(items, { title: 'Log Folder as Artifact', placeHolder: 'Pick the folder to log' });
    if (!picked) return undefined;
    if (picked.uri) return picked.uri;
    const chosen = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Log Folder' });
    return chosen?.[0];
  }

  /** The artifact each folder was last logged as, in this workspace (proposed when it is logged again). */
  private folderArtifacts(): Record<string, { project: string; name: string }> {
    return this.context.workspaceState.get<Record<string, { project: string; name: string }>>(FOLDER_ARTIFACTS_KEY) ?? {};
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
    const remembered = this.folderArtifacts()[folder];
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
        const places = await this.aliasPlaces(project, name, splitAliases(aliasText));
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

  /** Which version of the artifact holds each of `aliases` now (those that none holds are left out). */
  private async aliasPlaces(project: string, name: string, aliases: string[]): Promise<Map<string, number>> {
    const places = new Map<string, number>();
    if (!aliases.length) return places;
    const versions = await this.backend.registry.listVersions(project, name).catch(() => []);
    for (const v of versions) for (const a of v.aliases) if (aliases.includes(a) && a !== 'latest') places.set(a, v.version);
    return places;
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

  // ---- download -----------------------------------------------------------------------------

  async downloadVersion(target?: unknown, options: DownloadOptions = {}): Promise<DownloadOutcome | undefined> {
    const t = await this.versionTarget(target, 'Download Version into Workspace');
    if (!t) return undefined;
    const ws = this.workspaceFolder();
    if (!ws && !(options.root && isAbsolute(options.root))) throw invalid('Open a folder first: versions are downloaded into the workspace.');
    const base = ws?.uri.fsPath ?? '';
    const root = options.root ? (isAbsolute(options.root) ? options.root : join(base, options.root)) : join(base, this.backend.config.downloadRoot, `${t.name}-v${t.version}`);
    const registry = this.backend.registry;
    const [{ downloadVersion: downloadVersionFiles, findConflicts }, { gitProvenance }] = await Promise.all([operations(), provenance()]);
    const detail = await registry.getVersion({ project: t.project, name: t.name, alias: `v${t.version}` });
    const ref = formatRef(t.project, t.name, t.version);
    const shown = ws ? relative(base, root) || '.' : root;
    const conflicts = await findConflicts(detail, root);
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

  // ---- lineage, aliases ---------------------------------------------------------------------

  async showLineage(target?: unknown): Promise<string | undefined> {
    const t = await this.versionTarget(target, 'Show Lineage');
    if (!t) return undefined;
    const ref = formatRef(t.project, t.name, t.version);
    this.lineage.show(ref);
    return ref;
  }

  async addAlias(target?: unknown, aliasArg?: string): Promise<string | undefined> {
    const t = await this.versionTarget(target, 'Add Alias');
    if (!t) return undefined;
    const alias = aliasArg ?? await vscode.window.showInputBox({
      title: `Add an alias to ${t.name}:v${t.version}`, prompt: 'Alias (moves from another version of this artifact if it is there)', validateInput: (v) => problem(() => validateAlias(v.trim())),
    });
    if (alias === undefined) return undefined;
    const wanted = validateAlias(alias.trim());
    const from = (await this.aliasPlaces(t.project, t.name, [wanted])).get(wanted);
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
    const t = await this.versionTarget(target, 'Remove Alias');
    if (!t) return undefined;
    const v = await this.backend.registry.getVersion({ project: t.project, name: t.name, alias: `v${t.version}` });
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

  // ---- compare, files -----------------------------------------------------------------------

  async compareWithPrevious(target?: unknown, options: CompareOptions = {}): Promise<VersionDiff | undefined> {
    const t = await this.versionTarget(target, 'Compare with Previous Version');
    if (!t) return undefined;
    const previous = (await this.backend.registry.listVersions(t.project, t.name)).map((v) => v.version).filter((n) => n < t.version).sort((a, b) => b - a)[0];
    if (previous === undefined) throw invalid(`${t.name}:v${t.version} is the first version; there is nothing before it to compare with.`);
    return this.openComparison(t, previous, t.version, options);
  }

  async compareVersions(target?: unknown, other?: unknown, options: CompareOptions = {}): Promise<VersionDiff | undefined> {
    const a = await this.versionTarget(target, 'Compare Versions');
    if (!a) return undefined;
    let b: number | undefined;
    if (typeof other === 'string') {
      const v = await this.backend.registry.getVersion(parseRef(other.includes(':') || other.includes('/') ? other : `${a.project}/${a.name}:${other}`, a.project));
      if (v.project !== a.project || v.name !== a.name) throw invalid(`Compare two versions of one artifact: ${formatRef(v.project, v.name, v.version)} is not a version of ${a.project}/${a.name}.`);
      b = v.version;
    } else {
      b = await this.pickVersion(a, 'Compare Versions', `Compare v${a.version} with…`, a.version);
    }
    if (b === undefined) return undefined;
    const [older, newer] = a.version < b ? [a.version, b] : [b, a.version];
    return this.openComparison(a, older, newer, options);
  }

  private async openComparison(t: VersionTarget, a: number, b: number, options: CompareOptions): Promise<VersionDiff> {
    const doc = await vscode.workspace.openTextDocument(CompareDocuments.uri(t.project, t.name, a, b));
    // Not a preview: the diff editor opened next would replace a preview tab.
    await vscode.window.showTextDocument(doc, { preview: false });
    const diff = await this.compare.compare(t.project, t.name, a, b);
    if (options.diffPath) {
      if (!diff.modified.includes(options.diffPath)) throw invalid(`${options.diffPath} is not modified between v${a} and v${b} of ${t.name}.`);
      await this.openFileDiff(t, a, b, options.diffPath);
    } else if (diff.modified.length && options.askForDiff !== false) {
      const ALL = '$(diff-multiple) Open All Changes';
      const path = await vscode.window.showQuickPick([ALL, ...diff.modified], { title: `${t.name}: v${a} (base) → v${b}`, placeHolder: 'Open all changes, or the diff of one modified file (Esc to close)' });
      if (path === ALL) await this.openAllChanges(t, a, b, diff);
      else if (path) await this.openFileDiff(t, a, b, path);
    }
    return diff;
  }

  /** Every added, removed and modified file of two versions in VS Code's multi-file diff editor (as Git's Open All Changes). */
  private async openAllChanges(t: VersionTarget, a: number, b: number, diff: VersionDiff): Promise<void> {
    const left = (p: string) => versionUri(t.project, t.name, a, p);
    const right = (p: string) => versionUri(t.project, t.name, b, p);
    const resources: [vscode.Uri, vscode.Uri | undefined, vscode.Uri | undefined][] = [];
    for (const p of diff.modified) resources.push([right(p), left(p), right(p)]);
    for (const p of diff.added) resources.push([right(p), undefined, right(p)]);
    for (const p of diff.removed) resources.push([left(p), left(p), undefined]);
    for (const r of diff.renamed) resources.push([right(r.to), left(r.from), right(r.to)]);
    await vscode.commands.executeCommand('vscode.changes', `${t.name}: v${a} ↔ v${b}`, resources);
  }

  private async openFileDiff(t: VersionTarget, a: number, b: number, path: string): Promise<void> {
    const left = versionUri(t.project, t.name, a, path);
    const right = versionUri(t.project, t.name, b, path);
    const [l, r] = await Promise.all([vscode.workspace.fs.readFile(left), vscode.workspace.fs.readFile(right)]);
    if (!looksLikeText(l) || !looksLikeText(r)) {
      void vscode.window.showInformationMessage(`${path} is a binary file; the diff editor compares text files only.`);
      return;
    }
    await vscode.commands.executeCommand('vscode.diff', left, right, `${t.name}/${path} (v${a} ↔ v${b})`, { preview: true });
  }

  async openFile(target?: unknown): Promise<vscode.Uri | undefined> {
    let uri: vscode.Uri | undefined;
    if (target instanceof vscode.Uri) uri = target;
    else if (target && typeof target === 'object' && (target as TreeElement).kind === 'file') {
      const f = target as TreeElement & { kind: 'file' };
      uri = versionUri(f.project, f.name, f.version, f.path);
    }
    if (!uri) throw invalid('Open File works on a file of a version: expand a version in the Trove view and click a file.');
    await vscode.commands.executeCommand('vscode.open', uri, { preview: true });
    return uri;
  }

  // ---- clipboard ----------------------------------------------------------------------------

  async copyUsageSnippet(target?: unknown, languageArg?: SnippetLanguage): Promise<string | undefined> {
    const t = await this.versionTarget(target, 'Copy Usage Snippet');
    if (!t) return undefined;
    const language = languageArg ?? (await vscode.window.showQuickPick(
      [{ label: 'Python', language: 'python' as const }, { label: 'TypeScript', language: 'typescript' as const }],
      { title: `Usage snippet for ${t.name}:v${t.version}`, placeHolder: 'Language' }))?.language;
    if (!language) return undefined;
    if (language !== 'python' && language !== 'typescript') throw invalid(`Snippets exist for python and typescript, not "${language}".`);
    const snippet = usageSnippet(language, { project: t.project, name: t.name, alias: `v${t.version}`, type: t.type });
    await vscode.env.clipboard.writeText(snippet);
    void vscode.window.showInformationMessage(`Copied the ${language === 'python' ? 'Python' : 'TypeScript'} snippet for ${t.name}:v${t.version}.`);
    return snippet;
  }

  async copyReference(target?: unknown): Promise<string | undefined> {
    const t = await this.versionTarget(target, 'Copy Reference');
    if (!t) return undefined;
    const ref = formatRef(t.project, t.name, t.version);
    await vscode.env.clipboard.writeText(ref);
    void vscode.window.showInformationMessage(`Copied ${ref}.`);
    return ref;
  }

  // ---- backend ------------------------------------------------------------------------------

  async refresh(): Promise<void> {
    await this.backend.checkHealth();
    this.tree.refresh();
  }

  /**
   * Stores a server token in VS Code's SecretStorage (never in settings or logs), after checking
   * that the server accepts it, and makes that server the backend.
   */
  async signIn(given?: { server?: string; token?: string }): Promise<string | undefined> {
    const current = isServerUrl(this.backend.config.backend) ? this.backend.config.backend : 'http://127.0.0.1:8080';
    const server = given?.server ?? (await vscode.window.showInputBox({
      title: 'Sign in to a Trove server (1/2)', prompt: 'Server URL', value: current, ignoreFocusOut: true,
      validateInput: (v) => (validServerUrl(v.trim()) ? undefined : 'Enter an http:// or https:// URL without a user name or password, for example http://127.0.0.1:8080.'),
    }))?.trim();
    if (server === undefined) return undefined;
    if (!validServerUrl(server)) throw invalid(`"${server}" is not a server URL: use http(s)://host:port without credentials.`);
    const token = given?.token ?? (await vscode.window.showInputBox({
      title: 'Sign in to a Trove server (2/2)', prompt: 'API token (printed by "trove token create")', password: true, ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : 'Paste the token printed by "trove token create".'),
    }))?.trim();
    if (!token) return undefined;
    const { openRegistry } = await import('../backends/openRegistry');
    const probe = openRegistry({ server, token }).registry;
    try {
      await probe.listProjects();
    } finally {
      await probe.close();
    }
    await this.context.secrets.store(TOKEN_SECRET, token);
    await this.selectBackend({ backend: server });
    this.log.info(`Signed in to ${server}`);
    void vscode.window.showInformationMessage(`Signed in to ${server}.`);
    return server;
  }

  async signOut(): Promise<void> {
    await this.context.secrets.delete(TOKEN_SECRET);
    await this.backend.open();
    this.tree.refresh();
    void vscode.window.showInformationMessage('Signed out: the server token was removed from VS Code\'s secret storage.');
  }

  async selectBackend(choice?: { backend?: string; storePath?: string; target?: 'user' | 'workspace' }): Promise<string | undefined> {
    let backend = choice?.backend;
    let storePath = choice?.storePath;
    let target = choice?.target;
    if (!choice) {
      type Item = vscode.QuickPickItem & { action: 'keep' | 'folder' | 'server' | 'default' };
      const items: Item[] = [
        { label: '$(database) Embedded store', description: this.backend.isEmbedded ? 'current' : '', detail: this.backend.storeRoot, action: 'keep' },
        { label: '$(folder-opened) Embedded store in another folder…', action: 'folder' },
        { label: '$(home) Default embedded store', detail: 'TROVE_STORE, else ~/.trove', action: 'default' },
        { label: '$(server) Server…', description: isServerUrl(this.backend.config.backend) ? `current: ${this.backend.config.backend}` : '', detail: 'A "trove serve" URL such as http://127.0.0.1:8080', action: 'server' },
      ];
      const picked = await vscode.window.showQuickPick(items, { title: 'Select the Trove backend' });
      if (!picked) return undefined;
      if (picked.action === 'keep') backend = 'embedded';
      if (picked.action === 'default') [backend, storePath] = ['embedded', ''];
      if (picked.action === 'folder') {
        const folder = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use as Trove store' });
        if (!folder?.[0]) return undefined;
        [backend, storePath] = ['embedded', folder[0].fsPath];
      }
      if (picked.action === 'server') {
        const url = await vscode.window.showInputBox({
          title: 'Trove server URL', value: isServerUrl(this.backend.config.backend) ? this.backend.config.backend : 'http://127.0.0.1:8080',
          validateInput: (v) => (validServerUrl(v.trim()) ? undefined : 'Enter an http:// or https:// URL without a user name or password, for example http://127.0.0.1:8080.'),
        });
        if (url === undefined) return undefined;
        backend = url.trim();
      }
      // Workspace settings are often tracked by git: the user chooses where the choice is kept.
      if (vscode.workspace.workspaceFolders?.length) {
        const where = await vscode.window.showQuickPick([
          { label: '$(account) User settings', detail: 'For every workspace on this machine; nothing is written into the project', target: 'user' as const },
          { label: '$(folder) Workspace settings', detail: '.vscode/settings.json of this workspace, which git may track and share', target: 'workspace' as const },
        ], { title: 'Save the Trove backend in…' });
        if (!where) return undefined;
        target = where.target;
      }
    }
    if (backend !== undefined && backend !== 'embedded' && !validServerUrl(backend)) {
      throw invalid(`"${backend}" is not a backend: use "embedded" or an http(s) URL without credentials (sign in for the token).`);
    }
    const config = vscode.workspace.getConfiguration('trove');
    // Callers that pass a backend without a target keep the earlier rule: the workspace when there is one.
    const where = target === 'user' || !vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Global : vscode.ConfigurationTarget.Workspace;
    if (storePath !== undefined) await config.update('storePath', storePath, where);
    if (backend !== undefined) await config.update('backend', backend, where);
    await this.backend.open();
    this.tree.refresh();
    return this.backend.location;
  }
}

function isLogOptions(x: unknown): x is LogFolderOptions {
  return !!x && typeof x === 'object' && !Array.isArray(x) && !(x instanceof vscode.Uri) && typeof (x as LogFolderOptions).name === 'string';
}

/** The validation message of a check that throws, for an input box; undefined when valid. */
function problem(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (e) {
    return describeError(e);
  }
}

export function splitAliases(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((a) => a.trim()).filter(Boolean))];
}

/** A folder name made into a valid artifact name. */
function suggestName(folderName: string): string {
  return folderName.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '').slice(0, 128) || 'artifact';
}

function validServerUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password;
  } catch {
    return false;
  }
}

import { readdirSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { isDirectory } from '../core/config';
import { invalid, TroveError } from '../core/errors';
import { formatSize } from '../core/format';
import { formatRef, parseRef, validateAlias, validateName, validateProject, validateType } from '../core/names';
import { downloadVersion, findConflicts, logArtifact } from '../core/operations';
import { gitProvenance } from '../core/provenance';
import type { Registry } from '../core/registry';
import { finishRunAfter } from '../core/runs';
import { ClientCommands, type LogFolderArgs } from './protocol';

/**
 * The client commands the server can run itself through `workspace/executeCommand`, for clients
 * that do not implement them (every client but the VS Code extension): downloading a version and
 * logging a folder. Showing lineage and revealing a version need the extension's views.
 */
export const SERVER_COMMANDS: readonly string[] = [ClientCommands.downloadVersion, ClientCommands.logFolder];

/** Options of `trove.downloadVersion` (its optional second argument). */
export interface DownloadCommandOptions {
  /** Target folder: absolute, or relative to the workspace folder; default `artifacts/<name>-v<K>`. */
  root?: string;
  /** Overwrite files in the target whose content differs (otherwise the command refuses). */
  overwrite?: boolean;
}

/** What a command needs from the server: the open backend, the workspace and a way to ask the user. */
export interface CommandContext {
  registry: Registry;
  cacheDir: string;
  /** The first workspace folder; downloads and relative folders are taken from it. */
  workspaceFolder: string | undefined;
  /** Folders never offered for logging (the store itself). */
  excluded: string[];
  /** Asks the user to pick one of `choices` (`window/showMessageRequest`); undefined when dismissed. */
  choose(message: string, choices: string[]): Promise<string | undefined>;
}

export interface CommandOutcome {
  /** One sentence for the user. */
  message: string;
  result: Record<string, unknown>;
}

/** Runs one of SERVER_COMMANDS; undefined when the user dismissed a question. Errors are TroveErrors with one sentence. */
export async function runServerCommand(command: string, args: unknown[], ctx: CommandContext): Promise<CommandOutcome | undefined> {
  switch (command) {
    case ClientCommands.downloadVersion:
      return downloadCommand(args[0], args[1], ctx);
    case ClientCommands.logFolder:
      return logFolderCommand(args[0], ctx);
    default:
      throw invalid(`The Trove language server cannot run "${command}"; it runs ${SERVER_COMMANDS.join(' and ')}.`);
  }
}

async function downloadCommand(target: unknown, optionsIn: unknown, ctx: CommandContext): Promise<CommandOutcome> {
  if (typeof target !== 'string' || !target.trim()) {
    throw invalid(`${ClientCommands.downloadVersion} takes the version to download, for example "my-project/mnist:v2".`);
  }
  const options = (optionsIn && typeof optionsIn === 'object' ? optionsIn : {}) as DownloadCommandOptions;
  const ref = parseRef(target);
  const ws = ctx.workspaceFolder;
  if (options.root !== undefined && typeof options.root !== 'string') throw invalid('The download option "root" must be a folder path.');
  if (!ws && !(options.root && isAbsolute(options.root))) throw invalid('Open a folder first (or give an absolute "root"): versions are downloaded into the workspace.');
  // Without its manifest: the conflict check and the download page it (a version may hold a million files).
  const version = await ctx.registry.getVersion(ref, { manifest: false });
  const base = ws ?? '';
  const root = options.root ? resolve(base, options.root) : join(base, 'artifacts', `${version.name}-v${version.version}`);
  const shown = ws && !relative(ws, root).startsWith('..') ? relative(ws, root) || '.' : root;
  const exact = formatRef(version.project, version.name, version.version);
  const conflicts = await findConflicts(version, root, undefined, ctx.registry);
  if (conflicts.length && !options.overwrite) {
    throw new TroveError('conflict', `${conflicts.length} file(s) in ${shown} differ from ${exact} (first: ${conflicts[0]}); pass {"overwrite": true} as the second argument, or another "root".`);
  }
  const run = await createRun(ctx.registry, version.project, 'download', `language server: Download ${exact}`, ws);
  const outcome = await finishRunAfter(ctx.registry, run, async () => {
    if (run) await ctx.registry.recordUse(run, { project: version.project, name: version.name, version: version.version });
    return downloadVersion(ctx.registry, version, { root, overwrite: !!options.overwrite });
  });
  return {
    message: `${version.name}:v${version.version} downloaded: ${outcome.files} files in ${shown}${outcome.unchanged ? ` (${outcome.unchanged} already up to date)` : ''}${run ? '' : ' (not recorded as a run: the token is read-only)'}`,
    result: { ref: exact, root: outcome.root, files: outcome.files, unchanged: outcome.unchanged },
  };
}

async function logFolderCommand(argsIn: unknown, ctx: CommandContext): Promise<CommandOutcome | undefined> {
  const args = (argsIn && typeof argsIn === 'object' ? argsIn : {}) as Partial<LogFolderArgs>;
  if (typeof args.name !== 'string' || typeof args.project !== 'string') {
    throw invalid(`${ClientCommands.logFolder} takes {"name", "project", "type"?, "folder"?}, for example {"name": "mnist", "project": "demo", "folder": "data"}.`);
  }
  const name = validateName(args.name.trim());
  const project = validateProject(args.project.trim());
  let folder = typeof args.folder === 'string' && args.folder.trim() ? args.folder.trim() : undefined;
  if (!folder) {
    const choices = folderChoices(ctx);
    if (!choices.length) throw invalid(`There is no folder to log as "${name}": open a workspace folder, or pass "folder".`);
    folder = await ctx.choose(`Log which folder as "${name}" in project ${project}?`, choices);
    if (folder === undefined) return undefined;
  }
  const path = resolve(ctx.workspaceFolder ?? process.cwd(), folder);
  if (!isDirectory(path)) throw invalid(`${path} is not a folder; pass the folder to log as "folder" (absolute, or relative to the workspace folder).`);
  let type = typeof args.type === 'string' && args.type.trim() ? args.type.trim() : undefined;
  if (!type) {
    type = await ctx.choose(`Which type is "${name}"?`, ['dataset', 'model']);
    if (type === undefined) return undefined;
  }
  validateType(type);
  const aliases = Array.isArray(args.aliases) ? args.aliases.map((a) => validateAlias(String(a).trim())) : [];
  const description = typeof args.description === 'string' && args.description.trim() ? args.description.trim() : undefined;
  const run = await createRun(ctx.registry, project, 'log', `language server: Log Folder as Artifact ${path}`, path);
  const outcome = await finishRunAfter(ctx.registry, run, () => logArtifact(ctx.registry, {
    project, name, type, content: { dirs: [{ absPath: path }], files: [], references: [] }, aliases, description, ...(run ? { runId: run } : {}), cacheDir: ctx.cacheDir,
  }));
  return {
    message: outcome.created
      ? `${name}:v${outcome.version} created from ${basename(path)}: ${outcome.files} files, ${formatSize(outcome.size)} (${outcome.storedFiles} new in the store)`
      : `unchanged: ${basename(path)} is the same as v${outcome.version} of ${name}`,
    result: { ref: outcome.ref, version: outcome.version, created: outcome.created, files: outcome.files, folder: path },
  };
}

/** The workspace folder and its visible sub-folders, as offered by the extension's folder picker. */
function folderChoices(ctx: CommandContext): string[] {
  const ws = ctx.workspaceFolder;
  if (!ws || !isDirectory(ws)) return [];
  const excluded = new Set(ctx.excluded.map((p) => resolve(p)));
  let entries: string[] = [];
  try {
    entries = readdirSync(ws, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules' && !excluded.has(join(ws, e.name)))
      .map((e) => e.name)
      .sort();
  } catch {
    // An unreadable workspace offers only itself.
  }
  return ['.', ...entries].slice(0, 20);
}

/** A run for the lineage, or undefined when the backend refuses it to a read-only token (the work is done without one). */
async function createRun(registry: Registry, project: string, jobType: string, command: string, dir: string | undefined): Promise<string | undefined> {
  try {
    const run = await registry.createRun({ project, jobType, command, ...(dir ? { git: await gitProvenance(dir) } : {}) });
    return run.id;
  } catch (e) {
    if (e instanceof TroveError && e.code === 'forbidden' && /read-only/.test(e.message)) return undefined;
    throw e;
  }
}

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { openChosen } from '../backends/openRegistry';
import { backendEnvironment, backendFromOptions, type BackendChoice } from '../core/backendChoice';
import { defaultProject, defaultStorePath } from '../core/config';
import { describeError, invalid, TroveError, usageError } from '../core/errors';
import { formatSize } from '../core/format';
import { forEachLimit, hashFile, SMALL_FILE, sha256 } from '../core/hash';
import { MAX_LINEAGE_DEPTH } from '../core/lineage';
import { formatRef, parseRef, parseVersionAlias, validateAlias } from '../core/names';
import { diffVersions, downloadVersion, logArtifact, safeJoin, versionFiles } from '../core/operations';
import type { ManifestFile } from '../core/types';
import { gitProvenance } from '../core/provenance';
import type { Registry } from '../core/registry';
import { finishRunAfter, withRun } from '../core/runs';
import { describeDeletion, describeRestore, parseDeletionTarget, previewDeletion } from '../core/deletion';
import { parseProtectedAliases, protectedAliasesFromEnv } from '../core/versionRules';
import { commandHelp, overviewHelp, TROVE_VERSION } from './help';
import { progressFor } from './progress';


type Flags = Record<string, string | boolean | string[] | undefined>;
interface Ctx {
  flags: Flags;
  args: string[];
  json: boolean;
  project: string;
  registry: Registry;
  /** The backend `registry` is (for commands started inside `trove run`). */
  backend: BackendChoice;
  cacheDir: string;
  out: (text: string) => void;
}

const GLOBAL: ParseArgsConfig['options'] = {
  store: { type: 'string' },
  server: { type: 'string' },
  project: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** Commands that open no registry client: they are the server side. */
const SERVER_COMMANDS: Record<string, { options: ParseArgsConfig['options']; run: (flags: Flags, args: string[]) => Promise<number> }> = {
  serve: {
    options: {
      listen: { type: 'string' }, database: { type: 'string' }, blobs: { type: 'string' }, 's3-endpoint': { type: 'string' },
      's3-presign-max-bytes': { type: 'string' }, 'require-auth': { type: 'boolean' }, 'body-timeout': { type: 'string' }, 'protected-aliases': { type: 'string' },
    },
    run: cmdServe,
  },
  token: { options: { database: { type: 'string' }, scope: { type: 'string' } }, run: cmdToken },
};

const COMMANDS: Record<string, { options: ParseArgsConfig['options']; run: (ctx: Ctx) => Promise<number | void> }> = {
  log: { options: { name: { type: 'string' }, type: { type: 'string' }, alias: { type: 'string', multiple: true }, reference: { type: 'string', multiple: true }, description: { type: 'string' }, metadata: { type: 'string' } }, run: cmdLog },
  download: { options: { root: { type: 'string' }, path: { type: 'string' }, link: { type: 'string' }, force: { type: 'boolean' } }, run: cmdDownload },
  ls: { options: {}, run: cmdLs },
  show: { options: {}, run: cmdShow },
  alias: { options: {}, run: cmdAlias },
  diff: { options: {}, run: cmdDiff },
  lineage: { options: { depth: { type: 'string' }, connected: { type: 'boolean' } }, run: cmdLineage },
  verify: { options: { root: { type: 'string' } }, run: cmdVerify },
  rm: { options: { yes: { type: 'boolean', short: 'y' } }, run: cmdRm },
  restore: { options: {}, run: cmdRestore },
  gc: { options: { 'dry-run': { type: 'boolean' }, 'min-age': { type: 'string' } }, run: cmdGc },
  run: { options: { 'job-type': { type: 'string' }, name: { type: 'string' } }, run: cmdRun },
};

/** Every command `trove` dispatches; each has its entry in COMMAND_HELP (a test checks it). */
export const COMMAND_NAMES: readonly string[] = [...Object.keys(COMMANDS), ...Object.keys(SERVER_COMMANDS)];

/** Global options may come before the command: `trove --store DIR log …`. */
function splitCommand(argv: string[]): { command?: string; rest: string[] } {
  const valued = new Set(Object.entries(GLOBAL!).filter(([, o]) => o.type === 'string').map(([k]) => `--${k}`));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (valued.has(a)) i++;
    else if (!a.startsWith('-') || a === '--help' || a === '-h' || a === '--version') return { command: a, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
    else if (a === '--') break;
  }
  return { rest: argv };
}

export async function main(argv: string[]): Promise<number> {
  const { command, rest } = splitCommand(argv);
  if (!command || command === '--help' || command === '-h') {
    process.stdout.write(overviewHelp());
    return command ? 0 : 2;
  }
  if (command === 'help') {
    // `trove help <command>` is `trove <command> --help`.
    const topic = rest.find((a) => !a.startsWith('-'));
    if (!topic) {
      process.stdout.write(overviewHelp());
      return 0;
    }
    if (!COMMANDS[topic] && !SERVER_COMMANDS[topic]) return fail(usageError(`Unknown command "${topic}"; run \`trove --help\` for the list.`));
    process.stdout.write(commandHelp(topic));
    return 0;
  }
  if (command === '--version') {
    process.stdout.write(`trove ${TROVE_VERSION}\n`);
    return 0;
  }
  const serverSpec = SERVER_COMMANDS[command];
  if (serverSpec) {
    let parsedServer;
    try {
      parsedServer = parseArgs({ args: rest, options: { ...GLOBAL, ...serverSpec.options }, allowPositionals: true, strict: true });
    } catch (e) {
      return fail(usageError(`${(e as Error).message.replace(/\. To specify.*$/s, '')}. Run \`trove ${command} --help\`.`));
    }
    if (parsedServer.values.help) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    try {
      return await serverSpec.run(parsedServer.values as Flags, parsedServer.positionals);
    } catch (e) {
      return fail(e);
    }
  }
  const spec = COMMANDS[command];
  if (!spec) return fail(usageError(`Unknown command "${command}"; run \`trove --help\` for the list.`));
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...GLOBAL, ...spec.options }, allowPositionals: true, strict: true });
  } catch (e) {
    return fail(usageError(`${(e as Error).message.replace(/\. To specify.*$/s, '')}. Run \`trove ${command} --help\`.`));
  }
  const flags = parsed.values as Flags;
  if (flags.help) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  const json = !!flags.json;
  let registry: Registry | undefined;
  try {
    const backend = backendFromOptions({ store: flags.store as string | undefined, server: flags.server as string | undefined });
    const opened = openChosen(backend);
    registry = opened.registry;
    registry.onWarning = (message) => process.stderr.write(`trove: ${message}\n`);
    const ctx: Ctx = {
      flags, args: parsed.positionals, json, registry, backend, cacheDir: opened.cacheDir,
      project: defaultProject(process.cwd(), flags.project as string | undefined),
      out: (text) => {
        process.stdout.write(text.endsWith('\n') ? text : text + '\n');
      },
    };
    return (await spec.run(ctx)) ?? 0;
  } catch (e) {
    return fail(e);
  } finally {
    await registry?.close();
  }
}

function fail(e: unknown): number {
  const message = describeError(e);
  process.stderr.write(`trove: ${message}\n`);
  if (process.env.TROVE_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  return e instanceof TroveError && e.code === 'usage' ? 2 : 1;
}

function needArgs(ctx: Ctx, n: number, usage: string): void {
  if (ctx.args.length !== n) throw usageError(`Expected ${usage}; run \`trove --help\`.`);
}

function str(ctx: Ctx, name: string): string | undefined {
  return ctx.flags[name] as string | undefined;
}

/** A run of its own for one CLI action, unless `trove run` (TROVE_RUN_ID) owns one. */
async function asRun<T>(ctx: Ctx, jobType: string, body: (runId: string) => Promise<T>): Promise<T> {
  const attached = process.env.TROVE_RUN_ID;
  if (attached) {
    await ctx.registry.getRun(attached);
    return body(attached);
  }
  const git = await gitProvenance(process.cwd());
  return withRun(ctx.registry, { project: ctx.project, jobType, command: `trove ${process.argv.slice(2).join(' ')}`, git }, (run) => body(run.id));
}

/**
 * A download's own run: in the current project (the folder's, or --project), or, when the token
 * may not write there, in the project of the artifact being downloaded.
 */
async function createDownloadRun(ctx: Ctx, artifactProject: string): Promise<string> {
  const git = await gitProvenance(process.cwd());
  const create = async (project: string) => (await ctx.registry.createRun({ project, jobType: 'download', command: `trove ${process.argv.slice(2).join(' ')}`, git })).id;
  try {
    return await create(ctx.project);
  } catch (e) {
    if (!(e instanceof TroveError && e.code === 'forbidden') || artifactProject === ctx.project) throw e;
    // The first refusal is the one worth reporting when the second attempt fails too.
    return create(artifactProject).catch(() => {
      throw e;
    });
  }
}

async function cmdLog(ctx: Ctx): Promise<void> {
  needArgs(ctx, 1, 'trove log <path> --name N --type T');
  const name = str(ctx, 'name');
  const type = str(ctx, 'type');
  if (!name || !type) throw usageError('trove log needs --name and --type, for example: trove log data/ --name mnist --type dataset.');
  let metadata: Record<string, unknown> | undefined;
  if (str(ctx, 'metadata') !== undefined) {
    try {
      metadata = JSON.parse(str(ctx, 'metadata')!);
    } catch {
      throw invalid('--metadata must be a JSON object, for example --metadata \'{"epochs": 10}\'.');
    }
    if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) throw invalid('--metadata must be a JSON object, for example --metadata \'{"epochs": 10}\'.');
  }
  const aliases = (ctx.flags.alias as string[] | undefined) ?? [];
  aliases.forEach((a) => validateAlias(a, { allowLatest: true }));
  // A URI (file://, http(s)://, s3://) is recorded as a reference: checksum only, not copied.
  const isUri = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
  const references = [ctx.args[0], ...((ctx.flags.reference as string[] | undefined) ?? [])].filter(isUri).map((spec) => {
    const eq = spec.lastIndexOf('=');
    const uri = eq > spec.indexOf('://') ? spec.slice(0, eq) : spec;
    const path = eq > spec.indexOf('://') ? spec.slice(eq + 1) : decodeURIComponent(new URL(uri).pathname.split('/').filter(Boolean).pop() ?? '');
    if (!path) throw usageError(`Give the reference ${uri} a file name: --reference ${uri}=NAME.`);
    return { uri, path };
  });
  const dirs = isUri(ctx.args[0]) ? [] : [{ absPath: resolve(ctx.args[0]) }];
  const progress = progressFor(ctx.json);
  const result = await asRun(ctx, 'log', (runId) =>
    logArtifact(ctx.registry, {
      project: ctx.project, name, type, content: { dirs, files: [], references },
      aliases, description: str(ctx, 'description'), metadata, runId, cacheDir: ctx.cacheDir,
    }, { progress }),
  ).finally(() => progress?.done());
  if (result.skipped.length) {
    const shown = result.skipped.slice(0, 5).map((s) => `${s.path} (${s.reason})`).join('; ');
    process.stderr.write(`trove: left out ${result.skipped.length} ${result.skipped.length === 1 ? 'entry that is' : 'entries that are'} not a regular file: ${shown}${result.skipped.length > 5 ? `; and ${result.skipped.length - 5} more (--json lists them)` : ''}.\n`);
  }
  if (ctx.json) {
    ctx.out(JSON.stringify({ ref: result.ref, version: result.version, digest: result.digest, created: result.created, files: result.files, storedFiles: result.storedFiles, size: result.size, ...(result.skipped.length ? { skipped: result.skipped } : {}) }));
  } else if (result.created) {
    ctx.out(`${result.ref} created: ${result.files} files, ${formatSize(result.size)} (${result.storedFiles} new in the store)`);
  } else {
    ctx.out(`unchanged: same content as ${result.ref}`);
  }
}

async function cmdDownload(ctx: Ctx): Promise<void> {
  needArgs(ctx, 1, 'trove download <ref>');
  const link = str(ctx, 'link') ?? 'copy';
  if (link !== 'copy' && link !== 'hardlink') throw usageError('--link must be copy or hardlink.');
  const ref = parseRef(ctx.args[0], ctx.project);
  const version = await ctx.registry.getVersion(ref, { manifest: false });
  const key = { project: version.project, name: version.name, version: version.version };
  // The download is recorded as a run (an input of the lineage) where that is allowed; a run
  // that cannot be recorded never fails the download, and the user is told.
  const attached = process.env.TROVE_RUN_ID;
  let runId: string | undefined;
  let notRecorded: string | undefined;
  try {
    if (attached) {
      await ctx.registry.recordUse(attached, key);
    } else {
      runId = await createDownloadRun(ctx, version.project);
      await ctx.registry.recordUse(runId, key);
    }
  } catch (e) {
    notRecorded = e instanceof TroveError && e.code === 'forbidden' && /read-only/.test(e.message) ? 'this token is read-only' : describeError(e).replace(/\.$/, '');
  }
  if (notRecorded) {
    process.stderr.write(notRecorded === 'this token is read-only'
      ? 'trove: this token is read-only, so the download is not recorded as a run in the lineage.\n'
      : `trove: the download is not recorded as a run in the lineage (${notRecorded}).\n`);
  }
  const progress = progressFor(ctx.json);
  const root = str(ctx, 'root') ?? `artifacts/${version.name}-v${version.version}`;
  // Nor does a failure to record the end of the run: finishing is best effort here.
  const bestEffort: Pick<Registry, 'finishRun'> = { finishRun: (id, status) => ctx.registry.finishRun(id, status).catch(() => undefined) };
  const files = await finishRunAfter(bestEffort, notRecorded ? undefined : runId, async () => {
    try {
      return await downloadVersion(ctx.registry, version, { root, pathPrefix: str(ctx, 'path'), link, overwrite: !!ctx.flags.force, progress });
    } finally {
      progress?.done();
    }
  });
  const outcome = { ...files, ref: formatRef(version.project, version.name, version.version) };
  if (ctx.json) ctx.out(JSON.stringify({ ref: outcome.ref, root: outcome.root, files: outcome.files }));
  else ctx.out(`${outcome.ref}: ${outcome.files} files in ${outcome.root}${outcome.unchanged ? ` (${outcome.unchanged} already up to date)` : ''}`);
}

async function cmdLs(ctx: Ctx): Promise<void> {
  if (ctx.args.length > 1) throw usageError('Expected trove ls [PROJECT[/NAME]].');
  const target = ctx.args[0];
  if (!target) {
    const projects = await ctx.registry.listProjects();
    if (ctx.json) return ctx.out(JSON.stringify(projects));
    if (!projects.length) return ctx.out(`No artifacts yet in ${ctx.registry.location}. Log one with: trove log <folder> --name N --type dataset`);
    return ctx.out(table(['PROJECT', 'ARTIFACTS'], projects.map((p) => [p.name, String(p.artifacts)])));
  }
  const [project, name, extra] = target.split('/');
  if (extra !== undefined || !project) throw usageError('Expected trove ls [PROJECT[/NAME]].');
  if (!name) {
    const artifacts = await ctx.registry.listArtifacts(project);
    if (!artifacts.length) throw new TroveError('not_found', `Project "${project}" has no artifacts in ${ctx.registry.location}; run \`trove ls\` to see the projects.`);
    if (ctx.json) return ctx.out(JSON.stringify(artifacts.map((a) => ({ name: a.name, type: a.type, versions: a.versions, latest: a.latest }))));
    return ctx.out(table(['NAME', 'TYPE', 'VERSIONS', 'LATEST'], artifacts.map((a) => [a.name, a.type, String(a.versions), `v${a.latest}`])));
  }
  const versions = await ctx.registry.listVersions(project, name);
  if (ctx.json) return ctx.out(JSON.stringify(versions.map((v) => ({ version: v.version, aliases: v.aliases, digest: v.digest, size: v.size, files: v.files, createdAt: v.createdAt }))));
  return ctx.out(table(['VERSION', 'ALIASES', 'FILES', 'SIZE', 'CREATED', 'DIGEST'], versions.map((v) => [`v${v.version}`, v.aliases.join(',') || '-', String(v.files), formatSize(v.size), v.createdAt.replace('T', ' ').slice(0, 19), v.digest.slice(0, 12)])));
}

async function cmdShow(ctx: Ctx): Promise<void> {
  needArgs(ctx, 1, 'trove show <ref>');
  const v = await ctx.registry.getVersion(parseRef(ctx.args[0], ctx.project), { manifest: false });
  const fileOf = (f: ManifestFile) => ({ path: f.path, digest: f.digest, size: f.size, ...(f.ref ? { ref: f.ref } : {}) });
  const body = {
    ref: formatRef(v.project, v.name, v.version), version: v.version, type: v.type, aliases: v.aliases, digest: v.digest, size: v.size,
    files: [] as ReturnType<typeof fileOf>[], description: v.description, metadata: v.metadata, createdBy: v.createdBy ?? null, usedBy: v.usedBy, createdAt: v.createdAt,
  };
  if (ctx.json) {
    // Every file, written a page at a time: a million of them would make one string of 100 MB.
    const [head, tail] = JSON.stringify(body).split('"files":[]');
    await writeOut(head + '"files":[');
    let first = true;
    for await (const batch of versionFiles(ctx.registry, v)) {
      await writeOut(batch.map((f) => `${first ? ((first = false), '') : ','}${JSON.stringify(fileOf(f))}`).join(''));
    }
    await writeOut(']' + tail + '\n');
    return;
  }
  const files: ReturnType<typeof fileOf>[] = v.files ? (await ctx.registry.manifestPage({ project: v.project, name: v.name, version: v.version }, null, 200)).items.map(fileOf) : [];
  const lines = [
    `${body.ref}  (${v.type})  aliases: ${v.aliases.join(', ') || '-'}`,
    `digest   ${v.digest}`,
    `size     ${formatSize(v.size)} in ${v.files} files`,
    `created  ${v.createdAt}${v.createdBy ? ` by run ${v.createdBy.runId} (${v.createdBy.jobType})` : ''}`,
  ];
  if (v.description) lines.push(`about    ${v.description}`);
  if (Object.keys(v.metadata).length) lines.push(`metadata ${JSON.stringify(v.metadata)}`);
  if (v.usedBy.length) lines.push(`used by  ${v.usedBy.map((u) => `${u.runId} (${u.jobType})`).join(', ')}`);
  lines.push('', table(['PATH', 'SIZE', 'DIGEST'], files.slice(0, 200).map((f) => [f.path, formatSize(f.size), f.digest.slice(0, 12)])));
  if (v.files > 200) lines.push(`… and ${v.files - 200} more files (use --json for all)`);
  ctx.out(lines.join('\n'));
}

async function cmdAlias(ctx: Ctx): Promise<void> {
  needArgs(ctx, 3, 'trove alias add|rm <ref> <alias>');
  const [action, refText, alias] = ctx.args;
  const ref = parseRef(refText, ctx.project);
  if (action === 'add') {
    await ctx.registry.addAlias(ref, alias);
    const v = await ctx.registry.getVersion({ ...ref, alias }, { manifest: false });
    ctx.out(ctx.json ? JSON.stringify({ ref: formatRef(v.project, v.name, v.version), alias }) : `${alias} -> ${formatRef(v.project, v.name, v.version)}`);
  } else if (action === 'rm') {
    await ctx.registry.removeAlias(ref.project, ref.name, alias);
    ctx.out(ctx.json ? JSON.stringify({ removed: alias }) : `removed alias ${alias} from ${ref.project}/${ref.name}`);
  } else {
    throw usageError(`Unknown alias action "${action}"; use add or rm.`);
  }
}

async function cmdDiff(ctx: Ctx): Promise<void> {
  needArgs(ctx, 2, 'trove diff <refA> <refB>');
  const [a, b] = await Promise.all(ctx.args.map((r) => ctx.registry.getVersion(parseRef(r, ctx.project), { manifest: false })));
  const d = await diffVersions(ctx.registry, a, b);
  if (ctx.json) return ctx.out(JSON.stringify(d));
  const lines = [...d.added.map((p) => `+ ${p}`), ...d.removed.map((p) => `- ${p}`), ...d.modified.map((p) => `M ${p}`), ...d.renamed.map((r) => `R ${r.from} -> ${r.to}`)];
  ctx.out(lines.length ? lines.join('\n') : 'no differences');
}

async function cmdLineage(ctx: Ctx): Promise<void> {
  needArgs(ctx, 1, 'trove lineage <ref>');
  const depth = str(ctx, 'depth') === undefined ? 2 : Number(str(ctx, 'depth'));
  if (!Number.isInteger(depth) || depth < 0 || depth > MAX_LINEAGE_DEPTH) throw usageError(`--depth must be a whole number from 0 to ${MAX_LINEAGE_DEPTH}.`);
  const graph = await ctx.registry.lineage(parseRef(ctx.args[0], ctx.project), depth, { connected: !!ctx.flags.connected });
  // JSON labels runs `jobType: name` as before; the graph's own run label is the name.
  if (ctx.json) return ctx.out(JSON.stringify({ nodes: graph.nodes.map((n) => ({ id: n.id, kind: n.kind, label: n.kind === 'run' ? `${n.jobType}: ${n.label}` : n.label })), edges: graph.edges }));
  const label = new Map(graph.nodes.map((n) => [n.id, n.kind === 'run' ? `[run ${n.jobType}: ${n.label}]` : n.label]));
  ctx.out(graph.edges.length ? graph.edges.map((e) => `${label.get(e.from)} -> ${label.get(e.to)}`).join('\n') : `${graph.nodes[0]?.label ?? ctx.args[0]}: no runs recorded around it`);
}

async function cmdVerify(ctx: Ctx): Promise<number> {
  needArgs(ctx, 1, 'trove verify <ref> [--root DIR]');
  const v = await ctx.registry.getVersion(parseRef(ctx.args[0], ctx.project), { manifest: false });
  const ref = formatRef(v.project, v.name, v.version);
  const problems: string[] = [];
  let count = 0;
  const problem = (text: string) => {
    count++;
    if (problems.length < 1000) problems.push(text); // the first thousand are listed, all are counted
  };
  const rootFlag = str(ctx, 'root');
  const root = rootFlag ? resolve(rootFlag) : undefined;
  for await (const batch of versionFiles(ctx.registry, v)) {
    const found: string[] = new Array(batch.length);
    if (root) {
      // Small files read synchronously, as `log` reads them: on these disks an async call per file
      // (lstat, open, read, close) costs more than the hashing; larger files stream, 8 at a time.
      const large: number[] = [];
      for (let i = 0; i < batch.length; i++) {
        const checked = checkSmallFile(root, batch[i]);
        if (checked === 'large') large.push(i);
        else found[i] = checked;
        if (i % 256 === 255) await new Promise((r) => setImmediate(r));
      }
      await forEachLimit(large, 8, async (i) => {
        const e = batch[i];
        const got = await hashFile(safeJoin(root, e.path)).catch(() => undefined);
        if (!got) found[i] = `unreadable ${e.path}`;
        else if (got.digest !== e.digest) found[i] = `modified ${e.path}`;
      });
    } else {
      await forEachLimit(batch, 8, async (e, i) => {
        if (!e.ref && !(await ctx.registry.verifyBlob(e.digest))) found[i] = `corrupt ${e.path} (blob ${e.digest.slice(0, 12)})`;
      });
    }
    for (const f of found) if (f) problem(f); // in path order
  }
  const where = rootFlag ? resolve(rootFlag) : ctx.registry.location;
  if (ctx.json) ctx.out(JSON.stringify({ ref, ok: problems.length === 0, problems }));
  if (problems.length) {
    process.stderr.write(`trove: ${count} of ${v.files} files of ${ref} in ${where} do not match (${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; …' : ''}); ${rootFlag ? 'download the version again' : 'log the files again to restore their content'}.\n`);
    return 1;
  }
  if (!ctx.json) ctx.out(`ok: ${v.files} files of ${ref} in ${where} match`);
  return 0;
}

/**
 * One file of a downloaded folder against its manifest entry: '' when it matches, what is wrong
 * with it, or 'large' for a regular file above SMALL_FILE (hashed as a stream by the caller). Only
 * regular files are read: a FIFO or a link to /dev/zero would never end.
 */
function checkSmallFile(root: string, e: ManifestFile): string {
  const file = safeJoin(root, e.path);
  let st;
  try {
    st = lstatSync(file);
  } catch {
    return `missing ${e.path}`;
  }
  if (st.isSymbolicLink()) return `${e.path} is a link, not a file`;
  if (!st.isFile()) return `${e.path} is not a regular file`;
  if (st.size > SMALL_FILE) return 'large';
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    return `unreadable ${e.path}`;
  }
  return data.length === e.size && sha256(data) === e.digest ? '' : `modified ${e.path}`;
}

/**
 * `trove rm project/name:vN` (one version) or `trove rm project/name` (the whole artifact): says
 * what goes and asks, unless --yes; refused without --yes when nobody can answer (stdin is not a
 * terminal). Protected aliases (TROVE_PROTECTED_ALIASES, default production and staging) refuse
 * before anything is asked.
 */
async function cmdRm(ctx: Ctx): Promise<number> {
  needArgs(ctx, 1, 'trove rm <project/name:vN | project/name> [--yes]');
  const target = parseDeletionTarget(ctx.args[0], ctx.project);
  const protectedAliases = protectedAliasesFromEnv();
  const preview = await previewDeletion(ctx.registry, target, { protectedAliases });
  if (!ctx.flags.yes) {
    if (!process.stdin.isTTY) {
      throw usageError(`Not deleting ${preview.summary.replace(/ \(.*$/, '')} without a confirmation, and stdin is not a terminal to ask on; add --yes to delete it.`);
    }
    const answer = await ask(`Delete ${preview.summary}? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) {
      process.stderr.write('trove: nothing deleted.\n');
      return 1;
    }
  }
  const result = target.alias === undefined
    ? await ctx.registry.deleteArtifact(target.project, target.name, { protectedAliases })
    : await ctx.registry.deleteVersion({ project: target.project, name: target.name, alias: target.alias }, { protectedAliases });
  ctx.out(ctx.json ? JSON.stringify(result) : describeDeletion(result));
  return 0;
}

/** One line typed on the terminal, after a prompt on stderr. */
async function ask(prompt: string): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(prompt);
  } finally {
    rl.close();
  }
}

/** `trove restore project/name:vN`: undoes a deletion until gc frees the version's content. */
async function cmdRestore(ctx: Ctx): Promise<void> {
  needArgs(ctx, 1, 'trove restore <project/name:vN>');
  const ref = parseRef(ctx.args[0], ctx.project);
  const version = parseVersionAlias(ref.alias);
  if (version === undefined || !ctx.args[0].includes(':')) throw usageError(`Name the deleted version by its number, for example trove restore ${ref.project}/${ref.name}:v1 (its aliases went with it).`);
  const result = await ctx.registry.restoreVersion({ project: ref.project, name: ref.name, version });
  ctx.out(ctx.json ? JSON.stringify(result) : describeRestore(result));
}

async function cmdGc(ctx: Ctx): Promise<void> {
  const dryRun = !!ctx.flags['dry-run'];
  const minAge = str(ctx, 'min-age');
  if (minAge !== undefined && !/^\d+$/.test(minAge)) throw usageError('--min-age must be a whole number of seconds (default 3600).');
  const r = await ctx.registry.gc(dryRun, minAge === undefined ? {} : { minAgeSeconds: Number(minAge) });
  if (ctx.json) return ctx.out(JSON.stringify(r));
  const runs = [
    r.runsFailed ? `${dryRun ? 'would mark' : 'marked'} ${r.runsFailed} interrupted run(s) failed` : '',
    r.runsRemoved ? `${dryRun ? 'would remove' : 'removed'} ${r.runsRemoved} run folder(s) without run.json` : '',
  ].filter(Boolean);
  ctx.out(`${dryRun ? 'would remove' : 'removed'} ${r.blobs} unused blobs (${formatSize(r.bytes)})${runs.length ? `; ${runs.join('; ')}` : ''}`);
}

/**
 * `trove run -- CMD`: one run for everything CMD does. A `wandb` client inside logs into it too:
 * over the embedded store, a W&B endpoint on a free loopback port serves the child only (a key
 * made for it, valid nowhere else) and stops when the child exits; the first wandb run of the
 * child is this run (its job type, when the script gives one, replaces the default `run`).
 * Against a server, the child gets that server's W&B door and the Trove token as its key.
 */
async function cmdRun(ctx: Ctx): Promise<number> {
  const jobType = str(ctx, 'job-type') ?? 'run';
  if (!ctx.args.length) throw usageError('trove run needs a command after --, for example: trove run --job-type train -- python train.py');
  const [cmd, ...cmdArgs] = ctx.args;
  const run = await ctx.registry.createRun({ project: ctx.project, jobType, name: str(ctx, 'name'), command: ctx.args.join(' '), git: await gitProvenance(process.cwd()) });
  if (!ctx.json) process.stderr.write(`trove: run ${run.id} (${jobType}) started\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, TROVE_RUN_ID: run.id, TROVE_PROJECT: ctx.project };
  let endpoint: { close(): Promise<void> } | undefined;
  // Commands inside the run reach the same backend as this one.
  delete env.TROVE_SERVER;
  delete env.TROVE_STORE;
  Object.assign(env, backendEnvironment(ctx.backend));
  if (ctx.backend.kind === 'server') {
    // Without a token the server takes any key (it has no --require-auth), but the client wants one.
    Object.assign(env, wandbEnv(env, ctx.project, ctx.backend.url.replace(/\/+$/, ''), ctx.backend.token || `anonymous_${'0'.repeat(40)}`));
  } else {
    const key = `trove_run_${randomBytes(24).toString('hex')}`;
    const { startServer, hashToken } = await import('../server/index');
    const server = await startServer({
      store: ctx.backend.store, listen: '127.0.0.1:0', requireAuth: true, log: () => undefined,
      wandb: { extraKeys: new Map([[hashToken(key), { tokenId: `run-${run.id}`, project: '*', scope: 'write' }]]), claimRun: run.id },
    });
    endpoint = server;
    Object.assign(env, wandbEnv(env, ctx.project, server.url, key));
  }
  const code = await new Promise<number>((done) => {
    const child = spawn(cmd, cmdArgs, { stdio: 'inherit', env });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', (e) => {
      process.stderr.write(`trove: cannot start "${cmd}": ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'command not found' : e.message}.\n`);
      done(127);
    });
    child.on('exit', (c, sig) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      done(c ?? (sig ? 128 + 15 : 1));
    });
  });
  await endpoint?.close();
  // A wandb client may have finished the run already (with the same status): it ends once.
  if ((await ctx.registry.getRun(run.id)).status === 'running') await ctx.registry.finishRun(run.id, code === 0 ? 'finished' : 'failed');
  if (ctx.json) ctx.out(JSON.stringify({ runId: run.id, exitCode: code }));
  return code;
}

/** What a `wandb` client in a `trove run` child needs to log to `url`; the user's own project and mode win. */
function wandbEnv(env: NodeJS.ProcessEnv, project: string, url: string, key: string): NodeJS.ProcessEnv {
  return {
    WANDB_BASE_URL: url, WANDB_API_KEY: key, WANDB_PROJECT: env.WANDB_PROJECT || project,
    WANDB_MODE: env.WANDB_MODE === 'disabled' || env.WANDB_MODE === 'offline' ? env.WANDB_MODE : 'online',
    WANDB_ERROR_REPORTING: 'false',
  };
}

/** Writes to stdout, waiting when a pipe is full (long outputs are written in pieces). */
async function writeOut(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise((r) => process.stdout.once('drain', r));
}

function table(head: string[], rows: string[][]): string {
  // A reduce rather than a spread into Math.max: a table may have a row per file of a version.
  const widths = head.map((h, i) => rows.reduce((w, r) => Math.max(w, r[i].length), h.length));
  return [head, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

async function cmdServe(flags: Flags, args: string[]): Promise<number> {
  if (args.length) throw usageError('trove serve takes no arguments; see `trove --help`.');
  if (flags.server) throw usageError('trove serve is the server; --server is for clients.');
  const database = flags.database as string | undefined;
  const blobs = flags.blobs as string | undefined;
  // The server side (pg, the S3 SDK) is loaded only by the commands that need it.
  const { startServer } = await import('../server/index');
  const presignMax = flags['s3-presign-max-bytes'] as string | undefined;
  if (presignMax !== undefined && !/^\d+$/.test(presignMax)) throw usageError('--s3-presign-max-bytes must be a whole number of bytes (0 routes every transfer through the server).');
  const bodyTimeout = flags['body-timeout'] as string | undefined;
  if (bodyTimeout !== undefined && (!/^\d+(\.\d+)?$/.test(bodyTimeout) || Number(bodyTimeout) === 0)) {
    throw usageError('--body-timeout must be a number of seconds above 0 (how long a request body may pause before the server cuts it off; default 30).');
  }
  const server = await startServer({
    ...(bodyTimeout !== undefined ? { bodyIdleMs: Number(bodyTimeout) * 1000 } : {}),
    ...(presignMax !== undefined ? { s3PresignMaxBytes: Number(presignMax) } : {}),
    listen: flags.listen as string | undefined,
    store: database || blobs ? (flags.store as string | undefined) : defaultStorePath(flags.store as string | undefined),
    database, blobs, s3Endpoint: flags['s3-endpoint'] as string | undefined,
    requireAuth: !!flags['require-auth'],
    ...(flags['protected-aliases'] !== undefined ? { protectedAliases: parseProtectedAliases(flags['protected-aliases'] as string, '--protected-aliases') } : {}),
  });
  const stopped = new Promise<void>((resolveStop) => {
    process.once('SIGINT', () => resolveStop());
    process.once('SIGTERM', () => resolveStop());
  });
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), event: 'listening', url: server.url, mode: server.backend.mode, auth: server.requireAuth }) + '\n');
  process.stderr.write(`trove: serving ${server.backend.description} on ${server.url}${server.requireAuth ? ' (tokens required)' : ''}; Ctrl-C stops\n`);
  await stopped;
  await server.close();
  return 0;
}

async function cmdToken(flags: Flags, args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const usage = "Expected trove token create --project P|'*' --scope read|write, trove token ls, or trove token revoke ID.";
  if (action === 'create' ? rest.length !== 0 : action === 'ls' ? rest.length !== 0 : action === 'revoke' ? rest.length !== 1 : true) throw usageError(usage);
  const project = flags.project as string | undefined;
  const scope = flags.scope as string | undefined;
  if (action === 'create' && (!project || !scope)) throw usageError("trove token create needs --project P (or '*') and --scope read|write.");
  const database = flags.database as string | undefined;
  const { openTokenStore } = await import('../server/index');
  const opened = await openTokenStore({ database, store: database ? undefined : defaultStorePath(flags.store as string | undefined) });
  try {
    if (action === 'ls') {
      const tokens = (await opened.tokens.list()).map((t) => ({ id: t.id, project: t.project, scope: t.scope, createdAt: t.createdAt }));
      if (flags.json) process.stdout.write(JSON.stringify(tokens) + '\n');
      else if (!tokens.length) process.stdout.write(`No tokens in ${opened.location}.\n`);
      else process.stdout.write(table(['ID', 'PROJECT', 'SCOPE', 'CREATED'], tokens.map((t) => [t.id, t.project, t.scope, t.createdAt])) + '\n');
      return 0;
    }
    if (action === 'revoke') {
      if (!(await opened.tokens.revoke(rest[0]))) throw new TroveError('not_found', `No token with id ${rest[0]} in ${opened.location}; run \`trove token ls\` to see the ids.`);
      if (flags.json) process.stdout.write(JSON.stringify({ revoked: rest[0] }) + '\n');
      else process.stderr.write(`trove: token ${rest[0]} revoked; servers refuse it within a second.\n`);
      return 0;
    }
    const { token, record } = await opened.tokens.create(project!, scope!);
    if (flags.json) process.stdout.write(JSON.stringify({ token, id: record.id, project: record.project, scope: record.scope }) + '\n');
    else {
      process.stdout.write(token + '\n');
      process.stderr.write(`trove: ${scope} token ${record.id} for ${project === '*' ? 'every project' : `project ${project}`} stored (hashed) in ${opened.location}; it is shown only this once.\n`);
    }
    return 0;
  } finally {
    await opened.close();
  }
}

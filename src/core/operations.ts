import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { lstat, mkdir, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { invalid, TroveError, throwIfAborted } from './errors';
import { describeReference, fetchReference } from './external';
import { folderManifest } from './folderDiff';
import { forEachLimit, hashFile } from './hash';
import { artifactDigest, byUtf8, validateManifestPath } from './manifest';
import { formatRef, validateAlias, validateName, validateProject, validateType } from './names';
import type { Registry } from './registry';
import { scanFolder, type ScannedFile, type SkippedEntry } from './scan';
import { StatCache } from './statCache';
import type { CommitResult, Manifest, TransferOptions, VersionDetail } from './types';

/** What goes into a new version: folders, single files and external references. */
export interface ArtifactContent {
  dirs: { absPath: string; prefix?: string }[];
  files: { absPath: string; path: string }[];
  references: { uri: string; path: string }[];
}

export interface LogRequest {
  project: string;
  name: string;
  type: string;
  content: ArtifactContent;
  aliases?: string[];
  description?: string;
  metadata?: Record<string, unknown>;
  runId?: string;
  /** Folder for the stat cache (`<store>/cache` for the embedded store). */
  cacheDir: string;
}

export interface LogOutcome extends CommitResult {
  ref: string;
  storedFiles: number;
  /** Entries of the folders that were left out (not regular files, or the store itself), with why. */
  skipped: SkippedEntry[];
}

/**
 * The existing version a folder's content equals, found before logging it (the editor says so
 * before asking for aliases and a description): digests come from the stat cache, files it does
 * not know are hashed when they total at most `maxHashBytes`. Undefined when the artifact is new,
 * the content differs from every version, or knowing would take too long.
 */
export async function equalVersion(registry: Registry, req: { project: string; name: string; absPath: string; cacheDir: string }, maxHashBytes = 256 << 20): Promise<number | undefined> {
  const versions = await registry.listVersions(req.project, req.name).catch(() => undefined);
  if (!versions?.length) return undefined;
  const cache = StatCache.load(join(req.cacheDir, 'stat', req.project, `${req.name}.json`));
  const files = await scanFolder(req.absPath, { cache, exclude: registry.storeFolder ? [registry.storeFolder] : [] });
  if (!files.length) return undefined;
  let unknownBytes = 0;
  for (const f of files) if (!f.digest) unknownBytes += f.size;
  if (unknownBytes > maxHashBytes) return undefined;
  const digest = artifactDigest(await folderManifest(files));
  return versions.find((v) => v.digest === digest)?.version;
}

/**
 * Logs files as the next version of an artifact: scan (digests from the stat cache where files
 * are unchanged), store only content the backend lacks, then commit. Equal content reuses the
 * existing version.
 */
export async function logArtifact(registry: Registry, req: LogRequest, options: TransferOptions = {}): Promise<LogOutcome> {
  // Bad names fail before any file is read or stored.
  validateProject(req.project);
  validateName(req.name);
  validateType(req.type);
  (req.aliases ?? []).forEach((a) => validateAlias(a, { allowLatest: true }));
  const cache = StatCache.load(join(req.cacheDir, 'stat', req.project, `${req.name}.json`));
  const scanned: ScannedFile[] = [];
  const skipped: SkippedEntry[] = [];
  // An embedded store inside a logged folder is left out: logging it would store the store.
  const exclude = registry.storeFolder ? [registry.storeFolder] : [];
  options.progress?.report({ phase: 'scanning' });
  for (const dir of req.content.dirs) {
    const found = await scanFolder(dir.absPath, { prefix: dir.prefix, cache, signal: options.signal, skipped, exclude, onFile: (n) => options.progress?.report({ totalFiles: scanned.length + n }) });
    // One at a time: spreading a folder's files into push() passes each as an argument on the stack.
    for (const f of found) scanned.push(f);
  }
  for (const f of req.content.files) {
    const [one] = await scanFolder(f.absPath, { cache, signal: options.signal, exclude });
    if (!one) throw invalid(`${f.absPath} is a folder, not a file; add it as a folder.`);
    scanned.push({ ...one, path: validateManifestPath(f.path) });
  }
  const manifest: Manifest = Object.create(null) as Manifest;
  const seen = new Set<string>();
  const claim = (path: string) => {
    if (seen.has(path)) throw invalid(`Two entries of the artifact would have the path "${path}"; give one of them another name.`);
    seen.add(path);
  };
  scanned.forEach((f) => claim(f.path));
  for (const r of req.content.references) {
    claim(validateManifestPath(r.path));
    manifest[r.path] = await describeReference(r.uri, options.signal);
  }
  if (scanned.length === 0 && req.content.references.length === 0) {
    throw invalid(skipped.length
      ? `There is nothing to log: the folder holds no regular files (${skipped.length} other entries left out, first: ${skipped[0].path}, ${skipped[0].reason}). Add files or pick another folder.`
      : 'There is nothing to log: the folder holds no files. Add files or pick another folder.');
  }
  throwIfAborted(options.signal);
  const commit = () => registry.commitVersion({
    project: req.project, name: req.name, type: req.type, manifest, aliases: req.aliases ?? [],
    description: req.description, metadata: req.metadata, runId: req.runId,
  });
  // Every digest known from the stat cache: commit straight away. The backend accepts it when
  // it holds every blob (always, when the content equals an existing version), and otherwise
  // says which are missing; then the files are stored as usual.
  if (scanned.length > 0 && scanned.every((f) => f.digest)) {
    for (const f of scanned) manifest[f.path] = { digest: f.digest!, size: f.size };
    try {
      options.progress?.report({ phase: 'committing', totalFiles: scanned.length, files: scanned.length });
      const result = await commit();
      return { ...result, ref: formatRef(req.project, req.name, result.version), storedFiles: 0, skipped };
    } catch (e) {
      if (!(e instanceof TroveError && e.code === 'integrity')) throw e;
    }
  }
  // Stored in path order, the order downloads read them in: small files then sit in their pack
  // in the order they are read back.
  scanned.sort((a, b) => byUtf8(a.path, b.path));
  let storedFiles = 0;
  for (let attempt = 1; ; attempt++) {
    const stored = await registry.storeFiles(scanned, options);
    stored.forEach((s, i) => {
      manifest[s.path] = { digest: s.digest, size: s.size };
      cache.remember(scanned[i].absPath, scanned[i].key, s.digest);
      if (s.stored) storedFiles++;
    });
    cache.save();
    throwIfAborted(options.signal);
    options.progress?.report({ phase: 'committing' });
    try {
      const result = await commit();
      return { ...result, ref: formatRef(req.project, req.name, result.version), storedFiles, skipped };
    } catch (e) {
      // The commit looks for every blob again while gc is kept out: one that this log found
      // stored (unused, so gc may take it) can be gone by then. Storing again puts it back.
      if (!(e instanceof TroveError && e.code === 'integrity')) throw e;
      if (attempt === COMMIT_ATTEMPTS) {
        throw new TroveError('conflict', `Content of this log was removed from ${registry.location} (by \`trove gc\`) ${COMMIT_ATTEMPTS} times before it could be committed; run the log again once gc has finished.`);
      }
    }
  }
}

/** Store-and-commit rounds a log makes when gc removes blobs it stored or found (see logArtifact). */
const COMMIT_ATTEMPTS = 3;

export interface DownloadOptions extends TransferOptions {
  root: string;
  /** Only files whose path starts with this prefix. */
  pathPrefix?: string;
  link?: 'copy' | 'hardlink';
  /** Overwrite files in `root` whose content differs from the version (otherwise: refuse). */
  overwrite?: boolean;
}

export interface DownloadOutcome {
  root: string;
  files: number;
  /** Files already present with the right content. */
  unchanged: number;
}

/** Resolves `path` under `root`, refusing anything that would land outside it. */
export function safeJoin(root: string, path: string): string {
  validateManifestPath(path);
  const full = resolve(root, path); // "/" separates on every platform
  if (full !== root && !full.startsWith(root.endsWith(sep) ? root : root + sep)) {
    throw invalid(`The path "${path}" would be written outside ${root}; refusing to download it.`);
  }
  return full;
}

/** Files of `root` that exist and differ from the version's content (what a download would overwrite). */
export async function findConflicts(version: VersionDetail, rootIn: string, pathPrefix?: string): Promise<string[]> {
  const root = resolve(rootIn);
  if (!existsSync(root)) return [];
  const conflicts: string[] = [];
  await forEachLimit(selectPaths(version.manifest, pathPrefix), 8, async (path) => {
    const dest = safeJoin(root, path);
    const st = await lstat(dest).catch(() => undefined);
    if (!st) return;
    const e = version.manifest[path];
    if (!st.isFile() || st.size !== e.size || (await hashFile(dest)).digest !== e.digest) conflicts.push(path);
  });
  return conflicts.sort();
}

function selectPaths(manifest: Manifest, pathPrefix?: string): string[] {
  const paths = Object.keys(manifest);
  return pathPrefix ? paths.filter((p) => p.startsWith(pathPrefix)) : paths;
}

/**
 * Writes a version's files under `root`. Into a new folder, everything goes to a staging folder
 * renamed into place at the end; into an existing one, each file goes to a temporary name renamed
 * over the target. Either way a failure or a kill leaves no half-written file.
 */
export async function downloadVersion(registry: Registry, version: VersionDetail, options: DownloadOptions): Promise<DownloadOutcome> {
  const root = resolve(options.root);
  const paths = selectPaths(version.manifest, options.pathPrefix);
  if (paths.length === 0) throw invalid(`No file of ${formatRef(version.project, version.name, version.version)} matches the path prefix "${options.pathPrefix}".`);
  paths.forEach((p) => safeJoin(root, p)); // reject the whole version before writing anything
  const rootStat = statSync(root, { throwIfNoEntry: false });
  if (rootStat && !rootStat.isDirectory()) throw invalid(`${root} is a file, not a folder; pass --root a new or existing folder to download into.`);
  const fresh = !rootStat;
  // Short temporary names: a file name near 255 bytes must still fit beside them.
  const target = fresh ? join(dirname(root), `.trove-partial-${process.pid}-${randomBytes(4).toString('hex')}`) : root;
  if (!fresh) {
    // Nothing is written through a link inside the root: a link where a folder goes would send
    // files (and, with --force, overwrites) outside it.
    await refuseLinkedFolders(root, paths);
    const conflicts = options.overwrite ? [] : await findConflicts(version, root, options.pathPrefix);
    if (conflicts.length) {
      throw new TroveError('conflict', `${conflicts.length} file(s) in ${root} differ from ${formatRef(version.project, version.name, version.version)} (first: ${conflicts[0]}); pass --force to overwrite them or choose another --root.`);
    }
  }
  const dirs = new Set<string>();
  for (const p of paths) {
    const i = p.lastIndexOf('/');
    if (i > 0) dirs.add(p.slice(0, i));
  }
  mkdirSync(target, { recursive: true });
  // Creating only the deepest folders is enough with recursive mkdir.
  const sortedDirs = [...dirs].sort();
  const leaves = sortedDirs.filter((d, i) => !(sortedDirs[i + 1]?.startsWith(d + '/')));
  for (const d of leaves) mkdirSync(join(target, ...d.split('/')), { recursive: true });
  options.progress?.report({ totalFiles: paths.length, totalBytes: paths.reduce((s, p) => s + version.manifest[p].size, 0), phase: 'downloading' });
  let unchanged = 0;
  let done = 0;
  let bytes = 0;
  const report = (files: number, size: number) => options.progress?.report({ files: (done += files), bytes: (bytes += size) });
  // Into a new folder, a backend that can write many files at once gets all blobs together.
  const batched = fresh && registry.fetchBlobs ? paths.filter((p) => !version.manifest[p].ref) : [];
  try {
    if (batched.length) {
      const items = batched.map((p) => ({ digest: version.manifest[p].digest, size: version.manifest[p].size, destPath: join(target, ...p.split('/')) }));
      await registry.fetchBlobs!(items, { signal: options.signal, link: options.link, onDone: report });
    }
    const rest = batched.length ? paths.filter((p) => version.manifest[p].ref) : paths;
    await forEachLimit(rest, 16, async (path) => {
      const e = version.manifest[path];
      const dest = join(target, ...path.split('/'));
      let tmp = dest;
      if (!fresh) {
        const st = await lstat(dest).catch(() => undefined);
        if (st?.isFile() && st.size === e.size && (await hashFile(dest)).digest === e.digest) {
          unchanged++;
          report(1, e.size);
          return;
        }
        tmp = join(dirname(dest), `.trove-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
      }
      try {
        if (e.ref) await fetchReference(e, tmp, options.signal);
        else await registry.fetchBlob(e.digest, tmp, { signal: options.signal, link: options.link });
        if (tmp !== dest) await rename(tmp, dest);
      } catch (err) {
        if (tmp !== dest) await unlink(tmp).catch(() => undefined);
        throw err;
      }
      report(1, e.size);
    }, options.signal);
    if (fresh) {
      await mkdir(dirname(root), { recursive: true });
      await rename(target, root);
    }
  } catch (e) {
    if (fresh) await rm(target, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    // Another download made the folder first: what it holds is checked like any existing folder.
    if (fresh && (code === 'ENOTEMPTY' || code === 'EEXIST') && statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
      return downloadVersion(registry, version, { ...options, overwrite: false });
    }
    throw e;
  }
  return { root, files: paths.length, unchanged };
}

/**
 * Refuses a download into `root` when a folder on the way to one of the version's files is a
 * symbolic link (or a file): writing there would follow the link out of the root.
 */
async function refuseLinkedFolders(root: string, paths: string[]): Promise<void> {
  const folders = new Set<string>();
  for (const p of paths) for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) folders.add(p.slice(0, i));
  for (const folder of [...folders].sort()) {
    const st = await lstat(join(root, ...folder.split('/'))).catch(() => undefined);
    if (!st) continue;
    if (st.isSymbolicLink()) {
      throw new TroveError('conflict', `${join(root, folder)} is a symbolic link, and Trove never writes through a link inside the download root; remove the link or choose another --root.`);
    }
    if (!st.isDirectory()) throw new TroveError('conflict', `${join(root, folder)} is a file where ${folder}/ holds files of the version; move it away or choose another --root.`);
  }
}

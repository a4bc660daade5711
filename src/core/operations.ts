import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { lstat, mkdir, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { invalid, TroveError, throwIfAborted } from './errors';
import { describeReference, fetchReference } from './external';
import { forEachLimit, hashFile } from './hash';
import { byUtf8, pairRenames, sortUtf8, validateManifestPath } from './manifest';
import { formatRef, validateAlias, validateName, validateProject, validateType } from './names';
import type { Registry } from './registry';
import { MANIFEST_BATCH, ManifestTally, zipBatchesByPath } from './manifestStream';
import { mergeSortedBatches, scanSorted, scanSortedBatches, type ScannedFile, type SkippedEntry } from './scan';
import { StatCache } from './statCache';
import type { CommitResult, ManifestFile, TransferOptions, VersionDetail, VersionDiff } from './types';

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

/** A window of files is stored together (one pack, one request) once it holds this many files or bytes. */
const STORE_WINDOW_FILES = 4096;
const STORE_WINDOW_BYTES = 256 << 20;

type LogItem = { kind: 'file'; path: string; file: ScannedFile } | { kind: 'ref'; path: string; entry: ManifestFile };

/**
 * The existing version a folder's content equals, found before logging it (the editor says so
 * before asking for aliases and a description): digests come from the stat cache, files it does
 * not know are hashed when they total at most `maxHashBytes`. Undefined when the artifact is new,
 * the content differs from every version, or knowing would take too long.
 */
export async function equalVersion(registry: Registry, req: { project: string; name: string; absPath: string; cacheDir: string }, maxHashBytes = 256 << 20): Promise<number | undefined> {
  const versions = await registry.listVersions(req.project, req.name).catch(() => undefined);
  if (!versions?.length) return undefined;
  // The files in path order, digests from the cache the log keeps (read, never written here),
  // into the same running digest a commit computes: nothing grows with the number of files.
  const cache = await StatCache.open(statCacheFile(req.cacheDir, req.project, req.name), { readOnly: true });
  const tally = new ManifestTally();
  let hashedBytes = 0;
  try {
    for await (const f of scanSorted(req.absPath, { exclude: registry.storeFolder ? [registry.storeFolder] : [] })) {
      let digest = (await cache.lookup(f.path, f.absPath, f.key))?.digest;
      if (!digest) {
        hashedBytes += f.size;
        if (hashedBytes > maxHashBytes) return undefined;
        digest = (await hashFile(f.absPath)).digest;
      }
      tally.add({ path: f.path, digest, size: f.size });
    }
  } finally {
    await cache.discard();
  }
  if (!tally.files) return undefined;
  const digest = tally.digest();
  return versions.find((v) => v.digest === digest)?.version;
}

/** Where the stat cache of an artifact lives under the cache folder. */
function statCacheFile(cacheDir: string, project: string, name: string): string {
  return join(cacheDir, 'stat', project, `${name}.stat`);
}

/**
 * Logs files as the next version of an artifact: scan (digests from the stat cache where files
 * are unchanged), store only content the backend lacks, then commit. Equal content reuses the
 * existing version. Files pass through in path order, a window at a time, straight into a
 * streamed commit: a folder of a million files is never listed whole in memory.
 */
export async function logArtifact(registry: Registry, req: LogRequest, options: TransferOptions = {}): Promise<LogOutcome> {
  // Bad names fail before any file is read or stored.
  validateProject(req.project);
  validateName(req.name);
  validateType(req.type);
  (req.aliases ?? []).forEach((a) => validateAlias(a, { allowLatest: true }));
  const references: ManifestFile[] = [];
  for (const r of req.content.references) references.push({ ...(await describeReference(r.uri, options.signal)), path: validateManifestPath(r.path) });
  references.sort((a, b) => byUtf8(a.path, b.path));
  for (const f of req.content.files) {
    if (statSync(f.absPath, { throwIfNoEntry: false })?.isDirectory()) throw invalid(`${f.absPath} is a folder, not a file; add it as a folder.`);
  }
  const skipped: SkippedEntry[] = [];
  // An embedded store inside a logged folder is left out: logging it would store the store.
  const exclude = registry.storeFolder ? [registry.storeFolder] : [];
  // The items in path order, in batches (an await per batch of files, not per file).
  const items = (): AsyncGenerator<LogItem[]> => {
    skipped.length = 0; // each pass scans again
    const wrap = async function* (files: AsyncIterable<ScannedFile[]>, path?: string): AsyncGenerator<LogItem[]> {
      for await (const batch of files) {
        yield batch.map((file): LogItem => {
          if (path !== undefined) file.path = validateManifestPath(path);
          return { kind: 'file', path: file.path, file };
        });
      }
    };
    const refs = async function* (): AsyncGenerator<LogItem[]> {
      if (references.length) yield references.map((entry): LogItem => ({ kind: 'ref', path: entry.path, entry }));
    };
    return mergeSortedBatches<LogItem>([
      ...req.content.dirs.map((d) => wrap(scanSortedBatches(d.absPath, { prefix: d.prefix, signal: options.signal, skipped, exclude }))),
      // Single files, each under its own path; sorted among themselves first.
      ...[...req.content.files].sort((a, b) => byUtf8(a.path, b.path)).map((f) => wrap(scanSortedBatches(f.absPath, { signal: options.signal, exclude }), f.path)),
      refs(),
    ]);
  };
  const header = {
    project: req.project, name: req.name, type: req.type, aliases: req.aliases ?? [],
    description: req.description, metadata: req.metadata, runId: req.runId,
  };
  const cacheFile = statCacheFile(req.cacheDir, req.project, req.name);
  let storedFiles = 0;
  let seen = 0;
  /**
   * The manifest in batches, in path order. Files the stat cache knows go straight through;
   * the others (all files when `storeAll`) are stored a window at a time first.
   */
  async function* manifestBatches(storeAll: boolean): AsyncGenerator<ManifestFile[]> {
    const cache = await StatCache.open(cacheFile);
    let ok = false;
    try {
      let previous: string | undefined;
      let window: { item: LogItem; hit?: { digest: string; end: number } }[] = [];
      let toStore: ScannedFile[] = [];
      let windowBytes = 0;
      let doneFiles = 0;
      let doneBytes = 0;
      const flush = async (): Promise<ManifestFile[]> => {
        if (toStore.length) {
          const base = { files: doneFiles, bytes: doneBytes };
          const outer = options.progress;
          const progress = outer && {
            report: (u: Parameters<typeof outer.report>[0]) => outer.report({
              phase: u.phase, files: u.files === undefined ? undefined : base.files + u.files, bytes: u.bytes === undefined ? undefined : base.bytes + u.bytes,
              totalFiles: u.totalFiles === undefined ? undefined : Math.max(seen, base.files + u.totalFiles), totalBytes: u.totalBytes === undefined ? undefined : base.bytes + u.totalBytes,
            }),
          };
          const stored = await registry.storeFiles(toStore, { signal: options.signal, progress });
          stored.forEach((s, i) => {
            toStore[i].digest = s.digest;
            if (s.stored) storedFiles++;
          });
          doneFiles += toStore.length;
          doneBytes += windowBytes;
        }
        const out: ManifestFile[] = [];
        for (const { item, hit } of window) {
          if (item.kind === 'ref') {
            out.push(item.entry);
            continue;
          }
          const f = item.file;
          cache.remember(f.path, f.absPath, f.key, f.digest!, hit);
          out.push({ path: f.path, digest: f.digest!, size: f.size });
        }
        await cache.drain();
        window = [];
        toStore = [];
        windowBytes = 0;
        return out;
      };
      for await (const batch of items()) {
        for (const item of batch) {
          if (item.path === previous) throw invalid(`Two entries of the artifact would have the path "${item.path}"; give one of them another name.`);
          previous = item.path;
          seen++;
          if (item.kind === 'file') {
            // Most lookups answer without a promise (the cache's chunk in hand holds the line).
            let hit = cache.lookup(item.path, item.file.absPath, item.file.key);
            if (hit instanceof Promise) hit = await hit;
            item.file.digest = hit?.digest;
            window.push({ item, hit });
            if (!hit || storeAll) {
              toStore.push(item.file);
              windowBytes += item.file.size;
            }
          } else {
            window.push({ item });
          }
          if (toStore.length >= STORE_WINDOW_FILES || windowBytes >= STORE_WINDOW_BYTES || window.length >= MANIFEST_BATCH) {
            yield await flush();
            options.progress?.report({ phase: 'storing', totalFiles: seen });
          }
        }
      }
      if (seen === 0) {
        throw invalid(skipped.length
          ? `There is nothing to log: the folder holds no regular files (${skipped.length} other entries left out, first: ${skipped[0].path}, ${skipped[0].reason}). Add files or pick another folder.`
          : 'There is nothing to log: the folder holds no files. Add files or pick another folder.');
      }
      if (window.length) yield await flush();
      throwIfAborted(options.signal);
      options.progress?.report({ phase: 'committing', totalFiles: seen, files: seen });
      await cache.save();
      ok = true;
    } finally {
      if (!ok) await cache.discard();
    }
  }
  options.progress?.report({ phase: 'scanning' });
  // Digests the stat cache knows are committed without storing: the backend accepts them when
  // it holds every blob (always, when the content equals an existing version), and otherwise
  // says which are missing; then everything is stored and committed again. The commit looks for
  // every blob again while gc is kept out: one that this log found stored (unused, so gc may take
  // it) can be gone by then, and storing again puts it back.
  for (let attempt = 0; ; attempt++) {
    try {
      storedFiles = 0;
      seen = 0;
      const result = await registry.commitVersionStream(header, manifestBatches(attempt > 0));
      return { ...result, ref: formatRef(req.project, req.name, result.version), storedFiles, skipped };
    } catch (e) {
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

/**
 * A version's files in path order, a batch at a time: from the manifest it carries when it was
 * read whole, else page by page from the registry (a million files are never held at once).
 */
export async function* versionFiles(registry: Pick<Registry, 'manifestPage'> | undefined, version: VersionDetail, pathPrefix?: string): AsyncGenerator<ManifestFile[]> {
  const keep = (f: ManifestFile) => !pathPrefix || f.path.startsWith(pathPrefix);
  const paths = Object.keys(version.manifest);
  // An empty manifest on a version with files: it was read without it (getVersion(ref, { manifest: false })).
  if (paths.length > 0 || version.files === 0) {
    sortUtf8(paths);
    for (let i = 0; i < paths.length; i += MANIFEST_BATCH) {
      const batch = paths.slice(i, i + MANIFEST_BATCH).map((path) => ({ path, ...version.manifest[path] })).filter(keep);
      if (batch.length) yield batch;
    }
    return;
  }
  if (!registry) throw new Error('versionFiles: a version read without its manifest needs the registry to page it');
  const key = { project: version.project, name: version.name, version: version.version };
  let cursor: string | null = null;
  do {
    const page = await registry.manifestPage(key, cursor);
    const batch = page.items.filter(keep);
    if (batch.length) yield batch;
    cursor = page.nextCursor;
  } while (cursor);
}

/** Files of `root` that exist and differ from the version's content (what a download would overwrite); at most `max`. */
export async function findConflicts(version: VersionDetail, rootIn: string, pathPrefix?: string, registry?: Registry, max = 1000): Promise<string[]> {
  const root = resolve(rootIn);
  if (!existsSync(root)) return [];
  const conflicts: string[] = [];
  for await (const batch of versionFiles(registry, version, pathPrefix)) {
    await forEachLimit(batch, 8, async (e) => {
      const dest = safeJoin(root, e.path);
      const st = await lstat(dest).catch(() => undefined);
      if (!st) return;
      if (!st.isFile() || st.size !== e.size || (await hashFile(dest)).digest !== e.digest) conflicts.push(e.path);
    });
    if (conflicts.length >= max) break;
  }
  return sortUtf8(conflicts);
}

/**
 * Writes a version's files under `root`. Into a new folder, everything goes to a staging folder
 * renamed into place at the end; into an existing one, each file goes to a temporary name renamed
 * over the target. Either way a failure or a kill leaves no half-written file. The manifest is
 * read a page at a time.
 */
export async function downloadVersion(registry: Registry, version: VersionDetail, options: DownloadOptions): Promise<DownloadOutcome> {
  const root = resolve(options.root);
  const ref = formatRef(version.project, version.name, version.version);
  const rootStat = statSync(root, { throwIfNoEntry: false });
  if (rootStat && !rootStat.isDirectory()) throw invalid(`${root} is a file, not a folder; pass --root a new or existing folder to download into.`);
  const fresh = !rootStat;
  // Short temporary names: a file name near 255 bytes must still fit beside them.
  const target = fresh ? join(dirname(root), `.trove-partial-${process.pid}-${randomBytes(4).toString('hex')}`) : root;
  if (!fresh) {
    // Into an existing folder, every path is checked and every conflict found before anything is
    // written; nothing is written through a link inside the root: a link where a folder goes would
    // send files (and, with --force, overwrites) outside it.
    let any = false;
    const checked = new Set<string>();
    for await (const batch of versionFiles(registry, version, options.pathPrefix)) {
      batch.forEach((f) => safeJoin(root, f.path));
      await refuseLinkedFolders(root, batch.map((f) => f.path), checked);
      any = true;
    }
    if (!any) throw invalid(`No file of ${ref} matches the path prefix "${options.pathPrefix}".`);
    const conflicts = options.overwrite ? [] : await findConflicts(version, root, options.pathPrefix, registry);
    if (conflicts.length) {
      throw new TroveError('conflict', `${conflicts.length}${conflicts.length >= 1000 ? ' or more' : ''} file(s) in ${root} differ from ${ref} (first: ${conflicts[0]}); pass --force to overwrite them or choose another --root.`);
    }
  }
  mkdirSync(target, { recursive: true });
  if (!options.pathPrefix) options.progress?.report({ totalFiles: version.files, totalBytes: version.size, phase: 'downloading' });
  else options.progress?.report({ phase: 'downloading' });
  let unchanged = 0;
  let done = 0;
  let bytes = 0;
  let files = 0;
  const report = (n: number, size: number) => options.progress?.report({ files: (done += n), bytes: (bytes += size) });
  const made = new Set<string>();
  try {
    for await (const batch of versionFiles(registry, version, options.pathPrefix)) {
      files += batch.length;
      // Folders first; creating only the deepest ones is enough with recursive mkdir.
      const dirs = new Set<string>();
      for (const f of batch) {
        safeJoin(root, f.path); // refuse a path that would escape before anything of it is written
        const i = f.path.lastIndexOf('/');
        if (i > 0 && !made.has(f.path.slice(0, i))) dirs.add(f.path.slice(0, i));
      }
      const sortedDirs = sortUtf8([...dirs]);
      const leaves = sortedDirs.filter((d, i) => !(sortedDirs[i + 1]?.startsWith(d + '/')));
      for (const d of leaves) mkdirSync(join(target, ...d.split('/')), { recursive: true });
      if (made.size > 100_000) made.clear();
      for (const d of dirs) made.add(d);
      // Into a new folder, a backend that can write many files at once gets the batch's blobs together.
      const together = fresh && registry.fetchBlobs ? batch.filter((f) => !f.ref) : [];
      if (together.length) {
        await registry.fetchBlobs!(together.map((f) => ({ digest: f.digest, size: f.size, destPath: join(target, ...f.path.split('/')) })), { signal: options.signal, link: options.link, onDone: report });
      }
      const rest = together.length ? batch.filter((f) => f.ref) : batch;
      await forEachLimit(rest, 16, async (e) => {
        const dest = join(target, ...e.path.split('/'));
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
    }
    if (files === 0) throw invalid(`No file of ${ref} matches the path prefix "${options.pathPrefix}".`);
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
  return { root, files, unchanged };
}

/** What changed from one version to another, with the manifest entries of the changed files (diffVersionFiles). */
export interface VersionFileDiff {
  added: ManifestFile[];
  removed: ManifestFile[];
  /** Each modified file in A and in B. */
  modified: { from: ManifestFile; to: ManifestFile }[];
  renamed: { from: ManifestFile; to: ManifestFile }[];
}

/**
 * What changed from version A to version B (as diffManifests), read a page of each at a time
 * and walked side by side in path order: only the changed paths are held, never both manifests.
 */
export async function diffVersions(registry: Registry, a: VersionDetail, b: VersionDetail): Promise<VersionDiff> {
  const d = await diffVersionFiles(registry, a, b);
  return { added: d.added.map((f) => f.path), removed: d.removed.map((f) => f.path), modified: d.modified.map((m) => m.to.path), renamed: d.renamed.map((r) => ({ from: r.from.path, to: r.to.path })) };
}

/** diffVersions with the entries of the changed files (their sizes for a report, say), still without holding either manifest. */
export async function diffVersionFiles(registry: Registry, a: VersionDetail, b: VersionDetail): Promise<VersionFileDiff> {
  const added: ManifestFile[] = [];
  const removed: ManifestFile[] = [];
  const modified: { from: ManifestFile; to: ManifestFile }[] = [];
  // A page of each side at a time (an await per page, not per file), the next page of each read while this one is walked.
  for await (const pairs of zipBatchesByPath(versionFiles(registry, a), versionFiles(registry, b))) {
    for (const [x, y] of pairs) {
      if (!y) removed.push(x!);
      else if (!x) added.push(y);
      else if (x.digest !== y.digest || x.size !== y.size) modified.push({ from: x, to: y });
    }
  }
  return { ...pairRenames(removed, added), modified };
}

/**
 * Refuses a download into `root` when a folder on the way to one of the version's files is a
 * symbolic link (or a file): writing there would follow the link out of the root.
 */
async function refuseLinkedFolders(root: string, paths: string[], checked = new Set<string>()): Promise<void> {
  const folders = new Set<string>();
  for (const p of paths) {
    for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) {
      const folder = p.slice(0, i);
      if (!checked.has(folder)) folders.add(folder);
    }
  }
  if (checked.size > 100_000) checked.clear(); // a bound, at worst a folder is checked twice
  for (const folder of sortUtf8([...folders])) {
    checked.add(folder);
    const st = await lstat(join(root, ...folder.split('/'))).catch(() => undefined);
    if (!st) continue;
    if (st.isSymbolicLink()) {
      throw new TroveError('conflict', `${join(root, folder)} is a symbolic link, and Trove never writes through a link inside the download root; remove the link or choose another --root.`);
    }
    if (!st.isDirectory()) throw new TroveError('conflict', `${join(root, folder)} is a file where ${folder}/ holds files of the version; move it away or choose another --root.`);
  }
}

import { existsSync, lstatSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { sep } from 'node:path';
import { invalid, throwIfAborted } from './errors';
import { byUtf8, validateManifestPath } from './manifest';
import type { StatKey } from './statCache';
import type { LocalFile } from './types';

export interface ScannedFile extends LocalFile {
  key: StatKey;
}

const keyOf = (st: Stats): StatKey => ({ size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });

/** An entry of a logged folder that is not stored, and why. */
export interface SkippedEntry {
  /** Its path in the artifact (under the prefix). */
  path: string;
  reason: string;
}

export interface ScanOptions {
  prefix?: string;
  signal?: AbortSignal;
  /** Receives every entry left out, with the reason (see the README: what `log` stores). */
  skipped?: SkippedEntry[];
  /** Folders never to descend into (the embedded store itself, when it lies inside the folder). */
  exclude?: string[];
}

const ONLY_FILES = 'only regular files are logged';

/** Why an entry that is not a regular file or folder is left out. */
function kindOf(st: Stats): string {
  if (st.isFIFO()) return `a FIFO (named pipe); ${ONLY_FILES}`;
  if (st.isSocket()) return `a socket; ${ONLY_FILES}`;
  if (st.isCharacterDevice() || st.isBlockDevice()) return `a device; ${ONLY_FILES}`;
  return `not a regular file; ${ONLY_FILES}`;
}

/** A name as bytes where it is not UTF-8: `caf\xe9.txt`. */
function showBytes(name: Buffer): string {
  let out = '';
  for (let i = 0; i < name.length;) {
    const c = name[i];
    const len = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    const seq = len ? name.subarray(i, i + len) : undefined;
    if (seq && seq.length === len && Buffer.from(seq.toString('utf8')).equals(seq)) {
      out += c < 0x20 || c === 0x7f ? `\\x${c.toString(16).padStart(2, '0')}` : seq.toString('utf8');
      i += len;
    } else {
      out += `\\x${c.toString(16).padStart(2, '0')}`;
      i++;
    }
  }
  return out;
}

function statRoot(root: string): Stats {
  try {
    return statSync(root);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw invalid(`${root} does not exist; pass an existing file or folder.`);
    if (code === 'EACCES') throw invalid(`${root} cannot be read (permission denied).`);
    if (code === 'ELOOP') throw invalid(`${root} is a link that loops; pass a file or folder.`);
    throw e;
  }
}

/** The regular files under `root`, as one list (scanSorted one at a time). */
export async function scanFolder(root: string, options: ScanOptions = {}): Promise<ScannedFile[]> {
  const out: ScannedFile[] = [];
  for await (const f of scanSorted(root, options)) out.push(f);
  return out;
}

/**
 * Lists the regular files under `root` with their artifact paths under `prefix`, one at a time
 * and in the order of their paths' UTF-8 bytes: each folder's entries are sorted with a folder's
 * name read as "name/", so a depth-first walk yields every path in order and no list of all files
 * is ever built. Links to files are followed, wherever they point; links to folders are not (a
 * link cannot loop or pull in a tree from elsewhere). Everything else (folder links, dangling or
 * looping links, FIFOs, sockets, devices, the store itself) is left out and reported in
 * `options.skipped`. A name that is not valid UTF-8 cannot be a manifest path: the scan fails at
 * its end naming every such entry.
 */
export async function* scanSorted(root: string, options: ScanOptions = {}): AsyncGenerator<ScannedFile> {
  for await (const batch of scanSortedBatches(root, options)) yield* batch;
}

/** Files scanned per batch (and between two looks at the abort signal and the event loop). */
const SCAN_BATCH = 1000;

/**
 * scanSorted a batch of up to SCAN_BATCH files at a time: an await per batch, not per file
 * (what a re-log of many unchanged files spends most of its time on otherwise).
 */
export async function* scanSortedBatches(root: string, options: ScanOptions = {}): AsyncGenerator<ScannedFile[]> {
  const top = statRoot(root);
  const prefix = options.prefix ? options.prefix.replace(/\/+$/, '') + '/' : '';
  const skip = (rel: string, reason: string) => options.skipped?.push({ path: prefix + rel, reason });
  const fileOf = (abs: string, rel: string, st: Stats): ScannedFile => {
    const key = keyOf(st);
    return { path: validateManifestPath(prefix + rel), absPath: abs, size: key.size, key };
  };
  if (top.isFile()) {
    yield [fileOf(root, root.split(sep).pop()!, top)];
    return;
  }
  if (!top.isDirectory()) throw invalid(`${root} is neither a file nor a folder (${kindOf(top)}).`);
  const excluded = new Map<string, string>();
  for (const folder of options.exclude ?? []) {
    const st = statSync(folder, { throwIfNoEntry: false });
    if (!st?.isDirectory()) continue;
    const realRoot = realpathSync(root);
    const realFolder = realpathSync(folder);
    if (realRoot === realFolder || realRoot.startsWith(realFolder.endsWith(sep) ? realFolder : realFolder + sep)) {
      throw invalid(`${root} is inside the Trove store ${folder}; log a folder outside it.`);
    }
    excluded.set(`${st.dev}:${st.ino}`, folder);
  }
  const badNames: string[] = [];
  interface Frame { dir: string; rel: string; entries: { name: string; key: string; dir: boolean; link: boolean }[]; next: number }
  const open = (dir: string, rel: string): Frame => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') throw invalid(`${dir} cannot be read (permission denied); fix its permissions or log another folder.`);
      throw e;
    }
    // Node decodes names that are not UTF-8 with U+FFFD: such a name names no file. Find them by their bytes.
    if (entries.some((e) => e.name.includes('\uFFFD'))) {
      for (const raw of readdirSync(dir, { encoding: 'buffer' })) {
        if (!Buffer.from(raw.toString('utf8')).equals(raw)) badNames.push((rel ? `${rel}/` : '') + showBytes(raw));
      }
      entries = entries.filter((e) => !e.name.includes('\uFFFD') || existsSync(`${dir}${sep}${e.name}`));
    }
    const sorted = entries.map((e) => ({ name: e.name, key: e.isDirectory() ? `${e.name}/` : e.name, dir: e.isDirectory(), link: e.isSymbolicLink() }));
    sorted.sort((a, b) => byUtf8(a.key, b.key));
    return { dir, rel, entries: sorted, next: 0 };
  };
  // Paths are built by concatenation: path.join/relative per file cost more than the lstat.
  const stack: Frame[] = [open(root.endsWith(sep) && root.length > 1 ? root.slice(0, -1) : root, '')];
  let batch: ScannedFile[] = [];
  while (stack.length) {
    const frame = stack[stack.length - 1];
    if (frame.next >= frame.entries.length) {
      stack.pop();
      continue;
    }
    const entry = frame.entries[frame.next++];
    const abs = `${frame.dir}${sep}${entry.name}`;
    const rel = frame.rel ? `${frame.rel}/${entry.name}` : entry.name;
    if (entry.dir) {
      if (excluded.size) {
        const st = lstatSync(abs, { throwIfNoEntry: false });
        if (st && excluded.has(`${st.dev}:${st.ino}`)) {
          skip(rel, 'the Trove store itself, which is never logged');
          continue;
        }
      }
      stack.push(open(abs, rel));
      continue;
    }
    let st: Stats | undefined;
    let reason: string | undefined;
    if (entry.link) {
      try {
        st = statSync(abs, { throwIfNoEntry: false });
        if (!st) reason = 'a link whose target does not exist';
        else if (st.isDirectory()) reason = 'a link to a folder; links to folders are not followed';
        else if (!st.isFile()) reason = `a link to ${kindOf(st)}`;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        reason = code === 'ELOOP' ? 'a link that loops' : `a link that cannot be followed (${code ?? (e as Error).message})`;
      }
    } else {
      st = lstatSync(abs, { throwIfNoEntry: false });
      if (!st) reason = 'removed while the folder was read';
      else if (!st.isFile()) reason = kindOf(st);
    }
    if (reason || !st) {
      skip(rel, reason ?? 'removed while the folder was read');
      continue;
    }
    batch.push(fileOf(abs, rel, st));
    if (batch.length >= SCAN_BATCH) {
      yield batch;
      batch = [];
      throwIfAborted(options.signal);
      await new Promise((r) => setImmediate(r));
    }
  }
  if (batch.length) yield batch;
  if (badNames.length) {
    badNames.sort();
    throw invalid(`${badNames.length} name(s) under ${root} are not valid UTF-8, so they cannot be stored under their names: ${badNames.slice(0, 10).join(', ')}${badNames.length > 10 ? ', …' : ''}; rename them (for example with convmv) and log again.`);
  }
}

/**
 * Merges streams of batches, each in path order, into one stream of batches in path order: an
 * await per batch taken from a source, not per item. A source's next batch is asked for once its
 * batch in hand is used up.
 */
export async function* mergeSortedBatches<T extends { path: string }>(sources: AsyncIterator<T[]>[]): AsyncGenerator<T[]> {
  const heads: (T[] | undefined)[] = [];
  const at: number[] = [];
  for (const r of await Promise.all(sources.map((s) => s.next()))) {
    heads.push(r.done ? undefined : r.value);
    at.push(0);
  }
  for (;;) {
    for (let i = 0; i < heads.length; i++) {
      while (heads[i] && at[i] >= heads[i]!.length) {
        const r = await sources[i].next();
        heads[i] = r.done ? undefined : r.value;
        at[i] = 0;
      }
    }
    const live = heads.reduce((n, h) => n + (h ? 1 : 0), 0);
    if (live === 0) return;
    if (live === 1) {
      const i = heads.findIndex((h) => h);
      const rest = at[i] === 0 ? heads[i]! : heads[i]!.slice(at[i]);
      at[i] = heads[i]!.length;
      yield rest;
      continue;
    }
    // Items while every source has one in hand: the smallest path first, the earlier source on a tie.
    const out: T[] = [];
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (!h) continue;
        if (best < 0 || byUtf8(h[at[i]].path, heads[best]![at[best]].path) < 0) best = i;
      }
      out.push(heads[best]![at[best]++]);
      if (at[best] >= heads[best]!.length) break;
    }
    yield out;
  }
}

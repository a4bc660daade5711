import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { sep } from 'node:path';
import { invalid, throwIfAborted } from './errors';
import { validateManifestPath } from './manifest';
import type { StatCache, StatKey } from './statCache';
import type { LocalFile } from './types';

export interface ScannedFile extends LocalFile {
  key: StatKey;
}

const keyOf = (st: Stats): StatKey => ({ size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });

/**
 * Lists the regular files under `root` (symlinks to files are followed; symlinked folders are
 * not, so a link cannot loop or pull in a tree from elsewhere) with their artifact paths under
 * `prefix`. Digests come from the stat cache where it still holds.
 */
export async function scanFolder(root: string, options: { prefix?: string; cache?: StatCache; signal?: AbortSignal; onFile?: (count: number) => void } = {}): Promise<ScannedFile[]> {
  let top: Stats;
  try {
    top = statSync(root);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw invalid(`${root} does not exist; pass an existing file or folder.`);
    if (code === 'EACCES') throw invalid(`${root} cannot be read (permission denied).`);
    throw e;
  }
  const prefix = options.prefix ? options.prefix.replace(/\/+$/, '') + '/' : '';
  const out: ScannedFile[] = [];
  const add = (abs: string, rel: string, st: Stats) => {
    const path = validateManifestPath(prefix + rel);
    const key = keyOf(st);
    out.push({ path, absPath: abs, size: key.size, key, digest: options.cache?.lookup(abs, key) });
  };
  if (top.isFile()) {
    add(root, root.split(sep).pop()!, top);
    return out;
  }
  if (!top.isDirectory()) throw invalid(`${root} is neither a file nor a folder.`);
  // Paths are built by concatenation: path.join/relative per file cost more than the lstat.
  const stack: [abs: string, rel: string][] = [[root.endsWith(sep) && root.length > 1 ? root.slice(0, -1) : root, '']];
  while (stack.length) {
    const [dir, relDir] = stack.pop()!;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') throw invalid(`${dir} cannot be read (permission denied); fix its permissions or log another folder.`);
      throw e;
    }
    for (const entry of entries) {
      const abs = `${dir}${sep}${entry.name}`;
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        stack.push([abs, rel]);
        continue;
      }
      let st: Stats | undefined;
      try {
        st = entry.isSymbolicLink() ? statSync(abs, { throwIfNoEntry: false }) : lstatSync(abs, { throwIfNoEntry: false });
      } catch {
        st = undefined; // a link loop or a file removed while scanning
      }
      if (!st?.isFile()) continue;
      add(abs, rel, st);
      if (out.length % 1000 === 0) {
        options.onFile?.(out.length);
        throwIfAborted(options.signal);
        await new Promise((r) => setImmediate(r));
      }
    }
  }
  options.onFile?.(out.length);
  return out;
}

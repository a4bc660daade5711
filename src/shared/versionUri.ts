/**
 * The paths of the read-only `trove:` file system: `/<project>/<name>/v<K>/<file path>`.
 * Parsing lives here, without `vscode`, so unit tests cover it; the extension wraps it in Uris.
 */
import { invalid } from '../core/errors';
import { validateManifestPath } from '../core/manifest';
import { validateName, validateProject } from '../core/names';

export const TROVE_SCHEME = 'trove';

export interface VersionPath {
  project: string;
  name: string;
  version: number;
  /** Path inside the version; '' for its root folder. */
  path: string;
}

export function formatVersionPath(p: VersionPath): string {
  return `/${p.project}/${p.name}/v${p.version}${p.path ? `/${p.path}` : ''}`;
}

export function parseVersionPath(uriPath: string): VersionPath {
  const parts = uriPath.split('/').filter((s, i) => i > 0 || s !== '');
  const [project, name, v, ...rest] = parts;
  const m = /^v(0|[1-9][0-9]*)$/.exec(v ?? '');
  if (!project || !name || !m) throw invalid(`"${uriPath}" is not a Trove file path; expected /<project>/<name>/v<K>/<file>.`);
  validateProject(project);
  validateName(name);
  const path = rest.join('/');
  if (path) validateManifestPath(path);
  return { project, name, version: Number(m[1]), path };
}

/** Immediate children (files and folders) of `dir` ('' for the root) among manifest paths. */
export function listFolder(paths: Iterable<string>, dir: string): { files: string[]; folders: string[] } {
  const prefix = dir ? `${dir}/` : '';
  const files = new Set<string>();
  const folders = new Set<string>();
  for (const p of paths) {
    if (!p.startsWith(prefix)) continue;
    const rest = p.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) files.add(rest);
    else folders.add(rest.slice(0, slash));
  }
  const byName = (a: string, b: string) => a.localeCompare(b);
  return { files: [...files].sort(byName), folders: [...folders].sort(byName) };
}

/** True when `dir` is a folder of the manifest (a prefix of some path). */
export function isFolder(paths: Iterable<string>, dir: string): boolean {
  if (!dir) return true;
  for (const p of paths) if (p.startsWith(`${dir}/`)) return true;
  return false;
}

/** Heuristic for the diff editor: no NUL byte in the first 8 KiB and valid-looking UTF-8. */
export function looksLikeText(data: Uint8Array): boolean {
  const head = data.subarray(0, 8192);
  if (head.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.length < data.length ? trimPartialUtf8(head) : head);
    return true;
  } catch {
    return false;
  }
}

function trimPartialUtf8(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  // Drop a multi-byte sequence cut at the 8 KiB boundary.
  for (let i = 1; i <= 3 && end - i >= 0; i++) {
    const b = bytes[end - i];
    if ((b & 0xc0) === 0xc0) return bytes.subarray(0, end - i);
    if ((b & 0x80) === 0) break;
  }
  return bytes.subarray(0, end);
}

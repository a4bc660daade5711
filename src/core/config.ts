import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

/** The embedded store folder: explicit value, else TROVE_STORE, else ~/.trove. */
export function defaultStorePath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return resolve(explicit);
  if (env.TROVE_STORE) return resolve(env.TROVE_STORE);
  return join(homedir(), '.trove');
}

/** The top folder of the git work tree holding `dir`, found without spawning git. */
export function findGitTop(dir: string): string | undefined {
  let cur = resolve(dir);
  for (;;) {
    if (existsSync(join(cur, '.git'))) return cur;
    const parent = dirname(cur);
    if (parent === cur) return undefined;
    cur = parent;
  }
}

/**
 * The project a face works in, decided here for all of them: `explicit` (the CLI's --project,
 * the SDK's option, the `trove.project` setting), else TROVE_PROJECT, else the name of the git
 * work tree's top folder holding `cwd`, else the name of `cwd` itself.
 */
export function defaultProject(cwd: string, explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit?.trim()) return explicit.trim();
  if (env.TROVE_PROJECT) return env.TROVE_PROJECT;
  const top = findGitTop(cwd) ?? resolve(cwd);
  return sanitizeProject(basename(top) || 'default');
}

/** Folder names can hold characters a project name cannot: map them to "-". */
export function sanitizeProject(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[.-]+/, '');
  return cleaned.slice(0, 128) || 'default';
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { backendFromOptions, type BackendChoice, type BackendOptions } from '../core/backendChoice';
import type { Registry } from '../core/registry';
import { HttpRegistry } from '../client/httpRegistry';
import { storeCacheDir } from '../store/layout';
import { LocalRegistry } from '../store/localRegistry';

export type { BackendChoice, BackendOptions } from '../core/backendChoice';

/**
 * The one place that turns a backend choice (core/backendChoice.ts) into an open Registry:
 * faces (CLI, SDK, language server, extension) call these and see only the Registry interface,
 * never LocalRegistry or HttpRegistry themselves.
 */

/** Where a server client keeps its stat cache: TROVE_CACHE_DIR, else $XDG_CACHE_HOME/trove, else ~/.cache/trove. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TROVE_CACHE_DIR) return resolve(env.TROVE_CACHE_DIR);
  return join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'trove');
}

/** Where logs through this backend keep their stat cache: `<store>/cache`, or the user's cache folder for a server. */
export function cacheDirFor(choice: BackendChoice, env: NodeJS.ProcessEnv = process.env): string {
  return choice.kind === 'embedded' ? storeCacheDir(choice.store) : defaultCacheDir(env);
}

/** Opens the chosen backend, with the folder for its stat cache. */
export function openChosen(choice: BackendChoice, env: NodeJS.ProcessEnv = process.env): { registry: Registry; cacheDir: string } {
  const registry = choice.kind === 'server'
    ? new HttpRegistry({ url: choice.url, ...(choice.token ? { token: choice.token } : {}) })
    : new LocalRegistry(choice.store);
  return { registry, cacheDir: cacheDirFor(choice, env) };
}

/** Opens the backend the options and environment name (see backendFromOptions), with the folder for its stat cache. */
export function openRegistry(options: BackendOptions = {}, env: NodeJS.ProcessEnv = process.env): { registry: Registry; cacheDir: string } {
  return openChosen(backendFromOptions(options, env), env);
}

import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultStorePath } from '../core/config';
import { usageError } from '../core/errors';
import type { Registry } from '../core/registry';
import { HttpRegistry } from '../client/httpRegistry';
import { storeCacheDir } from '../store/layout';
import { LocalRegistry } from '../store/localRegistry';

export interface BackendOptions {
  /** Embedded store folder (default: TROVE_STORE, else ~/.trove). */
  store?: string;
  /** URL of a `trove serve` server (default: TROVE_SERVER); wins over the embedded store. */
  server?: string;
  /** Bearer token for the server (default: TROVE_TOKEN). */
  token?: string;
}

/** Where a server client keeps its stat cache: TROVE_CACHE_DIR, else $XDG_CACHE_HOME/trove, else ~/.cache/trove. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TROVE_CACHE_DIR) return resolve(env.TROVE_CACHE_DIR);
  return join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'trove');
}

/** Opens the backend the options and environment name, with the folder for its stat cache. */
export function openRegistry(options: BackendOptions = {}, env: NodeJS.ProcessEnv = process.env): { registry: Registry; cacheDir: string } {
  if (options.server && options.store) throw usageError('Pass either --server or --store, not both.');
  const server = options.server ?? (options.store ? undefined : env.TROVE_SERVER);
  if (server) {
    const token = options.token ?? env.TROVE_TOKEN;
    return { registry: new HttpRegistry({ url: server, ...(token ? { token } : {}) }), cacheDir: defaultCacheDir(env) };
  }
  const root = defaultStorePath(options.store);
  return { registry: new LocalRegistry(root), cacheDir: storeCacheDir(root) };
}

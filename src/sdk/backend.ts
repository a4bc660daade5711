import { join } from 'node:path';
import { defaultStorePath } from '../core/config';
import type { Registry } from '../core/registry';
import { LocalRegistry } from '../store/localRegistry';

export interface BackendOptions {
  /** Embedded store folder (default: TROVE_STORE, else ~/.trove). */
  store?: string;
}

/** Opens the backend the options and environment name, with the folder for its stat cache. */
export function openRegistry(options: BackendOptions = {}): { registry: Registry; cacheDir: string } {
  const root = defaultStorePath(options.store);
  return { registry: new LocalRegistry(root), cacheDir: join(root, 'cache') };
}

import { statSync } from 'node:fs';
import { cacheDirFor, defaultCacheDir, openChosen } from '../backends/openRegistry';
import { backendFromSettings, backendSettingKind } from '../core/backendChoice';
import { defaultStorePath } from '../core/config';
import type { Registry } from '../core/registry';
import type { TroveSettings } from './protocol';

/**
 * Opens the backend the `trove.*` settings name, as the extension and CLI do (the choice is
 * core/backendChoice.ts's): the embedded store unless `trove.backend` is a server URL, which is
 * reached with the token the client passed at start-up.
 */
export function openBackend(settings: TroveSettings, token: string | undefined): Registry {
  return openChosen(backendFromSettings(settings, token)).registry;
}

/** Identifies what `openBackend` would open, to reopen only when it changes. */
export function backendKey(settings: TroveSettings, token: string | undefined): string {
  const backend = (settings.backend ?? '').trim();
  return backendSettingKind(backend) === 'server' ? `server ${backend} ${token ?? ''}` : `store ${settings.storePath?.trim() ?? ''}`;
}

/**
 * Why the embedded store the settings name cannot be opened, when it is a folder that does not
 * exist (or is not a folder): reading it would look like an empty store, and every reference would
 * be reported as unknown. Undefined for a server backend or a folder that exists.
 */
export function missingStore(settings: TroveSettings, env: NodeJS.ProcessEnv = process.env): { path: string; message: string } | undefined {
  if (backendSettingKind(settings.backend) !== 'embedded') return undefined;
  const explicit = settings.storePath?.trim() || undefined;
  const path = defaultStorePath(explicit, env);
  const from = explicit ? 'the setting trove.storePath' : env.TROVE_STORE ? 'TROVE_STORE' : 'the default store';
  try {
    if (statSync(path).isDirectory()) return undefined;
    return { path, message: `The store ${path} (${from}) is not a folder: set trove.storePath to a Trove store folder.` };
  } catch {
    return { path, message: `The store folder ${path} (${from}) does not exist: set trove.storePath to an existing Trove store, or log an artifact there first.` };
  }
}

/** Where logs through this backend keep their stat cache: `<store>/cache`, or the user's cache folder for a server. */
export function backendCacheDir(settings: TroveSettings, env: NodeJS.ProcessEnv = process.env): string {
  return backendSettingKind(settings.backend) === 'embedded' ? cacheDirFor(backendFromSettings(settings, undefined, env), env) : defaultCacheDir(env);
}

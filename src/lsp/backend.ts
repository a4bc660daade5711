import { defaultStorePath } from '../core/config';
import { invalid } from '../core/errors';
import type { Registry } from '../core/registry';
import { openRegistry, type BackendOptions } from '../sdk/backend';
import type { TroveSettings } from './protocol';

/**
 * Opens the backend the `trove.*` settings name, as the extension and CLI do: the embedded store
 * (`trove.storePath`, else TROVE_STORE, else ~/.trove) unless `trove.backend` is a server URL,
 * which is reached with the token the client passed at start-up.
 */
export function openBackend(settings: TroveSettings, token: string | undefined): Registry {
  const backend = (settings.backend ?? '').trim();
  if (backend === '' || backend === 'embedded') {
    // Named explicitly, so that a TROVE_SERVER in the server's environment does not win over the setting.
    return openRegistry({ store: defaultStorePath(settings.storePath?.trim() || undefined) }).registry;
  }
  if (/^https?:\/\//i.test(backend)) {
    const options: BackendOptions = { server: backend, ...(token ? { token } : {}) };
    return openRegistry(options).registry;
  }
  throw invalid(`The setting trove.backend is "${backend}": use "embedded" or the URL of a Trove server (http://… or https://…).`);
}

/** Identifies what `openBackend` would open, to reopen only when it changes. */
export function backendKey(settings: TroveSettings, token: string | undefined): string {
  const backend = (settings.backend ?? '').trim();
  return /^https?:\/\//i.test(backend) ? `server ${backend} ${token ?? ''}` : `store ${settings.storePath?.trim() ?? ''}`;
}

import { defaultStorePath } from './config';
import { invalid, usageError } from './errors';

/**
 * Which backend a face talks to, decided once for every face: the embedded store in a folder,
 * or a `trove serve` server at a URL. The CLI and SDK choose from flags, options and the
 * environment (backendFromOptions); the extension and the language server from the `trove.*`
 * settings (backendFromSettings). src/backends/openRegistry.ts opens what was chosen.
 */
export type BackendChoice = { kind: 'embedded'; store: string } | { kind: 'server'; url: string; token?: string };

/** Whether a `trove.backend` value names a server (http:// or https://). */
export function isServerUrl(backend: string): boolean {
  return /^https?:\/\//i.test(backend);
}

/** `trove.backend` read without failing: empty means embedded, and anything else that is not a URL is invalid. */
export function backendSettingKind(backend: string | undefined): 'embedded' | 'server' | 'invalid' {
  const value = (backend ?? '').trim();
  if (value === '' || value === 'embedded') return 'embedded';
  return isServerUrl(value) ? 'server' : 'invalid';
}

/**
 * The backend the `trove.*` settings name: `trove.backend` is `embedded` (or empty) for the store
 * in `trove.storePath` (else TROVE_STORE, else ~/.trove), or a server URL reached with `token`.
 * The embedded store is named explicitly, so that a TROVE_SERVER in the environment does not win
 * over the setting.
 */
export function backendFromSettings(settings: { backend?: string; storePath?: string }, token?: string, env: NodeJS.ProcessEnv = process.env): BackendChoice {
  const backend = (settings.backend ?? '').trim();
  switch (backendSettingKind(backend)) {
    case 'embedded':
      return { kind: 'embedded', store: defaultStorePath(settings.storePath?.trim() || undefined, env) };
    case 'server':
      try {
        new URL(backend);
      } catch {
        throw invalid(`The setting trove.backend is "${backend}", which is not a valid URL; use "embedded" or a URL such as http://127.0.0.1:8080.`);
      }
      return { kind: 'server', url: backend, ...(token ? { token } : {}) };
    case 'invalid':
      throw invalid(`The setting trove.backend is "${backend}": use "embedded" or the URL of a Trove server (http://… or https://…).`);
  }
}

/** The options of the CLI (`--store`, `--server`) and the SDK's `init`; the environment fills in what they leave out. */
export interface BackendOptions {
  /** Embedded store folder (default: TROVE_STORE, else ~/.trove). */
  store?: string;
  /** URL of a `trove serve` server (default: TROVE_SERVER); wins over the embedded store. */
  server?: string;
  /** Bearer token for the server (default: TROVE_TOKEN). */
  token?: string;
}

/** The backend the CLI's flags or the SDK's options name: a server (option, else TROVE_SERVER unless a store was given), else the embedded store. */
export function backendFromOptions(options: BackendOptions = {}, env: NodeJS.ProcessEnv = process.env): BackendChoice {
  if (options.server && options.store) throw usageError('Pass either --server or --store, not both.');
  const server = options.server ?? (options.store ? undefined : env.TROVE_SERVER);
  if (server) {
    const token = options.token ?? env.TROVE_TOKEN;
    return { kind: 'server', url: server, ...(token ? { token } : {}) };
  }
  return { kind: 'embedded', store: defaultStorePath(options.store, env) };
}

/** The environment that makes a child process (a `trove run` command) reach the same backend. */
export function backendEnvironment(choice: BackendChoice): { TROVE_SERVER?: string; TROVE_STORE?: string } {
  return choice.kind === 'server' ? { TROVE_SERVER: choice.url.replace(/\/+$/, '') } : { TROVE_STORE: choice.store };
}

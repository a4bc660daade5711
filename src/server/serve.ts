import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { usageError, TroveError } from '../core/errors';
import { createApp } from './app';
import { openServerBackend, type BackendSettings, type ServerBackend } from './backend';
import { openWandbDoor, type OpenWandbDoorOptions, type WandbDoor } from './wandb/index';

export interface ServeOptions extends BackendSettings {
  /** host:port; default 127.0.0.1:8470. Port 0 picks a free port. */
  listen?: string;
  requireAuth?: boolean;
  /** Aliases that block deletion (--protected-aliases); default DEFAULT_PROTECTED_ALIASES. */
  protectedAliases?: readonly string[];
  /** Cut off a request body after this many milliseconds without a byte (default 30 s). */
  bodyIdleMs?: number;
  /** Where access logs go (JSON lines); default stdout. */
  log?: (entry: Record<string, unknown>) => void;
  /** The W&B door's extras: keys valid on it only, and the `trove run` run its first wandb run becomes. */
  wandb?: Pick<OpenWandbDoorOptions, 'extraKeys' | 'claimRun'>;
}

export interface RunningServer {
  url: string;
  backend: ServerBackend;
  /** The W&B door, where the backend has one. */
  wandb?: WandbDoor;
  requireAuth: boolean;
  close(): Promise<void>;
}

export const DEFAULT_LISTEN = '127.0.0.1:8470';

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw usageError(`--listen must be HOST:PORT, for example 127.0.0.1:8470 or [::1]:8470; got "${text}".`);
  return { host: m[1] ?? m[2], port };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(host) || host.toLowerCase().startsWith('::ffff:127.');
  return false;
}

/**
 * Starts `trove serve`. Beyond loopback anyone on the network could reach the registry, so auth
 * is then mandatory: without --require-auth the server refuses to start.
 */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const { host, port } = parseListen(opts.listen ?? DEFAULT_LISTEN);
  const loopback = isLoopback(host);
  if (!loopback && !opts.requireAuth) {
    throw usageError(`Refusing to listen on ${host}, beyond this machine, without authentication: add --require-auth and give clients tokens from \`trove token create\`.`);
  }
  const requireAuth = !!opts.requireAuth;
  const backend = await openServerBackend(opts);
  const log = opts.log ?? ((entry) => process.stdout.write(JSON.stringify(entry) + '\n'));
  const wandb = await openWandbDoor(backend, { requireAuth, log, ...opts.wandb, protectedAliases: opts.protectedAliases });
  const server: Server = createServer({ keepAlive: true, requestTimeout: 0, headersTimeout: 60_000 }, createApp({ backend, requireAuth, log, bodyIdleMs: opts.bodyIdleMs, wandb, protectedAliases: opts.protectedAliases }));
  server.keepAliveTimeout = 65_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await wandb?.close();
    await backend.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new TroveError('unavailable', `${host}:${port} is already in use; pick another --listen port.`);
    if (code === 'EADDRNOTAVAIL') throw new TroveError('unavailable', `${host} is not an address of this machine; pick another --listen host.`);
    throw e;
  }
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  wandb?.setBaseUrl(url);
  return {
    url,
    backend,
    wandb,
    requireAuth,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests still running after 5 s (a stalled upload) are cut off.
        setTimeout(() => server.closeAllConnections(), 5000).unref();
      });
      await wandb?.close();
      await backend.close();
    },
  };
}

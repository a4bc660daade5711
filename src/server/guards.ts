/**
 * What `trove serve` checks about a request before any handler runs, and how it reads bodies:
 * the Host/Origin rule of a server without auth, idle request bodies, and upload slots shared
 * fairly between clients.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { TroveError } from '../core/errors';

/** A refusal with its HTTP status (the app turns it into `{"error":{code,message}}`). */
export class GuardError extends TroveError {
  constructor(code: 'forbidden' | 'invalid', message: string, readonly status: number) {
    super(code, message);
  }
}

/** Host names that can only mean this machine: `localhost`, 127.0.0.0/8, ::1 (with any port). */
export function isLoopbackHostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) === 6) return name === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(name) || name.startsWith('::ffff:127.');
  return false;
}

/** The host name of a Host header (`name`, `name:port`, `[v6]:port`), or undefined when malformed. */
export function hostNameOf(header: string): string | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]/@\s]+))(?::\d{1,5})?$/.exec(header.trim());
  return m ? (m[1] ?? m[2]) : undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A server without auth trusts whoever reaches it, which must then be a program on this machine.
 * A web page can reach it too: through DNS rebinding (its own name resolving to 127.0.0.1, so the
 * browser sends `Host: evil.example`) or by writing cross-origin. So without auth only loopback
 * Host names are answered, and a browser's write (it sends `Origin`) is accepted only from the
 * server's own origin. Programs (the CLI, the SDK, the extension host) send no Origin.
 */
export function checkUnauthenticatedRequest(method: string, headers: IncomingHttpHeaders): void {
  const hostHeader = headers.host;
  const host = hostHeader === undefined ? undefined : hostNameOf(hostHeader);
  if (!host || !isLoopbackHostName(host)) {
    throw new GuardError('forbidden', `This server runs without auth and answers only requests addressed to this machine (Host localhost, 127.0.0.1 or [::1]), not "${(hostHeader ?? '').slice(0, 100)}"; reach it by a loopback address, or start it with --require-auth.`, 403);
  }
  const origin = headers.origin;
  if (origin !== undefined && !SAFE_METHODS.has(method)) {
    let same = false;
    try {
      const o = new URL(origin);
      same = o.protocol === 'http:' && o.host === new URL(`http://${hostHeader}`).host;
    } catch {
      same = false;
    }
    if (!same) throw new GuardError('forbidden', `A browser page from ${origin.slice(0, 100)} may not write to this server (it runs without auth); use the trove CLI, the SDK or the extension.`, 403);
  }
}

/**
 * The request body, chunk by chunk, cut off when no byte arrives for `idleMs`: a client that
 * stops sending frees its connection and any upload slot instead of holding them forever.
 */
export async function* bodyOf(req: IncomingMessage, idleMs: number): AsyncGenerator<Buffer> {
  const it = req[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  try {
    for (;;) {
      timer = setTimeout(() => {
        req.destroy(new GuardError('invalid', `No byte of the request body arrived for ${idleMs / 1000} s; the server closed the connection (send the body without pauses).`, 408));
      }, idleMs);
      const r = await it.next();
      clearTimeout(timer);
      if (r.done) return;
      yield r.value as Buffer;
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * At most `limit` bodies at once, and at most `perClient` of them for any one client, so that
 * one client (a token, or an address when there is none) cannot take every slot. Waiters are
 * served in arrival order among those whose client is under its share.
 */
export class FairSlots {
  private active = 0;
  private readonly byClient = new Map<string, number>();
  private readonly waiting: { client: string; go: () => void }[] = [];

  constructor(private readonly limit: number, private readonly perClient: number) {}

  async run<T>(client: string, body: () => Promise<T>): Promise<T> {
    // A waiter is woken with its slot already taken (by release), so nobody can overtake it.
    if (this.free(client)) this.take(client);
    else await new Promise<void>((go) => this.waiting.push({ client, go }));
    try {
      return await body();
    } finally {
      this.release(client);
    }
  }

  /** Slots in use. */
  get inUse(): number {
    return this.active;
  }

  private free(client: string): boolean {
    return this.active < this.limit && (this.byClient.get(client) ?? 0) < this.perClient;
  }

  private take(client: string): void {
    this.active++;
    this.byClient.set(client, (this.byClient.get(client) ?? 0) + 1);
  }

  private release(client: string): void {
    this.active--;
    const n = this.byClient.get(client)! - 1;
    if (n) this.byClient.set(client, n);
    else this.byClient.delete(client);
    for (let i = 0; i < this.waiting.length && this.active < this.limit; ) {
      const w = this.waiting[i];
      if (!this.free(w.client)) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.take(w.client);
      w.go();
    }
  }
}

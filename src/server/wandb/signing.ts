import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Self-authorising file URLs for the embedded backend: the W&B file client sends no credentials,
 * so each URL carries an expiry and an HMAC-SHA256 over `verb`, the URL's path (which names one
 * object) and the expiry. A URL works only for its verb, its object and until it expires.
 */
export class UrlSigner {
  private readonly key: Buffer;

  constructor(key?: Buffer, private readonly ttlSeconds = 3600) {
    this.key = key ?? randomBytes(32);
  }

  private mac(verb: string, path: string, expires: number): Buffer {
    return createHmac('sha256', this.key).update(`${verb}\n${path}\n${expires}`, 'utf8').digest();
  }

  /** `path?x=<expiry>&s=<signature>` for one verb on one path (already percent-encoded). */
  sign(verb: 'GET' | 'PUT', path: string, now = Date.now()): string {
    const expires = Math.floor(now / 1000) + this.ttlSeconds;
    return `${path}?x=${expires}&s=${this.mac(verb, path, expires).toString('base64url')}`;
  }

  /** Why the URL does not authorise this request, or undefined when it does. */
  check(verb: string, path: string, query: URLSearchParams, now = Date.now()): string | undefined {
    const x = query.get('x');
    const s = query.get('s');
    if (!x || !s || !/^\d{1,12}$/.test(x)) return 'This file URL carries no valid signature; ask the server for a new one.';
    const expires = Number(x);
    if (expires < Math.floor(now / 1000)) return 'This file URL has expired; ask the server for a new one.';
    const want = this.mac(verb, path, expires);
    const got = Buffer.from(s, 'base64url');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return `This file URL is not signed for ${verb} on this object.`;
    return undefined;
  }
}

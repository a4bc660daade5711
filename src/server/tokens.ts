import { createHash, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { invalid } from '../core/errors';
import { validateProject } from '../core/names';
import { readJson, writeFileAtomic } from '../store/atomic';
import { withLock } from '../store/lock';

export type TokenScope = 'read' | 'write';

/** A token as stored: only the SHA-256 of the secret is kept. `project` "*" means every project. */
export interface TokenRecord {
  id: string;
  hash: string;
  project: string;
  scope: TokenScope;
  createdAt: string;
}

export interface TokenStore {
  /** Stores a new token and returns the secret, which exists nowhere else afterwards. */
  create(project: string, scope: string): Promise<{ token: string; record: TokenRecord }>;
  findByHash(hash: string): Promise<TokenRecord | undefined>;
  /** Every token's record (never a secret: only hashes are stored). */
  list(): Promise<TokenRecord[]>;
  /** Removes the token with this id; false when there is none. */
  revoke(id: string): Promise<boolean>;
}

export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export function validateTokenRequest(project: string, scope: string): { project: string; scope: TokenScope } {
  if (project !== '*') validateProject(project);
  if (scope !== 'read' && scope !== 'write') throw invalid(`Token scope must be read or write, not "${scope}".`);
  return { project, scope };
}

/**
 * `trove_` + 32 random bytes (base64url): 256 bits, recognisable in a secret scanner. Drawn
 * again until it holds no "-", so that the `wandb` client takes it as an API key (it keeps only
 * what follows the first "-" and wants 40 characters or more of it).
 */
export function newToken(project: string, scope: TokenScope): { token: string; record: TokenRecord } {
  let token: string;
  do token = `trove_${randomBytes(32).toString('base64url')}`;
  while (token.includes('-'));
  const hash = hashToken(token);
  return { token, record: { id: hash.slice(0, 12), hash, project, scope, createdAt: new Date().toISOString() } };
}

/** Tokens of an embedded-store server: `<store>/server/tokens.json`, written atomically under a lock. */
export class FileTokenStore implements TokenStore {
  private cache?: { loadedAt: number; byHash: Map<string, TokenRecord> };

  constructor(private readonly file: string) {}

  async create(projectIn: string, scopeIn: string): Promise<{ token: string; record: TokenRecord }> {
    const { project, scope } = validateTokenRequest(projectIn, scopeIn);
    const created = newToken(project, scope);
    await mkdir(dirname(this.file), { recursive: true });
    await withLock(`${this.file}.lock`, async () => {
      const doc = (await readJson<{ tokens: TokenRecord[] }>(this.file)) ?? { tokens: [] };
      doc.tokens.push(created.record);
      await writeFileAtomic(this.file, JSON.stringify(doc, null, 1));
    });
    this.cache = undefined;
    return created;
  }

  async list(): Promise<TokenRecord[]> {
    return ((await readJson<{ tokens: TokenRecord[] }>(this.file)) ?? { tokens: [] }).tokens;
  }

  async revoke(id: string): Promise<boolean> {
    let found = false;
    await mkdir(dirname(this.file), { recursive: true });
    await withLock(`${this.file}.lock`, async () => {
      const doc = (await readJson<{ tokens: TokenRecord[] }>(this.file)) ?? { tokens: [] };
      const kept = doc.tokens.filter((t) => t.id !== id);
      found = kept.length !== doc.tokens.length;
      if (found) await writeFileAtomic(this.file, JSON.stringify({ tokens: kept }, null, 1));
    });
    this.cache = undefined;
    return found;
  }

  async findByHash(hash: string): Promise<TokenRecord | undefined> {
    // Re-read at most once a second so that tokens created by `trove token create` work at once.
    if (!this.cache || Date.now() - this.cache.loadedAt > 1000) {
      const doc = (await readJson<{ tokens: TokenRecord[] }>(this.file)) ?? { tokens: [] };
      this.cache = { loadedAt: Date.now(), byHash: new Map(doc.tokens.map((t) => [t.hash, t])) };
    }
    const hit = this.cache.byHash.get(hash);
    if (hit) return hit;
    // A token created a moment ago: one fresh read before saying no.
    if (Date.now() - this.cache.loadedAt > 50) {
      this.cache = undefined;
      return this.findByHash(hash);
    }
    return undefined;
  }
}

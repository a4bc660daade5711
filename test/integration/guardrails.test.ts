/**
 * Checks that no other test guarded (issue 11, item 21): gc on a store whose blobs are all past
 * gc's grace period (so that only the "is it used" rule keeps a version's blobs), in-log dedupe of
 * identical files, and the HTTP client's digest checks against a server that lies.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { existsSync, readdirSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HttpRegistry, PACK_INDEX_ENTRIES_MAX } from '../../src/client/httpRegistry';
import { TroveError } from '../../src/core/errors';
import { parseRef } from '../../src/core/names';
import { downloadVersion, logArtifact } from '../../src/core/operations';
import type { VersionDetail } from '../../src/core/types';
import { LocalRegistry } from '../../src/store/localRegistry';
import { PackSet } from '../../src/store/packs';
import { listenLoopback, tempDir, writeTree } from '../helpers';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Sets every file under `dir` two hours into the past: older than gc's one-hour grace period. */
function age(dir: string): void {
  const old = new Date(Date.now() - 2 * 3600 * 1000);
  for (const d of readdirSync(dir, { recursive: true, withFileTypes: true })) if (d.isFile()) utimesSync(join(d.parentPath ?? d.path, d.name), old, old);
}

const looseBlobs = (store: string) => readdirSync(join(store, 'blobs'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).length;
function packedBlobs(store: string): number {
  const packs = new PackSet(join(store, 'packs'), join(store, 'tmp'));
  const n = packs.packs().reduce((s, p) => s + Object.keys(p.blobs).length, 0);
  packs.close();
  return n;
}

describe('gc past its grace period keeps exactly what versions use (embedded store)', () => {
  let t: ReturnType<typeof tempDir>;
  before(() => {
    t = tempDir();
  });
  after(() => t.cleanup());

  test('used loose and packed blobs stay, every unused one goes, and the version still downloads', async () => {
    const store = join(t.dir, 'store');
    const reg = new LocalRegistry(store);
    const big = randomBytes((2 << 20) + 5);
    const data = writeTree(join(t.dir, 'data'), { 'small.txt': 'used small', 'big.bin': big, 'sub/other.txt': 'used too' });
    await logArtifact(reg, { project: 'p', name: 'kept', type: 'dataset', content: { dirs: [{ absPath: data }], files: [], references: [] }, cacheDir: join(t.dir, 'cache') });
    // Blobs no version uses: a loose one and packed ones, one of them in a pack beside a used blob.
    const orphans = writeTree(join(t.dir, 'orphans'), { 'o.txt': 'orphan small', 'o.bin': randomBytes((1 << 20) + 100), 'used.txt': 'used small' });
    const stored = await reg.storeFiles(['o.txt', 'o.bin', 'used.txt'].map((p) => ({ path: p, absPath: join(orphans, p), size: readFileSync(join(orphans, p)).length })));
    assert.deepEqual(stored.map((s) => s.stored), [true, true, false]);
    assert.equal(looseBlobs(store), 2);
    age(join(store, 'blobs'));
    age(join(store, 'packs'));

    const r = await reg.gc(false);
    assert.equal(r.blobs, 2, 'the two orphans');
    const fresh = new LocalRegistry(store);
    assert.equal(looseBlobs(store), 1, 'the used 2 MiB blob stays, the orphan goes');
    assert.equal(fresh.hasBlob(stored[0].digest, 12), false);
    const v = await fresh.getVersion(parseRef('p/kept'));
    for (const e of Object.values(v.manifest)) assert.equal(await fresh.verifyBlob(e.digest), true, `${e.digest.slice(0, 12)} is still stored whole`);
    const root = join(t.dir, 'out');
    await downloadVersion(fresh, v, { root });
    assert.ok(readFileSync(join(root, 'big.bin')).equals(big));
    assert.equal(readFileSync(join(root, 'sub/other.txt'), 'utf8'), 'used too');
    assert.equal((await fresh.gc(false)).blobs, 0, 'a second gc finds nothing');
    await Promise.all([reg.close(), fresh.close()]);
  });
});

describe('a log stores identical files once', () => {
  let t: ReturnType<typeof tempDir>;
  before(() => {
    t = tempDir();
  });
  after(() => t.cleanup());

  test('the embedded store: five equal small files and three equal large ones become two blobs', async () => {
    const store = join(t.dir, 'store');
    const reg = new LocalRegistry(store);
    const big = randomBytes((1 << 20) + 321);
    const files: Record<string, string | Buffer> = { 'unique.txt': 'one of a kind' };
    for (let i = 0; i < 5; i++) files[`small/${i}.txt`] = 'the same small content';
    for (let i = 0; i < 3; i++) files[`large/${i}.bin`] = big;
    const data = writeTree(join(t.dir, 'data'), files);
    const r = await logArtifact(reg, { project: 'p', name: 'dups', type: 'dataset', content: { dirs: [{ absPath: data }], files: [], references: [] }, cacheDir: join(t.dir, 'cache') });
    assert.equal(r.files, 9);
    assert.equal(r.storedFiles, 3, 'one blob per distinct content');
    assert.equal(looseBlobs(store), 1, 'one large blob on disk');
    assert.equal(packedBlobs(store), 2, 'two small blobs in packs');
    const root = join(t.dir, 'out');
    await downloadVersion(reg, await reg.getVersion(parseRef('p/dups')), { root });
    for (let i = 0; i < 3; i++) assert.ok(readFileSync(join(root, `large/${i}.bin`)).equals(big));
    await reg.close();
  });

  test('over HTTP: equal files are asked about and sent once', async () => {
    const store = join(t.dir, 'served');
    const { startServer } = await import('../../src/server/serve');
    const server = await startServer({ store, listen: '127.0.0.1:0', log: () => undefined });
    const client = new HttpRegistry({ url: server.url });
    try {
      const big = randomBytes((1 << 20) + 999);
      const files: Record<string, string | Buffer> = {};
      for (let i = 0; i < 4; i++) files[`s${i}.txt`] = 'same';
      for (let i = 0; i < 2; i++) files[`b${i}.bin`] = big;
      const data = writeTree(join(t.dir, 'http-data'), files);
      const r = await logArtifact(client, { project: 'p', name: 'dups', type: 'dataset', content: { dirs: [{ absPath: data }], files: [], references: [] }, cacheDir: join(t.dir, 'http-cache') });
      assert.equal(r.files, 6);
      assert.equal(r.storedFiles, 2);
      assert.equal(looseBlobs(store), 1);
      assert.equal(packedBlobs(store), 1);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

/**
 * A server that answers like `trove serve` but hands out other bytes than the digest says: the
 * client must refuse them and leave nothing behind.
 */
describe('the HTTP client against a server that lies', () => {
  let server: Server;
  let url: string;
  const honest = Buffer.from('the bytes the digest was made from');
  const digest = sha(honest);
  const packMates = [Buffer.from('first member'), honest, Buffer.from('third member')];
  const packBytes = Buffer.concat(packMates);
  const pack = sha(packBytes);
  let mode: 'lie' | 'lying-pack' | 'lying-index' = 'lie';

  before(async () => {
    server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      const lie = Buffer.from(honest);
      lie[3] ^= 0x20;
      if (path === `/api/v1/blobs/${digest}`) {
        const body = mode === 'lie' ? lie : honest;
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, ...(mode !== 'lie' ? { 'x-trove-pack': pack } : {}) });
        return res.end(body);
      }
      if (path === `/api/v1/packs/${pack}/index`) {
        let offset = 0;
        const blobs = packMates.map((m) => ({ digest: sha(m), offset: (offset += m.length) - m.length, size: m.length }));
        // The lying index places the wanted blob over the pack's first bytes (the pack itself is intact).
        if (mode === 'lying-index') blobs[1].offset = 0;
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ pack, blobs }));
      }
      if (path === `/api/v1/packs/${pack}`) {
        res.writeHead(302, { location: `${url}/object/${pack}`, 'content-length': 0 });
        return res.end();
      }
      if (path === `/object/${pack}`) {
        // The pack object with one flipped byte inside the blob the client wants (intact for the lying index).
        const damaged = Buffer.from(packBytes);
        if (mode === 'lying-pack') damaged[packMates[0].length + 5] ^= 0x01;
        res.writeHead(200, { 'content-length': damaged.length });
        return res.end(damaged);
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'not_found', message: 'nothing here' } }));
    });
    url = await listenLoopback(server);
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const version = (): VersionDetail => ({
    project: 'p', name: 'n', type: 'dataset', version: 0, aliases: ['latest'], digest: 'x', size: honest.length, files: 1, createdAt: new Date().toISOString(),
    description: '', metadata: {}, manifest: { 'f.txt': { digest, size: honest.length } }, usedBy: [],
  });

  test('bytes that do not match the digest are refused, with one sentence, and nothing is written', async () => {
    mode = 'lie';
    const t = tempDir();
    const client = new HttpRegistry({ url, retries: 0 });
    try {
      const root = join(t.dir, 'out');
      await assert.rejects(downloadVersion(client, version(), { root }), (e: unknown) => {
        assert.ok(e instanceof TroveError, String(e));
        assert.equal(e.code, 'integrity');
        assert.match(e.message, /does not match its digest/);
        return true;
      });
      assert.equal(existsSync(root), false, 'no download folder');
      assert.deepEqual(readdirSync(t.dir), [], 'no partial folder or temporary file');
    } finally {
      await client.close();
      await t.cleanup();
    }
  });

  for (const lie of ['lying-pack', 'lying-index'] as const) test(`${lie === 'lying-pack' ? 'a damaged pack' : 'an intact pack with a lying index'} is not trusted: the blob is fetched alone and checked`, async () => {
    mode = lie;
    const t = tempDir();
    const client = new HttpRegistry({ url });
    try {
      // The first blob request teaches the client the pack; the next ones would come from it.
      const first = join(t.dir, 'first');
      await client.fetchBlob(digest, first);
      assert.ok(readFileSync(first).equals(honest));
      await new Promise((r) => setTimeout(r, 100));
      const second = join(t.dir, 'second');
      await client.fetchBlob(digest, second);
      assert.ok(readFileSync(second).equals(honest), 'the damaged pack copy was not written');
    } finally {
      await client.close();
      await t.cleanup();
    }
  });
});

/**
 * A scale-out server whose packs each hold 10,000 members: the client learns where each member
 * sits to fetch packs whole, but keeps at most PACK_INDEX_ENTRIES_MAX of those places, however many
 * packed files a download (or a long-lived client's downloads) goes through.
 */
describe('the HTTP client remembers a bounded number of pack members', () => {
  const PACKS = 30;
  const MEMBERS = 10_000;
  let server: Server;
  let url: string;
  const blobs = Array.from({ length: PACKS }, (_, p) => Buffer.from(`the one real file of pack ${p}`));
  const packNames = blobs.map((b) => sha(b)); // each pack object is its one real member
  const indexes = new Map<string, string>();
  const indexOf = (p: number) => {
    let body = indexes.get(packNames[p]);
    if (!body) {
      const members = [{ digest: sha(blobs[p]), offset: 0, size: blobs[p].length }];
      for (let i = 1; i < MEMBERS; i++) members.push({ digest: sha(Buffer.from(`member ${p}/${i}`)), offset: blobs[p].length, size: 0 });
      body = JSON.stringify({ pack: packNames[p], blobs: members });
      indexes.set(packNames[p], body);
    }
    return body;
  };

  before(async () => {
    server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      const p = blobs.findIndex((b) => path === `/api/v1/blobs/${sha(b)}`);
      if (p >= 0) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blobs[p].length, 'x-trove-pack': packNames[p] });
        return res.end(blobs[p]);
      }
      const i = packNames.findIndex((n) => path === `/api/v1/packs/${n}/index`);
      if (i >= 0) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(indexOf(i));
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'not_found', message: 'nothing here' } }));
    });
    url = await listenLoopback(server);
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test(`${(PACKS * MEMBERS).toLocaleString('en')} members announced, at most ${PACK_INDEX_ENTRIES_MAX.toLocaleString('en')} remembered`, async () => {
    const t = tempDir();
    const client = new HttpRegistry({ url, retries: 0 });
    try {
      const manifest: VersionDetail['manifest'] = {};
      blobs.forEach((b, p) => (manifest[`f${String(p).padStart(2, '0')}.txt`] = { digest: sha(b), size: b.length }));
      const version: VersionDetail = {
        project: 'p', name: 'n', type: 'dataset', version: 0, aliases: ['latest'], digest: 'x', size: blobs.reduce((s, b) => s + b.length, 0), files: PACKS,
        createdAt: new Date().toISOString(), description: '', metadata: {}, manifest, usedBy: [],
      };
      const root = join(t.dir, 'out');
      await downloadVersion(client, version, { root });
      blobs.forEach((b, p) => assert.deepEqual(readFileSync(join(root, `f${String(p).padStart(2, '0')}.txt`)), b));
      // Every index the download asked for has arrived (each is learnt after its blob was served).
      const inner = client as unknown as { packIndexes: Map<string, Promise<void>>; packOf: Map<string, unknown> };
      await Promise.all([...inner.packIndexes.values()].map((x) => x.catch(() => undefined)));
      assert.equal(indexes.size, PACKS, 'every pack index was read');
      assert.ok(inner.packOf.size <= PACK_INDEX_ENTRIES_MAX, `${inner.packOf.size} pack members remembered`);
      assert.ok(inner.packOf.size >= PACK_INDEX_ENTRIES_MAX - MEMBERS, `the latest packs' members are kept (${inner.packOf.size})`);
    } finally {
      await client.close();
      await t.cleanup();
    }
  });
});

/**
 * The server's gc deletes, for real, on both backends (issue 11, item 21): blobs past the grace
 * period that no version uses go; every blob a version uses stays, loose or packed, and the
 * version still downloads whole. Embedded: files aged past the grace period, then POST /gc.
 * PostgreSQL + S3 (whose objects cannot be aged): the backend's gc with a grace period of 0.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { HttpRegistry } from '../../src/client/httpRegistry';
import { downloadVersion, logArtifact } from '../../src/core/operations';
import { makeS3Client, s3SettingsFromEnv } from '../../src/core/s3';
import { openServerBackend } from '../../src/server/backend';
import type { S3BlobStore } from '../../src/server/blobStore';
import type { PgStore } from '../../src/server/pgStore';
import { scaleOutArgs, services, startServe, tempDir, type ServeProcess } from './harness';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function folder(files: Record<string, Buffer | string>): string {
  const dir = tempDir('trove-gc-data-');
  for (const [p, data] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), data);
  }
  return dir;
}

/** Uploads blobs no version will use: a pack of small ones and one large blob through the server. */
async function orphans(url: string, small: Buffer[], large: Buffer): Promise<void> {
  const index = JSON.stringify({ blobs: small.map((b) => ({ digest: sha(b), size: b.length })) }) + '\n';
  const pack = await fetch(`${url}/api/v1/blobs/pack`, { method: 'POST', headers: { 'content-type': 'application/x-trove-pack' }, body: new Uint8Array(Buffer.concat([Buffer.from(index), ...small])) });
  assert.equal(pack.status, 201, await pack.text());
  const put = await fetch(`${url}/api/v1/blobs/${sha(large)}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(large) });
  assert.equal(put.status, 201, await put.text());
}

describe('server gc deletes what no version uses, and nothing else', () => {
  const usedSmall = Buffer.from(`used small ${randomBytes(6).toString('hex')}`);
  const usedLarge = randomBytes((2 << 20) + 11);
  const orphanSmall = [Buffer.from(`orphan a ${randomBytes(6).toString('hex')}`), Buffer.from(`orphan b ${randomBytes(6).toString('hex')}`)];
  const orphanLarge = randomBytes((1 << 20) + 77);

  async function logAndCheck(client: HttpRegistry, project: string): Promise<void> {
    const r = await logArtifact(client, { project, name: 'kept', type: 'dataset', content: { dirs: [{ absPath: folder({ 'small.txt': usedSmall, 'large.bin': usedLarge }) }], files: [], references: [] }, cacheDir: tempDir() });
    assert.equal(r.version, 0);
  }

  async function downloadsWhole(client: HttpRegistry, project: string): Promise<void> {
    const v = await client.getVersion({ project, name: 'kept', alias: 'latest' });
    const root = join(tempDir(), 'out');
    await downloadVersion(client, v, { root });
    assert.ok(readFileSync(join(root, 'large.bin')).equals(usedLarge));
    assert.ok(readFileSync(join(root, 'small.txt')).equals(usedSmall));
    for (const e of Object.values(v.manifest)) assert.equal(await client.verifyBlob(e.digest), true);
  }

  describe('embedded store, through POST /api/v1/gc', () => {
    let server: ServeProcess;
    let store: string;
    before(async () => {
      store = tempDir('trove-gc-store-');
      server = await startServe(['--store', store]);
    });
    after(async () => {
      await server?.stop();
    });

    test('after the grace period: orphans go, the version stays whole', async () => {
      const client = new HttpRegistry({ url: server.url });
      await logAndCheck(client, 'g');
      await orphans(server.url, orphanSmall, orphanLarge);
      const old = new Date(Date.now() - 2 * 3600 * 1000);
      for (const sub of ['blobs', 'packs']) {
        for (const d of readdirSync(join(store, sub), { recursive: true, withFileTypes: true })) if (d.isFile()) utimesSync(join(d.parentPath ?? d.path, d.name), old, old);
      }
      const dry = await fetch(`${server.url}/api/v1/gc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"dryRun":true}' });
      assert.deepEqual(await dry.json(), { blobs: 3, bytes: orphanSmall[0].length + orphanSmall[1].length + orphanLarge.length, dryRun: true });
      const res = await fetch(`${server.url}/api/v1/gc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"dryRun":false}' });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { blobs: 3, bytes: orphanSmall[0].length + orphanSmall[1].length + orphanLarge.length, dryRun: false });
      for (const b of [...orphanSmall, orphanLarge]) assert.equal((await fetch(`${server.url}/api/v1/blobs/${sha(b)}`)).status, 404, 'an orphan is gone');
      // The server, running on, knows they are gone: it asks for them again and refuses a commit naming them.
      const missing = await fetch(`${server.url}/api/v1/blobs/missing`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ blobs: [...orphanSmall, orphanLarge].map((b) => ({ digest: sha(b), size: b.length })) }) });
      assert.equal(((await missing.json()) as { missing: unknown[] }).missing.length, 3);
      const commit = await fetch(`${server.url}/api/v1/projects/g/artifacts/ghost/versions`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'dataset', manifest: { 'o.bin': { digest: sha(orphanLarge), size: orphanLarge.length } } }),
      });
      assert.equal(commit.status, 422);
      await downloadsWhole(client, 'g');
      await client.close();
    });
  });

  describe('PostgreSQL + S3, the backend\'s gc with no grace period', () => {
    let server: ServeProcess;
    let setup: Awaited<ReturnType<typeof scaleOutArgs>>;
    before(async () => {
      setup = await scaleOutArgs('gc');
      server = await startServe(setup.args);
    });
    after(async () => {
      await server?.stop();
    });

    test('orphan objects and packs go, used ones stay, and the version downloads whole', async () => {
      const client = new HttpRegistry({ url: server.url });
      await logAndCheck(client, 'g');
      await orphans(server.url, orphanSmall, orphanLarge);
      const backend = await openServerBackend({ database: setup.database, blobs: `s3://${setup.bucket}`, s3Endpoint: services().s3Endpoint });
      try {
        const meta = backend.meta as PgStore;
        const blobs = backend.blobs as S3BlobStore;
        const used = await meta.usedDigests();
        assert.deepEqual([...used].sort(), [sha(usedSmall), sha(usedLarge)].sort());
        const r = await blobs.gc(used, false, 0);
        assert.equal(r.blobs, 3, 'the orphan object and the two blobs of the orphan pack');
        const s3 = makeS3Client(s3SettingsFromEnv(services().s3Endpoint));
        await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: setup.bucket, Key: `blobs/${sha(orphanLarge)}` })), (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 404);
        assert.equal((await s3.send(new HeadObjectCommand({ Bucket: setup.bucket, Key: `blobs/${sha(usedLarge)}` }))).ContentLength, usedLarge.length);
        s3.destroy();
        assert.deepEqual(await meta.known(orphanSmall.map(sha)), new Set(), 'the ledger forgot the orphan pack');
        assert.equal((await blobs.gc(await meta.usedDigests(), false, 0)).blobs, 0, 'a second gc finds nothing');
      } finally {
        await backend.close();
      }
      await downloadsWhole(client, 'g');
      await client.close();
    });
  });
});

import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HttpRegistry } from '../../src/client/httpRegistry';
import { TroveError } from '../../src/core/errors';
import { makeS3Client, s3SettingsFromEnv } from '../../src/core/s3';
import { downloadVersion, logArtifact } from '../../src/core/operations';
import { scaleOutArgs, services, startServe, tempDir, uniqueName, type ServeProcess } from './harness';

function folder(files: Record<string, Buffer | string>): string {
  const dir = tempDir('trove-client-data-');
  for (const [p, data] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), data);
  }
  return dir;
}

const content = (absPath: string) => ({ dirs: [{ absPath }], files: [], references: [] });

/**
 * A real HTTP proxy in front of a real server that misbehaves on purpose for the first requests
 * (answers 503, or stalls), to show the client's retries and timeouts.
 */
async function flakyProxy(target: string, plan: { fail503?: number; stallMs?: number; stallFirst?: number }): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    hits++;
    if (plan.fail503 && hits <= plan.fail503) {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"unavailable","message":"warming up"}}');
      return;
    }
    const forward = () => {
      const up = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    };
    if (plan.stallMs && hits <= (plan.stallFirst ?? Infinity)) setTimeout(forward, plan.stallMs);
    else forward();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

for (const mode of ['embedded', 'postgres+s3'] as const) {
  describe(`HttpRegistry against trove serve (${mode})`, () => {
    let server: ServeProcess;
    before(async () => {
      server = await startServe(mode === 'embedded' ? ['--store', tempDir('trove-client-store-')] : (await scaleOutArgs('client')).args);
    });
    after(async () => {
      await server?.stop();
    });

    test('/healthz answers with the mode', async () => {
      const res = await fetch(`${server.url}/healthz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ok', mode, api: 'v1' });
    });

    test('an interrupted upload resumes without sending stored blobs again', async () => {
      const files: Record<string, Buffer> = {};
      for (let i = 0; i < 24; i++) files[`big/${i}.bin`] = randomBytes((1 << 20) + 1000 + i);
      for (let i = 0; i < 50; i++) files[`small/${i}.txt`] = randomBytes(2000);
      const data = folder(files);
      const cacheDir = tempDir('trove-client-cache-');
      const client = new HttpRegistry({ url: server.url, concurrency: 4 });
      const abort = new AbortController();
      let uploading = false;
      const progress = {
        report(u: { phase?: string; files?: number }) {
          if (u.phase) uploading = u.phase === 'uploading';
          if (uploading && (u.files ?? 0) >= 55) abort.abort();
        },
      };
      await assert.rejects(
        logArtifact(client, { project: 'resume', name: 'ds', type: 'dataset', content: content(data), cacheDir }, { signal: abort.signal, progress }),
        (e: unknown) => e instanceof TroveError && e.code === 'cancelled',
      );
      await assert.rejects(client.getVersion({ project: 'resume', name: 'ds', alias: 'latest' }), /does not exist/, 'no version after the interruption');
      const again = await logArtifact(client, { project: 'resume', name: 'ds', type: 'dataset', content: content(data), cacheDir });
      assert.equal(again.created, true);
      assert.equal(again.files, 74);
      assert.ok(again.storedFiles > 0 && again.storedFiles <= 74 - 55, `only the blobs not stored before are sent again (sent ${again.storedFiles})`);
      const v = await client.getVersion({ project: 'resume', name: 'ds', alias: 'latest' });
      const root = join(tempDir('trove-client-dl-'), 'out');
      await downloadVersion(client, v, { root });
      for (const [p, bytes] of Object.entries(files)) assert.deepEqual(readFileSync(join(root, p)), bytes, p);
      await client.close();
    });

    test('a cancelled download leaves nothing behind and says Cancelled', async () => {
      const data = folder(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}.bin`, randomBytes(300_000)])));
      const client = new HttpRegistry({ url: server.url });
      await logArtifact(client, { project: 'cancel', name: 'ds', type: 'dataset', content: content(data), cacheDir: tempDir() });
      const v = await client.getVersion({ project: 'cancel', name: 'ds', alias: 'latest' });
      const abort = new AbortController();
      const root = join(tempDir('trove-cancel-'), 'out');
      let n = 0;
      await assert.rejects(
        downloadVersion(client, v, { root, signal: abort.signal, progress: { report: (u) => { if ((u.files ?? 0) > 0 && ++n === 3) abort.abort(); } } }),
        (e: unknown) => e instanceof TroveError && e.code === 'cancelled',
      );
      assert.throws(() => readFileSync(join(root, 'f0.bin')), /ENOENT/, 'no half download at the root');
      await client.close();
    });

    if (mode === 'postgres+s3') {
      test('small files download by whole packs, each checked: a few requests instead of one per file', async () => {
        const files: Record<string, Buffer> = {};
        for (let i = 0; i < 400; i++) files[`f${i}.bin`] = randomBytes(1000 + i);
        const data = folder(files);
        const client = new HttpRegistry({ url: server.url });
        await logArtifact(client, { project: 'packs', name: 'many', type: 'dataset', content: content(data), cacheDir: tempDir() });
        const v = await client.getVersion({ project: 'packs', name: 'many', alias: 'latest' });
        const before = server.stdout.length;
        const root = join(tempDir('trove-packs-'), 'out');
        await downloadVersion(client, v, { root });
        for (const [p, bytes] of Object.entries(files)) assert.deepEqual(readFileSync(join(root, p)), bytes, p);
        const log = server.stdout.slice(before).map((l) => JSON.parse(l) as { path: string; status: number });
        const single = log.filter((e) => /^\/api\/v1\/blobs\/[0-9a-f]{64}$/.test(e.path)).length;
        const packs = log.filter((e) => e.path.startsWith('/api/v1/packs/'));
        assert.ok(packs.some((e) => e.status === 302), 'a whole pack was handed out');
        assert.ok(single < 100, `blobs fetched one by one: ${single} of 400`);
        await client.close();
      });
    }

    test('lists are paged: limit and nextCursor walk every item once', async () => {
      const client = new HttpRegistry({ url: server.url });
      const data = folder({ 'a.txt': 'a' });
      for (const name of ['a1', 'a2', 'a3', 'a4', 'a5']) await logArtifact(client, { project: 'paging', name, type: 'dataset', content: content(data), cacheDir: tempDir() });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await fetch(`${server.url}/api/v1/projects/paging/artifacts?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        const page = (await res.json()) as { items: { name: string }[]; nextCursor: string | null };
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((i) => i.name));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      assert.equal(pages, 3);
      assert.deepEqual(seen, ['a1', 'a2', 'a3', 'a4', 'a5']);
      assert.equal((await client.listArtifacts('paging')).length, 5);
      await client.close();
    });

    test('onDidChange fires when another client commits', async () => {
      const watcher = new HttpRegistry({ url: server.url, pollMs: 100 });
      const writer = new HttpRegistry({ url: server.url });
      let fired = 0;
      const dispose = watcher.onDidChange(() => fired++);
      await new Promise((r) => setTimeout(r, 300)); // the first poll records the current token
      await logArtifact(writer, { project: 'watch', name: 'ds', type: 'dataset', content: content(folder({ 'x.txt': randomBytes(10) })), cacheDir: tempDir() });
      const deadline = Date.now() + 5000;
      while (!fired && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(fired > 0, 'the listener was called');
      dispose();
      await Promise.all([watcher.close(), writer.close()]);
    });

    test('retries after 503 answers, then succeeds', async () => {
      const proxy = await flakyProxy(server.url, { fail503: 2 });
      const client = new HttpRegistry({ url: proxy.url, retries: 3 });
      const projects = await client.listProjects();
      assert.ok(Array.isArray(projects));
      assert.equal(proxy.hits(), 3, 'two 503s, then the real answer');
      await client.close();
      await proxy.close();
    });

    test('gives up after its retries with an error naming the server and the step', async () => {
      const proxy = await flakyProxy(server.url, { fail503: 100 });
      const client = new HttpRegistry({ url: proxy.url, retries: 2 });
      await assert.rejects(client.listProjects(), (e: unknown) => {
        assert.ok(e instanceof TroveError);
        assert.match(e.message, new RegExp(`Server ${proxy.url} failed while listing projects: HTTP 503, warming up`));
        return true;
      });
      assert.equal(proxy.hits(), 3);
      await client.close();
      await proxy.close();
    });

    test('a stalled answer times out, and an idempotent call is retried', async () => {
      const once = await flakyProxy(server.url, { stallMs: 1500, stallFirst: 1 });
      const always = await flakyProxy(server.url, { stallMs: 1500 });
      const client = new HttpRegistry({ url: once.url, timeoutMs: 400, retries: 2 });
      const slow = new HttpRegistry({ url: always.url, timeoutMs: 300, retries: 0 });
      try {
        assert.ok(Array.isArray(await client.listProjects()), 'the retry after the timeout succeeded');
        assert.equal(once.hits(), 2);
        await assert.rejects(slow.listProjects(), (e: unknown) => {
          assert.ok(e instanceof TroveError);
          assert.match(e.message, new RegExp(`^Server ${always.url} did not answer within 0.3 s while listing projects`));
          return true;
        });
      } finally {
        await Promise.all([client.close(), slow.close(), once.close(), always.close()]);
      }
    });
  });
}

describe('HttpRegistry without a server', () => {
  test('an unreachable server gives one clear error naming it', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const client = new HttpRegistry({ url: `http://127.0.0.1:${port}`, retries: 1 });
    await assert.rejects(client.listProjects(), (e: unknown) => {
      assert.ok(e instanceof TroveError);
      assert.equal(e.code, 'unavailable');
      assert.match(e.message, new RegExp(`Cannot reach server http://127.0.0.1:${port} while listing projects \\(ECONNREFUSED\\)`));
      return true;
    });
    await client.close();
  });

  test('a bad server URL is refused up front', () => {
    assert.throws(() => new HttpRegistry({ url: 'ftp://example.com' }), /must start with http/);
    assert.throws(() => new HttpRegistry({ url: 'not a url' }), /not a server URL/);
  });
});

describe('s3:// references', () => {
  let server: ServeProcess;
  before(async () => {
    process.env.AWS_ENDPOINT_URL_S3 = services().s3Endpoint;
    server = await startServe(['--store', tempDir('trove-ref-store-')]);
  });
  after(async () => {
    await server?.stop();
  });

  for (const versioned of [false, true]) {
    test(`recorded by ETag${versioned ? ' and version id' : ''}, not copied; download fails clearly once the object changed`, async () => {
      const s3 = makeS3Client(s3SettingsFromEnv());
      const Bucket = uniqueName(versioned ? 'refs-v' : 'refs').toLowerCase();
      await s3.send(new CreateBucketCommand({ Bucket }));
      if (versioned) await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
      const original = randomBytes(5000);
      await s3.send(new PutObjectCommand({ Bucket, Key: 'data/train.csv', Body: original }));
      const client = new HttpRegistry({ url: server.url });
      const local = folder({ 'readme.txt': `with a reference to ${Bucket}` });
      const r = await logArtifact(client, {
        project: 'refs', name: versioned ? 'ext-v' : 'ext', type: 'dataset', cacheDir: tempDir(),
        content: { dirs: [{ absPath: local }], files: [], references: [{ uri: `s3://${Bucket}/data/train.csv`, path: 'train.csv' }] },
      });
      assert.equal(r.storedFiles, 1, 'only the local file was uploaded');
      const v = await client.getVersion({ project: 'refs', name: versioned ? 'ext-v' : 'ext', alias: 'latest' });
      const entry = v.manifest['train.csv'];
      assert.equal(entry.ref, `s3://${Bucket}/data/train.csv`);
      assert.equal(entry.size, 5000);
      assert.match(entry.etag ?? '', /^[0-9a-f]{32}$/);
      assert.equal(entry.digest, `etag:${entry.etag}`);
      assert.equal(!!entry.versionId, versioned, 'version id recorded when the bucket is versioned');
      const root1 = join(tempDir(), 'one');
      await downloadVersion(client, v, { root: root1 });
      assert.deepEqual(readFileSync(join(root1, 'train.csv')), original);

      await s3.send(new PutObjectCommand({ Bucket, Key: 'data/train.csv', Body: randomBytes(5000) }));
      if (versioned) {
        // The recorded version is still there: download gets exactly what was logged.
        const root2 = join(tempDir(), 'two');
        await downloadVersion(client, v, { root: root2 });
        assert.deepEqual(readFileSync(join(root2, 'train.csv')), original);
        await s3.send(new DeleteObjectCommand({ Bucket, Key: 'data/train.csv', VersionId: entry.versionId }));
      }
      const root3 = join(tempDir(), 'three');
      await assert.rejects(downloadVersion(client, v, { root: root3 }), (e: unknown) => {
        assert.ok(e instanceof TroveError);
        assert.equal(e.code, 'integrity');
        assert.match(e.message, new RegExp(`^The referenced object s3://${Bucket}/data/train.csv changed since it was logged \\((its ETag is different|the recorded version \\S+ is gone)\\)`));
        return true;
      });
      assert.throws(() => readFileSync(join(root3, 'readme.txt')), /ENOENT/, 'nothing half-written');
      await client.close();
      s3.destroy();
    });
  }

  test('a reference to a missing object is refused at log time', async () => {
    const client = new HttpRegistry({ url: server.url });
    await assert.rejects(logArtifact(client, {
      project: 'refs', name: 'missing', type: 'dataset', cacheDir: tempDir(),
      content: { dirs: [], files: [], references: [{ uri: `s3://${uniqueName('nobucket')}/x.csv`, path: 'x.csv' }] },
    }), /does not exist|Cannot read referenced object/);
    await client.close();
  });
});

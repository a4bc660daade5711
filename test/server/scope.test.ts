/**
 * The token x route matrix, on both backends (embedded `--store`, and PostgreSQL + S3): every
 * kind of token (none, unknown, read and write for project a, for project b, and for every
 * project) against every route, with blobs and runs of another project (issue 11, items 9 and
 * 21). A token reads only its project's blobs and runs; another project's answer is exactly the
 * answer for something that does not exist.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HttpRegistry } from '../../src/client/httpRegistry';
import { TroveError } from '../../src/core/errors';
import { downloadVersion, logArtifact } from '../../src/core/operations';
import { runCli, scaleOutArgs, startServe, tempDir, type ServeProcess } from './harness';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
type Who = 'none' | 'bogus' | 'aR' | 'aW' | 'bR' | 'bW' | 'allR' | 'allW';
const WHO: Who[] = ['none', 'bogus', 'aR', 'aW', 'bR', 'bW', 'allR', 'allW'];

function folder(files: Record<string, Buffer | string>): string {
  const dir = tempDir('trove-scope-data-');
  for (const [p, data] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), data);
  }
  return dir;
}

for (const backend of ['embedded', 'postgres+s3'] as const) {
  describe(`token x route matrix (${backend})`, () => {
    let server: ServeProcess;
    const tokens = {} as Record<Who, string | undefined>;
    const small = Buffer.from(`a's small file ${randomBytes(8).toString('hex')}`);
    const large = randomBytes((2 << 20) + 17);
    /** A third file of a's, named by the rows in which b tries to take a's blobs. */
    const third = Buffer.from(`a's third file ${randomBytes(8).toString('hex')}`);
    let runA: string;
    let runB: string;

    const call = async (who: Who, method: string, path: string, body?: unknown, type = 'application/json') => {
      const headers: Record<string, string> = {};
      if (tokens[who]) headers.authorization = `Bearer ${tokens[who]}`;
      if (body !== undefined) headers['content-type'] = type;
      const res = await fetch(server.url + path, {
        method, headers, redirect: 'manual',
        body: body === undefined ? undefined : Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json: json as Record<string, unknown> & { error?: { code: string; message: string } }, text };
    };
    const client = (who: Who) => new HttpRegistry({ url: server.url, token: tokens[who] });

    before(async () => {
      const s = backend === 'embedded' ? { args: ['--store', tempDir('trove-scope-store-')], tokenArgs: [] as string[] } : await scaleOutArgs('scope').then((x) => ({ args: x.args, tokenArgs: ['--database', x.database] }));
      const tokenArgs = backend === 'embedded' ? ['--store', s.args[1]] : s.tokenArgs;
      const make = async (project: string, scope: string) => {
        const r = await runCli(['token', 'create', ...tokenArgs, '--project', project, '--scope', scope]);
        assert.equal(r.code, 0, r.stderr);
        return r.stdout.trim();
      };
      tokens.none = undefined;
      tokens.bogus = 'trove_bogusbogusbogusbogusbogusbogusbogusbogus0';
      [tokens.aR, tokens.aW, tokens.bR, tokens.bW, tokens.allR, tokens.allW] = await Promise.all([
        make('a', 'read'), make('a', 'write'), make('b', 'read'), make('b', 'write'), make('*', 'read'), make('*', 'write')]);
      server = await startServe([...s.args, '--require-auth']);

      // Project a: a version with a small (packed) and a large (own object) file, made by run A.
      const a = client('aW');
      runA = (await a.createRun({ project: 'a', jobType: 'prepare' })).id;
      const logged = await logArtifact(a, { project: 'a', name: 'data', type: 'dataset', runId: runA, content: { dirs: [{ absPath: folder({ 'small.txt': small, 'large.bin': large, 'third.txt': third, 'fourth.txt': `a's alone ${randomBytes(8).toString('hex')}` }) }], files: [], references: [] }, cacheDir: tempDir() });
      assert.equal(logged.version, 0);
      // Project b: a run that used a's version (recorded by a token for every project).
      const all = client('allW');
      runB = (await all.createRun({ project: 'b', jobType: 'train' })).id;
      await all.recordUse(runB, { project: 'a', name: 'data', version: 0 });
      await Promise.all([a.close(), all.close()]);
    });
    after(async () => {
      await server?.stop();
    });

    test('every token against every route', async () => {
      const S = sha(small);
      const L = sha(large);
      const T = sha(third);
      const nowhere = sha(randomBytes(32));
      const readA = { aR: 200, aW: 200, bR: 403, bW: 403, allR: 200, allW: 200 };
      const blobA = { aR: 200, aW: 200, bR: 404, bW: 404, allR: 200, allW: 200 };
      const writeA = { aR: 403, aW: 200, bR: 403, bW: 403, allR: 403, allW: 200 };
      const writer = { aR: 403, aW: 200, bR: 403, bW: 200, allR: 403, allW: 200 };
      const large200 = backend === 'embedded' ? 200 : 302; // a presigned GET in scale-out mode
      const rows: [string, string, unknown, Partial<Record<Who, number>>][] = [
        ['GET', '/healthz', undefined, { none: 200, bogus: 200, aR: 200, aW: 200, bR: 200, bW: 200, allR: 200, allW: 200 }],
        ['GET', '/api/v1/projects', undefined, { aR: 200, aW: 200, bR: 200, bW: 200, allR: 200, allW: 200 }],
        ['GET', '/api/v1/changes', undefined, { aR: 200, aW: 200, bR: 200, bW: 200, allR: 200, allW: 200 }],
        ['GET', '/api/v1/projects/a/artifacts', undefined, readA],
        ['GET', '/api/v1/projects/a/artifacts/data/versions', undefined, readA],
        ['GET', '/api/v1/projects/a/artifacts/data/versions/latest', undefined, readA],
        ['GET', '/api/v1/projects/a/artifacts/data/versions/v0/lineage', undefined, readA],
        ['GET', `/api/v1/blobs/${S}`, undefined, blobA],
        ['GET', `/api/v1/blobs/${L}`, undefined, { ...blobA, aR: large200, aW: large200, allR: large200, allW: large200 }],
        ['GET', `/api/v1/blobs/${nowhere}`, undefined, { aR: 404, aW: 404, bR: 404, bW: 404, allR: 404, allW: 404 }],
        ['GET', `/api/v1/blobs/${S}/verify`, undefined, { aR: 200, aW: 200, bR: 200, bW: 200, allR: 200, allW: 200 }],
        ['GET', `/api/v1/runs/${runA}`, undefined, blobA],
        ['GET', `/api/v1/runs/${runB}`, undefined, { aR: 404, aW: 404, bR: 200, bW: 200, allR: 200, allW: 200 }],
        ['POST', `/api/v1/runs/${runA}/inputs`, { project: 'a', name: 'data', version: 0 }, { ...writeA, bW: 404 }],
        ['POST', '/api/v1/runs', { project: 'a', jobType: 'eval' }, { ...writeA, allW: 201, aW: 201 }],
        ['POST', '/api/v1/blobs/missing', { blobs: [{ digest: S, size: small.length }] }, writer],
        ['POST', '/api/v1/blobs/confirm', { blobs: [{ digest: L, size: large.length }] }, writer],
        ['PUT', '/api/v1/projects/a/artifacts/data/aliases/best', { version: 0 }, writeA],
        ['POST', '/api/v1/projects/a/artifacts/data/versions', { type: 'dataset', manifest: { 'x.txt': { digest: S, size: small.length } } }, { ...writeA, aW: 201, allW: 200 }],
        // b names a's blob, or a's run, in its own version: refused as if neither existed.
        ['POST', '/api/v1/projects/b/artifacts/stolen/versions', { type: 'dataset', manifest: { 'x.txt': { digest: T, size: third.length } } }, { aR: 403, aW: 403, bR: 403, bW: 422, allR: 403, allW: 201 }],
        ['POST', '/api/v1/projects/b/artifacts/stolen2/versions', { type: 'dataset', runId: runA, manifest: { 'x.txt': { digest: T, size: third.length } } }, { aR: 403, aW: 403, bR: 403, bW: 404, allR: 403, allW: 404 }],
        ['POST', '/api/v1/gc', { dryRun: true }, { aR: 403, aW: 403, bR: 403, bW: 403, allR: 403, allW: 200 }],
        ['POST', `/api/v1/runs/${runA}/finish`, { status: 'finished' }, { ...writeA, bW: 404 }],
      ];
      const wrong: string[] = [];
      let cells = 0;
      for (const [method, path, body, expected] of rows) {
        for (const who of WHO) {
          const want = expected[who] ?? (path === '/healthz' ? 200 : 401);
          const got = await call(who, method, path, body);
          cells++;
          if (got.status !== want) wrong.push(`${who} ${method} ${path}: ${got.status}, expected ${want} (${got.text.slice(0, 160)})`);
        }
      }
      assert.deepEqual(wrong, [], `${wrong.length} of ${cells} cells differ`);
      assert.ok(cells >= 180);
    });

    test('another project\'s blob and run get the answer of ones that do not exist', async () => {
      const S = sha(small);
      const nowhere = sha(randomBytes(32));
      const theirs = await call('bW', 'GET', `/api/v1/blobs/${S}`);
      const none = await call('bW', 'GET', `/api/v1/blobs/${nowhere}`);
      assert.equal(theirs.status, 404);
      assert.equal(theirs.json.error!.message.replace(S.slice(0, 12), 'X'), none.json.error!.message.replace(nowhere.slice(0, 12), 'X'));
      const verify = await call('bW', 'GET', `/api/v1/blobs/${S}/verify`);
      assert.deepEqual(verify.json, { digest: S, ok: false });
      const run = await call('aW', 'GET', `/api/v1/runs/${runB}`);
      const noRun = await call('aW', 'GET', '/api/v1/runs/nosuchrun');
      assert.equal(run.status, 404);
      assert.equal(run.json.error!.message.replace(runB, 'X'), noRun.json.error!.message.replace('nosuchrun', 'X'));
      // blobs/missing tells b nothing about a's blobs: both are "missing", to be sent through the server.
      const missing = await call('bW', 'POST', '/api/v1/blobs/missing', { blobs: [{ digest: S, size: small.length }, { digest: sha(large), size: large.length }] });
      const targets = missing.json.missing as { digest: string; via: string; url: string; auth: boolean }[];
      assert.deepEqual(targets.map((t) => [t.digest, t.via, t.url.startsWith('/api/v1/'), t.auth]), [[S, 'pack', true, true], [sha(large), 'put', true, true]]);
      const mine = await call('aW', 'POST', '/api/v1/blobs/missing', { blobs: [{ digest: S, size: small.length }, { digest: sha(large), size: large.length }] });
      assert.deepEqual(mine.json.missing, [], 'a stores both');
    });

    test('whole packs go only to tokens that may read every blob in them', { skip: backend === 'embedded' && 'the embedded store hands out no packs' }, async () => {
      const S = sha(small);
      const mine = await fetch(`${server.url}/api/v1/blobs/${S}`, { headers: { authorization: `Bearer ${tokens.aR}` } });
      const pack = mine.headers.get('x-trove-pack');
      assert.match(pack ?? '', /^[0-9a-f]{64}$/, 'a\'s small files sit in a pack a may fetch whole');
      await mine.arrayBuffer();
      assert.equal((await call('aR', 'GET', `/api/v1/packs/${pack}/index`)).status, 200);
      assert.equal((await call('aR', 'GET', `/api/v1/packs/${pack}`)).status, 302);
      for (const who of ['bR', 'bW'] as const) {
        const index = await call(who, 'GET', `/api/v1/packs/${pack}/index`);
        assert.equal(index.status, 404, `${who}: the pack's index names a's blobs`);
        assert.equal((await call(who, 'GET', `/api/v1/packs/${pack}`)).status, 404, `${who}: the pack holds a's bytes`);
        assert.equal(index.json.error!.message.replace(pack!.slice(0, 12), 'X'), (await call(who, 'GET', `/api/v1/packs/${'0'.repeat(64)}/index`)).json.error!.message.replace('0'.repeat(12), 'X'));
      }
    });

    test('usedBy, createdBy and lineage name only runs the token may read', async () => {
      const a = client('aR');
      const all = client('allR');
      const seenByA = await a.getVersion({ project: 'a', name: 'data', alias: 'v0' });
      const seenByAll = await all.getVersion({ project: 'a', name: 'data', alias: 'v0' });
      assert.ok(seenByAll.usedBy.some((u) => u.runId === runB), 'a token for every project sees b\'s run');
      assert.deepEqual(seenByA.usedBy.map((u) => u.runId), seenByAll.usedBy.map((u) => u.runId).filter((id) => id !== runB), 'b\'s run is not named to a; a\'s own runs are');
      assert.equal(seenByA.createdBy?.runId, runA);
      const graphA = await a.lineage({ project: 'a', name: 'data', alias: 'v0' }, 3);
      const graphAll = await all.lineage({ project: 'a', name: 'data', alias: 'v0' }, 3);
      assert.ok(graphAll.nodes.some((n) => n.runId === runB));
      assert.ok(!graphA.nodes.some((n) => n.runId === runB), 'b\'s run is not in a\'s lineage');
      assert.ok(!graphA.edges.some((e) => !graphA.nodes.some((n) => n.id === e.from) || !graphA.nodes.some((n) => n.id === e.to)), 'no edge to a hidden node');
      await Promise.all([a.close(), all.close()]);
    });

    test('a project that holds the bytes may log them (deduplicated after proof), and then read them', async () => {
      const b = client('bW');
      const logged = await logArtifact(b, { project: 'b', name: 'copy', type: 'dataset', content: { dirs: [{ absPath: folder({ 'same-small.txt': small, 'same-large.bin': large }) }], files: [], references: [] }, cacheDir: tempDir() });
      assert.equal(logged.storedFiles, 2, 'b had to send both files, since it could not show it held them otherwise');
      const v = await b.getVersion({ project: 'b', name: 'copy', alias: 'latest' });
      const root = join(tempDir(), 'out');
      await downloadVersion(b, v, { root });
      assert.ok(readFileSync(join(root, 'same-large.bin')).equals(large));
      assert.equal((await call('bR', 'GET', `/api/v1/blobs/${sha(small)}`)).status, 200, 'now b\'s too');
      if (backend !== 'embedded') {
        // ... but a's pack, which also holds a file only a has, is still not b's to fetch whole.
        const res = await fetch(`${server.url}/api/v1/blobs/${sha(small)}`, { headers: { authorization: `Bearer ${tokens.bR}` } });
        await res.arrayBuffer();
        assert.equal(res.headers.get('x-trove-pack'), null);
      }
      await b.close();
    });

    test('a read token of b cannot download a\'s version even when it knows every digest', async () => {
      const all = client('allR');
      const v = await all.getVersion({ project: 'a', name: 'data', alias: 'v0' });
      const intruder = client('bR');
      const root = join(tempDir(), 'stolen');
      const fresh = randomBytes(12).toString('hex');
      // Digests b never uploaded: a file only a holds.
      const aOnly = Buffer.from(`only in a ${fresh}`);
      const aw = client('aW');
      await logArtifact(aw, { project: 'a', name: 'secret', type: 'dataset', content: { dirs: [{ absPath: folder({ 's.txt': aOnly }) }], files: [], references: [] }, cacheDir: tempDir() });
      await assert.rejects(downloadVersion(intruder, { ...v, manifest: { 's.txt': { digest: sha(aOnly), size: aOnly.length } } }, { root }), (e: unknown) => e instanceof TroveError && e.code === 'not_found');
      await Promise.all([all.close(), intruder.close(), aw.close()]);
    });
  });
}

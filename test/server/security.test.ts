import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { HttpRegistry } from '../../src/client/httpRegistry';
import { TroveError } from '../../src/core/errors';
import { downloadVersion, logArtifact } from '../../src/core/operations';
import { makeS3Client, s3SettingsFromEnv } from '../../src/core/s3';
import { runCli, scaleOutArgs, services, startServe, tempDir, type ServeProcess } from './harness';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function rejects(p: Promise<unknown>, code: string, pattern: RegExp): Promise<TroveError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TroveError, `expected a TroveError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail(`expected a ${code} error`);
}

function folder(files: Record<string, Buffer | string>): string {
  const dir = tempDir('trove-sec-data-');
  for (const [p, data] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), data);
  }
  return dir;
}

async function token(storeArgs: string[], project: string, scope: string): Promise<string> {
  const r = await runCli(['token', 'create', ...storeArgs, '--project', project, '--scope', scope, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const body = JSON.parse(r.stdout) as { token: string; scope: string };
  assert.equal(body.scope, scope);
  assert.match(body.token, /^trove_[A-Za-z0-9_-]{43}$/);
  return body.token;
}

describe('server security (embedded store, --require-auth)', () => {
  let server: ServeProcess;
  let store: string;
  let writeToken: string;
  let readToken: string;
  let otherProjectToken: string;

  before(async () => {
    store = tempDir('trove-sec-store-');
    writeToken = await token(['--store', store], 'secure', 'write');
    readToken = await token(['--store', store], 'secure', 'read');
    otherProjectToken = await token(['--store', store], 'elsewhere', 'write');
    server = await startServe(['--store', store, '--require-auth']);
  });
  after(async () => {
    await server?.stop();
  });

  test('a request without a token gets 401 with a clear message', async () => {
    const res = await fetch(`${server.url}/api/v1/projects`);
    assert.equal(res.status, 401);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'unauthorized');
    assert.match(body.error.message, /requires a token.*TROVE_TOKEN/);
    const client = new HttpRegistry({ url: server.url });
    const e = await rejects(client.listProjects(), 'unauthorized', /401/);
    assert.ok(e.message.includes(server.url), 'the error names the server');
    await client.close();
  });

  test('an unknown token and a malformed header get 401', async () => {
    for (const authorization of ['Bearer trove_not-a-real-token', 'Basic dXNlcjpwYXNz']) {
      const res = await fetch(`${server.url}/api/v1/projects`, { headers: { authorization } });
      assert.equal(res.status, 401, authorization);
    }
  });

  test('a read token can read but cannot log (403), and nothing is created', async () => {
    const writer = new HttpRegistry({ url: server.url, token: writeToken });
    const data = folder({ 'a.txt': 'alpha', 'b/c.txt': 'gamma' });
    const logged = await logArtifact(writer, { project: 'secure', name: 'ds', type: 'dataset', content: { dirs: [{ absPath: data }], files: [], references: [] }, cacheDir: tempDir() });
    assert.equal(logged.version, 0);

    const reader = new HttpRegistry({ url: server.url, token: readToken });
    const v = await reader.getVersion({ project: 'secure', name: 'ds', alias: 'latest' });
    assert.equal(v.files, 2);
    const more = folder({ 'x.txt': randomBytes(100) });
    await rejects(logArtifact(reader, { project: 'secure', name: 'ds', type: 'dataset', content: { dirs: [{ absPath: more }], files: [], references: [] }, cacheDir: tempDir() }), 'forbidden', /read-only/);
    await rejects(reader.addAlias({ project: 'secure', name: 'ds', alias: 'v0' }, 'prod'), 'forbidden', /read-only/);
    await rejects(reader.createRun({ project: 'secure', jobType: 'train' }), 'forbidden', /read-only/);
    const versions = await writer.listVersions('secure', 'ds');
    assert.deepEqual(versions.map((x) => x.version), [0], 'no version was added by the read token');
    await Promise.all([writer.close(), reader.close()]);
  });

  test('a token for another project gets 403 and sees none of this project', async () => {
    const other = new HttpRegistry({ url: server.url, token: otherProjectToken });
    await rejects(other.listVersions('secure', 'ds'), 'forbidden', /project "elsewhere"/);
    assert.deepEqual(await other.listProjects(), [], 'project list is filtered to the token\'s project');
    await other.close();
  });

  test('token ls shows ids without secrets; a revoked token is refused within a second or so', async () => {
    const fresh = await token(['--store', store], 'secure', 'read');
    const client = new HttpRegistry({ url: server.url, token: fresh });
    assert.ok(Array.isArray(await client.listProjects()));
    const ls = await runCli(['token', 'ls', '--store', store, '--json']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.ok(!ls.stdout.includes(fresh), 'no secret in the listing');
    const listed = JSON.parse(ls.stdout) as { id: string; project: string; scope: string }[];
    const id = sha(Buffer.from(fresh)).slice(0, 12);
    assert.ok(listed.some((t) => t.id === id && t.scope === 'read' && t.project === 'secure'));
    const revoke = await runCli(['token', 'revoke', id, '--store', store]);
    assert.equal(revoke.code, 0, revoke.stderr);
    const deadline = Date.now() + 5000;
    let refused = false;
    while (!refused && Date.now() < deadline) {
      refused = await client.listProjects().then(() => false, (e: unknown) => e instanceof TroveError && e.code === 'unauthorized');
      if (!refused) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(refused, 'the revoked token is refused');
    const again = await runCli(['token', 'revoke', id, '--store', store]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /No token with id/);
    await client.close();
  });

  test('tokens are stored hashed and never appear in access logs', async () => {
    const stored = readFileSync(join(store, 'server', 'tokens.json'), 'utf8');
    for (const t of [writeToken, readToken]) {
      assert.ok(!stored.includes(t), 'the secret is not in tokens.json');
      assert.ok(stored.includes(sha(Buffer.from(t))), 'its SHA-256 is');
    }
    const logs = server.stdout.join('\n');
    assert.ok(logs.includes('"token":"'), 'access logs name the token id');
    for (const t of [writeToken, readToken, otherProjectToken]) assert.ok(!logs.includes(t), 'no token secret in the logs');
    const entry = JSON.parse(server.stdout.find((l) => l.includes('"status":403'))!) as Record<string, unknown>;
    for (const k of ['time', 'method', 'path', 'status', 'ms']) assert.ok(k in entry, `access log has ${k}`);
  });
});

describe('server integrity checks (embedded store)', () => {
  let server: ServeProcess;
  before(async () => {
    server = await startServe(['--store', tempDir('trove-int-store-')]);
  });
  after(async () => {
    await server?.stop();
  });

  test('a blob whose bytes do not match its digest is rejected (422) and never visible', async () => {
    const good = randomBytes(2 << 20);
    const digest = sha(good);
    const evil = Buffer.from(good);
    evil[12345] ^= 0xff;
    const put = await fetch(`${server.url}/api/v1/blobs/${digest}`, { method: 'PUT', body: evil, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(put.status, 422);
    assert.match(((await put.json()) as { error: { message: string } }).error.message, /not the digest/);
    assert.equal((await fetch(`${server.url}/api/v1/blobs/${digest}`)).status, 404, 'the blob is not stored');
    const commit = await fetch(`${server.url}/api/v1/projects/p/artifacts/forged/versions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'dataset', manifest: { 'model.bin': { digest, size: good.length } } }),
    });
    assert.equal(commit.status, 422, 'a commit naming the unstored blob fails');
    assert.equal((await fetch(`${server.url}/api/v1/projects/p/artifacts/forged/versions`)).status, 404, 'no version became visible');
  });

  test('a pack with one lying member stores nothing, not even its honest members', async () => {
    const honest = Buffer.from('honest bytes');
    const claimed = Buffer.from('what the digest says');
    const sent = Buffer.from('something else entirely');
    const index = JSON.stringify({ blobs: [{ digest: sha(honest), size: honest.length }, { digest: sha(claimed), size: sent.length }] });
    const res = await fetch(`${server.url}/api/v1/blobs/pack`, { method: 'POST', headers: { 'content-type': 'application/x-trove-pack' }, body: Buffer.concat([Buffer.from(index + '\n'), honest, sent]) });
    assert.equal(res.status, 422);
    const missing = await fetch(`${server.url}/api/v1/blobs/missing`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ blobs: [{ digest: sha(honest), size: honest.length }] }) });
    assert.equal(((await missing.json()) as { missing: unknown[] }).missing.length, 1, 'the honest member was not stored either');
  });

  test('manifest paths with "..", absolute paths and backslashes are rejected with 400', async () => {
    const data = Buffer.from('payload');
    const digest = sha(data);
    const index = JSON.stringify({ blobs: [{ digest, size: data.length }] });
    assert.equal((await fetch(`${server.url}/api/v1/blobs/pack`, { method: 'POST', headers: { 'content-type': 'application/x-trove-pack' }, body: Buffer.concat([Buffer.from(index + '\n'), data]) })).status, 201);
    for (const path of ['../escape.txt', 'a/../../b.txt', '/etc/passwd', 'C:/windows/x', 'a\\b.txt', 'a//b']) {
      const res = await fetch(`${server.url}/api/v1/projects/p/artifacts/paths/versions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'dataset', manifest: { [path]: { digest, size: data.length } } }),
      });
      assert.equal(res.status, 400, path);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'invalid');
      assert.match(body.error.message, /Invalid file path/);
    }
    assert.equal((await fetch(`${server.url}/api/v1/projects/p/artifacts/paths/versions`)).status, 404, 'nothing was committed');
  });

  test('bad requests get clear 4xx answers', async () => {
    const cases: [string, RequestInit, number, RegExp][] = [
      ['/api/v1/nowhere', {}, 404, /No API route/],
      ['/api/v1/projects', { method: 'DELETE' }, 405, /not allowed/],
      ['/api/v1/projects/bad name!/artifacts', {}, 400, /Invalid project name/],
      ['/api/v1/projects?limit=0', {}, 400, /limit/],
      ['/api/v1/blobs/xyz', {}, 400, /not a blob digest/],
      ['/api/v1/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' }, 400, /not valid JSON/],
      ['/api/v1/runs', { method: 'POST', body: '{}' }, 415, /Content-Type/],
      ['/api/v1/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"project":"p"}' }, 400, /jobType/],
      ['/api/v1/projects/p/artifacts/a/versions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"dataset","manifest":[]}' }, 400, /manifest/],
      ['/api/v1/projects/p/artifacts/a/versions/notanalias!', {}, 400, /Invalid alias/],
    ];
    for (const [path, init, status, message] of cases) {
      const res = await fetch(server.url + path, init);
      assert.equal(res.status, status, path);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, message, path);
    }
  });
});

describe('server integrity checks (PostgreSQL + S3)', () => {
  let server: ServeProcess;
  before(async () => {
    server = await startServe((await scaleOutArgs('sec')).args);
  });
  after(async () => {
    await server?.stop();
  });

  test('a presigned upload with bytes that do not match the digest is refused by the object store and never committed', async () => {
    const good = randomBytes(3 << 20);
    const digest = sha(good);
    const r = await fetch(`${server.url}/api/v1/blobs/missing`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ blobs: [{ digest, size: good.length }] }) });
    const [target] = ((await r.json()) as { missing: { url: string; headers: Record<string, string>; via: string; auth: boolean }[] }).missing;
    assert.equal(target.via, 'put');
    assert.equal(target.auth, false, 'a presigned object-store URL');
    assert.ok(!target.url.startsWith(server.url), 'bytes go straight to S3');
    const evil = Buffer.from(good);
    evil[0] ^= 1;
    const put = await fetch(target.url, { method: 'PUT', body: evil, headers: target.headers });
    assert.equal(put.status, 400, 'RGW checks the signed SHA-256');
    assert.match(await put.text(), /XAmzContentSHA256Mismatch/);
    const unsigned = await fetch(target.url, { method: 'PUT', body: evil });
    assert.equal(unsigned.status, 403, 'dropping the signed checksum header breaks the signature');
    const confirm = await fetch(`${server.url}/api/v1/blobs/confirm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ blobs: [{ digest, size: good.length }] }) });
    assert.deepEqual(((await confirm.json()) as { missing: string[] }).missing, [digest]);
    const commit = await fetch(`${server.url}/api/v1/projects/p/artifacts/forged/versions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'model', manifest: { 'w.bin': { digest, size: good.length } } }),
    });
    assert.equal(commit.status, 422);
    assert.equal((await fetch(`${server.url}/api/v1/projects/p/artifacts/forged/versions`)).status, 404, 'no version became visible');
    // The honest upload then works through the same URL.
    assert.equal((await fetch(target.url, { method: 'PUT', body: good, headers: target.headers })).status, 200);
    const ok = await fetch(`${server.url}/api/v1/projects/p/artifacts/forged/versions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'model', manifest: { 'w.bin': { digest, size: good.length } } }),
    });
    assert.equal(ok.status, 201);
  });

  test('a lying pack is rejected in S3 mode too', async () => {
    const claimed = Buffer.from('claimed content');
    const sent = Buffer.from('different bytes');
    const index = JSON.stringify({ blobs: [{ digest: sha(claimed), size: sent.length }] });
    const res = await fetch(`${server.url}/api/v1/blobs/pack`, { method: 'POST', headers: { 'content-type': 'application/x-trove-pack' }, body: Buffer.concat([Buffer.from(index + '\n'), sent]) });
    assert.equal(res.status, 422);
    assert.equal((await fetch(`${server.url}/api/v1/blobs/${sha(claimed)}`)).status, 404);
  });
});

describe('trove serve start-up rules', () => {
  test('binding beyond loopback without --require-auth refuses to start', async () => {
    const store = tempDir('trove-bind-');
    for (const listen of ['0.0.0.0:0', '[::]:0']) {
      const r = await runCli(['serve', '--store', store, '--listen', listen]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^trove: Refusing to listen on .* without authentication: add --require-auth/);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one clear line');
    }
  });

  test('a bad --listen value and mixed backends are usage errors', async () => {
    const bad = await runCli(['serve', '--listen', 'nonsense']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--listen must be HOST:PORT/);
    const mixed = await runCli(['serve', '--database', 'postgres://x@127.0.0.1:1/db']);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /needs both --database/);
  });

  test('token create validates its input', async () => {
    const store = tempDir('trove-tok-');
    const r = await runCli(['token', 'create', '--store', store, '--project', 'p', '--scope', 'admin']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /scope must be read or write/);
    const plain = await runCli(['token', 'create', '--store', store, '--project', 'p', '--scope', 'read']);
    assert.equal(plain.code, 0);
    assert.match(plain.stdout.trim(), /^trove_\S+$/, 'printed once, alone on stdout');
  });
});

describe('S3 mode with every transfer through the server (--s3-presign-max-bytes 0)', () => {
  let server: ServeProcess;
  let bucket: string;
  before(async () => {
    const s = await scaleOutArgs('proxy');
    bucket = s.bucket;
    server = await startServe([...s.args, '--s3-presign-max-bytes', '0']);
  });
  after(async () => {
    await server?.stop();
  });

  test('large blobs stream through the server into a multipart upload that completes only when the SHA-256 matches', async () => {
    const big = randomBytes(70 << 20); // two 64 MiB parts
    const medium = randomBytes(3 << 20); // one buffered PUT
    const digest = sha(big);
    const ask = await fetch(`${server.url}/api/v1/blobs/missing`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ blobs: [{ digest, size: big.length }, { digest: sha(medium), size: medium.length }] }),
    });
    const targets = ((await ask.json()) as { missing: { url: string; auth: boolean }[] }).missing;
    assert.deepEqual(targets.map((t) => [t.url.startsWith('/api/v1/blobs/'), t.auth]), [[true, true], [true, true]], 'no presigned URL');

    const evil = Buffer.from(big);
    evil[big.length - 1] ^= 1;
    const bad = await fetch(`${server.url}/api/v1/blobs/${digest}`, { method: 'PUT', body: evil, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(bad.status, 422);
    assert.equal((await fetch(`${server.url}/api/v1/blobs/${digest}`)).status, 404);
    const s3 = makeS3Client(s3SettingsFromEnv(services().s3Endpoint));
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.equal((uploads.Uploads ?? []).length, 0, 'the multipart upload was aborted');
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `blobs/${digest}` })), (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 404);
    s3.destroy();

    const data = folder({ 'big.bin': big, 'medium.bin': medium, 'small.txt': 'small' });
    const client = new HttpRegistry({ url: server.url });
    const r = await logArtifact(client, { project: 'proxy', name: 'm', type: 'model', content: { dirs: [{ absPath: data }], files: [], references: [] }, cacheDir: tempDir() });
    assert.equal(r.storedFiles, 3);
    const v = await client.getVersion({ project: 'proxy', name: 'm', alias: 'latest' });
    const root = join(tempDir(), 'out');
    await downloadVersion(client, v, { root });
    assert.ok(readFileSync(join(root, 'big.bin')).equals(big));
    assert.ok(readFileSync(join(root, 'medium.bin')).equals(medium));
    const res = await fetch(`${server.url}/api/v1/blobs/${sha(medium)}`, { redirect: 'manual' });
    assert.equal(res.status, 200, 'downloads are served by the server, not redirected');
    await client.close();
  });
});

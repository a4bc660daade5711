/**
 * What a hostile or careless HTTP client can do to `trove serve` (issue 11, items 8, 10, 11):
 * DNS rebinding and cross-origin writes against a server without auth, stalled and slow
 * uploads, large bodies from tokens that may not write, and /healthz without a token.
 * Requests are made with raw sockets and node:http, so that headers a browser would send
 * (Host, Origin) can be set, and bodies can stall half-way.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { runCli, startServe, tempDir, type ServeProcess } from './harness';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** One request with exactly these headers (node:http lets a test set Host and Origin). */
function raw(url: string, method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers, setHost: !('host' in headers) }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function token(store: string, project: string, scope: string): Promise<string> {
  const r = await runCli(['token', 'create', '--store', store, '--project', project, '--scope', scope]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** A pack upload whose body stops after its first line: it holds an upload slot until cut off. */
function stalledPack(url: string, auth: string): { socket: Socket; closed: Promise<number> } {
  const u = new URL(url);
  const data = randomBytes(1000);
  const head = JSON.stringify({ blobs: [{ digest: sha(data), size: data.length }] }) + '\n';
  const socket = connect(Number(u.port), u.hostname);
  const started = Date.now();
  socket.write(`POST /api/v1/blobs/pack HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${auth}\r\nContent-Type: application/x-trove-pack\r\n`
    + `Content-Length: ${head.length + data.length}\r\n\r\n${head}`);
  socket.on('error', () => undefined);
  socket.resume();
  return { socket, closed: new Promise((r) => socket.once('close', () => r(Date.now() - started))) };
}

function packBody(): { body: Buffer; digest: string } {
  const data = randomBytes(2000);
  const head = Buffer.from(JSON.stringify({ blobs: [{ digest: sha(data), size: data.length }] }) + '\n');
  return { body: Buffer.concat([head, data]), digest: sha(data) };
}

describe('a server without auth answers only this machine (DNS rebinding, cross-origin writes)', () => {
  let server: ServeProcess;
  before(async () => {
    server = await startServe(['--store', tempDir('trove-host-')]);
  });
  after(async () => {
    await server?.stop();
  });

  test('a Host name that is not loopback is refused, on every route, and writes nothing', async () => {
    const port = new URL(server.url).port;
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.nip.io:${port}`, `localhost.evil.example:${port}`, `10.0.0.1:${port}`, '']) {
      for (const [method, path, body] of [['GET', '/api/v1/projects'], ['GET', '/healthz'], ['POST', '/api/v1/runs', '{"project":"p","jobType":"train"}']] as const) {
        const r = await raw(server.url, method, path, { host, 'content-type': 'application/json' }, body);
        assert.equal(r.status, 403, `${method} ${path} with Host "${host}"`);
        assert.match((JSON.parse(r.body) as { error: { message: string } }).error.message, /answers only requests addressed to this machine/);
      }
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `127.1.2.3:${port}`, `[::1]:${port}`, 'localhost']) {
      assert.equal((await raw(server.url, 'GET', '/api/v1/projects', { host })).status, 200, `Host "${host}" is this machine`);
    }
    const projects = await raw(server.url, 'GET', '/api/v1/projects', {});
    assert.deepEqual((JSON.parse(projects.body) as { items: unknown[] }).items, [], 'no run or project was created by a refused request');
  });

  test('a browser write from another origin is refused; the same origin and programs (no Origin) may write', async () => {
    const own = new URL(server.url).host;
    const run = '{"project":"p","jobType":"train"}';
    for (const origin of ['http://evil.example', 'null', `https://${own}`, `http://localhost:1`, 'not a url']) {
      const r = await raw(server.url, 'POST', '/api/v1/runs', { 'content-type': 'application/json', origin }, run);
      assert.equal(r.status, 403, `Origin ${origin}`);
      assert.match((JSON.parse(r.body) as { error: { message: string } }).error.message, /may not write to this server/);
    }
    const pack = packBody();
    const put = await raw(server.url, 'POST', '/api/v1/blobs/pack', { 'content-type': 'application/x-trove-pack', origin: 'http://evil.example' }, pack.body);
    assert.equal(put.status, 403);
    const missing = await raw(server.url, 'POST', '/api/v1/blobs/missing', { 'content-type': 'application/json' }, JSON.stringify({ blobs: [{ digest: pack.digest, size: 2000 }] }));
    assert.equal((JSON.parse(missing.body) as { missing: unknown[] }).missing.length, 1, 'the refused pack stored nothing');
    assert.equal((await raw(server.url, 'POST', '/api/v1/runs', { 'content-type': 'application/json', origin: `http://${own}` }, run)).status, 201, 'same origin');
    assert.equal((await raw(server.url, 'POST', '/api/v1/runs', { 'content-type': 'application/json' }, run)).status, 201, 'no Origin: a program');
    assert.equal((await raw(server.url, 'GET', '/api/v1/projects', { origin: 'http://evil.example' })).status, 200, 'reads are left to the browser\'s same-origin rule (no CORS headers are sent)');
  });
});

describe('a server with --require-auth', () => {
  let server: ServeProcess;
  let store: string;
  let reader: string;
  before(async () => {
    store = tempDir('trove-auth-hard-');
    reader = await token(store, 'p', 'read');
    server = await startServe(['--store', store, '--require-auth']);
  });
  after(async () => {
    await server?.stop();
  });

  test('/healthz answers without a token, as API.md says, and tells nothing else', async () => {
    const r = await fetch(`${server.url}/healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { status: 'ok', mode: 'embedded', api: 'v1' });
    assert.equal((await fetch(`${server.url}/api/v1/projects`)).status, 401, 'the API still needs a token');
    assert.equal((await fetch(`${server.url}/api/v1/changes`)).status, 401);
  });

  test('any Host name is accepted: tokens, not the address, protect this server', async () => {
    const r = await raw(server.url, 'GET', '/api/v1/projects', { host: 'trove.example.com', authorization: `Bearer ${reader}` });
    assert.equal(r.status, 200);
  });

  test('a read-only token\'s 100 MB body is refused before it is read, on every write route', async () => {
    const u = new URL(server.url);
    for (const [method, path, type] of [['POST', '/api/v1/runs', 'application/json'], ['POST', '/api/v1/projects/p/artifacts/a/versions', 'application/json'],
      ['POST', '/api/v1/blobs/missing', 'application/json'], ['POST', '/api/v1/blobs/pack', 'application/x-trove-pack'], ['PUT', `/api/v1/blobs/${'a'.repeat(64)}`, 'application/octet-stream'],
      ['PUT', '/api/v1/projects/p/artifacts/a/aliases/prod', 'application/json']]) {
      // The client announces 100 MB, sends 64 KiB and waits: the answer must come without the rest.
      const answer = await new Promise<string>((resolve) => {
        const s = connect(Number(u.port), u.hostname);
        let text = '';
        const timer = setTimeout(() => {
          s.destroy();
          resolve('no answer within 3 s: the server waits for the body');
        }, 3000);
        s.on('data', (d) => {
          text += d.toString();
          if (text.includes('\r\n\r\n')) {
            clearTimeout(timer);
            s.destroy();
            resolve(text);
          }
        });
        s.on('error', () => undefined);
        s.write(`${method} ${path} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${reader}\r\nContent-Type: ${type}\r\nContent-Length: 100000000\r\n\r\n`);
        s.write(Buffer.alloc(1 << 16, 0x20));
      });
      assert.match(answer, /^HTTP\/1\.1 403 /, `${method} ${path}`);
      assert.match(answer, /\r\nconnection: close\r\n/i, 'the connection is closed instead of reading the rest');
    }
  });
});

describe('stalled and slow uploads', () => {
  let server: ServeProcess;
  let store: string;
  let hog: string;
  let other: string;
  before(async () => {
    store = tempDir('trove-slow-');
    hog = await token(store, 'p', 'write');
    other = await token(store, 'q', 'write');
    server = await startServe(['--store', store, '--require-auth', '--body-timeout', '3']);
  });
  after(async () => {
    await server?.stop();
  });

  test('eight stalled uploads from one client leave slots for another, and are cut off when idle', async () => {
    const stalled = Array.from({ length: 8 }, () => stalledPack(server.url, hog));
    await new Promise((r) => setTimeout(r, 300));
    // Another client's pack goes through while all eight still stall: one client holds at most half the slots.
    let cutSoFar = 0;
    for (const s of stalled) void s.closed.then(() => cutSoFar++);
    const pack = packBody();
    const r = await fetch(`${server.url}/api/v1/blobs/pack`, { method: 'POST', headers: { authorization: `Bearer ${other}`, 'content-type': 'application/x-trove-pack' }, body: new Uint8Array(pack.body) });
    assert.equal(r.status, 201, await r.text());
    assert.equal(cutSoFar, 0, 'the other client did not wait for a stalled upload to be cut off');
    // The stalled bodies are cut off after 3 s without a byte (the waiting ones 3 s after their turn comes).
    const closedAfter = await Promise.all(stalled.map((s) => s.closed));
    for (const ms of closedAfter) assert.ok(ms < 15_000, `a stalled upload held its connection for ${ms} ms`);
    // ... and the same client may upload again.
    const again = packBody();
    const r2 = await fetch(`${server.url}/api/v1/blobs/pack`, { method: 'POST', headers: { authorization: `Bearer ${hog}`, 'content-type': 'application/x-trove-pack' }, body: new Uint8Array(again.body) });
    assert.equal(r2.status, 201);
    const cut = server.stdout.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.path === '/api/v1/blobs/pack' && e.status === 408);
    assert.ok(cut.length >= 4, `the access log records the cut-off uploads (${cut.length})`);
    assert.ok(cut.every((e) => e.aborted === true && /No byte of the request body arrived for 3 s/.test(String(e.error))));
  });

  test('a blob PUT that stops sending is cut off, stores nothing, and the blob can be uploaded again', async () => {
    const data = randomBytes(3 << 20);
    const u = new URL(server.url);
    const s = connect(Number(u.port), u.hostname);
    s.on('error', () => undefined);
    const started = Date.now();
    s.write(`PUT /api/v1/blobs/${sha(data)} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${hog}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${data.length}\r\n\r\n`);
    s.write(data.subarray(0, 1 << 20));
    s.resume();
    await new Promise((r) => s.once('close', r));
    const held = Date.now() - started;
    assert.ok(held >= 2900 && held < 10_000, `cut off after ${held} ms`);
    const ask = await fetch(`${server.url}/api/v1/blobs/missing`, { method: 'POST', headers: { authorization: `Bearer ${hog}`, 'content-type': 'application/json' }, body: JSON.stringify({ blobs: [{ digest: sha(data), size: data.length }] }) });
    assert.equal(((await ask.json()) as { missing: unknown[] }).missing.length, 1, 'nothing was stored');
    const put = await fetch(`${server.url}/api/v1/blobs/${sha(data)}`, { method: 'PUT', headers: { authorization: `Bearer ${hog}`, 'content-type': 'application/octet-stream' }, body: data });
    assert.equal(put.status, 201);
  });

  test('--body-timeout takes seconds above 0', async () => {
    for (const bad of ['0', 'soon', '1e3']) {
      const r = await runCli(['serve', '--store', store, '--body-timeout', bad, '--listen', '127.0.0.1:0']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--body-timeout must be a number of seconds above 0/);
    }
  });
});

/**
 * Presigned uploads and blob scoping (PostgreSQL + S3, API.md "Blobs and projects"): the object
 * store cannot tell who PUT an object, so only the project that was handed a digest's presigned
 * URL may have that object credited to it, and never one that another project sent through the
 * server. Without this, a token that knows a digest could ask for an upload URL, send nothing,
 * wait for the owner's upload and "confirm" it, then read the owner's bytes.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { runCli, scaleOutArgs, startServe, type ServeProcess } from './harness';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
type Target = { digest: string; via: string; url: string; headers: Record<string, string>; auth: boolean };

describe('presigned upload claims (PostgreSQL + S3)', () => {
  let server: ServeProcess;
  let owner: string;
  let thief: string;
  before(async () => {
    const s = await scaleOutArgs('claims');
    const make = async (project: string) => {
      const r = await runCli(['token', 'create', '--database', s.database, '--project', project, '--scope', 'write']);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    };
    [owner, thief] = await Promise.all([make('owner'), make('thief')]);
    server = await startServe([...s.args, '--require-auth']);
  });
  after(async () => {
    await server?.stop();
  });

  const api = async (token: string, method: string, path: string, body?: unknown, raw?: Buffer) => {
    const res = await fetch(server.url + path, {
      method, headers: { authorization: `Bearer ${token}`, 'content-type': raw ? 'application/octet-stream' : 'application/json' },
      body: raw ? new Uint8Array(raw) : body === undefined ? undefined : JSON.stringify(body), redirect: 'manual',
    });
    const text = await res.text();
    const isJson = /json/.test(res.headers.get('content-type') ?? '');
    return { status: res.status, json: (isJson ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  const missing = async (token: string, blob: Buffer) => ((await api(token, 'POST', '/api/v1/blobs/missing', { blobs: [{ digest: sha(blob), size: blob.length }] })).json.missing as Target[]);
  const confirm = async (token: string, blob: Buffer) => ((await api(token, 'POST', '/api/v1/blobs/confirm', { blobs: [{ digest: sha(blob), size: blob.length }] })).json.missing as string[]);

  test('a claim taken first and never used cannot collect the owner\'s upload', async () => {
    const secret = randomBytes((2 << 20) + 3);
    // The thief knows the digest and asks first: it holds the claim and gets a presigned URL.
    const [thiefTarget] = await missing(thief, secret);
    assert.equal(thiefTarget.auth, false, 'a presigned object-store URL');
    // The owner asks next: its upload goes through the server, which checks the bytes.
    const [ownerTarget] = await missing(owner, secret);
    assert.deepEqual([ownerTarget.via, ownerTarget.url.startsWith('/api/v1/blobs/'), ownerTarget.auth], ['put', true, true]);
    assert.equal((await api(owner, 'PUT', ownerTarget.url, undefined, secret)).status, 201);
    // The object is now in the bucket under the digest the thief holds a claim on.
    assert.deepEqual(await confirm(thief, secret), [sha(secret)], 'the thief cannot confirm bytes it never sent');
    assert.equal((await api(thief, 'GET', `/api/v1/blobs/${sha(secret)}`)).status, 404);
    assert.equal((await missing(thief, secret))[0].auth, true, 'the thief must now send the bytes through the server');
    const commit = await api(thief, 'POST', '/api/v1/projects/thief/artifacts/loot/versions', { type: 'model', manifest: { 'w.bin': { digest: sha(secret), size: secret.length } } });
    assert.equal(commit.status, 422);
    assert.equal((await api(owner, 'GET', `/api/v1/blobs/${sha(secret)}`)).status, 302, 'the owner reads its blob');
  });

  test('the project holding the claim uploads, confirms and reads; a second project cannot take the claim meanwhile', async () => {
    const data = randomBytes((3 << 20) + 1);
    const [target] = await missing(owner, data);
    assert.equal(target.auth, false);
    const [other] = await missing(thief, data);
    assert.equal(other.auth, true, 'the claim is the owner\'s: the other project goes through the server');
    assert.equal((await fetch(target.url, { method: 'PUT', body: new Uint8Array(data), headers: target.headers })).status, 200);
    assert.deepEqual(await confirm(thief, data), [sha(data)], 'the object is there, but not the thief\'s to confirm');
    assert.deepEqual(await confirm(owner, data), []);
    assert.equal((await api(owner, 'GET', `/api/v1/blobs/${sha(data)}`)).status, 302);
    assert.equal((await api(thief, 'GET', `/api/v1/blobs/${sha(data)}`)).status, 404);
  });

  test('an interrupted presigned upload resumes for its project without sending the bytes again', async () => {
    const data = randomBytes((2 << 20) + 9);
    const [target] = await missing(owner, data);
    assert.equal((await fetch(target.url, { method: 'PUT', body: new Uint8Array(data), headers: target.headers })).status, 200);
    // No confirm (the log was killed): asking again finds the object and records it.
    assert.deepEqual(await missing(owner, data), []);
    assert.equal((await api(owner, 'GET', `/api/v1/blobs/${sha(data)}`)).status, 302);
  });
});

/**
 * The HTTP contract of src/server/protocol.ts, which client and server both compile against:
 * route paths round-trip through the server's patterns, and a pack the client encodes is the
 * pack the server decodes (and refuses when a byte is off).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { decodePack, encodePack, PACK_MAX_BYTES, PACK_MEMBER_MAX, routePath, routePattern, Routes } from '../../src/server/protocol';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('HTTP protocol', () => {
  test('every route path, filled in, matches its own pattern and gives its parameters back in order', () => {
    const values = { project: 'my proj', name: 'a/b', alias: 'v3', runId: 'r-1', digest: 'f'.repeat(64), pack: 'e'.repeat(64) };
    for (const [key, route] of Object.entries(Routes)) {
      const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const path = routePath(route, values);
      assert.ok(path.startsWith('/'), key);
      const m = routePattern(route).exec(path);
      assert.ok(m, `${key}: ${path} matches its pattern`);
      assert.deepEqual(m.slice(1).map(decodeURIComponent), names.map((n) => values[n as keyof typeof values]), key);
    }
    assert.equal(routePath(Routes.getVersion, values), '/api/v1/projects/my%20proj/artifacts/a%2Fb/versions/v3');
    assert.equal(routePattern(Routes.listVersions).test(routePath(Routes.getVersion, values)), false, 'a longer path is not a shorter route');
    assert.throws(() => routePath(Routes.getRun, {}), /needs "runId"/);
  });

  test('a pack encoded by the client decodes to the same blobs, and one changed byte refuses it whole', async () => {
    const blobs = [Buffer.from('first'), Buffer.alloc(0), Buffer.alloc(PACK_MEMBER_MAX, 7)];
    const members = blobs.map((data) => ({ digest: sha(data), size: data.length, data }));
    const body = encodePack(members);
    const decoded = await decodePack((async function* () {
      for (let i = 0; i < body.length; i += 1000) yield body.subarray(i, i + 1000);
    })());
    assert.deepEqual(decoded.map((m) => [m.digest, m.size, sha(m.data)]), members.map((m) => [m.digest, m.size, m.digest]));
    const damaged = Buffer.from(body);
    damaged[damaged.length - 1] ^= 1;
    await assert.rejects(decodePack((async function* () { yield damaged; })()), /not the digest|nothing was stored/);
    await assert.rejects(decodePack((async function* () { yield body.subarray(0, body.length - 1); })()), /not the \d+ its index announces/);
    const tooBig = Array.from({ length: PACK_MAX_BYTES / PACK_MEMBER_MAX + 1 }, () => members[2]);
    await assert.rejects(decodePack((async function* () { yield encodePack(tooBig).subarray(0, 2000); })()), /at most 16 MiB/);
  });
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { parseWandbManifest, wandbDigest } from '../../src/server/wandb/manifest';
import { UrlSigner } from '../../src/server/wandb/signing';
import { newToken } from '../../src/server/tokens';

test('signed file URLs work for their verb, their object and until they expire', () => {
  const signer = new UrlSigner(Buffer.alloc(32, 7), 60);
  const now = Date.UTC(2026, 0, 1);
  const url = new URL(signer.sign('PUT', '/wandb/files/upload/0123456789abcdef0123456789abcdef', now), 'http://h');
  assert.equal(signer.check('PUT', url.pathname, url.searchParams, now), undefined);
  assert.match(signer.check('GET', url.pathname, url.searchParams, now)!, /not signed for GET/);
  assert.match(signer.check('PUT', '/wandb/files/upload/ffffffffffffffffffffffffffffffff', url.searchParams, now)!, /not signed/);
  assert.match(signer.check('PUT', url.pathname, url.searchParams, now + 61_000)!, /expired/);
  const forged = new URLSearchParams(url.searchParams);
  forged.set('x', String(Number(forged.get('x')) + 3600));
  assert.match(signer.check('PUT', url.pathname, forged, now)!, /not signed/);
  assert.match(signer.check('PUT', url.pathname, new URLSearchParams(), now)!, /no valid signature/);
  assert.match(new UrlSigner(Buffer.alloc(32, 8), 60).check('PUT', url.pathname, url.searchParams, now)!, /not signed/, 'another server key');
});

test('the W&B artifact digest is MD5 over the sorted path:digest lines', () => {
  const contents = { 'b.txt': { digest: 'bbbbbbbbbbbbbbbbbbbbbb==' }, 'a.txt': { digest: 'aaaaaaaaaaaaaaaaaaaaaa==' } };
  const want = createHash('md5').update('wandb-artifact-manifest-v1\na.txt:aaaaaaaaaaaaaaaaaaaaaa==\nb.txt:bbbbbbbbbbbbbbbbbbbbbb==\n').digest('hex');
  assert.equal(wandbDigest(contents), want);
});

test('an uploaded W&B manifest is checked: version, policy, paths, MD5 digests', () => {
  const ok = { version: 1, storagePolicy: 'wandb-storage-policy-v1', storagePolicyConfig: {}, contents: { 'a.txt': { digest: 'aaaaaaaaaaaaaaaaaaaaaa==', size: 3 } } };
  assert.equal(Object.keys(parseWandbManifest(Buffer.from(JSON.stringify(ok))).contents).length, 1);
  const bad = (m: unknown, re: RegExp) => assert.throws(() => parseWandbManifest(Buffer.from(JSON.stringify(m))), re);
  bad({ ...ok, version: 2 }, /version 1/);
  bad({ ...ok, storagePolicy: 'other' }, /not supported/);
  bad({ ...ok, contents: { '../x': { digest: 'aaaaaaaaaaaaaaaaaaaaaa==' } } }, /x/);
  bad({ ...ok, contents: { 'a.txt': { digest: 'not-md5' } } }, /base64 MD5/);
  assert.throws(() => parseWandbManifest(Buffer.from('{')), /not valid JSON/);
});

test('Trove tokens are valid W&B API keys (no "-", 40+ characters after the prefix)', () => {
  for (let i = 0; i < 200; i++) {
    const { token } = newToken('p', 'write');
    assert.ok(!token.includes('-'));
    assert.match(token, /^trove_[A-Za-z0-9_]{43}$/);
  }
});

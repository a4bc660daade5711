import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { artifactDigest, diffManifests, validateManifest, validateManifestPath } from '../../src/core/manifest';

const d = (s: string) => createHash('sha256').update(s).digest('hex');

test('manifest paths: relative POSIX only', () => {
  for (const ok of ['a.txt', 'dir/sub/file.bin', 'ünïcode/ok', 'a..b']) assert.equal(validateManifestPath(ok), ok);
  assert.equal(validateManifestPath('dir/__proto__'), 'dir/__proto__');
  for (const bad of ['', '/etc/passwd', 'C:/x', 'a\\b', '../x', 'a/../b', './a', 'a//b', 'a/', 'new\nline', 'del\u007f', '__proto__']) {
    assert.throws(() => validateManifestPath(bad), /Invalid file path/, JSON.stringify(bad));
  }
});

test('manifest paths: every short path over a hostile alphabet is judged as the rules say', () => {
  // The rules, written out plainly: the validator's one-regex fast path must agree with them.
  const allowed = (p: string) =>
    p.length > 0 && !/[\u0000-\u001f\u007f-\u009f]/.test(p) && !p.startsWith('/') && !/^[A-Za-z]:/.test(p) && !p.includes('\\') &&
    p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
  const alphabet = ['a', '.', '/', '\\', ':', 'Z', '\u0001', '\u0085', ' ', 'é'];
  let checked = 0;
  const visit = (p: string, depth: number) => {
    let accepted = true;
    try {
      validateManifestPath(p);
    } catch {
      accepted = false;
    }
    assert.equal(accepted, allowed(p), JSON.stringify(p));
    checked++;
    if (depth < 5) for (const c of alphabet) visit(p + c, depth + 1);
  };
  visit('', 0);
  assert.equal(checked, 111_111);
});

test('artifact digest: the documented encoding, independent of key order', () => {
  const m = { 'b.txt': { digest: d('b'), size: 1 }, 'a.txt': { digest: d('a'), size: 1 } };
  const expected = createHash('sha256').update(`a.txt\t${d('a')}\t1\nb.txt\t${d('b')}\t1\n`).digest('hex');
  assert.equal(artifactDigest(m), expected);
  assert.equal(artifactDigest({ 'a.txt': m['a.txt'], 'b.txt': m['b.txt'] }), expected);
  assert.notEqual(artifactDigest({ 'a.txt': m['a.txt'] }), expected);
});

test('validateManifest rejects bad digests, sizes and references', () => {
  assert.throws(() => validateManifest({ 'a': { digest: 'xyz', size: 1 } }), /SHA-256/);
  assert.throws(() => validateManifest({ 'a': { digest: d('a'), size: -1 } }), /invalid size/);
  assert.throws(() => validateManifest({ 'a': { digest: 'c', size: 1, ref: 'ftp://x' } }), /unsupported reference/);
  assert.throws(() => validateManifest([]), /must be an object/);
  assert.deepEqual(Object.keys(validateManifest({ 'z': { digest: d('z'), size: 1 }, 'a': { digest: d('a'), size: 1 } })), ['a', 'z']);
});

test('diff: added, removed, modified and renamed by digest', () => {
  const a = { 'keep.txt': { digest: d('k'), size: 1 }, 'old.txt': { digest: d('o'), size: 1 }, 'gone.txt': { digest: d('g'), size: 1 }, 'edit.txt': { digest: d('e1'), size: 2 } };
  const b = { 'keep.txt': { digest: d('k'), size: 1 }, 'new-name.txt': { digest: d('o'), size: 1 }, 'fresh.txt': { digest: d('f'), size: 1 }, 'edit.txt': { digest: d('e2'), size: 2 } };
  assert.deepEqual(diffManifests(a, b), { added: ['fresh.txt'], removed: ['gone.txt'], modified: ['edit.txt'], renamed: [{ from: 'old.txt', to: 'new-name.txt' }] });
  assert.deepEqual(diffManifests(a, a), { added: [], removed: [], modified: [], renamed: [] });
});

test('paths sort by UTF-8 bytes, also across the surrogate range', async () => {
  const { byUtf8 } = await import('../../src/core/manifest');
  const paths = ['b', 'a', 'ab', '\uffff', '\u{1f600}', 'é', 'Z', '\ue000'];
  const expected = [...paths].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual([...paths].sort(byUtf8), expected);
  // sortUtf8 takes the engine's order when no path has a surrogate, byUtf8 otherwise: both agree.
  const { sortUtf8 } = await import('../../src/core/manifest');
  assert.deepEqual(sortUtf8([...paths]), expected);
  const bmp = paths.filter((p) => p !== '\u{1f600}');
  assert.deepEqual(sortUtf8([...bmp]), [...bmp].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
});

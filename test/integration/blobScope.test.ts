/**
 * trove serve's blob scope on the embedded store (which blobs a project's tokens may read): its
 * digest sets, and versions of every store format, including those of more than 10,000 files
 * whose manifest lives in versions/v<K>.manifest (format 2).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { logArtifact } from '../../src/core/operations';
import { DigestSet, EmbeddedBlobScope } from '../../src/server/blobScope';
import { INLINE_MANIFEST_MAX, LocalRegistry } from '../../src/store/localRegistry';
import { tempDir } from '../helpers';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

async function* batchesOf(list: string[], size: number): AsyncGenerator<string[]> {
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
}

describe('DigestSet', () => {
  test('holds exactly the digests it was given, in any order and with repeats', async () => {
    const inside = Array.from({ length: 3000 }, (_, i) => sha(`in ${i}`));
    const outside = Array.from({ length: 3000 }, (_, i) => sha(`out ${i}`));
    const set = await DigestSet.from(batchesOf([...inside, ...inside.slice(0, 100), 'not a digest'], 700));
    assert.equal(set.size, inside.length);
    for (const d of inside) assert.ok(set.has(d), d);
    for (const d of outside) assert.ok(!set.has(d), d);
    assert.ok(!set.has('abc'));
    const empty = await DigestSet.from(batchesOf([], 10));
    assert.ok(!empty.has(inside[0]));
  });
});

describe('EmbeddedBlobScope', () => {
  test('a project reads the blobs of its versions, small and large (format 2), and nothing else', async () => {
    const t = tempDir();
    try {
      const reg = new LocalRegistry(join(t.dir, 'store'));
      const big = join(t.dir, 'big');
      const files = INLINE_MANIFEST_MAX + 5;
      for (let d = 0; d < 10; d++) mkdirSync(join(big, `d${d}`), { recursive: true });
      for (let i = 0; i < files; i++) writeFileSync(join(big, `d${i % 10}`, `f${i}.txt`), `big ${i}\n`);
      const small = join(t.dir, 'small');
      mkdirSync(small);
      writeFileSync(join(small, 'a.txt'), 'small a\n');
      const cacheDir = join(t.dir, 'cache');
      await logArtifact(reg, { project: 'p', name: 'big', type: 'dataset', content: { dirs: [{ absPath: big }], files: [], references: [] }, cacheDir });
      await logArtifact(reg, { project: 'p', name: 'small', type: 'dataset', content: { dirs: [{ absPath: small }], files: [], references: [] }, cacheDir });
      await logArtifact(reg, { project: 'q', name: 'other', type: 'dataset', content: { dirs: [{ absPath: small }], files: [], references: [] }, cacheDir });
      assert.equal(JSON.parse(readFileSync(join(t.dir, 'store', 'format.json'), 'utf8')).version, 2, 'the large version is kept in format 2');
      const scope = new EmbeddedBlobScope(reg, () => 0);
      const bigDigests = [0, 7, files - 1].map((i) => sha(`big ${i}\n`));
      const readable = await scope.readable('p', [...bigDigests, sha('small a\n'), sha('never stored')]);
      assert.deepEqual([...readable].sort(), [...bigDigests, sha('small a\n')].sort());
      assert.deepEqual([...(await scope.readable('q', bigDigests))], [], 'another project does not read them');
      assert.deepEqual([...(await scope.readable('q', [sha('small a\n')]))], [sha('small a\n')]);
      await reg.close();
    } finally {
      await t.cleanup();
    }
  });
});

/**
 * The stat cache of an artifact's logs (core/statCache.ts) against a real embedded store.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { logArtifact } from '../../src/core/operations';
import { LocalRegistry } from '../../src/store/localRegistry';
import { tempDir, writeTree } from '../helpers';

describe('stat cache', () => {
  const t = tempDir('trove-stat-cache-');
  after(() => t.cleanup());

  test('a log writes <name>.stat and removes the whole-JSON cache of before format 3', async () => {
    const reg = new LocalRegistry(join(t.dir, 'store'));
    const cacheDir = join(t.dir, 'cache');
    const old = join(cacheDir, 'stat', 'p', 'd.json');
    mkdirSync(join(cacheDir, 'stat', 'p'), { recursive: true });
    writeFileSync(old, JSON.stringify({ version: 2, files: {} }));
    const other = join(cacheDir, 'stat', 'p', 'other.json');
    writeFileSync(other, '{}');
    try {
      const folder = writeTree(join(t.dir, 'data'), { 'a.txt': 'a', 'b/c.txt': 'c' });
      await logArtifact(reg, { project: 'p', name: 'd', type: 'dataset', content: { dirs: [{ absPath: folder }], files: [], references: [] }, cacheDir });
      assert.ok(existsSync(join(cacheDir, 'stat', 'p', 'd.stat')));
      assert.equal(existsSync(old), false, 'the old cache of the same artifact is gone');
      assert.ok(existsSync(other), "another artifact's old cache is left to its next log");
    } finally {
      await reg.close();
    }
  });
});

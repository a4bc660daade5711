/**
 * equalVersion: the editor's "unchanged: equals vK" before a log asks for aliases, against a real
 * embedded store.
 */
import assert from 'node:assert/strict';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { equalVersion, logArtifact } from '../../src/core/operations';
import { LocalRegistry } from '../../src/store/localRegistry';
import { tempDir, writeTree } from '../helpers';

describe('equalVersion', () => {
  const t = tempDir('trove-equal-');
  const store = join(t.dir, 'store');
  const cacheDir = join(store, 'cache');
  let reg: LocalRegistry;
  const content = (dir: string) => ({ dirs: [{ absPath: dir }], files: [], references: [] });

  before(() => {
    reg = new LocalRegistry(store);
  });
  after(async () => {
    await reg.close();
    await t.cleanup();
  });

  test('names the version a folder equals, nothing for changed content or a new artifact', async () => {
    const folder = writeTree(join(t.dir, 'data'), { 'a.txt': 'one', 'sub/b.txt': 'two' });
    await logArtifact(reg, { project: 'p', name: 'd', type: 'dataset', content: content(folder), cacheDir });
    writeFileSync(join(folder, 'a.txt'), 'one, edited');
    await logArtifact(reg, { project: 'p', name: 'd', type: 'dataset', content: content(folder), cacheDir });
    assert.equal(await equalVersion(reg, { project: 'p', name: 'd', absPath: folder, cacheDir }), 1);
    writeFileSync(join(folder, 'a.txt'), 'one');
    assert.equal(await equalVersion(reg, { project: 'p', name: 'd', absPath: folder, cacheDir }), 0, 'back to the first content');
    writeFileSync(join(folder, 'c.txt'), 'three');
    assert.equal(await equalVersion(reg, { project: 'p', name: 'd', absPath: folder, cacheDir }), undefined);
    assert.equal(await equalVersion(reg, { project: 'p', name: 'new-one', absPath: folder, cacheDir }), undefined);
  });

  test('a copy the stat cache does not know is hashed up to the limit, and not beyond', async () => {
    const copy = join(t.dir, 'copy');
    cpSync(join(t.dir, 'data'), copy, { recursive: true });
    rmSync(join(copy, 'c.txt')); // the copy holds v0's content, in files of its own

    assert.equal(await equalVersion(reg, { project: 'p', name: 'd', absPath: copy, cacheDir }), 0);
    assert.equal(await equalVersion(reg, { project: 'p', name: 'd', absPath: copy, cacheDir }, 0), undefined, 'no hashing allowed');
  });
});

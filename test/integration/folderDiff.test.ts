/**
 * diffFolder: "Compare with Workspace Folder", a folder against a version of a real embedded
 * store, walked side by side with the version's manifest pages.
 */
import assert from 'node:assert/strict';
import { cpSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { diffFolder } from '../../src/core/folderDiff';
import { logArtifact } from '../../src/core/operations';
import { LocalRegistry } from '../../src/store/localRegistry';
import { tempDir, writeTree } from '../helpers';

describe('diffFolder', () => {
  const t = tempDir('trove-folder-diff-');
  const store = join(t.dir, 'store');
  const cacheDir = join(store, 'cache');
  let reg: LocalRegistry;

  before(() => {
    reg = new LocalRegistry(store);
  });
  after(async () => {
    await reg.close();
    await t.cleanup();
  });

  test('added, removed, modified (same size too) and renamed files against a version read without its manifest', async () => {
    const files: Record<string, string> = { 'same.txt': 'same', 'edit-same-size.txt': 'aaaa', 'edit-longer.txt': 'b', 'gone.txt': 'gone', 'old-name.txt': 'moved content' };
    // Enough files for several manifest pages (5,000 a page).
    for (let i = 0; i < 12_000; i++) files[`shards/s${String(i).padStart(5, '0')}.txt`] = `${i}`;
    const folder = writeTree(join(t.dir, 'data'), files);
    await logArtifact(reg, { project: 'p', name: 'd', type: 'dataset', content: { dirs: [{ absPath: folder }], files: [], references: [] }, cacheDir });
    const base = await reg.getVersion({ project: 'p', name: 'd', alias: 'v0' }, { manifest: false });
    assert.equal(Object.keys(base.manifest).length, 0, 'read without its manifest');

    const copy = join(t.dir, 'copy');
    cpSync(folder, copy, { recursive: true });
    assert.deepEqual(await diffFolder(reg, base, copy, cacheDir), { added: [], removed: [], modified: [], renamed: [] });

    writeFileSync(join(copy, 'edit-same-size.txt'), 'aaab');
    writeFileSync(join(copy, 'edit-longer.txt'), 'bbb');
    writeFileSync(join(copy, 'shards', 's07777.txt'), 'changed');
    rmSync(join(copy, 'gone.txt'));
    renameSync(join(copy, 'old-name.txt'), join(copy, 'new-name.txt'));
    writeFileSync(join(copy, 'zz-new.txt'), 'new');
    assert.deepEqual(await diffFolder(reg, base, copy, cacheDir), {
      added: ['zz-new.txt'],
      removed: ['gone.txt'],
      modified: ['edit-longer.txt', 'edit-same-size.txt', 'shards/s07777.txt'],
      renamed: [{ from: 'old-name.txt', to: 'new-name.txt' }],
    });
  });

  test('an s3:// reference (recorded by ETag) is compared by size, a file:// reference by its SHA-256', async () => {
    const target = writeTree(join(t.dir, 'referenced'), { 'local.bin': 'local' });
    const local = await logArtifact(reg, { project: 'p', name: 'refs-file', type: 'dataset', content: { dirs: [], files: [], references: [{ uri: `file://${join(target, 'local.bin')}`, path: 'local.bin' }] }, cacheDir });
    await reg.commitVersion({ project: 'p', name: 'refs-s3', type: 'dataset', aliases: [], manifest: { 'obj.bin': { digest: '"9a0364b9e99bb480dd25e1f0284c8555"', size: 7, ref: 's3://bucket/obj.bin', etag: '"9a0364b9e99bb480dd25e1f0284c8555"' } } });
    const s3 = await reg.getVersion({ project: 'p', name: 'refs-s3', alias: 'v0' }, { manifest: false });
    const downloaded = writeTree(join(t.dir, 's3-copy'), { 'obj.bin': 'content' });
    assert.deepEqual(await diffFolder(reg, s3, downloaded, cacheDir), { added: [], removed: [], modified: [], renamed: [] });
    writeFileSync(join(downloaded, 'obj.bin'), 'content, longer');
    assert.deepEqual((await diffFolder(reg, s3, downloaded, cacheDir)).modified, ['obj.bin']);

    const fileRef = await reg.getVersion({ project: 'p', name: 'refs-file', alias: `v${local.version}` }, { manifest: false });
    const copy = writeTree(join(t.dir, 'file-copy'), { 'local.bin': 'local' });
    assert.deepEqual((await diffFolder(reg, fileRef, copy, cacheDir)).modified, []);
    writeFileSync(join(copy, 'local.bin'), 'LOCAL');
    assert.deepEqual((await diffFolder(reg, fileRef, copy, cacheDir)).modified, ['local.bin']);
  });
});

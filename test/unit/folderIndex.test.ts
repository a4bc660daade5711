/**
 * The folder index the extension's tree and `trove:` file system read versions through
 * (src/shared/folderIndex.ts): the same folders and files as the whole manifest gives, over a
 * real embedded store, for a small version and for one of several manifest pages, while keeping
 * no more than a few pages.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ManifestPage, VersionKey } from '../../src/core/types';
import { page, PAGE_SIZE, type TreeElement } from '../../src/shared/artifactTree';
import { FolderIndex } from '../../src/shared/folderIndex';
import { listFolder } from '../../src/shared/versionUri';
import { LocalRegistry } from '../../src/store/localRegistry';
import { tempDir } from '../helpers';

describe('FolderIndex', () => {
  const t = tempDir('trove-folder-index-');
  const registry = new LocalRegistry(join(t.dir, 'store'));
  const digests: { digest: string; size: number }[] = [];
  const paths: string[] = [];

  before(async () => {
    const files = Array.from({ length: 4 }, (_, i) => {
      const absPath = join(t.dir, `f${i}`);
      writeFileSync(absPath, 'x'.repeat(i + 1));
      return { path: `f${i}`, absPath, size: i + 1 };
    });
    for (const s of await registry.storeFiles(files)) digests.push({ digest: s.digest, size: s.size });
    // Root files before and after folders, nested folders, a folder name that sorts between files
    // ("a.txt" < "a/…" < "a0"), and 12,000 files in one folder: three pages of 5,000.
    paths.push('README.md', 'a.txt', 'a/b/c.txt', 'a/b/d.txt', 'a/x.txt', 'a0', 'z.txt', 'Ümlaut/é.txt');
    for (let i = 0; i < 12_000; i++) paths.push(`many/f${String(i).padStart(5, '0')}.bin`);
    for (let i = 0; i < 30; i++) paths.push(`deep/${i % 3}/${i}.txt`);
    const manifest = Object.fromEntries(paths.map((p, i) => [p, digests[i % digests.length]]));
    await registry.commitVersion({ project: 'p', name: 'big', type: 'dataset', manifest, aliases: [] });
    await registry.commitVersion({ project: 'p', name: 'small', type: 'dataset', manifest: { 'one.txt': digests[0], 'sub/two.txt': digests[1] }, aliases: [] });
  });

  after(async () => {
    await registry.close();
    await t.cleanup();
  });

  test('lists every folder as the whole manifest does, files in path order, a page at a time', async () => {
    let reads = 0;
    const source = { manifestPage: (k: VersionKey, c: string | null, l?: number): Promise<ManifestPage> => (reads++, registry.manifestPage(k, c, l)) };
    const index = await FolderIndex.build(source, { project: 'p', name: 'big', version: 0 });
    const built = reads;
    assert.equal(built, 3, 'one read per page of 5,000');
    assert.equal(index.fileCount, paths.length);
    for (const dir of ['', 'a', 'a/b', 'many', 'deep', 'deep/1', 'Ümlaut']) {
      const whole = listFolder(paths, dir);
      const listed = (await index.list(dir))!;
      assert.deepEqual([...listed.folders].sort(), [...whole.folders].sort(), `folders of "${dir}"`);
      assert.deepEqual(listed.files.map((f) => f.path.slice(dir ? dir.length + 1 : 0)).sort(), [...whole.files].sort(), `files of "${dir}"`);
      assert.equal(listed.totalFiles, whole.files.length);
    }
    assert.deepEqual((await index.list(''))!.files.map((f) => f.path), ['README.md', 'a.txt', 'a0', 'z.txt']);
    assert.equal(await index.list('nope'), undefined);
    assert.equal(index.isFolder('a/b'), true);
    assert.equal(index.isFolder('a/b/c.txt'), false);
  });

  test('pages of a folder: from and limit cross manifest pages', async () => {
    const index = await FolderIndex.build(registry, { project: 'p', name: 'big', version: 0 });
    const page = (await index.list('many', 4990, 20))!;
    assert.equal(page.totalFiles, 12_000);
    assert.deepEqual(page.files.map((f) => f.path), Array.from({ length: 20 }, (_, i) => `many/f${String(4990 + i).padStart(5, '0')}.bin`));
    const tail = (await index.list('many', 11_990, 200))!;
    assert.equal(tail.files.length, 10);
  });

  test('finds one file and its entry; a missing one is undefined', async () => {
    const index = await FolderIndex.build(registry, { project: 'p', name: 'big', version: 0 });
    const e = await index.entry('many/f07777.bin');
    assert.equal(e?.path, 'many/f07777.bin');
    const i = paths.indexOf('many/f07777.bin');
    assert.deepEqual({ digest: e!.digest, size: e!.size }, digests[i % digests.length]);
    assert.equal((await index.entry('a/b/d.txt'))?.path, 'a/b/d.txt');
    assert.equal((await index.entry('Ümlaut/é.txt'))?.path, 'Ümlaut/é.txt');
    assert.equal(await index.entry('many/f99999.bin'), undefined);
    assert.equal(await index.entry('a/b'), undefined);
    assert.equal(await index.entry('nowhere/x'), undefined);
  });

  test('the tree pages a folder it read only the first files of', async () => {
    const index = await FolderIndex.build(registry, { project: 'p', name: 'big', version: 0 });
    const listing = (await index.list('many', 0, PAGE_SIZE))!;
    const files: TreeElement[] = listing.files.map((f) => ({ kind: 'file', project: 'p', name: 'big', type: 'dataset', version: 0, path: f.path, size: f.size, external: false }));
    const shown = page('folder:p/big:v0/many', files, PAGE_SIZE, listing.totalFiles);
    assert.equal(shown.length, PAGE_SIZE + 1);
    assert.deepEqual(shown[PAGE_SIZE], { kind: 'loadMore', parentId: 'folder:p/big:v0/many', shown: PAGE_SIZE, total: 12_000 });
  });

  test('a version of one page is read once and kept', async () => {
    let reads = 0;
    const source = { manifestPage: (k: VersionKey, c: string | null, l?: number): Promise<ManifestPage> => (reads++, registry.manifestPage(k, c, l)) };
    const index = await FolderIndex.build(source, { project: 'p', name: 'small', version: 0 });
    assert.deepEqual((await index.list(''))!.files.map((f) => f.path), ['one.txt']);
    assert.deepEqual((await index.list('sub'))!.files.map((f) => f.path), ['sub/two.txt']);
    assert.equal((await index.entry('sub/two.txt'))?.size, digests[1].size);
    assert.equal(reads, 1);
  });
});

/**
 * diffVersionFiles (src/core/operations.ts), what `trove diff` and the extension's Compare with
 * Previous walk: two versions read a manifest page at a time, side by side, over a real embedded
 * store. The same answer as diffManifests on the whole manifests across many page boundaries;
 * each side's next page read while the current one is walked; a failed page read fails the diff
 * (and leaves no unhandled rejection behind).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { diffManifests } from '../../src/core/manifest';
import { diffVersionFiles, diffVersions } from '../../src/core/operations';
import type { Registry } from '../../src/core/registry';
import type { Manifest, ManifestPage, VersionDetail, VersionKey } from '../../src/core/types';
import { LocalRegistry } from '../../src/store/localRegistry';
import { tempDir } from '../helpers';

/** The registry's manifest pages `limit` files long, each `delayMs` late, counted per version. */
function paged(registry: LocalRegistry, limit: number, delayMs = 0, failAt?: { version: number; page: number }) {
  const reads = new Map<number, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const source = {
    async manifestPage(key: VersionKey, cursor: string | null): Promise<ManifestPage> {
      const n = reads.get(key.version) ?? 0;
      reads.set(key.version, n + 1);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
        if (failAt && failAt.version === key.version && failAt.page === n) throw new Error(`page ${n} of v${key.version} could not be read`);
        return await registry.manifestPage(key, cursor, limit);
      } finally {
        inFlight--;
      }
    },
  } as unknown as Registry;
  return { source, reads, maxInFlight: () => maxInFlight };
}

describe('diffVersionFiles', () => {
  const t = tempDir('trove-version-diff-');
  const registry = new LocalRegistry(join(t.dir, 'store'));
  const manifests: Manifest[] = [];
  let v0: VersionDetail;
  let v1: VersionDetail;

  before(async () => {
    const stored = await registry.storeFiles(Array.from({ length: 6 }, (_, i) => {
      const absPath = join(t.dir, `b${i}`);
      writeFileSync(absPath, `blob ${i}`);
      return { path: `b${i}`, absPath, size: 6 };
    }));
    const entry = (k: number) => ({ digest: stored[k].digest, size: stored[k].size });
    // v0: 300 files in 10 folders. v1: every 7th modified, every 11th removed, every 13th moved
    // to another name (a rename when its content is unique in v1's added files), 25 added at the
    // end and 5 in the middle of a folder, a folder that sorts between others.
    const a: Manifest = {};
    for (let i = 0; i < 300; i++) a[`d${i % 10}/f${String(i).padStart(3, '0')}.bin`] = entry(i % 3);
    a['solo/unique.txt'] = entry(4);
    const b: Manifest = {};
    let i = 0;
    for (const [path, e] of Object.entries(a)) {
      i++;
      if (path === 'solo/unique.txt') b['solo-moved/unique.txt'] = e;
      else if (i % 11 === 0) continue;
      else if (i % 7 === 0) b[path] = entry(3);
      else b[path] = e;
    }
    for (let k = 0; k < 25; k++) b[`z/new${k}.bin`] = entry(5);
    for (let k = 0; k < 5; k++) b[`d3/f050-${k}.bin`] = entry(5);
    b['d5.txt'] = entry(5);
    manifests.push(a, b);
    await registry.commitVersion({ project: 'p', name: 'data', type: 'dataset', manifest: a, aliases: [] });
    await registry.commitVersion({ project: 'p', name: 'data', type: 'dataset', manifest: b, aliases: [] });
    v0 = await registry.getVersion({ project: 'p', name: 'data', alias: 'v0' }, { manifest: false });
    v1 = await registry.getVersion({ project: 'p', name: 'data', alias: 'v1' }, { manifest: false });
  });

  after(async () => {
    await registry.close();
    await t.cleanup();
  });

  test('gives diffManifests\' answer, with the entries of the changed files, over pages of 1 to 5,000 files', async () => {
    const expected = diffManifests(manifests[0], manifests[1]);
    assert.ok(expected.modified.length > 30 && expected.removed.length > 20 && expected.added.length > 25 && expected.renamed.length === 1);
    for (const limit of [1, 7, 64, 5000]) {
      const { source, reads } = paged(registry, limit);
      const d = await diffVersionFiles(source, v0, v1);
      assert.deepEqual({ added: d.added.map((f) => f.path), removed: d.removed.map((f) => f.path), modified: d.modified.map((m) => m.to.path), renamed: d.renamed.map((r) => ({ from: r.from.path, to: r.to.path })) }, expected, `pages of ${limit}`);
      for (const m of d.modified) {
        assert.equal(m.from.digest, manifests[0][m.from.path].digest);
        assert.equal(m.to.digest, manifests[1][m.to.path].digest);
      }
      // Every page once: ceil(files / limit) reads per version.
      assert.equal(reads.get(0), Math.ceil(v0.files / limit), `v0 in pages of ${limit}`);
      assert.equal(reads.get(1), Math.ceil(v1.files / limit), `v1 in pages of ${limit}`);
      assert.deepEqual(await diffVersions(source, v0, v1), expected);
    }
  });

  test('reads the next page of each side while it walks this one', async () => {
    // About 38 pages a side, each read 25 ms late: one after another they take 1.9 s, side by side and read ahead about 1 s.
    const { source, maxInFlight } = paged(registry, 8, 25);
    const t0 = performance.now();
    const d = await diffVersionFiles(source, v0, v1);
    const ms = performance.now() - t0;
    assert.equal(d.renamed.length, 1);
    assert.ok(maxInFlight() >= 2, `both sides' pages are read at once (at most ${maxInFlight()} at a time)`);
    assert.ok(ms < 1500, `77 pages of 25 ms took ${ms.toFixed(0)} ms: they were read one after another`);
  });

  test('a page that cannot be read fails the diff with its error, and leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      for (const failAt of [{ version: 0, page: 0 }, { version: 1, page: 3 }, { version: 0, page: 7 }]) {
        const { source } = paged(registry, 16, 1, failAt);
        await assert.rejects(diffVersionFiles(source, v0, v1), new RegExp(`page ${failAt.page} of v${failAt.version} could not be read`));
      }
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

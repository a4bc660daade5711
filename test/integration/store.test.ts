/** Embedded-store behaviour beyond the shared contract: processes at once, crashes, stat cache, links, references. */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parseRef } from '../../src/core/names';
import { downloadVersion, logArtifact } from '../../src/core/operations';
import { LocalRegistry } from '../../src/store/localRegistry';
import { writePackedFiles } from '../../src/store/packedFiles';
import { PackSet } from '../../src/store/packs';
import { ensureBuilt, tempDir, writeTree } from '../helpers';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

describe('embedded store', () => {
  let t: ReturnType<typeof tempDir>;
  before(() => {
    t = tempDir();
    ensureBuilt();
  });
  after(() => t.cleanup());

  const cli = (store: string, args: string[], cwd = t.dir) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, '--store', store, '--project', 'proj', ...args], { cwd, env: { ...process.env, TROVE_RUN_ID: '' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });

  test('writes a format-version file and refuses a folder of another format', async () => {
    const store = join(t.dir, 'fmt');
    const reg = new LocalRegistry(store);
    await reg.createRun({ project: 'p', jobType: 'x' });
    assert.deepEqual(JSON.parse(readFileSync(join(store, 'format.json'), 'utf8')), { format: 'trove-store', version: 1 });
    writeFileSync(join(store, 'format.json'), JSON.stringify({ format: 'trove-store', version: 99 }));
    await assert.rejects(new LocalRegistry(store).createRun({ project: 'p', jobType: 'x' }), /format version 99/);
  });

  test('processes logging one artifact at once get distinct, contiguous versions; equal content shares one', async () => {
    const store = join(t.dir, 'conc');
    const folders = [0, 1, 2, 3, 4, 5].map((i) => writeTree(join(t.dir, `conc-${i}`), { 'data.txt': `content ${i % 4}`, 'common.txt': 'same' }));
    const results = await Promise.all(folders.map((f) => cli(store, ['log', f, '--name', 'shared', '--type', 'dataset', '--json'])));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const parsed = results.map((r) => JSON.parse(r.stdout));
    const versions = new Set(parsed.map((p) => p.version));
    assert.deepEqual([...versions].sort(), [0, 1, 2, 3], 'four distinct contents -> v0..v3');
    assert.equal(parsed[0].version, parsed[4].version, 'equal content maps to one version');
    assert.equal(parsed.filter((p) => p.created).length, 4);
    const listed = await new LocalRegistry(store).listVersions('proj', 'shared');
    assert.deepEqual(listed.map((v) => v.version), [3, 2, 1, 0]);
  });

  test('a process killed while logging leaves no half-version, and the next log works', async () => {
    const store = join(t.dir, 'crash');
    const folder = writeTree(join(t.dir, 'crash-data'), Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`f${i}.txt`, `file ${i} `.repeat(200)])));
    assert.equal((await cli(store, ['log', folder, '--name', 'c', '--type', 'dataset'])).code, 0);
    for (const delay of [40, 80, 120, 160, 200]) {
      writeFileSync(join(folder, 'f0.txt'), `changed ${delay}`);
      const child = spawn(process.execPath, [CLI, '--store', store, '--project', 'proj', 'log', folder, '--name', 'c', '--type', 'dataset'], { stdio: 'ignore' });
      const closed = new Promise((r) => child.on('close', r));
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await closed;
      const reg = new LocalRegistry(store);
      for (const v of await reg.listVersions('proj', 'c')) {
        const detail = await reg.getVersion({ project: 'proj', name: 'c', alias: `v${v.version}` });
        for (const e of Object.values(detail.manifest)) assert.ok(reg.hasBlob(e.digest, e.size), `blob of v${v.version} present`);
      }
    }
    // A version record written without its commit (state.json) is invisible and gets overwritten.
    const reg = new LocalRegistry(store);
    const before = await reg.listVersions('proj', 'c');
    const next = before[0].version + 1;
    writeFileSync(join(store, 'projects', 'proj', 'c', 'versions', `v${next}.json`), '{"half": true');
    assert.deepEqual((await reg.listVersions('proj', 'c')).map((v) => v.version), before.map((v) => v.version));
    writeFileSync(join(folder, 'f1.txt'), 'after the crash');
    const r = await cli(store, ['log', folder, '--name', 'c', '--type', 'dataset', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).version, next);
    assert.equal((await reg.getVersion(parseRef('proj/c'))).version, next);
  });

  test('unchanged files are not hashed again on re-log (stat cache keyed by size, mtime and inode)', async () => {
    const store = join(t.dir, 'cache');
    const reg = new LocalRegistry(store);
    const folder = writeTree(join(t.dir, 'cache-data'), { 'a.txt': 'AAAA', 'b.txt': 'BBBB' });
    const past = new Date('2024-01-01T00:00:00Z');
    utimesSync(join(folder, 'a.txt'), past, past);
    const req = { project: 'p', name: 'c', type: 'dataset', content: { dirs: [{ absPath: folder }], files: [], references: [] }, cacheDir: join(store, 'cache') };
    const first = await logArtifact(reg, req);
    // Same size, same mtime, same inode, other bytes: only the cache can make this look unchanged.
    writeFileSync(join(folder, 'a.txt'), 'ZZZZ');
    utimesSync(join(folder, 'a.txt'), past, past);
    const second = await logArtifact(reg, req);
    assert.equal(second.created, false, 'the cached digest was used, so the file was not re-read');
    assert.equal(second.digest, first.digest);
    // A changed mtime invalidates the entry.
    utimesSync(join(folder, 'a.txt'), new Date(), new Date('2024-01-02T00:00:00Z'));
    const third = await logArtifact(reg, req);
    assert.equal(third.created, true);
    assert.equal(third.version, 1);
  });

  test('downloads copy by default and hard-link only when asked', async () => {
    const store = join(t.dir, 'links');
    const reg = new LocalRegistry(store);
    // Files over 1 MiB are stored one per file, so they can be hard-linked; small ones live in packs.
    const folder = writeTree(join(t.dir, 'links-data'), { 'w.bin': Buffer.alloc(3 << 20, 1), 'small.txt': 'packed' });
    await logArtifact(reg, { project: 'p', name: 'l', type: 'model', content: { dirs: [{ absPath: folder }], files: [], references: [] }, cacheDir: join(store, 'cache') });
    const v = await reg.getVersion(parseRef('p/l'));
    const blob = statSync(reg.blobPath(v.manifest['w.bin'].digest));
    await downloadVersion(reg, v, { root: join(t.dir, 'copy') });
    await downloadVersion(reg, v, { root: join(t.dir, 'hard'), link: 'hardlink' });
    assert.notEqual(statSync(join(t.dir, 'copy', 'w.bin')).ino, blob.ino);
    assert.equal(statSync(join(t.dir, 'hard', 'w.bin')).ino, blob.ino);
    assert.equal(readFileSync(join(t.dir, 'hard', 'small.txt'), 'utf8'), 'packed', 'packed blobs are copied');
    assert.ok(readFileSync(join(t.dir, 'copy', 'w.bin')).equals(Buffer.alloc(3 << 20, 1)));
    // A copy checks the blob's digest on the way: a blob damaged in the store is never handed out.
    const damaged = Buffer.alloc(3 << 20, 1);
    damaged[12345] = 2;
    writeFileSync(join(t.dir, 'damaged.bin'), damaged);
    renameSync(join(t.dir, 'damaged.bin'), reg.blobPath(v.manifest['w.bin'].digest));
    await assert.rejects(downloadVersion(reg, v, { root: join(t.dir, 'from-damaged') }), /Blob [0-9a-f]{12} in .* is damaged/);
    assert.equal(existsSync(join(t.dir, 'from-damaged')), false, 'nothing half-written');
  });

  test('a loose blob is handed out unread only while it is as it was when last hashed; damaged in place, it is refused', async () => {
    const store = join(t.dir, 'checked');
    const reg = new LocalRegistry(store);
    const data = randomBytes(3 << 20);
    const folder = writeTree(join(t.dir, 'checked-data'), { 'w.bin': data });
    await logArtifact(reg, { project: 'p', name: 'c', type: 'model', content: { dirs: [{ absPath: folder }], files: [], references: [] }, cacheDir: join(store, 'cache') });
    const v = await reg.getVersion(parseRef('p/c'));
    const digest = v.manifest['w.bin'].digest;
    const blob = reg.blobPath(digest);
    const record = join(store, 'cache', 'checked', digest);
    const state = () => {
      const st = statSync(blob, { bigint: true });
      return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    };
    assert.equal(readFileSync(record, 'utf8'), state(), 'the log records the state in which it wrote and hashed the blob');
    await downloadVersion(reg, v, { root: join(t.dir, 'checked-1') });
    assert.ok(readFileSync(join(t.dir, 'checked-1', 'w.bin')).equals(data));
    // One byte changed in place, the size, inode and mtime (to the nanosecond) kept: only the ctime tells.
    const before = statSync(blob, { bigint: true });
    const damaged = Buffer.from(data);
    damaged[1 << 20] ^= 1;
    writeFileSync(blob, damaged);
    execFileSync('touch', ['-m', '-d', `@${before.mtimeNs / 1_000_000_000n}.${String(before.mtimeNs % 1_000_000_000n).padStart(9, '0')}`, blob]);
    const after = statSync(blob, { bigint: true });
    assert.deepEqual([after.ino, after.size, after.mtimeNs], [before.ino, before.size, before.mtimeNs], 'only the ctime differs');
    await assert.rejects(downloadVersion(new LocalRegistry(store), v, { root: join(t.dir, 'checked-2') }), /Blob [0-9a-f]{12} in .* is damaged/);
    assert.equal(existsSync(join(t.dir, 'checked-2')), false, 'nothing handed out');
    assert.equal(existsSync(record), false, 'a blob found damaged loses its record');
    // A record is trusted: one that names the blob's state now (forged here, over the damage)
    // makes the download copy the blob without reading it. This is what makes downloads fast.
    writeFileSync(record, state());
    await downloadVersion(new LocalRegistry(store), v, { root: join(t.dir, 'checked-forged') });
    assert.ok(readFileSync(join(t.dir, 'checked-forged', 'w.bin')).equals(damaged), 'copied as recorded, unread');
    // Repaired, it is hashed on its next way out, and recorded again.
    rmSync(record);
    writeFileSync(blob, data);
    await downloadVersion(new LocalRegistry(store), v, { root: join(t.dir, 'checked-3') });
    assert.ok(readFileSync(join(t.dir, 'checked-3', 'w.bin')).equals(data));
    assert.equal(readFileSync(record, 'utf8'), state());
    // gc removes a record with its blob.
    await reg.deleteVersion(parseRef('p/c:v0'));
    const gone = await reg.gc(false, { minAgeSeconds: 0 });
    assert.equal(gone.blobs, 1);
    assert.equal(existsSync(record), false, 'no record outlives its blob');
  });

  test('small files go to one pack per log; a pack is only visible once its index exists', async () => {
    const store = join(t.dir, 'packs');
    const reg = new LocalRegistry(store);
    const folder = writeTree(join(t.dir, 'packs-data'), Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}.txt`, `small ${i}`])));
    const r = await logArtifact(reg, { project: 'p', name: 'k', type: 'dataset', content: { dirs: [{ absPath: folder }], files: [], references: [] }, cacheDir: join(store, 'cache') });
    assert.equal(r.storedFiles, 50);
    const packFiles = readdirSync(join(store, 'packs')).sort();
    assert.equal(packFiles.length, 2, `one pack and its index: ${packFiles}`);
    assert.equal(readdirSync(join(store, 'blobs')).every((fan) => readdirSync(join(store, 'blobs', fan)).length === 0), true, 'no loose blobs');
    // Without its index the pack's blobs do not exist (a writer killed before the index).
    const idx = packFiles.find((f) => f.endsWith('.idx'))!;
    renameSync(join(store, 'packs', idx), join(t.dir, 'saved.idx'));
    const fresh = new LocalRegistry(store);
    const v = await fresh.getVersion(parseRef('p/k'));
    const e = v.manifest['f0.txt'];
    assert.equal(fresh.hasBlob(e.digest, e.size), false);
    renameSync(join(t.dir, 'saved.idx'), join(store, 'packs', idx));
    assert.equal(new LocalRegistry(store).hasBlob(e.digest, e.size), true);
    await downloadVersion(new LocalRegistry(store), v, { root: join(t.dir, 'packs-dl') });
    assert.equal(readFileSync(join(t.dir, 'packs-dl', 'f7.txt'), 'utf8'), 'small 7');
  });

  test('blobs read back from a pack in order, backwards, at random and with gaps are all exact', () => {
    const dir = join(t.dir, 'pack-reads');
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    const blobs = Array.from({ length: 600 }, (_, i) => randomBytes(1 + ((i * 7919) % 20_000)));
    const digests = blobs.map((b) => createHash('sha256').update(b).digest('hex'));
    const writer = new PackSet(join(dir, 'packs'), join(dir, 'tmp')).writer();
    blobs.forEach((b, i) => writer.add(digests[i], b));
    writer.finish();
    const orders = {
      forward: blobs.map((_, i) => i),
      backward: blobs.map((_, i) => blobs.length - 1 - i),
      shuffled: blobs.map((_, i) => (i * 337) % blobs.length),
      gaps: blobs.map((_, i) => i).filter((i) => i % 3 !== 1),
    };
    for (const [name, order] of Object.entries(orders)) {
      const packs = new PackSet(join(dir, 'packs'), join(dir, 'tmp')); // fresh: no read-ahead left over
      for (const i of order) {
        const where = packs.lookup(digests[i], blobs[i].length, true);
        assert.ok(where, `${name}: blob ${i} is indexed`);
        assert.ok(packs.read(digests[i], where).equals(blobs[i]), `${name}: blob ${i} reads back exactly`);
      }
      packs.close();
    }
  });

  test('files written out of packs in order, backwards, at random, with gaps, twice over and past 1 MiB runs are all exact', async () => {
    const dir = join(t.dir, 'pack-writes');
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    // 1 to 60,000 bytes, and one of exactly 1 MiB: runs of adjacent blobs are read together up to 1 MiB.
    // "twice" has 1,200 files, so a worker thread writes some of them.
    const blobs = Array.from({ length: 600 }, (_, i) => randomBytes(i === 300 ? 1 << 20 : 1 + ((i * 7919) % 60_000)));
    const digests = blobs.map((b) => createHash('sha256').update(b).digest('hex'));
    const writer = new PackSet(join(dir, 'packs'), join(dir, 'tmp')).writer();
    blobs.forEach((b, i) => writer.add(digests[i], b));
    writer.finish();
    const packs = new PackSet(join(dir, 'packs'), join(dir, 'tmp'));
    const orders = {
      forward: blobs.map((_, i) => i),
      backward: blobs.map((_, i) => blobs.length - 1 - i),
      shuffled: blobs.map((_, i) => (i * 337) % blobs.length),
      gaps: blobs.map((_, i) => i).filter((i) => i % 3 !== 1),
      twice: blobs.flatMap((_, i) => [i, i]),
    };
    for (const [name, order] of Object.entries(orders)) {
      const out = join(dir, name);
      mkdirSync(out);
      const jobs = order.map((i, k) => {
        const where = packs.lookup(digests[i], blobs[i].length, true)!;
        return { dest: join(out, `${k}`), pack: packs.packPath(where.pack), offset: where.offset, size: where.size, digest: digests[i] };
      });
      await writePackedFiles(jobs);
      order.forEach((i, k) => assert.ok(readFileSync(join(out, `${k}`)).equals(blobs[i]), `${name}: file ${k} (blob ${i})`));
    }
    packs.close();
  });

  test('a download of many small files (two writing threads) is exact, refuses a damaged blob and can be cancelled', async () => {
    const store = join(t.dir, 'many');
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 1500; i++) files[`part${i % 3}/f${i}.bin`] = randomBytes(1 + ((i * 613) % 9000));
    const folder = writeTree(join(t.dir, 'many-data'), files);
    const logged = await cli(store, ['log', folder, '--name', 'many', '--type', 'dataset', '--json']);
    assert.equal(logged.code, 0, logged.stderr);
    // The bundled CLI, so that the worker thread runs from the bundle's own source text.
    const got = await cli(store, ['download', 'many:v0', '--root', join(t.dir, 'many-dl'), '--json']);
    assert.equal(got.code, 0, got.stderr);
    for (const [path, data] of Object.entries(files)) assert.ok(readFileSync(join(t.dir, 'many-dl', path)).equals(data), path);

    // Cancelled half-way: no folder, no staging folder.
    const reg = new LocalRegistry(store);
    const v = await reg.getVersion(parseRef('proj/many'));
    const controller = new AbortController();
    const progress = { report: (u: { files?: number }) => (u.files ?? 0) >= 256 && controller.abort() };
    await assert.rejects(downloadVersion(reg, v, { root: join(t.dir, 'many-cancelled'), signal: controller.signal, progress }), /Cancelled/);
    assert.deepEqual(readdirSync(t.dir).filter((f) => f.includes('many-cancelled')), []);

    // One byte changed inside the pack: the download fails with one line and writes nothing.
    // This thread writes the first batches, the worker the last ones: both are tried.
    const pack = join(store, 'packs', readdirSync(join(store, 'packs')).find((f) => f.endsWith('.pack'))!);
    const original = readFileSync(pack);
    for (const [at, who] of [[0.98, 'worker'], [0.02, 'main']] as const) {
      const bytes = Buffer.from(original);
      bytes[Math.floor(bytes.length * at)] ^= 0xff;
      writeFileSync(pack, bytes);
      const bad = await cli(store, ['download', 'many:v0', '--root', join(t.dir, `many-bad-${who}`)]);
      assert.equal(bad.code, 1, who);
      assert.match(bad.stderr, /^trove: Blob [0-9a-f]{12} is damaged in its pack .*trove verify/, who);
      assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
      assert.deepEqual(readdirSync(t.dir).filter((f) => f.includes(`many-bad-${who}`)), [], who);
    }
  });

  test('file:// and http:// references are recorded by checksum, not copied, and checked on download', async () => {
    const store = join(t.dir, 'refs');
    const reg = new LocalRegistry(store);
    const external = writeTree(join(t.dir, 'external'), { 'big.csv': 'a,b\n1,2\n' });
    let body = 'served content v1';
    const server = createServer((_req, res) => {
      res.setHeader('ETag', `"${body.length}"`);
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const fileUri = pathToFileURL(join(external, 'big.csv')).toString();
      const httpUri = `http://127.0.0.1:${port}/data/remote.txt`;
      const r = await logArtifact(reg, {
        project: 'p', name: 'refs', type: 'dataset', cacheDir: join(store, 'cache'),
        content: { dirs: [], files: [], references: [{ uri: fileUri, path: 'big.csv' }, { uri: httpUri, path: 'remote.txt' }] },
      });
      assert.equal(r.storedFiles, 0, 'references are not copied into the store');
      const v = await reg.getVersion(parseRef('p/refs'));
      assert.equal(v.manifest['big.csv'].ref, fileUri);
      assert.equal(v.manifest['remote.txt'].ref, httpUri);
      assert.equal(existsSync(reg.blobPath(v.manifest['big.csv'].digest)), false);
      await downloadVersion(reg, v, { root: join(t.dir, 'refs-dl') });
      assert.equal(readFileSync(join(t.dir, 'refs-dl', 'remote.txt'), 'utf8'), body);
      assert.equal(readFileSync(join(t.dir, 'refs-dl', 'big.csv'), 'utf8'), 'a,b\n1,2\n');
      body = 'served content v2';
      await assert.rejects(downloadVersion(reg, v, { root: join(t.dir, 'refs-dl2') }), /changed since it was logged/);
      assert.equal(existsSync(join(t.dir, 'refs-dl2')), false, 'a failed download leaves nothing behind');
      writeFileSync(join(external, 'big.csv'), 'tampered');
      await assert.rejects(downloadVersion(reg, v, { root: join(t.dir, 'refs-dl3'), pathPrefix: 'big' }), /changed since it was logged/);
    } finally {
      server.close();
    }
  });

  test('gc removes only old blobs that no version uses', async () => {
    const store = join(t.dir, 'gc');
    const reg = new LocalRegistry(store);
    const folder = writeTree(join(t.dir, 'gc-data'), { 'keep.txt': 'kept', 'orphan.txt': 'orphan' });
    await logArtifact(reg, { project: 'p', name: 'g', type: 'dataset', content: { dirs: [], files: [{ absPath: join(folder, 'keep.txt'), path: 'keep.txt' }], references: [] }, cacheDir: join(store, 'cache') });
    const big = Buffer.alloc(2 << 20, 9);
    writeFileSync(join(folder, 'orphan-big.bin'), big);
    const orphans = await reg.storeFiles([
      { path: 'orphan.txt', absPath: join(folder, 'orphan.txt'), size: 6 },
      { path: 'orphan-big.bin', absPath: join(folder, 'orphan-big.bin'), size: big.length },
    ]);
    // A pack holding a used and an unused blob is rewritten with the used one only.
    const mixed = await reg.storeFiles([{ path: 'keep.txt', absPath: join(folder, 'keep.txt'), size: 4 }]);
    assert.equal(mixed[0].stored, false);
    const keep = (await reg.getVersion(parseRef('p/g'))).manifest['keep.txt'].digest;
    assert.equal((await reg.gc(false)).blobs, 0, 'fresh blobs may belong to a log in progress');
    const old = new Date(Date.now() - 2 * 3600 * 1000);
    const age = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).forEach((d) => utimesSync(join(d.parentPath ?? d.path, d.name), old, old));
    age(join(store, 'packs'));
    age(join(store, 'blobs'));
    assert.deepEqual(await reg.gc(true), { blobs: 2, bytes: 6 + big.length, dryRun: true });
    assert.ok(reg.hasBlob(orphans[0].digest, 6));
    assert.deepEqual(await reg.gc(false), { blobs: 2, bytes: 6 + big.length, dryRun: false });
    const after = new LocalRegistry(store);
    assert.equal(after.hasBlob(orphans[0].digest, 6), false);
    assert.equal(after.hasBlob(orphans[1].digest, big.length), false);
    assert.ok(after.hasBlob(keep, 4));
    assert.equal(await after.verifyBlob(keep), true);
  });
});

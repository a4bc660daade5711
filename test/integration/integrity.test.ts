/** Nothing damaged is handed out, nothing is lost: the embedded store's integrity rules (issue 11). */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseRef } from '../../src/core/names';
import { downloadVersion, logArtifact } from '../../src/core/operations';
import { LocalRegistry } from '../../src/store/localRegistry';
import { ensureBuilt, tempDir, writeTree } from '../helpers';
import { mountReflinkFs } from '../reflinkFs';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');

export function cli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env: { ...process.env, TROVE_RUN_ID: '', ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** One line on stderr, no stack trace. */
function oneLine(stderr: string): void {
  assert.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at |Unexpected error/);
}

const content = (absPath: string) => ({ dirs: [{ absPath }], files: [], references: [] });

describe('integrity', () => {
  let t: ReturnType<typeof tempDir>;
  before(() => {
    t = tempDir('trove-integrity-');
    ensureBuilt();
  });
  after(() => t.cleanup());

  test('a byte flipped in a pack is refused by every download path: new folder, existing empty folder, --force', async () => {
    const store = join(t.dir, 'packed');
    const reg = new LocalRegistry(store);
    const folder = writeTree(join(t.dir, 'packed-data'), { 'a.txt': 'alpha content', 'b.txt': 'beta content' });
    await logArtifact(reg, { project: 'p', name: 'd', type: 'dataset', content: content(folder), cacheDir: join(store, 'cache') });
    await reg.close();
    const pack = readdirSync(join(store, 'packs')).find((f) => f.endsWith('.pack'))!;
    const bytes = readFileSync(join(store, 'packs', pack));
    bytes[2] ^= 0xff; // inside a.txt
    writeFileSync(join(store, 'packs', pack), bytes);
    const fresh = join(t.dir, 'packed-new');
    const empty = join(t.dir, 'packed-empty');
    mkdirSync(empty);
    const full = writeTree(join(t.dir, 'packed-full'), { 'a.txt': 'something else' });
    for (const [root, extra] of [[fresh, []], [empty, []], [full, ['--force']]] as const) {
      const r = await cli(['--store', store, 'download', 'p/d:v0', '--root', root, ...extra]);
      assert.equal(r.code, 1, `${root}: ${r.stderr}`);
      assert.match(r.stderr, /Blob [0-9a-f]{12} .*damaged/);
      oneLine(r.stderr);
    }
    assert.equal(existsSync(fresh), false, 'nothing written into a new folder');
    assert.equal(existsSync(join(empty, 'a.txt')), false, 'no damaged file written into the empty folder');
    assert.deepEqual(readdirSync(empty).filter((f) => f.includes('trove-tmp')), [], 'no temporary file left');
    assert.equal(readFileSync(join(full, 'a.txt'), 'utf8'), 'something else', '--force did not overwrite with damaged bytes');
  });

  test('a store of another format or a newer version is neither read, written, served nor garbage-collected', async () => {
    const store = join(t.dir, 'future');
    const reg = new LocalRegistry(store);
    const folder = writeTree(join(t.dir, 'future-data'), { 'f.txt': 'content' });
    await logArtifact(reg, { project: 'p', name: 'd', type: 'dataset', content: content(folder), cacheDir: join(store, 'cache') });
    await reg.close();
    // An unused blob that gc would remove if it ran.
    await new LocalRegistry(store).storeFiles([{ path: 'x', absPath: join(folder, 'f.txt'), size: 7 }].map((f) => ({ ...f, absPath: writeTree(join(t.dir, 'future-unused'), { 'u.txt': 'unused!' }) + '/u.txt' })));
    const packsBefore = readdirSync(join(store, 'packs')).sort();
    for (const [format, pattern] of [[{ format: 'trove-store', version: 3 }, /has format version 3, and this Trove reads versions 1 and 2 only/], [{ format: 'other-tool' }, /is not a Trove store \(its format.json says format "other-tool"\)/]] as const) {
      writeFileSync(join(store, 'format.json'), JSON.stringify(format));
      const all = [['ls'], ['ls', 'p'], ['show', 'p/d'], ['download', 'p/d', '--root', join(t.dir, 'future-out')], ['verify', 'p/d'], ['gc', '--min-age', '0'], ['log', folder, '--name', 'd', '--type', 'dataset'], ['alias', 'add', 'p/d:v0', 'x'], ['lineage', 'p/d']];
      for (const args of format.format === 'trove-store' ? all : [['ls'], ['gc', '--min-age', '0']]) {
        const r = await cli(['--store', store, '--project', 'p', ...args]);
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, pattern, args.join(' '));
        oneLine(r.stderr);
      }
      const serve = await cli(['serve', '--store', store, '--listen', '127.0.0.1:0']);
      assert.equal(serve.code, 1, serve.stderr);
      assert.match(serve.stderr, pattern);
    }
    assert.deepEqual(readdirSync(join(store, 'packs')).sort(), packsBefore, 'gc removed nothing');
    assert.equal(existsSync(join(t.dir, 'future-out')), false);
  });

  test('aliases and file paths named like Object.prototype members find only what was stored', async () => {
    const store = join(t.dir, 'proto');
    const folder = writeTree(join(t.dir, 'proto-data'), { 'f.txt': 'x', 'constructor': 'a file named constructor' });
    assert.equal((await cli(['--store', store, '--project', 'p', 'log', folder, '--name', 'data', '--type', 'dataset'])).code, 0);
    for (const alias of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      const show = await cli(['--store', store, 'show', `p/data:${alias}`]);
      assert.equal(show.code, 1, `show :${alias} -> ${show.stdout}`);
      assert.match(show.stderr, new RegExp(`Alias "${alias}" does not exist on "p/data"; its aliases are latest`));
      const rm = await cli(['--store', store, 'alias', 'rm', 'p/data', alias]);
      assert.equal(rm.code, 1, `alias rm ${alias} -> ${rm.stdout}`);
      assert.match(rm.stderr, new RegExp(`Alias "${alias}" does not exist`));
    }
    // A real alias of such a name works like any other.
    assert.equal((await cli(['--store', store, 'alias', 'add', 'p/data:v0', 'constructor'])).code, 0);
    const shown = await cli(['--store', store, 'show', 'p/data:constructor', '--json']);
    assert.equal(JSON.parse(shown.stdout).version, 0);
    const reg = new LocalRegistry(store);
    const v = await reg.getVersion(parseRef('p/data'));
    assert.equal(v.manifest.toString, undefined, 'a manifest has no inherited members');
    assert.equal(typeof v.manifest.constructor, 'object', 'the file named constructor is an entry');
    await reg.close();
  });

  test('a file that changes while it is logged is named, and the log leaves no blob behind', async () => {
    const store = join(t.dir, 'changing');
    const reg = new LocalRegistry(store);
    const folder = writeTree(join(t.dir, 'changing-data'), { 'a.txt': 'small a', 'b.txt': 'small b', 'big.bin': randomBytes((1 << 20) + 10) });
    await logArtifact(reg, { project: 'p', name: 'keep', type: 'dataset', content: content(writeTree(join(t.dir, 'other'), { 'k.txt': 'kept' })), cacheDir: join(store, 'cache') });
    const listing = () => [...readdirSync(join(store, 'packs')), ...readdirSync(join(store, 'blobs')).flatMap((f) => readdirSync(join(store, 'blobs', f))), ...readdirSync(join(store, 'tmp'))].sort();
    const before = listing();
    for (const victim of ['a.txt', 'big.bin']) {
      // The folder is read, then the file grows before its content is stored.
      const changing = new Proxy(reg, {
        get(target, prop) {
          if (prop === 'storeFiles') {
            return (files: Parameters<LocalRegistry['storeFiles']>[0], options?: Parameters<LocalRegistry['storeFiles']>[1]) => {
              writeFileSync(join(folder, victim), 'more bytes', { flag: 'a' });
              return target.storeFiles(files, options);
            };
          }
          const value = Reflect.get(target, prop);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      await assert.rejects(
        logArtifact(changing, { project: 'p', name: 'changing', type: 'dataset', content: content(folder), cacheDir: join(store, 'cache') }),
        (e: Error) => e.message.includes(join(folder, victim)) && /changed while it was being logged/.test(e.message),
      );
      assert.deepEqual(listing(), before, `${victim}: no pack, blob or temporary file left behind`);
    }
    await assert.rejects(reg.listVersions('p', 'changing'), /does not exist/);
    await reg.close();
  });

  test('temporary files of killed writers go at the next log, without waiting for gc\'s minimum age (item 6)', async () => {
    const store = join(t.dir, 'leftovers');
    const folder = writeTree(join(t.dir, 'leftovers-data'), { 'f.txt': 'one' });
    assert.equal((await cli(['--store', store, '--project', 'p', 'log', folder, '--name', 'd', '--type', 'dataset'])).code, 0);
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    const tmp = join(store, 'tmp');
    const names = {
      deadLarge: `${dead}-0123456789ab`, deadUpload: `upload-${dead}-0123456789ab`, deadPack: `mabc123-${dead}-01234567.pack`,
      deadButFresh: `${dead}-ba9876543210`, live: `${process.pid}-0123456789ab`, foreign: 'notes.txt',
    };
    const old = new Date(Date.now() - 5 * 60_000);
    for (const [key, name] of Object.entries(names)) {
      writeFileSync(join(tmp, name), Buffer.alloc(1000));
      if (key !== 'deadButFresh') utimesSync(join(tmp, name), old, old);
    }
    writeTree(folder, { 'f.txt': 'two' });
    assert.equal((await cli(['--store', store, '--project', 'p', 'log', folder, '--name', 'd', '--type', 'dataset'])).code, 0);
    assert.deepEqual(readdirSync(tmp).sort(), [names.deadButFresh, names.foreign, names.live].sort(), 'files of dead writers untouched for a minute are gone');
  });

  test('a damaged loose blob is refused where downloads reflink (XFS) and where they hard-link', async (ctx) => {
    const fs = mountReflinkFs();
    if ('skip' in fs) return ctx.skip(fs.skip);
    try {
      const store = join(fs.dir, 'store');
      const reg = new LocalRegistry(store);
      const data = randomBytes(3 << 20);
      const folder = writeTree(join(fs.dir, 'data'), { 'w.bin': data });
      await logArtifact(reg, { project: 'p', name: 'm', type: 'model', content: content(folder), cacheDir: join(store, 'cache') });
      const v = await reg.getVersion(parseRef('p/m'));
      // A good blob is cloned (its extents shared: no copy), and checked.
      await downloadVersion(reg, v, { root: join(fs.dir, 'good') });
      assert.ok(readFileSync(join(fs.dir, 'good', 'w.bin')).equals(data));
      const blob = reg.blobPath(v.manifest['w.bin'].digest);
      const damaged = Buffer.from(data);
      damaged[1 << 20] ^= 1;
      const st = statSync(blob);
      writeFileSync(blob, damaged);
      utimesSync(blob, st.atime, st.mtime); // the same mtime: only the bytes tell
      for (const [root, link] of [['cloned', 'copy'], ['linked', 'hardlink']] as const) {
        const fresh = new LocalRegistry(store);
        await assert.rejects(downloadVersion(fresh, v, { root: join(fs.dir, root), link }), /Blob [0-9a-f]{12} in .* is damaged/, link);
        assert.equal(existsSync(join(fs.dir, root)), false, `${link}: nothing handed out`);
        await fresh.close();
      }
      // Through the CLI too, into an existing folder with --force.
      const other = writeTree(join(fs.dir, 'other'), { 'w.bin': 'older weights' });
      const r = await cli(['--store', store, 'download', 'p/m:v0', '--root', other, '--force']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /damaged/);
      oneLine(r.stderr);
      assert.equal(readFileSync(join(other, 'w.bin'), 'utf8'), 'older weights', 'the file was not replaced by damaged bytes');
      await reg.close();
    } finally {
      fs.cleanup();
    }
  });
});

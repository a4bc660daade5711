/**
 * Downloads and reads in hostile places: links inside the target, FIFOs, long names, a file as
 * --root, two downloads racing into one new folder, damaged JSON, missing packs, killed runs.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseRef } from '../../src/core/names';
import { downloadVersion, logArtifact } from '../../src/core/operations';
import type { Registry } from '../../src/core/registry';
import { LocalRegistry } from '../../src/store/localRegistry';
import { ensureBuilt, tempDir, writeTree } from '../helpers';
import { checkLinksInTarget } from '../linkTarget';

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

function oneLine(stderr: string): void {
  assert.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at |Unexpected error/);
}

const content = (absPath: string) => ({ dirs: [{ absPath }], files: [], references: [] });

describe('downloads and reads in hostile places', () => {
  let t: ReturnType<typeof tempDir>;
  let store: string;
  let reg: LocalRegistry;
  before(async () => {
    t = tempDir('trove-dl-');
    ensureBuilt();
    store = join(t.dir, 'store');
    reg = new LocalRegistry(store);
    await logArtifact(reg, { project: 'p', name: 'd', type: 'dataset', content: content(writeTree(join(t.dir, 'data'), { 'top.txt': 'top', 'sub/a.txt': 'a in sub' })), cacheDir: join(store, 'cache') });
  });
  after(async () => {
    await reg.close();
    await t.cleanup();
  });

  test('a download into a target holding links never writes through them (item 7)', async () => {
    await checkLinksInTarget(reg, join(t.dir, 'links'), 'p/d', (root, force) => cli(['--store', store, 'download', 'p/d', '--root', root, ...(force ? ['--force'] : [])]));
  });

  test('verify --root reads regular files only: a FIFO or a link to /dev/zero is a problem, not a hang (item 12)', async () => {
    const root = join(t.dir, 'verify-root');
    mkdirSync(join(root, 'sub'), { recursive: true });
    assert.equal(spawnSync('mkfifo', [join(root, 'top.txt')]).status, 0);
    symlinkSync('/dev/zero', join(root, 'sub', 'a.txt'));
    const started = Date.now();
    const r = await cli(['--store', store, 'verify', 'p/d', '--root', root]);
    assert.ok(Date.now() - started < 30_000);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /2 of 2 files .* do not match \(sub\/a\.txt is a link, not a file; top\.txt is not a regular file\)/);
    oneLine(r.stderr);
  });

  test('verify --root finds each modified, resized or missing file, small (read whole) and large (streamed) alike', async () => {
    const big = Buffer.alloc((1 << 20) + 7, 'b'); // above SMALL_FILE: hashed as a stream
    const files = { 'a/keep.txt': 'kept', 'a/same-size.txt': 'abcd', 'b/grown.txt': 'short', 'b/gone.txt': 'gone', 'c/big.bin': big, 'c/big-ok.bin': big };
    const data = writeTree(join(t.dir, 'verify-data'), files);
    await logArtifact(reg, { project: 'p', name: 'vr', type: 'dataset', content: content(data), cacheDir: join(store, 'cache') });
    const root = join(t.dir, 'verify-copy');
    assert.equal((await cli(['--store', store, 'download', 'p/vr', '--root', root])).code, 0);
    const ok = await cli(['--store', store, 'verify', 'p/vr', '--root', root, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout).problems, []);
    writeFileSync(join(root, 'a/same-size.txt'), 'abcD');
    writeFileSync(join(root, 'b/grown.txt'), 'longer now');
    rmSync(join(root, 'b/gone.txt'));
    const changedBig = Buffer.from(big);
    changedBig[changedBig.length - 1] = 0x63;
    writeFileSync(join(root, 'c/big.bin'), changedBig);
    const bad = await cli(['--store', store, 'verify', 'p/vr', '--root', root, '--json']);
    assert.equal(bad.code, 1);
    // In path order, whichever way each file was read.
    assert.deepEqual(JSON.parse(bad.stdout).problems, ['modified a/same-size.txt', 'missing b/gone.txt', 'modified b/grown.txt', 'modified c/big.bin']);
    oneLine(bad.stderr);
  });

  test('a file name of 255 bytes downloads again into the same folder (item 13)', async () => {
    const long = `${'n'.repeat(251)}.txt`;
    const data = writeTree(join(t.dir, 'long-data'), { [long]: 'first' });
    await logArtifact(reg, { project: 'p', name: 'long', type: 'dataset', content: content(data), cacheDir: join(store, 'cache') });
    const root = join(t.dir, 'long-out');
    assert.equal((await cli(['--store', store, 'download', 'p/long', '--root', root])).code, 0);
    writeFileSync(join(data, long), 'second');
    await logArtifact(reg, { project: 'p', name: 'long', type: 'dataset', content: content(data), cacheDir: join(store, 'cache') });
    const again = await cli(['--store', store, 'download', 'p/long', '--root', root, '--force']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readFileSync(join(root, long), 'utf8'), 'second');
    assert.deepEqual(readdirSync(root), [long], 'no temporary file left');
  });

  test('--root naming a file, and two downloads racing into one new folder, end in one sentence or success (item 14)', async () => {
    const file = join(t.dir, 'a-file');
    writeFileSync(file, 'not a folder');
    const r = await cli(['--store', store, 'download', 'p/d', '--root', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /a-file is a file, not a folder; pass --root a new or existing folder/);
    oneLine(r.stderr);
    // Both see no folder, both stage a copy; the second finds the first's folder and checks it.
    const root = join(t.dir, 'raced');
    const v = await reg.getVersion(parseRef('p/d'));
    const results = await Promise.allSettled([0, 1, 2, 3].map(() => downloadVersion(new LocalRegistry(store), v, { root })));
    assert.deepEqual(results.map((x) => x.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'], JSON.stringify(results.map((x) => x.status === 'rejected' ? String(x.reason) : 'ok')));
    assert.equal(readFileSync(join(root, 'sub', 'a.txt'), 'utf8'), 'a in sub');
    assert.deepEqual(readdirSync(t.dir).filter((f) => f.includes('trove-partial')), [], 'no staging folder left');
  });

  test('damaged JSON names the file; ls still lists the healthy projects (item 14)', async () => {
    const s2 = join(t.dir, 'damaged');
    const r2 = new LocalRegistry(s2);
    for (const project of ['good', 'bad']) {
      await logArtifact(r2, { project, name: 'x', type: 'dataset', content: content(writeTree(join(t.dir, `dm-${project}`), { 'f.txt': project })), cacheDir: join(s2, 'cache') });
    }
    await logArtifact(r2, { project: 'bad', name: 'fine', type: 'dataset', content: content(join(t.dir, 'dm-bad')), cacheDir: join(s2, 'cache') });
    await r2.close();
    const state = join(s2, 'projects', 'bad', 'x', 'state.json');
    writeFileSync(state, '{"name": "x", "versions": [');
    const ls = await cli(['--store', s2, 'ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /good\s+1/);
    assert.match(ls.stdout, /bad\s+1/);
    assert.match(ls.stderr, /bad\/x is left out: .*state\.json is damaged \(it is not valid JSON\)/);
    const show = await cli(['--store', s2, 'show', 'bad/x']);
    assert.equal(show.code, 1);
    assert.match(show.stderr, /state\.json is damaged \(it is not valid JSON\), so Trove cannot read it; restore it/);
    oneLine(show.stderr);
  });

  test('a pack file missing from the store is called damage, not blamed on gc (item 16)', async () => {
    const s3 = join(t.dir, 'nopack');
    const r3 = new LocalRegistry(s3);
    await logArtifact(r3, { project: 'p', name: 'k', type: 'dataset', content: content(writeTree(join(t.dir, 'nopack-data'), { 'a.txt': 'a', 'b.txt': 'b' })), cacheDir: join(s3, 'cache') });
    await r3.close();
    for (const f of readdirSync(join(s3, 'packs'))) if (f.endsWith('.pack')) rmSync(join(s3, 'packs', f));
    for (const [root, extra] of [[join(t.dir, 'nopack-new'), []], [join(t.dir, 'nopack-new'), []], [writeTree(join(t.dir, 'nopack-old'), { 'a.txt': 'old' }), ['--force']]] as const) {
      const r = await cli(['--store', s3, 'download', 'p/k', '--root', root, ...extra]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /pack file .* is missing .* the store is damaged; run `trove verify`/);
      assert.doesNotMatch(r.stderr, /run the download again|compacted/);
      oneLine(r.stderr);
    }
  });

  test('a run left "running" by a killed process reads as failed; gc marks it and removes run folders without run.json (item 6)', async () => {
    const s4 = join(t.dir, 'runs');
    const data = writeTree(join(t.dir, 'runs-data'), Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}.txt`, `file ${i} `.repeat(500)])));
    // A `trove run` whose process is killed: its run stays "running" in run.json.
    const child = spawn(process.execPath, [CLI, '--store', s4, '--project', 'p', 'run', '--job-type', 'train', '--', 'sleep', '3'], { stdio: 'ignore', env: { ...process.env, TROVE_RUN_ID: '' } });
    const deadline = Date.now() + 20_000;
    while (!existsSync(join(s4, 'runs')) || readdirSync(join(s4, 'runs')).length === 0) {
      assert.ok(Date.now() < deadline, 'the run was created');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    const [runId] = readdirSync(join(s4, 'runs'));
    assert.equal(JSON.parse(readFileSync(join(s4, 'runs', runId, 'run.json'), 'utf8')).status, 'running');
    const r4 = new LocalRegistry(s4);
    assert.equal((await r4.getRun(runId)).status, 'failed', 'readers see the interrupted run as failed');
    // A run folder without run.json (killed while creating its run).
    mkdirSync(join(s4, 'runs', '20260101000000-deadbeef', 'inputs'), { recursive: true });
    await logArtifact(r4, { project: 'p', name: 'x', type: 'dataset', content: content(data), cacheDir: join(s4, 'cache') });
    await r4.close();
    const gc = await cli(['--store', s4, 'gc', '--min-age', '0']);
    assert.equal(gc.code, 0, gc.stderr);
    assert.match(gc.stdout, /marked 1 interrupted run\(s\) failed; removed 1 run folder\(s\) without run\.json/);
    assert.equal(JSON.parse(readFileSync(join(s4, 'runs', runId, 'run.json'), 'utf8')).status, 'failed');
    assert.equal(existsSync(join(s4, 'runs', '20260101000000-deadbeef')), false);
  });
});

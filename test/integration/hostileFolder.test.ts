/**
 * The hostile-folder matrix: what `trove log` does with every kind of entry a folder can hold.
 * Nothing is dropped without a word: regular files are stored (links to files followed), a name
 * that is not UTF-8 refuses the log naming it, everything else is left out with its reason, and
 * an embedded store inside the folder is never logged into the artifact.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureBuilt, tempDir, writeTree } from '../helpers';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');

function cli(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, TROVE_RUN_ID: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('hostile folders', () => {
  let t: ReturnType<typeof tempDir>;
  let socket: Server | undefined;
  before(() => {
    t = tempDir('trove-hostile-');
    ensureBuilt();
  });
  after(async () => {
    await new Promise<void>((r) => (socket ? socket.close(() => r()) : r()));
    await t.cleanup();
  });

  test('every kind of entry is stored, refused by name or left out with its reason; the store inside is never logged', async () => {
    const folder = writeTree(join(t.dir, 'data'), {
      'ok.txt': 'plain',
      'sub/deep/nested.txt': 'nested',
      'with space é ü.txt': 'unicode name',
      '.hidden': 'hidden file',
      'sub/target.txt': 'link target',
    });
    mkdirSync(join(folder, 'empty-folder'));
    const outside = writeTree(join(t.dir, 'outside'), { 'secret.txt': 'outside the folder' });
    symlinkSync(join(folder, 'sub', 'target.txt'), join(folder, 'link-to-file'));
    symlinkSync(join(outside, 'secret.txt'), join(folder, 'link-outside'));
    symlinkSync(join(folder, 'sub'), join(folder, 'link-to-folder'));
    symlinkSync('nowhere', join(folder, 'dangling'));
    symlinkSync('loop', join(folder, 'loop'));
    symlinkSync('/dev/zero', join(folder, 'device-link'));
    assert.equal(spawnSync('mkfifo', [join(folder, 'fifo')]).status, 0);
    socket = createServer();
    await new Promise<void>((r) => socket!.listen(join(folder, 'socket'), () => r()));
    // The embedded store lives inside the folder being logged.
    const store = join(folder, '.trove');
    const log = (...extra: string[]) => cli(['--store', store, '--project', 'p', 'log', folder, '--name', 'h', '--type', 'dataset', '--json', ...extra]);

    // A name that is not UTF-8 refuses the log, naming the entry by its bytes.
    const bad = Buffer.concat([Buffer.from(`${folder}/sub/caf`), Buffer.from([0xe9]), Buffer.from('.txt')]);
    writeFileSync(bad, 'latin-1 name');
    const refused = await log();
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /1 name\(s\) .* not valid UTF-8.*sub\/caf\\xe9\.txt.*rename/);
    assert.equal(refused.stderr.trim().split('\n').length, 1);
    rmSync(bad);

    const first = await log();
    assert.equal(first.code, 0, first.stderr);
    const out = JSON.parse(first.stdout) as { files: number; skipped: { path: string; reason: string }[] };
    const skipped = Object.fromEntries(out.skipped.map((s) => [s.path, s.reason]));
    assert.deepEqual(Object.keys(skipped).sort(), ['.trove', 'dangling', 'device-link', 'fifo', 'link-to-folder', 'loop', 'socket']);
    assert.match(skipped['.trove'], /Trove store itself/);
    assert.match(skipped.dangling, /target does not exist/);
    assert.match(skipped['device-link'], /link to a device/);
    assert.match(skipped.fifo, /FIFO/);
    assert.match(skipped['link-to-folder'], /links to folders are not followed/);
    assert.match(skipped.loop, /loops/);
    assert.match(skipped.socket, /socket/);
    assert.match(first.stderr, /left out 7 entries that are not a regular file: /);
    const show = await cli(['--store', store, 'show', 'p/h:v0', '--json']);
    const files = (JSON.parse(show.stdout) as { files: { path: string }[] }).files.map((f) => f.path).sort();
    assert.deepEqual(files, ['.hidden', 'link-outside', 'link-to-file', 'ok.txt', 'sub/deep/nested.txt', 'sub/target.txt', 'with space é ü.txt']);
    assert.equal(out.files, files.length);

    // Logging again changes nothing: the store that grew meanwhile is not part of the artifact.
    const second = await log();
    assert.equal(second.code, 0, second.stderr);
    assert.equal(JSON.parse(second.stdout).created, false, 'unchanged content is no new version');
    // Logging the store folder itself (or a folder in it) is refused.
    const inside = await cli(['--store', store, '--project', 'p', 'log', join(store, 'projects'), '--name', 'x', '--type', 'dataset']);
    assert.equal(inside.code, 1);
    assert.match(inside.stderr, /inside the Trove store/);
  });

  test('a folder holding only entries that are left out says so', async () => {
    const folder = join(t.dir, 'only-links');
    mkdirSync(folder);
    symlinkSync('nowhere', join(folder, 'dangling'));
    const r = await cli(['--store', join(t.dir, 'store2'), '--project', 'p', 'log', folder, '--name', 'e', '--type', 'dataset']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nothing to log: the folder holds no regular files \(1 other entries left out, first: dangling, a link whose target does not exist\)/);
  });
});

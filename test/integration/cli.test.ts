/** The `trove` CLI as a user runs it: the built bundle, real processes, JSON contracts and exit codes. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureBuilt, tempDir, writeTree } from '../helpers';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');

describe('trove CLI', () => {
  let t: ReturnType<typeof tempDir>;
  let store: string;
  before(() => {
    t = tempDir('trove-cli-');
    store = join(t.dir, 'store');
    ensureBuilt();
  });
  after(() => t.cleanup());

  const trove = (args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string; json: () => any }>((resolve) => {
      const env: Record<string, string | undefined> = { ...process.env, TROVE_STORE: store, TROVE_PROJECT: 'demo', TROVE_RUN_ID: undefined, ...options.env };
      const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? t.dir, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, json: () => JSON.parse(stdout) }));
    });

  const assertOneLineError = (r: { code: number; stderr: string; stdout: string }, code: number, pattern: RegExp) => {
    assert.equal(r.code, code, r.stderr);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  };

  test('log, ls, show, download, diff and alias speak the documented JSON', async () => {
    const data = writeTree(join(t.dir, 'data'), { 'train.csv': 'x,y\n1,2\n', 'img/0.png': 'png0', 'img/1.png': 'png1' });
    const v0 = await trove(['log', data, '--name', 'mnist', '--type', 'dataset', '--alias', 'raw', '--description', 'MNIST sample', '--metadata', '{"rows":1}', '--json']);
    assert.equal(v0.code, 0, v0.stderr);
    assert.equal(v0.stderr, '', 'no progress bar when stderr is not a terminal');
    const j0 = v0.json();
    assert.deepEqual(Object.keys(j0), ['ref', 'version', 'digest', 'created', 'files', 'storedFiles', 'size']);
    assert.deepEqual({ ...j0, digest: undefined }, { ref: 'demo/mnist:v0', version: 0, digest: undefined, created: true, files: 3, storedFiles: 3, size: 16 });
    assert.match(j0.digest, /^[0-9a-f]{64}$/);
    writeFileSync(join(data, 'img', '1.png'), 'png1 edited');
    const j1 = (await trove(['log', data, '--name', 'mnist', '--type', 'dataset', '--json'])).json();
    assert.equal(j1.version, 1);
    assert.equal(j1.storedFiles, 1);
    const human = await trove(['log', data, '--name', 'mnist', '--type', 'dataset']);
    assert.equal(human.stdout.trim(), 'unchanged: same content as demo/mnist:v1');

    assert.deepEqual((await trove(['ls', '--json'])).json(), [{ name: 'demo', artifacts: 1 }]);
    assert.deepEqual((await trove(['ls', 'demo', '--json'])).json(), [{ name: 'mnist', type: 'dataset', versions: 2, latest: 1 }]);
    const versions = (await trove(['ls', 'demo/mnist', '--json'])).json();
    assert.deepEqual(versions.map((v: any) => [v.version, v.aliases, v.files]), [[1, ['latest'], 3], [0, ['raw'], 3]]);
    assert.deepEqual(Object.keys(versions[0]), ['version', 'aliases', 'digest', 'size', 'files', 'createdAt']);

    const show = (await trove(['show', 'mnist:raw', '--json'])).json();
    assert.equal(show.ref, 'demo/mnist:v0');
    assert.equal(show.type, 'dataset');
    assert.equal(show.description, 'MNIST sample');
    assert.deepEqual(show.metadata, { rows: 1 });
    assert.deepEqual(show.files.map((f: any) => f.path), ['img/0.png', 'img/1.png', 'train.csv']);
    assert.equal(show.createdBy.jobType, 'log');
    assert.deepEqual(show.usedBy, []);

    const dl = await trove(['download', 'mnist:v0', '--json']);
    assert.equal(dl.code, 0, dl.stderr);
    assert.deepEqual(dl.json(), { ref: 'demo/mnist:v0', root: join(t.dir, 'artifacts', 'mnist-v0'), files: 3 });
    assert.equal(readFileSync(join(t.dir, 'artifacts', 'mnist-v0', 'img', '1.png'), 'utf8'), 'png1');
    const ok = await trove(['verify', 'mnist:v0', '--root', join(t.dir, 'artifacts', 'mnist-v0')]);
    assert.equal(ok.code, 0, ok.stderr);
    writeFileSync(join(t.dir, 'artifacts', 'mnist-v0', 'train.csv'), 'tampered');
    assertOneLineError(await trove(['verify', 'mnist:v0', '--root', join(t.dir, 'artifacts', 'mnist-v0')]), 1, /modified train\.csv/);
    assertOneLineError(await trove(['download', 'mnist:v0']), 1, /differ from demo\/mnist:v0.*--force/);
    assert.equal((await trove(['download', 'mnist:v0', '--force'])).code, 0);

    const sub = await trove(['download', 'mnist', '--root', join(t.dir, 'only-img'), '--path', 'img/', '--json']);
    assert.equal(sub.json().files, 2);
    assert.deepEqual(readdirSync(join(t.dir, 'only-img')), ['img']);

    assert.deepEqual((await trove(['diff', 'mnist:v0', 'mnist:v1', '--json'])).json(), { added: [], removed: [], modified: ['img/1.png'], renamed: [] });
    assert.equal((await trove(['alias', 'add', 'mnist:v1', 'best'])).code, 0);
    assert.deepEqual((await trove(['show', 'mnist:best', '--json'])).json().aliases, ['latest', 'best']);
    assert.equal((await trove(['alias', 'rm', 'mnist', 'best'])).code, 0);
    assertOneLineError(await trove(['show', 'mnist:best']), 1, /Alias "best" does not exist/);
  });

  test('verify finds a corrupt blob in the store', async () => {
    const data = writeTree(join(t.dir, 'vdata'), { 'a.txt': 'verify me' });
    const j = (await trove(['log', data, '--name', 'ver', '--type', 'dataset', '--json'])).json();
    assert.equal((await trove(['verify', 'ver'])).code, 0);
    // Flip the bytes of the pack that holds the file (small files are packed).
    const packDir = join(store, 'packs');
    for (const f of readdirSync(packDir).filter((f) => f.endsWith('.pack'))) {
      const bytes = readFileSync(join(packDir, f));
      if (bytes.includes('verify me')) writeFileSync(join(packDir, f), Buffer.from(bytes.toString('latin1').replace('verify me', 'verify ME'), 'latin1'));
    }
    assert.ok(j.ref);
    assertOneLineError(await trove(['verify', 'ver']), 1, /corrupt a\.txt/);
  });

  test('trove run: every log and download inside attaches to one run, and lineage shows it', async () => {
    const input = writeTree(join(t.dir, 'pipeline-in'), { 'raw.txt': 'raw data' });
    assert.equal((await trove(['log', input, '--name', 'raw', '--type', 'dataset'])).code, 0);
    const script = `"${process.execPath}" "${CLI}" download raw --root "${join(t.dir, 'pipe-dl')}" && mkdir -p "${join(t.dir, 'pipe-out')}" && echo weights > "${join(t.dir, 'pipe-out', 'w.bin')}" && "${process.execPath}" "${CLI}" log "${join(t.dir, 'pipe-out')}" --name net --type model`;
    const run = await trove(['run', '--job-type', 'train', '--name', 'nightly', '--json', '--', 'sh', '-c', script]);
    assert.equal(run.code, 0, run.stderr);
    const { runId, exitCode } = JSON.parse(run.stdout.trim().split('\n').pop()!);
    assert.equal(exitCode, 0);
    const lineage = (await trove(['lineage', 'net', '--depth', '2', '--json'])).json();
    const trainNode = lineage.nodes.find((n: any) => n.id === `run:${runId}`);
    assert.ok(trainNode, 'the run is in the lineage');
    assert.equal(trainNode.kind, 'run');
    assert.match(trainNode.label, /train/);
    const edges = lineage.edges.map((e: any) => `${e.from}>${e.to}`);
    assert.ok(edges.includes(`version:demo/raw:v0>run:${runId}`));
    assert.ok(edges.includes(`run:${runId}>version:demo/net:v0`));
    assert.equal(lineage.nodes.filter((n: any) => n.kind === 'run' && /train/.test(n.label)).length, 1, 'one run, not one per command');
    const failing = await trove(['run', '--job-type', 'train', '--', 'sh', '-c', 'exit 3']);
    assert.equal(failing.code, 3, 'the command\'s exit code is passed through');
  });

  test('bad input: one clear line, exit 1 (2 for usage), nothing written', async () => {
    const data = writeTree(join(t.dir, 'bad'), { 'f.txt': 'x' });
    assertOneLineError(await trove(['log', data, '--name', 'bad name', '--type', 'dataset']), 1, /Invalid artifact name "bad name"/);
    assertOneLineError(await trove(['log', join(t.dir, 'missing'), '--name', 'm', '--type', 'dataset']), 1, /does not exist/);
    assertOneLineError(await trove(['log', data, '--name', 'mnist', '--type', 'model']), 1, /has type "dataset", not "model"/);
    assertOneLineError(await trove(['log', data, '--name', 'x', '--type', 'dataset', '--metadata', '[1]']), 1, /JSON object/);
    assertOneLineError(await trove(['show', 'nope']), 1, /Artifact "nope" does not exist/);
    assertOneLineError(await trove(['show', 'other/thing']), 1, /Project "other" does not exist/);
    assertOneLineError(await trove(['show', 'mnist:v99']), 1, /Version v99/);
    assertOneLineError(await trove(['log', data]), 2, /needs --name and --type/);
    assertOneLineError(await trove(['frobnicate']), 2, /Unknown command/);
    assertOneLineError(await trove(['ls', '--bogus']), 2, /Unknown option/);
    assertOneLineError(await trove(['lineage', 'mnist', '--depth', 'x']), 2, /--depth/);
    assertOneLineError(await trove(['log', data, '--name', 'x', '--type', 'dataset', '--store', join(data, 'f.txt')]), 1, /is a file, not a folder/);
    const names = (await trove(['ls', 'demo', '--json'])).json().map((a: any) => a.name);
    assert.ok(!names.includes('bad name') && !names.includes('x') && !names.includes('m'));
  });

  test('log records file:// references by checksum, and download refuses changed content', async () => {
    const ext = writeTree(join(t.dir, 'ext'), { 'labels.csv': 'id,label\n1,cat\n', 'local/notes.txt': 'notes' });
    const uri = `file://${join(ext, 'labels.csv')}`;
    const r = await trove(['log', join(ext, 'local'), '--name', 'withref', '--type', 'dataset', '--reference', `${uri}=meta/labels.csv`, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().files, 2);
    assert.equal(r.json().storedFiles, 1, 'the reference is not copied');
    const show = (await trove(['show', 'withref', '--json'])).json();
    assert.equal(show.files.find((f: any) => f.path === 'meta/labels.csv').ref, uri);
    assert.equal((await trove(['download', 'withref', '--root', join(t.dir, 'ref-dl')])).code, 0);
    assert.equal(readFileSync(join(t.dir, 'ref-dl', 'meta', 'labels.csv'), 'utf8'), 'id,label\n1,cat\n');
    writeFileSync(join(ext, 'labels.csv'), 'id,label\n1,dog\n');
    assertOneLineError(await trove(['download', 'withref', '--root', join(t.dir, 'ref-dl2')]), 1, /changed since it was logged/);
    const only = await trove(['log', uri, '--name', 'onlyref', '--type', 'dataset', '--json']);
    assert.equal(only.code, 0, only.stderr);
    assert.equal(only.json().storedFiles, 0);
  });

  test('a progress bar on a terminal, none with --json', { skip: spawnSync('sh', ['-c', 'command -v script']).status !== 0 && 'needs script(1)' }, () => {
    const data = writeTree(join(t.dir, 'tty'), Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}.txt`, `file ${i}`])));
    const run = (extra: string) => spawnSync('script', ['-qec', `"${process.execPath}" "${CLI}" log "${data}" --name tty${extra ? '-json' : ''} --type dataset ${extra}`, '/dev/null'], {
      encoding: 'utf8', env: { ...process.env, TROVE_STORE: store, TROVE_PROJECT: 'demo' },
    });
    const tty = run('');
    assert.equal(tty.status, 0, tty.stdout);
    assert.match(tty.stdout, /\[[#-]{24}\]\s+\d+%/, 'the bar is drawn');
    assert.match(tty.stdout, /demo\/tty:v0 created: 300 files/);
    const json = run('--json');
    assert.equal(json.status, 0, json.stdout);
    assert.doesNotMatch(json.stdout, /\[[#-]{24}\]/);
  });

  test('gc removes nothing that a version uses', async () => {
    const r = await trove(['gc', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().blobs, 0);
    assert.equal((await trove(['verify', 'mnist:v1'])).code, 0);
  });
});

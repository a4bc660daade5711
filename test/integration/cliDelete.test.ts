/**
 * `trove rm` and `trove restore` as a user runs them (the built bundle, real processes): what goes,
 * the confirmation, the bad-input sentences (one line, non-zero exit, nothing deleted), the
 * lineage tombstone and gc.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureBuilt, tempDir, writeTree } from '../helpers';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');

describe('trove rm and trove restore', () => {
  let t: ReturnType<typeof tempDir>;
  let store: string;
  before(() => {
    t = tempDir('trove-rm-');
    store = join(t.dir, 'store');
    ensureBuilt();
  });
  after(() => t.cleanup());

  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ ...process.env, TROVE_STORE: store, TROVE_PROJECT: 'demo', ...extra });
  const trove = (args: string[], extra: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const e: NodeJS.ProcessEnv = env(extra);
      delete e.TROVE_RUN_ID;
      if (!('TROVE_PROTECTED_ALIASES' in extra)) delete e.TROVE_PROTECTED_ALIASES;
      const child = spawn(process.execPath, [CLI, ...args], { cwd: t.dir, env: e, stdio: ['pipe', 'pipe', 'pipe'] });
      child.stdin.end();
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  /** Runs the CLI on a pseudo-terminal (util-linux `script`) and types `answer` at its question. */
  const onTerminal = (args: string[], answer: string) => {
    const e = env();
    delete e.TROVE_RUN_ID;
    delete e.TROVE_PROTECTED_ALIASES;
    const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    return spawnSync('script', ['-qec', command, '/dev/null'], { cwd: t.dir, env: e, input: `${answer}\n`, encoding: 'utf8', timeout: 60_000 });
  };
  const versions = async (ref: string) => JSON.parse((await trove(['ls', ref, '--json'])).stdout).map((v: { version: number; aliases: string[] }) => [v.version, v.aliases]);
  const oneSentence = (r: { code: number; stderr: string; stdout: string }, pattern: RegExp) => {
    assert.notEqual(r.code, 0, `non-zero exit: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stdout, '');
  };

  test('bad input gives one sentence and a non-zero exit, and deletes nothing', async () => {
    const data = writeTree(join(t.dir, 'bad'), { 'f.txt': 'zero' });
    assert.equal((await trove(['log', data, '--name', 'keep', '--type', 'model', '--alias', 'production'])).code, 0);
    writeFileSync(join(data, 'f.txt'), 'one');
    assert.equal((await trove(['log', data, '--name', 'keep', '--type', 'model'])).code, 0);
    const before = await versions('demo/keep');
    oneSentence(await trove(['rm', 'demo/nope:v0', '--yes']), /^trove: Artifact "nope" does not exist in project "demo"; run `trove ls demo` to see its artifacts\.\n$/);
    oneSentence(await trove(['rm', 'demo/keep:v7', '--yes']), /^trove: Version v7 of "demo\/keep" does not exist/);
    oneSentence(await trove(['rm', 'demo/keep:gold', '--yes']), /^trove: Alias "gold" does not exist on "demo\/keep"/);
    oneSentence(await trove(['rm', 'demo/keep:v0', '--yes']), /^trove: demo\/keep:v0 has the protected alias "production", so it is not deleted; remove the alias first \(trove alias rm demo\/keep production\) and delete again\.\n$/);
    oneSentence(await trove(['rm', 'demo/keep', '--yes']), /protected alias "production"/);
    oneSentence(await trove(['rm', 'demo/keep:v1']), /^trove: Not deleting demo\/keep:v1 without a confirmation, and stdin is not a terminal to ask on; add --yes to delete it\.\n$/);
    assert.equal((await trove(['log', data, '--name', 'spare', '--type', 'model'])).code, 0);
    oneSentence(await trove(['rm', 'demo/spare']), /^trove: Not deleting demo\/spare and its only version without a confirmation, and stdin is not a terminal/);
    assert.equal((await versions('demo/spare')).length, 1);
    oneSentence(await trove(['rm', 'demo//keep:v1', '--yes']), /^trove: Invalid reference "demo\/\/keep:v1"/);
    oneSentence(await trove(['rm', 'demo/keep:', '--yes']), /^trove: Invalid reference/);
    oneSentence(await trove(['rm', 'demo/ke ep', '--yes']), /^trove: Invalid artifact name/);
    oneSentence(await trove(['rm', '--yes']), /^trove: Expected trove rm/);
    oneSentence(await trove(['rm', 'demo/keep:v1', 'demo/keep:v0', '--yes']), /^trove: Expected trove rm/);
    // Another list of protected aliases (the variable) protects what it names, and only that.
    await trove(['alias', 'add', 'demo/keep:v1', 'gold']);
    oneSentence(await trove(['rm', 'demo/keep:v1', '--yes'], { TROVE_PROTECTED_ALIASES: 'gold,production' }), /protected alias "gold"/);
    oneSentence(await trove(['rm', 'demo/keep:v1', '--yes'], { TROVE_PROTECTED_ALIASES: 'not an alias!' }), /^trove: TROVE_PROTECTED_ALIASES holds "alias!", which is not an alias; list aliases separated by commas, for example production,staging\.\n$/);
    const after = await versions('demo/keep');
    assert.deepEqual(after.map((v: [number, string[]]) => v[0]), before.map((v: [number, string[]]) => v[0]), 'nothing was deleted');
    oneSentence(await trove(['restore', 'demo/keep:v1']), /^trove: demo\/keep:v1 is not deleted; there is nothing to restore\.\n$/);
    oneSentence(await trove(['restore', 'demo/keep:latest']), /^trove: Name the deleted version by its number/);
  });

  test('the confirmation names what goes; no deletes nothing, yes deletes; restore undoes; lineage keeps the tombstone; gc frees the content', async () => {
    const raw = writeTree(join(t.dir, 'raw'), { 'r.csv': 'a,b' });
    assert.equal((await trove(['log', raw, '--name', 'raw-data', '--type', 'dataset'])).code, 0);
    const model = writeTree(join(t.dir, 'model'), { 'w.bin': 'weights zero' });
    const run = JSON.parse((await trove(['run', '--job-type', 'train', '--json', '--', process.execPath, CLI, 'download', 'raw-data:v0', '--root', join(t.dir, 'dl')])).stdout.trim().split('\n').pop()!);
    assert.equal(run.exitCode, 0);
    assert.equal((await trove(['log', model, '--name', 'mnist-cnn', '--type', 'model', '--alias', 'best'])).code, 0);
    writeFileSync(join(model, 'w.bin'), 'weights one');
    assert.equal((await trove(['log', model, '--name', 'mnist-cnn', '--type', 'model'])).code, 0);

    const no = onTerminal(['rm', 'mnist-cnn:v1'], 'n');
    assert.equal(no.status, 1, no.stdout);
    assert.match(no.stdout, /Delete demo\/mnist-cnn:v1 \(aliases latest; 1 file, 11 B\); latest moves to v0\? \[y\/N\]/);
    assert.match(no.stdout, /nothing deleted/);
    assert.deepEqual(await versions('demo/mnist-cnn'), [[1, ['latest']], [0, ['best']]]);

    const yes = onTerminal(['rm', 'mnist-cnn:v1'], 'y');
    assert.equal(yes.status, 0, yes.stdout);
    assert.match(yes.stdout, /Deleted demo\/mnist-cnn:v1; latest names v0\. Until `trove gc` frees its content, `trove restore demo\/mnist-cnn:v1` brings it back\./);
    assert.deepEqual(await versions('demo/mnist-cnn'), [[0, ['latest', 'best']]]);
    const shown = await trove(['show', 'mnist-cnn:v1']);
    assert.equal(shown.code, 1);
    assert.match(shown.stderr, /^trove: Version demo\/mnist-cnn:v1 was deleted on \d{4}-\d\d-\d\d; run `trove ls demo\/mnist-cnn` to see the versions left\.\n$/);

    const back = await trove(['restore', 'mnist-cnn:v1']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, 'Restored demo/mnist-cnn:v1 with its aliases latest.\n');
    assert.deepEqual(await versions('demo/mnist-cnn'), [[1, ['latest']], [0, ['best']]]);

    // The whole artifact, with --yes; the run that used it still names it.
    const gone = await trove(['rm', 'raw-data', '--yes', '--json']);
    assert.equal(gone.code, 0, gone.stderr);
    assert.deepEqual(JSON.parse(gone.stdout), { project: 'demo', name: 'raw-data', deleted: [{ version: 0, aliases: ['latest'] }] });
    const lineage = await trove(['lineage', 'raw-data:v0', '--depth', '1']);
    assert.equal(lineage.code, 0, lineage.stderr);
    assert.match(lineage.stdout, /^raw-data:v0 \(deleted\) -> \[run train: /m);
    const ls = JSON.parse((await trove(['ls', 'demo', '--json'])).stdout);
    assert.ok(!ls.some((a: { name: string }) => a.name === 'raw-data'), 'a deleted artifact leaves the listing');
    assert.ok(ls.some((a: { name: string }) => a.name === 'mnist-cnn'));

    const gc = await trove(['gc', '--min-age', '0', '--json']);
    assert.equal(gc.code, 0, gc.stderr);
    assert.ok(JSON.parse(gc.stdout).blobs >= 1, gc.stdout);
    const late = await trove(['restore', 'raw-data:v0']);
    assert.equal(late.code, 1);
    assert.match(late.stderr, /^trove: demo\/raw-data:v0 cannot be restored: gc has freed its content; log its files again to make a new version\.\n$/);
  });
});

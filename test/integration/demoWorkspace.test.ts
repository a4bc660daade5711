/**
 * The demo workspace that `npm start` opens and the VS Code tests use: built by the real CLI
 * (dist/cli.js) inside a git repository, it must hold the pipeline the extension's tests expect.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseRef } from '../../src/core/names';
import { LocalRegistry } from '../../src/store/localRegistry';
import { ensureBuilt } from '../helpers';

const ROOT = resolve(__dirname, '..', '..');

describe('demo workspace (test/e2e/make-demo.sh)', () => {
  let dir: string;
  let registry: LocalRegistry;
  const trove = (...args: string[]) => JSON.parse(execFileSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args, '--json'], {
    encoding: 'utf8', env: { ...process.env, TROVE_STORE: join(dir, 'store'), TROVE_RUN_ID: '' },
  }));

  before(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'trove-demo-test-'));
    execFileSync('bash', [join(ROOT, 'test', 'e2e', 'make-demo.sh'), dir], { stdio: 'pipe' });
    registry = new LocalRegistry(join(dir, 'store'));
  });

  after(async () => {
    await registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('holds two projects and the pipeline artifacts', () => {
    assert.deepEqual(trove('ls').map((p: { name: string }) => p.name), ['mnist-demo', 'sandbox']);
    const artifacts = trove('ls', 'mnist-demo').map((a: { name: string; type: string; versions: number }) => `${a.name}:${a.type}:${a.versions}`);
    assert.deepEqual(artifacts, ['mnist-ckpt:model:7', 'mnist-cnn:model:2', 'processed-data:dataset:1', 'raw-data:dataset:1']);
    const cnn = trove('ls', 'mnist-demo/mnist-cnn');
    assert.deepEqual(cnn.map((v: { version: number; aliases: string[] }) => [v.version, v.aliases]), [[1, ['latest', 'best']], [0, []]]);
  });

  test('lineage links raw data -> preprocess -> processed data -> trainings and the sweep', () => {
    const g = trove('lineage', 'mnist-demo/processed-data:v0', '--depth', '3');
    const label = new Map(g.nodes.map((n: { id: string; label: string }) => [n.id, n.label]));
    const edges = g.edges.map((e: { from: string; to: string }) => `${label.get(e.from)} -> ${label.get(e.to)}`);
    for (const e of ['ingest: ingest-raw -> raw-data:v0', 'raw-data:v0 -> preprocess: preprocess', 'preprocess: preprocess -> processed-data:v0',
      'processed-data:v0 -> train: train-lr-0.01', 'train: train-lr-0.01 -> mnist-cnn:v0', 'train: train-lr-0.003 -> mnist-cnn:v1', 'sweep: lr-sweep -> mnist-ckpt:v6']) {
      assert.ok(edges.includes(e), `${e} in ${edges.join('; ')}`);
    }
    assert.equal(g.nodes.length, 16);
  });

  test('every run recorded git provenance, and the second training a newer commit', async () => {
    const v0 = await registry.getVersion(parseRef('mnist-demo/mnist-cnn:v0'));
    const v1 = await registry.getVersion(parseRef('mnist-demo/mnist-cnn:v1'));
    const [r0, r1] = await Promise.all([registry.getRun(v0.createdBy!.runId), registry.getRun(v1.createdBy!.runId)]);
    assert.match(r0.git?.commit ?? '', /^[0-9a-f]{40}$/);
    assert.match(r1.git?.commit ?? '', /^[0-9a-f]{40}$/);
    assert.notEqual(r0.git!.commit, r1.git!.commit);
    assert.equal(r1.git!.branch, 'main');
    assert.equal(r1.git!.dirty, false);
    assert.deepEqual(v1.metadata, { lr: 0.003, epochs: 3, accuracy: 0.94 });
  });
});

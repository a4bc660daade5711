import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LineageGraph, LineageNode } from '../../src/core/types';
import { parseRef } from '../../src/core/names';
import { clusterId, expandOneHop, facets, filterGraph, foldClusters, mergeGraphs, refOfVersionNode } from '../../src/shared/lineageGraph';
import { LocalRegistry } from '../../src/store/localRegistry';

const version = (name: string, v: number, type = 'model'): LineageNode => ({ id: `version:p/${name}:v${v}`, kind: 'version', label: `${name}:v${v}`, project: 'p', name, version: v, type });
const run = (id: string, jobType = 'train'): LineageNode => ({ id: `run:${id}`, kind: 'run', label: `${jobType}: ${id}`, jobType, runId: id });

/** A sweep run that produced `n` checkpoints from one dataset. */
function sweep(n: number): LineageGraph {
  const nodes = [version('data', 0, 'dataset'), run('sweep', 'sweep')];
  const edges = [{ from: 'version:p/data:v0', to: 'run:sweep' }];
  for (let i = 0; i < n; i++) {
    nodes.push(version('ckpt', i));
    edges.push({ from: 'run:sweep', to: `version:p/ckpt:v${i}` });
  }
  return { nodes, edges };
}

describe('foldClusters', () => {
  test('keeps up to 5 versions of one artifact from one run as they are', () => {
    const g = sweep(5);
    assert.deepEqual(foldClusters(g), g);
  });

  test('folds more than 5 into one cluster node with redirected edges', () => {
    const g = sweep(7);
    g.nodes.push(run('eval', 'evaluate'));
    g.edges.push({ from: 'version:p/ckpt:v3', to: 'run:eval' });
    const folded = foldClusters(g);
    const id = clusterId('run:sweep', 'p/ckpt');
    const cluster = folded.nodes.find((n) => n.id === id);
    assert.ok(cluster);
    assert.equal(cluster.label, 'ckpt ×7 (v0–v6)');
    assert.equal(cluster.members?.length, 7);
    assert.equal(folded.nodes.filter((n) => n.name === 'ckpt').length, 1);
    assert.deepEqual(folded.edges.map((e) => `${e.from}>${e.to}`).sort(), [
      `${id}>run:eval`, `run:sweep>${id}`, 'version:p/data:v0>run:sweep',
    ].sort());
  });

  test('an expanded cluster shows its members again', () => {
    const g = sweep(8);
    const id = clusterId('run:sweep', 'p/ckpt');
    assert.deepEqual(foldClusters(g, { expandedClusters: new Set([id]) }), g);
  });

  test('versions of different artifacts or different runs do not fold together', () => {
    const g = sweep(3);
    for (let i = 0; i < 4; i++) {
      g.nodes.push(version('other', i));
      g.edges.push({ from: 'run:sweep', to: `version:p/other:v${i}` });
    }
    assert.equal(foldClusters(g).nodes.length, g.nodes.length);
  });
});

describe('filterGraph and facets', () => {
  test('hides run and version types and the edges that touch them, but never the focus', () => {
    const g = sweep(2);
    assert.deepEqual(facets(g), { types: ['dataset', 'model'], jobTypes: ['sweep'] });
    const noModels = filterGraph(g, { hiddenTypes: new Set(['model']), hiddenJobTypes: new Set() });
    assert.deepEqual(noModels.nodes.map((n) => n.id), ['version:p/data:v0', 'run:sweep']);
    assert.equal(noModels.edges.length, 1);
    const noSweep = filterGraph(g, { hiddenTypes: new Set(['dataset']), hiddenJobTypes: new Set(['sweep']) }, 'version:p/data:v0');
    assert.deepEqual(noSweep.nodes.map((n) => n.id), ['version:p/data:v0', 'version:p/ckpt:v0', 'version:p/ckpt:v1']);
    assert.equal(noSweep.edges.length, 0);
  });
});

describe('mergeGraphs', () => {
  test('unions nodes and deduplicates edges', () => {
    const a = sweep(1);
    const b = sweep(2);
    const m = mergeGraphs(a, b);
    assert.equal(m.nodes.length, 4);
    assert.equal(m.edges.length, 3);
    assert.equal(refOfVersionNode('version:p/x:v2'), 'p/x:v2');
    assert.equal(refOfVersionNode('run:abc'), undefined);
  });
});

describe('expandOneHop against a real embedded store', () => {
  let dir: string;
  let registry: LocalRegistry;
  const ids: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trove-lineage-'));
    registry = new LocalRegistry(join(dir, 'store'));
    let n = 0;
    const commit = async (name: string, type: string, runId: string) => {
      const file = join(dir, `f${n++}`);
      writeFileSync(file, `${name} ${n}`);
      const [s] = await registry.storeFiles([{ path: 'f.txt', absPath: file, size: Buffer.byteLength(`${name} ${n}`) }]);
      return registry.commitVersion({ project: 'p', name, type, manifest: { 'f.txt': { digest: s.digest, size: s.size } }, aliases: [], runId });
    };
    // raw -> prep -> clean -> train -> model, and prep also writes a report.
    const ingest = await registry.createRun({ project: 'p', jobType: 'ingest' });
    await commit('raw', 'dataset', ingest.id);
    const prep = await registry.createRun({ project: 'p', jobType: 'prep' });
    await registry.recordUse(prep.id, { project: 'p', name: 'raw', version: 0 });
    await commit('clean', 'dataset', prep.id);
    await commit('report', 'report', prep.id);
    const train = await registry.createRun({ project: 'p', jobType: 'train' });
    await registry.recordUse(train.id, { project: 'p', name: 'clean', version: 0 });
    await commit('model', 'model', train.id);
    Object.assign(ids, { ingest: `run:${ingest.id}`, prep: `run:${prep.id}`, train: `run:${train.id}` });
  });

  after(async () => {
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const fetch = (nodeId: string, depth: number) => registry.lineage(parseRef(refOfVersionNode(nodeId)!), depth);
  const nodeIds = (g: LineageGraph) => g.nodes.map((n) => n.id).sort();

  test('a version expands one hop up to its producer and down to its consumers', async () => {
    const start = await registry.lineage(parseRef('p/clean:v0'), 0);
    assert.deepEqual(nodeIds(start), ['version:p/clean:v0']);
    const up = await expandOneHop(start, 'version:p/clean:v0', 'up', fetch);
    assert.deepEqual(nodeIds(up), [ids.prep, 'version:p/clean:v0'].sort());
    const down = await expandOneHop(up, 'version:p/clean:v0', 'down', fetch);
    assert.deepEqual(nodeIds(down), [ids.prep, ids.train, 'version:p/clean:v0'].sort());
    assert.ok(down.edges.some((e) => e.from === 'version:p/clean:v0' && e.to === ids.train));
  });

  test('a run expands up to its inputs and down to all its outputs', async () => {
    let g = await registry.lineage(parseRef('p/clean:v0'), 0);
    g = await expandOneHop(g, 'version:p/clean:v0', 'up', fetch);
    const down = await expandOneHop(g, ids.prep, 'down', fetch);
    assert.deepEqual(nodeIds(down), [ids.prep, 'version:p/clean:v0', 'version:p/report:v0'].sort());
    const up = await expandOneHop(down, ids.prep, 'up', fetch);
    assert.deepEqual(nodeIds(up), [ids.prep, 'version:p/clean:v0', 'version:p/raw:v0', 'version:p/report:v0'].sort());
    assert.ok(up.edges.some((e) => e.from === 'version:p/raw:v0' && e.to === ids.prep));
    assert.ok(!up.nodes.some((n) => n.id === ids.ingest), 'only one hop');
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LineageGraph, LineageNode } from '../../src/core/types';
import { parseRef } from '../../src/core/names';
import { clusterGroups, clusterId, expandNode, facets, filterGraph, foldClusters, mergeGraphs, nodeCategory, refOfVersionNode, runInputsOutputs } from '../../src/shared/lineageGraph';
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

  test('an expanded cluster shows its members again, and folds back when closed', () => {
    const g = sweep(8);
    const id = clusterId('run:sweep', 'p/ckpt');
    assert.deepEqual(foldClusters(g, { expandedClusters: new Set([id]) }), g);
    assert.deepEqual([...clusterGroups(g).keys()], [id]);
    assert.equal(clusterGroups(g).get(id)!.length, 8);
    assert.equal(foldClusters(g, { expandedClusters: new Set() }).nodes.filter((n) => n.members).length, 1);
  });

  test('the version a view is about is never folded away', () => {
    const g = sweep(7);
    const folded = foldClusters(g, { keep: 'version:p/ckpt:v3' });
    assert.ok(folded.nodes.some((n) => n.id === 'version:p/ckpt:v3'));
    assert.equal(folded.nodes.find((n) => n.members)?.members?.length, 6);
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
  test('hides run and version types; what hangs only on a hidden node goes too; the focus stays', () => {
    const g = sweep(2);
    assert.deepEqual(facets(g), { types: ['dataset', 'model'], jobTypes: ['sweep'], viewOnly: 0 });
    const noModels = filterGraph(g, { hiddenTypes: new Set(['model']), hiddenJobTypes: new Set() });
    assert.deepEqual(noModels.nodes.map((n) => n.id), ['version:p/data:v0', 'run:sweep']);
    assert.equal(noModels.edges.length, 1);
    // Hiding the sweep bridges data -> checkpoints instead of leaving them unconnected.
    const noSweep = filterGraph(g, { hiddenTypes: new Set(), hiddenJobTypes: new Set(['sweep']) }, 'version:p/data:v0');
    assert.deepEqual(noSweep.nodes.map((n) => n.id), ['version:p/data:v0', 'version:p/ckpt:v0', 'version:p/ckpt:v1']);
    assert.deepEqual(noSweep.edges, [
      { from: 'version:p/data:v0', to: 'version:p/ckpt:v0', bridged: true },
      { from: 'version:p/data:v0', to: 'version:p/ckpt:v1', bridged: true },
    ]);
    // Hiding the dataset type (but not the focus) keeps the focus and what connects to it.
    const focusKept = filterGraph(g, { hiddenTypes: new Set(['dataset']), hiddenJobTypes: new Set(['sweep']) }, 'version:p/data:v0');
    assert.deepEqual(focusKept.nodes.map((n) => n.id), ['version:p/data:v0', 'version:p/ckpt:v0', 'version:p/ckpt:v1']);
  });

  test('no orphan: a node whose only link was hidden disappears with it', () => {
    // data -> train -> model -> eval; hiding models leaves eval connected to nothing shown but through the model.
    const g: LineageGraph = {
      nodes: [version('data', 0, 'dataset'), run('train'), version('model', 0), run('eval', 'evaluate'), version('report', 0, 'report')],
      edges: [
        { from: 'version:p/data:v0', to: 'run:train' }, { from: 'run:train', to: 'version:p/model:v0' },
        { from: 'version:p/model:v0', to: 'run:eval' }, { from: 'run:eval', to: 'version:p/report:v0' },
      ],
    };
    const bridged = filterGraph(g, { hiddenTypes: new Set(['model']), hiddenJobTypes: new Set() }, 'version:p/data:v0');
    assert.deepEqual(bridged.edges.find((e) => e.bridged), { from: 'run:train', to: 'run:eval', bridged: true });
    assert.equal(bridged.nodes.length, 4);
    // Hiding evaluate runs and models: the report hangs on nothing shown and goes as well.
    const cut = filterGraph(g, { hiddenTypes: new Set(['model']), hiddenJobTypes: new Set(['evaluate']) }, 'version:p/data:v0');
    assert.deepEqual(cut.nodes.map((n) => n.id), ['version:p/data:v0', 'run:train', 'version:p/report:v0']);
    assert.deepEqual(cut.edges.find((e) => e.to === 'version:p/report:v0'), { from: 'run:train', to: 'version:p/report:v0', bridged: true });
    const alone = filterGraph(g, { hiddenTypes: new Set(), hiddenJobTypes: new Set(['train']) }, 'version:p/model:v0');
    assert.ok(alone.nodes.every((n) => n.id !== 'version:p/data:v0') || alone.edges.some((e) => e.from === 'version:p/data:v0'), 'data is bridged or gone, never alone');
  });

  test('view-only downloads are hidden unless asked for, and counted', () => {
    const g = sweep(1);
    g.nodes.push({ ...run('dl', 'download'), viewOnly: true });
    g.edges.push({ from: 'version:p/data:v0', to: 'run:dl' });
    assert.equal(facets(g).viewOnly, 1);
    assert.deepEqual(facets(g).jobTypes, ['sweep']);
    assert.ok(!filterGraph(g, { hiddenTypes: new Set(), hiddenJobTypes: new Set() }).nodes.some((n) => n.id === 'run:dl'));
    assert.ok(filterGraph(g, { hiddenTypes: new Set(), hiddenJobTypes: new Set(), showViewOnly: true }).nodes.some((n) => n.id === 'run:dl'));
  });

  test('categories: datasets, models, other types, runs', () => {
    assert.equal(nodeCategory(version('a', 0, 'dataset')), 'dataset');
    assert.equal(nodeCategory(version('a', 0, 'model')), 'model');
    assert.equal(nodeCategory(version('a', 0, 'report')), 'other');
    assert.equal(nodeCategory(run('x')), 'run');
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

  const fetch = (nodeId: string, depth: number, connected?: boolean) => registry.lineage(parseRef(refOfVersionNode(nodeId)!), depth, { connected });
  const nodeIds = (g: LineageGraph) => g.nodes.map((n) => n.id).sort();

  test('a version expands up to the run that made it and what that run used; down to its users and what they made', async () => {
    const start = await registry.lineage(parseRef('p/clean:v0'), 0);
    assert.deepEqual(nodeIds(start), ['version:p/clean:v0']);
    const up = await expandNode(start, 'version:p/clean:v0', 'up', fetch);
    assert.deepEqual(nodeIds(up.graph), [ids.prep, 'version:p/clean:v0', 'version:p/raw:v0'].sort());
    assert.deepEqual(up.added.sort(), [ids.prep, 'version:p/raw:v0'].sort());
    const down = await expandNode(up.graph, 'version:p/clean:v0', 'down', fetch);
    assert.deepEqual(down.added.sort(), [ids.train, 'version:p/model:v0'].sort());
    assert.ok(down.graph.edges.some((e) => e.from === 'version:p/clean:v0' && e.to === ids.train));
    assert.ok(down.graph.edges.some((e) => e.from === ids.train && e.to === 'version:p/model:v0'));
    const again = await expandNode(down.graph, 'version:p/clean:v0', 'down', fetch);
    assert.deepEqual(again.added, [], 'nothing more: the caller says so');
    assert.equal(again.graph.nodes.length, down.graph.nodes.length);
  });

  test('a run expands up to its inputs and down to all its outputs, siblings included', async () => {
    let g = await registry.lineage(parseRef('p/clean:v0'), 1);
    assert.deepEqual(nodeIds(g), [ids.prep, ids.train, 'version:p/clean:v0'].sort());
    const down = await expandNode(g, ids.prep, 'down', fetch);
    assert.deepEqual(down.added, ['version:p/report:v0']);
    g = down.graph;
    const up = await expandNode(g, ids.prep, 'up', fetch);
    assert.deepEqual(up.added, ['version:p/raw:v0']);
    assert.ok(up.graph.edges.some((e) => e.from === 'version:p/raw:v0' && e.to === ids.prep));
    assert.ok(!up.graph.nodes.some((n) => n.id === ids.ingest), 'only one hop');
    const ingest = await expandNode((await expandNode(up.graph, 'version:p/raw:v0', 'up', fetch)).graph, ids.ingest, 'up', fetch);
    assert.deepEqual(ingest.added, [], 'an ingest run used nothing');
  });

  test('connected lineage reaches the whole pipeline; run nodes are named after their run', async () => {
    const flow = await registry.lineage(parseRef('p/report:v0'), 50);
    assert.ok(!flow.nodes.some((n) => n.id === 'version:p/model:v0'), 'following the flow, report does not reach the model');
    const whole = await registry.lineage(parseRef('p/report:v0'), 50, { connected: true });
    assert.deepEqual(nodeIds(whole), [ids.ingest, ids.prep, ids.train, 'version:p/clean:v0', 'version:p/model:v0', 'version:p/raw:v0', 'version:p/report:v0'].sort());
    assert.deepEqual(runInputsOutputs(whole, ids.prep), { used: ['version:p/raw:v0'], made: ['version:p/clean:v0', 'version:p/report:v0'] });
    const prep = whole.nodes.find((n) => n.id === ids.prep)!;
    assert.equal(prep.label, (await registry.getRun(ids.prep.slice(4))).name);
    assert.equal(prep.jobType, 'prep');
  });

  test('a download run that made nothing is marked view-only', async () => {
    const dl = await registry.createRun({ project: 'p', jobType: 'download' });
    await registry.recordUse(dl.id, { project: 'p', name: 'model', version: 0 });
    const g = await registry.lineage(parseRef('p/model:v0'), 1);
    assert.equal(g.nodes.find((n) => n.id === `run:${dl.id}`)?.viewOnly, true);
    assert.equal(g.nodes.find((n) => n.id === ids.train)?.viewOnly, undefined);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LineageGraph } from '../../src/core/types';
import { foldClusters } from '../../src/shared/lineageGraph';
import { layoutGraph, nodeWidth, shortLabel } from '../../webview/layout';

/** One source dataset, `runs` runs using it, each producing one model: 1 + 2 * runs nodes. */
function star(runs: number): LineageGraph {
  const g: LineageGraph = { nodes: [{ id: 'version:p/src:v0', kind: 'version', label: 'src:v0', project: 'p', name: 'src', version: 0, type: 'dataset' }], edges: [] };
  for (let i = 0; i < runs; i++) {
    g.nodes.push({ id: `run:r${i}`, kind: 'run', label: `train: trial-${i}`, jobType: 'train', runId: `r${i}` });
    g.nodes.push({ id: `version:p/m${i}:v0`, kind: 'version', label: `m${i}:v0`, project: 'p', name: `m${i}`, version: 0, type: 'model' });
    g.edges.push({ from: 'version:p/src:v0', to: `run:r${i}` }, { from: `run:r${i}`, to: `version:p/m${i}:v0` });
  }
  return g;
}

describe('lineage layout (dagre)', () => {
  test('places data flow left to right without overlapping nodes', () => {
    const layout = layoutGraph(star(3));
    const x = (id: string) => layout.nodes.find((n) => n.node.id === id)!.x;
    assert.ok(x('version:p/src:v0') < x('run:r0') && x('run:r0') < x('version:p/m0:v0'));
    const boxes = layout.nodes.map((n) => ({ l: n.x - n.width / 2, r: n.x + n.width / 2, t: n.y - n.height / 2, b: n.y + n.height / 2 }));
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        assert.ok(a.r <= b.l || b.r <= a.l || a.b <= b.t || b.b <= a.t, `nodes ${i} and ${j} overlap`);
      }
    }
    assert.equal(layout.edges.length, 6);
    assert.ok(layout.edges.every((e) => e.points.length >= 2));
  });

  test('lays out 501 nodes in well under a second', () => {
    const g = star(250);
    const t0 = performance.now();
    const layout = layoutGraph(foldClusters(g));
    const ms = performance.now() - t0;
    console.log(`# layout of ${layout.nodes.length} nodes and ${layout.edges.length} edges: ${ms.toFixed(0)} ms`);
    assert.equal(layout.nodes.length, 501);
    assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
  });

  test('long labels are shortened and widths follow the label', () => {
    const long = 'x'.repeat(60);
    assert.equal(shortLabel(long).length, 40);
    assert.ok(shortLabel(long).endsWith('…'));
    assert.ok(nodeWidth({ id: 'a', kind: 'run', label: long }) > nodeWidth({ id: 'b', kind: 'run', label: 'short' }));
  });
});

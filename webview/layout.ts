/**
 * Lays the lineage DAG out left to right with dagre (data flows input version -> run -> output
 * version). Pure: no DOM, so unit tests time it under Node.
 */
import dagre from '@dagrejs/dagre';
import type { ViewGraph, ViewNode } from '../src/shared/lineageGraph';

export interface PlacedNode {
  node: ViewNode;
  /** Centre. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  points: { x: number; y: number }[];
}

export interface Layout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

export const NODE_HEIGHT = 34;
const CHAR_WIDTH = 7;
const MAX_LABEL = 40;

/** Labels longer than this are cut with an ellipsis (the details pane shows the full text). */
export function shortLabel(label: string): string {
  return label.length > MAX_LABEL ? `${label.slice(0, MAX_LABEL - 1)}…` : label;
}

export function nodeWidth(n: ViewNode): number {
  return Math.max(90, shortLabel(n.label).length * CHAR_WIDTH + 36);
}

export function layoutGraph(graph: ViewGraph): Layout {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 56, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, { width: nodeWidth(n), height: NODE_HEIGHT });
  for (const e of graph.edges) if (g.hasNode(e.from) && g.hasNode(e.to)) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const nodes = graph.nodes.map((node) => {
    const p = g.node(node.id);
    return { node, x: p.x, y: p.y, width: p.width, height: p.height };
  });
  const edges = g.edges().map((e) => ({ from: e.v, to: e.w, points: (g.edge(e).points ?? []).map((p) => ({ x: p.x, y: p.y })) }));
  const size = g.graph();
  return { nodes, edges, width: size.width ?? 0, height: size.height ?? 0 };
}

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

/** Node labels (the name) and sub-labels (type or job type), in graph units (px at scale 1). */
export const LABEL_PX = 14;
export const SUB_PX = 12;
/** At Fit, text is never drawn smaller than this on screen; larger graphs show a part and an overview. */
export const MIN_SCREEN_PX = 11;
export const MIN_FIT_SCALE = MIN_SCREEN_PX / Math.min(LABEL_PX, SUB_PX);
/** Fit does not blow a small graph up beyond this. */
export const MAX_FIT_SCALE = 1.3;
export const NODE_HEIGHT = 46;
/** Room left of the text for the colour band and the icon. */
export const TEXT_X = 36;
const LABEL_CHAR = 8.2;
const SUB_CHAR = 7;
const MAX_LABEL = 40;

/** Labels longer than this are cut with an ellipsis (the details pane shows the full text). */
export function shortLabel(label: string): string {
  return label.length > MAX_LABEL ? `${label.slice(0, MAX_LABEL - 1)}…` : label;
}

/** What the second line of a node says: the artifact type, the run's job type, or the count of a cluster. */
export function subLabel(n: ViewNode): string {
  if (n.members) return `${n.type ?? 'artifact'} · ${n.members.length} versions`;
  if (n.kind === 'run') return n.viewOnly ? 'download (view only)' : `${n.jobType ?? 'run'} run`;
  return n.deleted ? `${n.type ?? 'artifact'} · deleted` : n.type ?? 'artifact';
}

export function nodeWidth(n: ViewNode): number {
  return Math.ceil(Math.max(110, TEXT_X + 12 + Math.max(shortLabel(n.label).length * LABEL_CHAR, subLabel(n).length * SUB_CHAR)));
}

export interface Layout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
  /** LR: data flows left to right; TB: top to bottom. */
  direction: 'LR' | 'TB';
}

/** Graphs up to this size are laid out both ways and the one that fits the canvas larger wins. */
const ADAPTIVE_MAX_NODES = 200;

/**
 * Lays the graph out left to right, or, when a canvas size is given and the graph is small, top to
 * bottom instead if that shows it larger (a long pipeline in a wide pane would be a thin strip).
 */
export function layoutGraph(graph: ViewGraph, canvas?: { width: number; height: number }): Layout {
  const lr = layoutDirected(graph, 'LR');
  if (!canvas || !canvas.width || !canvas.height || graph.nodes.length > ADAPTIVE_MAX_NODES) return lr;
  const scale = (l: Layout) => Math.min(MAX_FIT_SCALE, canvas.width / l.width, canvas.height / l.height);
  const tb = layoutDirected(graph, 'TB');
  return scale(tb) > scale(lr) * 1.05 ? tb : lr;
}

function layoutDirected(graph: ViewGraph, direction: 'LR' | 'TB'): Layout {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph(direction === 'LR'
    ? { rankdir: 'LR', nodesep: 16, ranksep: 56, marginx: 20, marginy: 20 }
    : { rankdir: 'TB', nodesep: 24, ranksep: 44, marginx: 20, marginy: 20 });
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
  return { nodes, edges, width: size.width ?? 0, height: size.height ?? 0, direction };
}

/**
 * Pure graph operations behind the lineage view: merging graphs, expanding one hop around a node,
 * folding many versions of one artifact made by one run into a cluster, and filtering by artifact
 * type and job type. No `vscode`, no DOM: the extension and the webview both use it, and unit
 * tests pin it under plain Node.
 */
import type { LineageEdge, LineageGraph, LineageNode } from '../core/types';
import type { ExpandDirection } from './lineageProtocol';

/** A run folding more versions of one artifact than this shows them as one cluster node. */
export const CLUSTER_THRESHOLD = 5;

export interface ViewNode extends LineageNode {
  /** Cluster nodes only: the ids of the version nodes folded into it. */
  members?: string[];
}

export interface ViewGraph {
  nodes: ViewNode[];
  edges: LineageEdge[];
}

const edgeKey = (e: LineageEdge) => `${e.from}>${e.to}`;

/** Union of two graphs; nodes keep the first description seen, edges are deduplicated. */
export function mergeGraphs(a: LineageGraph, b: LineageGraph): LineageGraph {
  const nodes = new Map(a.nodes.map((n) => [n.id, n]));
  for (const n of b.nodes) if (!nodes.has(n.id)) nodes.set(n.id, n);
  const edges = new Map(a.edges.map((e) => [edgeKey(e), e]));
  for (const e of b.edges) edges.set(edgeKey(e), e);
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

/** Fetches the lineage around a version node id (`version:P/N:vK`) to a depth. */
export type LineageFetcher = (versionNodeId: string, depth: number) => Promise<LineageGraph>;

/**
 * Adds the nodes one hop up (producers / inputs) or down (consumers / outputs) of `nodeId`.
 * The backend answers lineage queries from versions only, so a run is expanded through a
 * version next to it: its outputs reveal its inputs two hops up, its inputs reveal its outputs
 * two hops down (a run without inputs, such as an ingest, keeps the outputs already shown).
 * Only edges that touch `nodeId` in the asked direction are kept.
 */
export async function expandOneHop(graph: LineageGraph, nodeId: string, direction: ExpandDirection, fetch: LineageFetcher): Promise<LineageGraph> {
  const node = graph.nodes.find((n) => n.id === nodeId);
  if (!node) return graph;
  const touching = (g: LineageGraph) => {
    const edges = g.edges.filter((e) => (direction === 'up' ? e.to === nodeId : e.from === nodeId));
    const ids = new Set(edges.map((e) => (direction === 'up' ? e.from : e.to)));
    return { nodes: g.nodes.filter((n) => ids.has(n.id)), edges };
  };
  if (node.kind === 'version') return mergeGraphs(graph, touching(await fetch(nodeId, 1)));

  let known = graph;
  const outputs = () => known.edges.filter((e) => e.from === nodeId).map((e) => e.to);
  const inputs = () => known.edges.filter((e) => e.to === nodeId).map((e) => e.from);
  // Any output leads two hops up to all the run's inputs (needed for 'up', and for 'down' when no
  // input is known yet); any input leads two hops down through the run to all its outputs.
  if ((direction === 'up' || inputs().length === 0) && outputs().length) known = mergeGraphs(known, await fetch(outputs()[0], 2));
  if (direction === 'down' && inputs().length) known = mergeGraphs(known, await fetch(inputs()[0], 2));
  return mergeGraphs(graph, touching(known));
}

export interface FoldOptions {
  /** Cluster ids the user opened; they show their members again. */
  expandedClusters?: ReadonlySet<string>;
  threshold?: number;
}

export const clusterId = (runId: string, artifact: string) => `cluster:${runId}|${artifact}`;

/**
 * Replaces, for each run, more than `threshold` output versions of one artifact by one cluster
 * node `name ×N (vA–vB)`. Edges to and from folded versions are redirected to the cluster.
 */
export function foldClusters(graph: LineageGraph, options: FoldOptions = {}): ViewGraph {
  const threshold = options.threshold ?? CLUSTER_THRESHOLD;
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const groups = new Map<string, { run: string; artifact: string; members: LineageNode[] }>();
  for (const e of graph.edges) {
    const from = byId.get(e.from);
    const to = byId.get(e.to);
    if (from?.kind !== 'run' || to?.kind !== 'version') continue;
    const artifact = `${to.project}/${to.name}`;
    const id = clusterId(from.id, artifact);
    const g = groups.get(id) ?? { run: from.id, artifact, members: [] };
    g.members.push(to);
    groups.set(id, g);
  }
  const foldedInto = new Map<string, string>();
  const clusters: ViewNode[] = [];
  for (const [id, g] of groups) {
    if (g.members.length <= threshold || options.expandedClusters?.has(id)) continue;
    const fresh = g.members.filter((m) => !foldedInto.has(m.id));
    if (fresh.length <= threshold) continue;
    const versions = fresh.map((m) => m.version ?? 0).sort((a, b) => a - b);
    const first = fresh[0];
    clusters.push({
      id, kind: 'version', label: `${first.name} ×${fresh.length} (v${versions[0]}–v${versions[versions.length - 1]})`,
      project: first.project, name: first.name, type: first.type, members: fresh.map((m) => m.id),
    });
    for (const m of fresh) foldedInto.set(m.id, id);
  }
  if (!clusters.length) return { nodes: graph.nodes, edges: graph.edges };
  const mapId = (id: string) => foldedInto.get(id) ?? id;
  const edges = new Map<string, LineageEdge>();
  for (const e of graph.edges) {
    const mapped = { from: mapId(e.from), to: mapId(e.to) };
    if (mapped.from !== mapped.to) edges.set(edgeKey(mapped), mapped);
  }
  return { nodes: [...graph.nodes.filter((n) => !foldedInto.has(n.id)), ...clusters], edges: [...edges.values()] };
}

export interface GraphFilter {
  /** Artifact types to hide (version and cluster nodes). */
  hiddenTypes: ReadonlySet<string>;
  /** Job types to hide (run nodes). */
  hiddenJobTypes: ReadonlySet<string>;
}

/** Drops hidden nodes and every edge that touches one; the focus node always stays. */
export function filterGraph(graph: ViewGraph, filter: GraphFilter, keepId?: string): ViewGraph {
  const visible = (n: ViewNode) => n.id === keepId
    || (n.kind === 'run' ? !filter.hiddenJobTypes.has(n.jobType ?? '') : !filter.hiddenTypes.has(n.type ?? ''));
  const nodes = graph.nodes.filter(visible);
  const ids = new Set(nodes.map((n) => n.id));
  return { nodes, edges: graph.edges.filter((e) => ids.has(e.from) && ids.has(e.to)) };
}

/** The artifact types and job types present, for the filter controls. */
export function facets(graph: LineageGraph): { types: string[]; jobTypes: string[] } {
  const types = new Set<string>();
  const jobTypes = new Set<string>();
  for (const n of graph.nodes) {
    if (n.kind === 'run' && n.jobType) jobTypes.add(n.jobType);
    if (n.kind === 'version' && n.type) types.add(n.type);
  }
  return { types: [...types].sort(), jobTypes: [...jobTypes].sort() };
}

/** `version:P/N:vK` -> `P/N:vK`, the reference the backend resolves. */
export function refOfVersionNode(nodeId: string): string | undefined {
  return nodeId.startsWith('version:') ? nodeId.slice('version:'.length) : undefined;
}

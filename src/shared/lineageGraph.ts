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

/** An edge of the view; `bridged` stands for a path through nodes the filters hide. */
export interface ViewEdge extends LineageEdge {
  bridged?: boolean;
}

export interface ViewGraph {
  nodes: ViewNode[];
  edges: ViewEdge[];
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

/**
 * Fetches the lineage around a version node id (`version:P/N:vK`) to a depth; `connected` walks
 * every node both ways (see LineageOptions).
 */
export type LineageFetcher = (versionNodeId: string, depth: number, connected?: boolean) => Promise<LineageGraph>;

/** The part of `g` reached from `nodeId` in `hops` steps along edges in one direction. */
function reach(g: LineageGraph, nodeId: string, direction: ExpandDirection, hops: number): LineageGraph {
  const ids = new Set([nodeId]);
  const edges: LineageEdge[] = [];
  let frontier = [nodeId];
  for (let h = 0; h < hops && frontier.length; h++) {
    const at = new Set(frontier);
    frontier = [];
    for (const e of g.edges) {
      const [here, there] = direction === 'up' ? [e.to, e.from] : [e.from, e.to];
      if (!at.has(here)) continue;
      edges.push(e);
      if (!ids.has(there)) {
        ids.add(there);
        frontier.push(there);
      }
    }
  }
  return { nodes: g.nodes.filter((n) => ids.has(n.id)), edges };
}

/**
 * Expands a node up (producers / inputs) or down (consumers / outputs) and says what it added.
 * A version expands two hops, so that a run comes with what it used or made: up adds the run that
 * made it and that run's inputs, down the runs that used it and their outputs. A run expands one
 * hop: up its inputs, down its outputs. The backend answers lineage queries from versions only,
 * so a run is reached through a version next to it, walked both ways (`connected`).
 * `added` is empty when there was nothing more in that direction.
 */
export async function expandNode(graph: LineageGraph, nodeId: string, direction: ExpandDirection, fetch: LineageFetcher): Promise<{ graph: LineageGraph; added: string[] }> {
  const node = graph.nodes.find((n) => n.id === nodeId);
  if (!node) return { graph, added: [] };
  let part: LineageGraph;
  if (node.kind === 'version') {
    part = reach(await fetch(nodeId, 2), nodeId, direction, 2);
  } else {
    const neighbour = graph.edges.find((e) => e.to === nodeId && e.from.startsWith('version:'))?.from
      ?? graph.edges.find((e) => e.from === nodeId && e.to.startsWith('version:'))?.to;
    if (!neighbour) return { graph, added: [] };
    part = reach(await fetch(neighbour, 2, true), nodeId, direction, 1);
  }
  const known = new Set(graph.nodes.map((n) => n.id));
  const merged = mergeGraphs(graph, part);
  return { graph: merged, added: merged.nodes.filter((n) => !known.has(n.id)).map((n) => n.id) };
}

/** The versions a run used and made, from a graph that holds all its edges. */
export function runInputsOutputs(graph: LineageGraph, runNodeId: string): { used: string[]; made: string[] } {
  return {
    used: graph.edges.filter((e) => e.to === runNodeId).map((e) => e.from).sort(),
    made: graph.edges.filter((e) => e.from === runNodeId).map((e) => e.to).sort(),
  };
}

export interface FoldOptions {
  /** Cluster ids the user opened; they show their members again. */
  expandedClusters?: ReadonlySet<string>;
  threshold?: number;
  /** A node never folded (the version the view is about). */
  keep?: string;
}

export const clusterId = (runId: string, artifact: string) => `cluster:${runId}|${artifact}`;

/**
 * The groups that fold: for each run, its output versions of one artifact when there are more
 * than `threshold` of them (cluster id -> member versions, in edge order).
 */
export function clusterGroups(graph: LineageGraph, threshold = CLUSTER_THRESHOLD): Map<string, LineageNode[]> {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const groups = new Map<string, LineageNode[]>();
  for (const e of graph.edges) {
    const from = byId.get(e.from);
    const to = byId.get(e.to);
    if (from?.kind !== 'run' || to?.kind !== 'version') continue;
    const id = clusterId(from.id, `${to.project}/${to.name}`);
    const members = groups.get(id) ?? [];
    members.push(to);
    groups.set(id, members);
  }
  for (const [id, members] of groups) if (members.length <= threshold) groups.delete(id);
  return groups;
}

/**
 * Replaces, for each run, more than `threshold` output versions of one artifact by one cluster
 * node `name ×N (vA–vB)`. Edges to and from folded versions are redirected to the cluster.
 */
export function foldClusters(graph: LineageGraph, options: FoldOptions = {}): ViewGraph {
  const threshold = options.threshold ?? CLUSTER_THRESHOLD;
  const foldedInto = new Map<string, string>();
  const clusters: ViewNode[] = [];
  for (const [id, members] of clusterGroups(graph, threshold)) {
    if (options.expandedClusters?.has(id)) continue;
    const fresh = members.filter((m) => !foldedInto.has(m.id) && m.id !== options.keep);
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
  /** Show `download` runs that produced nothing (hidden by default: they only looked at data). */
  showViewOnly?: boolean;
}

/**
 * Hides what the filter names without leaving anything dangling: a hidden node between two
 * shown ones is bridged by a dashed edge (`bridged`), and whatever is no longer connected to the
 * focus node (in either direction) is hidden too, so no orphan is left. The focus always stays.
 */
export function filterGraph(graph: ViewGraph, filter: GraphFilter, keepId?: string): ViewGraph {
  const visible = (n: ViewNode) => n.id === keepId
    || (n.kind === 'run'
      ? !filter.hiddenJobTypes.has(n.jobType ?? '') && (!n.viewOnly || !!filter.showViewOnly)
      : !filter.hiddenTypes.has(n.type ?? ''));
  const shown = new Set(graph.nodes.filter(visible).map((n) => n.id));
  if (shown.size === graph.nodes.length) return connectedTo(graph, keepId);
  const out = new Map<string, string[]>();
  for (const e of graph.edges) pushTo(out, e.from, e.to);
  const edges = new Map<string, ViewEdge>();
  for (const e of graph.edges) if (shown.has(e.from) && shown.has(e.to)) edges.set(edgeKey(e), e);
  // From each shown node, walk through hidden ones to the next shown nodes.
  for (const from of shown) {
    const seen = new Set<string>();
    const stack = (out.get(from) ?? []).filter((n) => !shown.has(n));
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const next of out.get(id) ?? []) {
        if (shown.has(next)) {
          const e = { from, to: next, bridged: true };
          if (!edges.has(edgeKey(e))) edges.set(edgeKey(e), e);
        } else stack.push(next);
      }
    }
  }
  return connectedTo({ nodes: graph.nodes.filter((n) => shown.has(n.id)), edges: [...edges.values()] }, keepId);
}

function pushTo(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The nodes and edges connected to `keepId`, ignoring direction (all of them without one). */
function connectedTo(graph: ViewGraph, keepId?: string): ViewGraph {
  if (!keepId || !graph.nodes.some((n) => n.id === keepId)) return graph;
  const adjacent = new Map<string, string[]>();
  for (const e of graph.edges) {
    pushTo(adjacent, e.from, e.to);
    pushTo(adjacent, e.to, e.from);
  }
  const reached = new Set([keepId]);
  const stack = [keepId];
  while (stack.length) for (const n of adjacent.get(stack.pop()!) ?? []) if (!reached.has(n)) reached.add(n), stack.push(n);
  if (reached.size === graph.nodes.length) return graph;
  return { nodes: graph.nodes.filter((n) => reached.has(n.id)), edges: graph.edges.filter((e) => reached.has(e.from)) };
}

/** The artifact types and job types present, and how many view-only downloads, for the filter controls. */
export function facets(graph: LineageGraph): { types: string[]; jobTypes: string[]; viewOnly: number } {
  const types = new Set<string>();
  const jobTypes = new Set<string>();
  let viewOnly = 0;
  for (const n of graph.nodes) {
    if (n.kind === 'run' && n.viewOnly) viewOnly++;
    else if (n.kind === 'run' && n.jobType) jobTypes.add(n.jobType);
    if (n.kind === 'version' && n.type) types.add(n.type);
  }
  return { types: [...types].sort(), jobTypes: [...jobTypes].sort(), viewOnly };
}

/** The colour and icon family of a node: datasets, models, other artifact types, runs. */
export type NodeCategory = 'dataset' | 'model' | 'other' | 'run';

export function nodeCategory(n: LineageNode): NodeCategory {
  if (n.kind === 'run') return 'run';
  return n.type === 'dataset' || n.type === 'model' ? n.type : 'other';
}

/** `version:P/N:vK` -> `P/N:vK`, the reference the backend resolves. */
export function refOfVersionNode(nodeId: string): string | undefined {
  return nodeId.startsWith('version:') ? nodeId.slice('version:'.length) : undefined;
}

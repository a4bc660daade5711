import type { LineageEdge, LineageGraph, LineageNode, RunRecord, VersionKey } from './types';

/** What lineage needs from a backend: the edges around one version and one run. */
export interface LineageSource {
  versionNode(key: VersionKey): Promise<{ type: string; createdBy?: string; usedBy: string[] } | undefined>;
  runNode(runId: string): Promise<{ run: RunRecord; inputs: VersionKey[]; outputs: VersionKey[] } | undefined>;
}

export const versionNodeId = (k: VersionKey) => `version:${k.project}/${k.name}:v${k.version}`;
export const runNodeId = (runId: string) => `run:${runId}`;

/**
 * Breadth-first walk `depth` hops up (producers, their inputs, …) and down (consumers, their
 * outputs, …) from one version. A hop is one edge: version -> run or run -> version.
 * Edges always point the way data flows: input version -> run -> output version.
 */
export async function buildLineage(source: LineageSource, start: VersionKey, depth: number): Promise<LineageGraph> {
  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, LineageEdge>();
  const addEdge = (from: string, to: string) => edges.set(`${from}>${to}`, { from, to });
  type Item = { kind: 'version'; key: VersionKey } | { kind: 'run'; runId: string };
  let frontier: { item: Item; dir: 'up' | 'down' | 'both' }[] = [{ item: { kind: 'version', key: start }, dir: 'both' }];
  const seen = new Set<string>();
  for (let hop = 0; hop <= depth && frontier.length; hop++) {
    const next: typeof frontier = [];
    for (const { item, dir } of frontier) {
      const id = item.kind === 'version' ? versionNodeId(item.key) : runNodeId(item.runId);
      const seenKey = `${id}|${dir}`;
      if (seen.has(seenKey)) continue;
      seen.add(seenKey);
      const expand = hop < depth;
      if (item.kind === 'version') {
        const v = await source.versionNode(item.key);
        if (!v) continue;
        nodes.set(id, { id, kind: 'version', label: `${item.key.name}:v${item.key.version}`, project: item.key.project, name: item.key.name, version: item.key.version, type: v.type });
        if (!expand) continue;
        if (dir !== 'down' && v.createdBy) {
          addEdge(runNodeId(v.createdBy), id);
          next.push({ item: { kind: 'run', runId: v.createdBy }, dir: 'up' });
        }
        if (dir !== 'up') {
          for (const runId of v.usedBy) {
            addEdge(id, runNodeId(runId));
            next.push({ item: { kind: 'run', runId }, dir: 'down' });
          }
        }
      } else {
        const r = await source.runNode(item.runId);
        if (!r) continue;
        nodes.set(id, { id, kind: 'run', label: `${r.run.jobType}: ${r.run.name}`, jobType: r.run.jobType, runId: r.run.id });
        if (!expand) continue;
        if (dir !== 'down') {
          for (const k of r.inputs) {
            addEdge(versionNodeId(k), id);
            next.push({ item: { kind: 'version', key: k }, dir: 'up' });
          }
        }
        if (dir !== 'up') {
          for (const k of r.outputs) {
            addEdge(id, versionNodeId(k));
            next.push({ item: { kind: 'version', key: k }, dir: 'down' });
          }
        }
      }
    }
    frontier = next;
  }
  // Keep only edges whose ends were both reached (a hop limit can cut one off).
  const kept = [...edges.values()].filter((e) => nodes.has(e.from) && nodes.has(e.to));
  return { nodes: [...nodes.values()], edges: kept };
}

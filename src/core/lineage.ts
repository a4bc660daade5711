import type { LineageEdge, LineageGraph, LineageNode, LineageOptions, RunRecord, VersionKey } from './types';

/** What lineage needs from a backend: the edges around one version and one run. */
export interface LineageSource {
  /** `deleted`: the version is a tombstone (its node says so; its edges stay). */
  versionNode(key: VersionKey): Promise<{ type: string; createdBy?: string; usedBy: string[]; deleted?: boolean } | undefined>;
  runNode(runId: string): Promise<{ run: RunRecord; inputs: VersionKey[]; outputs: VersionKey[] } | undefined>;
}

export const versionNodeId = (k: VersionKey) => `version:${k.project}/${k.name}:v${k.version}`;
export const runNodeId = (runId: string) => `run:${runId}`;

/** What a deleted version's label ends with, wherever a face names it ("mnist-cnn:v1 (deleted)"). */
export const DELETED_SUFFIX = ' (deleted)';

/** Source reads in flight at once while a lineage is built. */
const FETCH_CONCURRENCY = 32;

function cached<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let p = map.get(key);
  if (!p) {
    p = load();
    map.set(key, p);
  }
  return p;
}

async function forEachLimit<T>(items: T[], limit: number, body: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await body(items[next++]);
  }));
}

/** The most hops any lineage query walks (the HTTP API refuses more). */
export const MAX_LINEAGE_DEPTH = 50;

/**
 * Breadth-first walk `depth` hops up (producers, their inputs, …) and down (consumers, their
 * outputs, …) from one version; with `connected`, every node is walked both ways. A hop is one
 * edge: version -> run or run -> version. Edges always point the way data flows: input version
 * -> run -> output version. Run nodes are labelled by the run's name.
 */
export async function buildLineage(source: LineageSource, start: VersionKey, depth: number, options: LineageOptions = {}): Promise<LineageGraph> {
  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, LineageEdge>();
  const addEdge = (from: string, to: string) => edges.set(`${from}>${to}`, { from, to });
  type Item = { kind: 'version'; key: VersionKey } | { kind: 'run'; runId: string };
  let frontier: { item: Item; dir: 'up' | 'down' | 'both' }[] = [{ item: { kind: 'version', key: start }, dir: 'both' }];
  const seen = new Set<string>();
  // What the source says about each node, asked once per node and many at a time (a store reads
  // files, a server queries): a 5,000-node lineage would otherwise wait for each read in turn.
  const versionInfo = new Map<string, Promise<Awaited<ReturnType<LineageSource['versionNode']>>>>();
  const runInfo = new Map<string, Promise<Awaited<ReturnType<LineageSource['runNode']>>>>();
  const info = (item: Item) => (item.kind === 'version'
    ? cached(versionInfo, versionNodeId(item.key), () => source.versionNode(item.key))
    : cached(runInfo, item.runId, () => source.runNode(item.runId)));
  for (let hop = 0; hop <= depth && frontier.length; hop++) {
    const next: typeof frontier = [];
    const todo = frontier.filter(({ item, dir: asked }) => {
      const dir = options.connected ? 'both' : asked;
      const key = `${item.kind === 'version' ? versionNodeId(item.key) : runNodeId(item.runId)}|${dir}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    await forEachLimit(todo, FETCH_CONCURRENCY, ({ item }) => info(item));
    for (const { item, dir: asked } of todo) {
      const dir = options.connected ? 'both' : asked;
      const id = item.kind === 'version' ? versionNodeId(item.key) : runNodeId(item.runId);
      const expand = hop < depth;
      if (item.kind === 'version') {
        const v = await versionInfo.get(id)!;
        if (!v) continue;
        nodes.set(id, {
          id, kind: 'version', label: `${item.key.name}:v${item.key.version}${v.deleted ? DELETED_SUFFIX : ''}`, project: item.key.project, name: item.key.name,
          version: item.key.version, type: v.type, ...(v.deleted ? { deleted: true } : {}),
        });
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
        const r = await runInfo.get(item.runId)!;
        if (!r) continue;
        const viewOnly = r.run.jobType === 'download' && r.outputs.length === 0;
        nodes.set(id, { id, kind: 'run', label: r.run.name, jobType: r.run.jobType, runId: r.run.id, ...(viewOnly ? { viewOnly } : {}) });
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

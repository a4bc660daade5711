import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { describeError, invalid } from '../core/errors';
import { formatDate, formatSize } from '../core/format';
import { DELETED_SUFFIX, MAX_LINEAGE_DEPTH } from '../core/lineage';
import { isDeletedError } from '../core/versionRules';
import { formatRef, parseRef } from '../core/names';
import type { LineageGraph } from '../core/types';
import { expandNode, refOfVersionNode, runInputsOutputs, type LineageFetcher } from '../shared/lineageGraph';
import {
  isFromWebview, isLineageState, LINEAGE_VIEW_TYPE, type ExpandDirection, type FromWebview, type LineageState, type NodeAction, type NodeDetails,
  type ToWebview,
} from '../shared/lineageProtocol';
import { Commands } from './commandIds';
import type { Backend } from './backend';
import type { TroveLog } from './log';

/** Hops shown around the version a panel opens on. */
export const DEFAULT_DEPTH = 3;
const DETAIL_FILES = 30;
const DETAIL_RUNS = 20;

/** `p/name:v1` as `name:v1` inside project `p`. */
function shortRef(ref: string, project: string): string {
  return ref.startsWith(`${project}/`) ? ref.slice(project.length + 1) : ref;
}

/** The last render each panel reported, for the output channel and the extension-host tests. */
export interface RenderReport {
  ref: string;
  nodes: number;
  edges: number;
  layoutMs: number;
  renderMs: number;
  /** Nodes of the lineage before clusters folded and filters hid some. */
  graphNodes: number;
  /** Reading the lineage from the backend, before it went to the webview. */
  fetchMs: number;
}

/**
 * Lineage panels, one per version reference. Restored after a reload by the serializer, which
 * gets the `LineageState` the webview stored.
 */
export class LineagePanels implements vscode.Disposable, vscode.WebviewPanelSerializer<LineageState> {
  private readonly panels = new Map<string, LineagePanel>();
  private readonly rendered = new vscode.EventEmitter<RenderReport>();
  readonly onDidRender = this.rendered.event;
  private readonly registration: vscode.Disposable;

  constructor(private readonly extensionUri: vscode.Uri, private readonly backend: Backend, private readonly log: TroveLog) {
    this.registration = vscode.window.registerWebviewPanelSerializer(LINEAGE_VIEW_TYPE, this);
  }

  /** Opens (or reveals) the lineage of `ref` (`project/name:vK`). */
  show(ref: string): LineagePanel {
    const existing = this.panels.get(ref);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(LINEAGE_VIEW_TYPE, `Lineage: ${ref.slice(ref.indexOf('/') + 1)}`, vscode.ViewColumn.Active, this.webviewOptions());
    return this.track(panel, { ref, depth: DEFAULT_DEPTH, expansions: [] });
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    if (!isLineageState(state)) {
      panel.dispose(); // nothing to restore from
      return;
    }
    panel.webview.options = this.webviewOptions();
    this.track(panel, state);
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private track(panel: vscode.WebviewPanel, state: LineageState): LineagePanel {
    const lp = new LineagePanel(panel, state, this.extensionUri, this.backend, this.log, (r) => this.rendered.fire(r));
    this.panels.set(state.ref, lp);
    panel.onDidDispose(() => {
      if (this.panels.get(state.ref) === lp) this.panels.delete(state.ref);
      lp.dispose();
    });
    return lp;
  }

  dispose(): void {
    for (const p of this.panels.values()) p.panel.dispose();
    this.registration.dispose();
    this.rendered.dispose();
  }
}

export class LineagePanel implements vscode.Disposable {
  private graph: LineageGraph | undefined;
  private fetchMs = 0;
  private readonly subscriptions: vscode.Disposable[] = [];
  private disposed = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private state: LineageState,
    extensionUri: vscode.Uri,
    private readonly backend: Backend,
    private readonly log: TroveLog,
    private readonly onRendered: (r: RenderReport) => void,
  ) {
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'trove.svg');
    panel.webview.html = lineageHtml(panel.webview, extensionUri);
    this.subscriptions.push(
      panel.webview.onDidReceiveMessage((m: unknown) => {
        if (!isFromWebview(m)) {
          this.log.channel.warn(`Lineage: ignored a malformed message from the webview: ${JSON.stringify(m).slice(0, 200)}`);
          return;
        }
        void this.handle(m).catch((e) => this.fail(e));
      }),
      backend.onDidChange(() => {
        if (this.graph) void this.load().catch((e) => this.fail(e));
      }),
    );
  }

  private post(message: ToWebview): void {
    // A reload started before the panel was closed may finish after it.
    if (this.disposed) return;
    this.panel.webview.postMessage(message).then(undefined, (e) => this.log.channel.debug(`Lineage: message not delivered: ${describeError(e)}`));
  }

  private fail(e: unknown): void {
    const message = describeError(e);
    this.log.channel.error(`Lineage of ${this.state.ref}: ${message}`);
    this.post({ type: 'error', message });
  }

  private async handle(m: FromWebview): Promise<void> {
    switch (m.type) {
      case 'ready':
        await this.load();
        return;
      case 'selectNode':
        this.post({ type: 'details', details: await this.details(m.nodeId) });
        return;
      case 'expand':
        await this.expand(m.nodeId, m.direction);
        return;
      case 'action':
        await this.act(m.action, m.nodeId);
        return;
      case 'setWhole':
        this.state = { ...this.state, whole: m.whole };
        await this.load();
        return;
      case 'rendered': {
        const report = { ref: this.state.ref, nodes: m.nodes, edges: m.edges, layoutMs: m.layoutMs, renderMs: m.renderMs, graphNodes: m.graphNodes ?? m.nodes, fetchMs: this.fetchMs };
        // Developer figures: the output channel, not the panel's status line.
        this.log.info(`Lineage of ${this.state.ref}: ${report.graphNodes} nodes (${m.nodes} drawn) read in ${this.fetchMs.toFixed(0)} ms, ${m.edges} edges laid out in ${m.layoutMs.toFixed(0)} ms and rendered in ${m.renderMs.toFixed(0)} ms`);
        this.onRendered(report);
        return;
      }
      default: {
        const never: never = m;
        throw new Error(`Unhandled message ${JSON.stringify(never)}`);
      }
    }
  }

  /** Loads the graph around the panel's version (or its whole pipeline) and replays the user's expansions. */
  private async load(): Promise<void> {
    const registry = this.backend.registry;
    const t0 = performance.now();
    let graph: LineageGraph;
    if (this.state.whole) {
      graph = await registry.lineage(parseRef(this.state.ref), MAX_LINEAGE_DEPTH, { connected: true });
    } else {
      graph = await registry.lineage(parseRef(this.state.ref), this.state.depth);
      for (const x of this.state.expansions) graph = (await expandNode(graph, x.nodeId, x.direction, this.fetcher())).graph;
    }
    this.graph = graph;
    this.fetchMs = performance.now() - t0;
    this.post({ type: 'graph', graph, focusId: `version:${this.state.ref}`, state: this.state });
  }

  private fetcher(): LineageFetcher {
    return (nodeId, depth, connected) => this.backend.registry.lineage(parseRef(refOfVersionNode(nodeId)!), depth, { connected });
  }

  private async expand(nodeId: string, direction: ExpandDirection): Promise<void> {
    if (!this.graph) return;
    const { graph, added } = await expandNode(this.graph, nodeId, direction, this.fetcher());
    this.graph = graph;
    if (added.length) this.state = { ...this.state, expansions: [...this.state.expansions, { nodeId, direction }] };
    this.post({ type: 'graph', graph: this.graph, focusId: `version:${this.state.ref}`, state: this.state, expanded: { nodeId, direction, added } });
  }

  /** A button of the details pane: the same commands as the tree's context menu, on the node's version. */
  private async act(action: NodeAction, nodeId: string): Promise<void> {
    const ref = refOfVersionNode(nodeId);
    if (!ref) throw invalid(`${nodeId} is not a version; ${action} works on versions.`);
    const command = {
      download: Commands.downloadVersion, reveal: Commands.revealVersion, copyReference: Commands.copyReference,
      comparePrevious: Commands.compareWithPrevious, showLineage: Commands.showLineage,
    }[action];
    await vscode.commands.executeCommand(command, ref);
  }

  private async runName(runId: string): Promise<string> {
    const run = await this.backend.registry.getRun(runId).catch(() => undefined);
    return run ? run.name : runId;
  }

  private async details(nodeId: string): Promise<NodeDetails> {
    const registry = this.backend.registry;
    const ref = refOfVersionNode(nodeId);
    if (ref) {
      // Without its manifest: the first files come from one page of it (a version may hold a million).
      const v = await registry.getVersion(parseRef(ref), { manifest: false }).catch((e: unknown) => {
        if (isDeletedError(e)) return undefined;
        throw e;
      });
      // A tombstone: the version was deleted; its node stays so that its runs still say what they used.
      if (!v) return { nodeId, kind: 'version', title: `${ref}${DELETED_SUFFIX}`, subtitle: 'deleted version', rows: [{ label: 'Deleted', value: 'This version was deleted; runs that used or made it keep it in their lineage.' }], actions: [] };
      const run = v.createdBy ? await registry.getRun(v.createdBy.runId).catch(() => undefined) : undefined;
      const earlier = (await registry.listVersions(v.project, v.name)).some((x) => x.version < v.version);
      const first = v.files ? (await registry.manifestPage({ project: v.project, name: v.name, version: v.version }, null, DETAIL_FILES)).items : [];
      const rows = [
        { label: 'Aliases', value: v.aliases.join(', ') || '—' },
        { label: 'Size', value: `${formatSize(v.size)} in ${v.files} file${v.files === 1 ? '' : 's'}` },
        { label: 'Created', value: formatDate(v.createdAt) },
        { label: 'Digest', value: v.digest },
      ];
      if (v.description) rows.push({ label: 'Description', value: v.description });
      if (v.createdBy) rows.push({ label: 'Made by', value: `${run?.name ?? v.createdBy.runId} (${v.createdBy.jobType} run)` });
      if (run?.git) rows.push({ label: 'Git commit', value: `${run.git.commit.slice(0, 12)}${run.git.branch ? ` (${run.git.branch})` : ''}${run.git.dirty ? ', uncommitted changes' : ''}` });
      const usedBy = await Promise.all(v.usedBy.slice(0, DETAIL_RUNS).map(async (u) => ({ nodeId: `run:${u.runId}`, label: `${await this.runName(u.runId)} (${u.jobType})` })));
      if (v.usedBy.length > DETAIL_RUNS) usedBy.push({ nodeId: '', label: `… and ${v.usedBy.length - DETAIL_RUNS} more` });
      const actions: NodeAction[] = ['download', 'reveal', 'copyReference'];
      if (earlier) actions.push('comparePrevious');
      if (nodeId !== `version:${this.state.ref}`) actions.push('showLineage');
      return {
        nodeId, kind: 'version', title: formatRef(v.project, v.name, v.version), subtitle: v.type, rows, actions,
        ...(usedBy.length ? { lists: [{ label: 'Used by', items: usedBy }] } : {}),
        files: first.map((f) => ({ path: f.path, size: formatSize(f.size) })),
        moreFiles: Math.max(0, v.files - first.length),
        metadata: Object.keys(v.metadata).length ? JSON.stringify(v.metadata, null, 2) : undefined,
      };
    }
    if (nodeId.startsWith('run:')) {
      const run = await registry.getRun(nodeId.slice('run:'.length));
      const rows = [
        { label: 'Run id', value: run.id },
        { label: 'Status', value: run.status },
        { label: 'Started', value: formatDate(run.startedAt) },
        { label: 'Finished', value: run.finishedAt ? formatDate(run.finishedAt) : '—' },
        { label: 'Host', value: run.host },
      ];
      if (run.command) rows.push({ label: 'Command', value: run.command });
      if (run.git) {
        rows.push({ label: 'Git commit', value: run.git.commit });
        if (run.git.branch) rows.push({ label: 'Branch', value: run.git.branch });
        if (run.git.remote) rows.push({ label: 'Remote', value: run.git.remote });
        rows.push({ label: 'Working tree', value: run.git.dirty ? 'uncommitted changes' : 'clean' });
      }
      // Every version the run used and made: the graph around a version next to it, walked both ways.
      const neighbour = this.graph?.edges.find((e) => e.to === nodeId)?.from ?? this.graph?.edges.find((e) => e.from === nodeId)?.to;
      const around = neighbour ? await this.fetcher()(neighbour, 2, true) : { nodes: [], edges: [] };
      const { used, made } = runInputsOutputs(around, nodeId);
      const item = (id: string) => ({ nodeId: id, label: `${shortRef(refOfVersionNode(id) ?? id, run.project)}${around.nodes.find((x) => x.id === id)?.deleted ? DELETED_SUFFIX : ''}` });
      return {
        nodeId, kind: 'run', title: run.name, subtitle: `${run.jobType} run`, rows, actions: [],
        lists: [{ label: 'Used', items: used.map(item) }, { label: 'Made', items: made.map(item) }],
      };
    }
    return { nodeId, kind: 'version', title: nodeId, subtitle: '', rows: [], actions: [] };
  }

  dispose(): void {
    this.disposed = true;
    this.subscriptions.forEach((s) => s.dispose());
  }
}

/** The panel's page: strict CSP, one nonce'd script (the bundle), the stylesheet from media/. */
export function lineageHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'lineage.css'));
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta property="csp-nonce" content="${nonce}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}" nonce="${nonce}">
<title>Trove lineage</title>
</head>
<body>
<div id="toolbar" role="toolbar" aria-label="Lineage toolbar"></div>
<div id="filters" aria-label="Filters"></div>
<div id="main">
  <div id="canvas" tabindex="0" aria-label="Lineage graph"><svg id="graph" xmlns="http://www.w3.org/2000/svg"><g id="viewport"></g></svg>
    <svg id="overview" class="hidden" xmlns="http://www.w3.org/2000/svg" aria-label="Overview: click or drag to move around the graph"></svg>
  </div>
  <aside id="details" class="hidden" aria-live="polite"></aside>
</div>
<footer><div id="legend" aria-label="Legend"></div><div id="status" role="status"></div></footer>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

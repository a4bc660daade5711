import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { describeError } from '../core/errors';
import { formatRef, parseRef } from '../core/names';
import type { LineageGraph } from '../core/types';
import { formatSize } from '../core/format';
import { expandOneHop, refOfVersionNode } from '../shared/lineageGraph';
import {
  isFromWebview, isLineageState, LINEAGE_VIEW_TYPE, type ExpandDirection, type FromWebview, type LineageState, type NodeDetails, type ToWebview,
} from '../shared/lineageProtocol';
import type { Backend } from './backend';
import type { TroveLog } from './log';

/** Hops shown around the version a panel opens on. */
export const DEFAULT_DEPTH = 3;
const DETAIL_FILES = 30;

/** The last render each panel reported, for the output channel and the extension-host tests. */
export interface RenderReport {
  ref: string;
  nodes: number;
  edges: number;
  layoutMs: number;
  renderMs: number;
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
      case 'rendered': {
        const report = { ref: this.state.ref, nodes: m.nodes, edges: m.edges, layoutMs: m.layoutMs, renderMs: m.renderMs };
        this.log.info(`Lineage of ${this.state.ref}: ${m.nodes} nodes, ${m.edges} edges laid out in ${m.layoutMs.toFixed(0)} ms and rendered in ${m.renderMs.toFixed(0)} ms`);
        this.onRendered(report);
        return;
      }
      default: {
        const never: never = m;
        throw new Error(`Unhandled message ${JSON.stringify(never)}`);
      }
    }
  }

  /** Loads the graph around the panel's version and replays the user's expansions. */
  private async load(): Promise<void> {
    const registry = this.backend.registry;
    let graph = await registry.lineage(parseRef(this.state.ref), this.state.depth);
    for (const x of this.state.expansions) graph = await expandOneHop(graph, x.nodeId, x.direction, this.fetcher());
    this.graph = graph;
    this.post({ type: 'graph', graph, focusId: `version:${this.state.ref}`, state: this.state });
  }

  private fetcher() {
    return (nodeId: string, depth: number) => this.backend.registry.lineage(parseRef(refOfVersionNode(nodeId)!), depth);
  }

  private async expand(nodeId: string, direction: ExpandDirection): Promise<void> {
    if (!this.graph) return;
    this.graph = await expandOneHop(this.graph, nodeId, direction, this.fetcher());
    this.state = { ...this.state, expansions: [...this.state.expansions, { nodeId, direction }] };
    this.post({ type: 'graph', graph: this.graph, focusId: `version:${this.state.ref}`, state: this.state });
  }

  private async details(nodeId: string): Promise<NodeDetails> {
    const registry = this.backend.registry;
    const ref = refOfVersionNode(nodeId);
    if (ref) {
      const v = await registry.getVersion(parseRef(ref));
      const run = v.createdBy ? await registry.getRun(v.createdBy.runId).catch(() => undefined) : undefined;
      const paths = Object.keys(v.manifest);
      const rows = [
        { label: 'Type', value: v.type },
        { label: 'Aliases', value: v.aliases.join(', ') || '—' },
        { label: 'Size', value: `${formatSize(v.size)} in ${v.files} file${v.files === 1 ? '' : 's'}` },
        { label: 'Created', value: v.createdAt },
        { label: 'Digest', value: v.digest },
      ];
      if (v.description) rows.push({ label: 'Description', value: v.description });
      if (v.createdBy) rows.push({ label: 'Created by', value: `${v.createdBy.jobType} run ${v.createdBy.runId}` });
      if (run?.git) rows.push({ label: 'Git commit', value: `${run.git.commit.slice(0, 12)}${run.git.branch ? ` (${run.git.branch})` : ''}${run.git.dirty ? ', uncommitted changes' : ''}` });
      if (v.usedBy.length) rows.push({ label: 'Used by', value: v.usedBy.map((u) => `${u.jobType} ${u.runId}`).join(', ') });
      return {
        nodeId, kind: 'version', title: formatRef(v.project, v.name, v.version), rows,
        files: paths.slice(0, DETAIL_FILES).map((p) => ({ path: p, size: formatSize(v.manifest[p].size) })),
        moreFiles: Math.max(0, paths.length - DETAIL_FILES),
        metadata: Object.keys(v.metadata).length ? JSON.stringify(v.metadata, null, 2) : undefined,
      };
    }
    if (nodeId.startsWith('run:')) {
      const run = await registry.getRun(nodeId.slice('run:'.length));
      const rows = [
        { label: 'Job type', value: run.jobType },
        { label: 'Status', value: run.status },
        { label: 'Started', value: run.startedAt },
        { label: 'Finished', value: run.finishedAt ?? '—' },
        { label: 'Host', value: run.host },
      ];
      if (run.command) rows.push({ label: 'Command', value: run.command });
      if (run.git) {
        rows.push({ label: 'Git commit', value: run.git.commit });
        if (run.git.branch) rows.push({ label: 'Branch', value: run.git.branch });
        if (run.git.remote) rows.push({ label: 'Remote', value: run.git.remote });
        rows.push({ label: 'Working tree', value: run.git.dirty ? 'uncommitted changes' : 'clean' });
      }
      return { nodeId, kind: 'run', title: `${run.name} (${run.id})`, rows };
    }
    return { nodeId, kind: 'version', title: nodeId, rows: [{ label: 'Note', value: 'Click the cluster to show its versions.' }] };
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
  <div id="canvas" tabindex="0" aria-label="Lineage graph"><svg id="graph" xmlns="http://www.w3.org/2000/svg"><g id="viewport"></g></svg></div>
  <aside id="details" aria-live="polite"><p class="hint">Click a node for its details.</p></aside>
</div>
<div id="status" role="status"></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

/**
 * The lineage webview: receives the graph from the extension (src/shared/lineageProtocol.ts),
 * folds clusters, filters, lays it out with dagre and draws it as SVG with pan and zoom.
 */
import type { LineageGraph } from '../src/core/types';
import { facets, filterGraph, foldClusters, type ViewNode } from '../src/shared/lineageGraph';
import type { ExpandDirection, FromWebview, LineageState, NodeDetails, ToWebview } from '../src/shared/lineageProtocol';
import { layoutGraph, NODE_HEIGHT, shortLabel, type Layout } from './layout';
import { button, checkbox, divider } from './toolkit';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  setState(state: LineageState): void;
  getState(): LineageState | undefined;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const SVG = 'http://www.w3.org/2000/svg';
const $ = <T extends Element = HTMLElement>(id: string) => document.getElementById(id) as unknown as T;

const view = {
  graph: undefined as LineageGraph | undefined,
  focusId: '',
  selected: undefined as string | undefined,
  expandedClusters: new Set<string>(),
  hiddenTypes: new Set<string>(),
  hiddenJobTypes: new Set<string>(),
  layout: undefined as Layout | undefined,
  transform: { x: 0, y: 0, k: 1 },
};

// ---- toolbar ---------------------------------------------------------------------------------

const expandUp = button('◀ Expand up', { title: 'Show the producers and inputs of the selected node', onClick: () => expand('up') });
const expandDown = button('Expand down ▶', { title: 'Show the consumers and outputs of the selected node', onClick: () => expand('down') });
expandUp.disabled = true;
expandDown.disabled = true;
$('toolbar').append(
  button('Fit', { title: 'Fit the graph to the window (0)', onClick: () => fit() }),
  button('+', { title: 'Zoom in (+)', appearance: 'icon', onClick: () => zoomBy(1.25) }),
  button('−', { title: 'Zoom out (-)', appearance: 'icon', onClick: () => zoomBy(0.8) }),
  expandUp,
  expandDown,
);

function expand(direction: ExpandDirection): void {
  if (!view.selected || view.selected.startsWith('cluster:')) return;
  setStatus(`Expanding ${direction}…`);
  vscode.postMessage({ type: 'expand', nodeId: view.selected, direction });
}

function buildFilters(graph: LineageGraph): void {
  const { types, jobTypes } = facets(graph);
  const box = $('filters');
  box.replaceChildren();
  const group = (title: string, values: string[], hidden: Set<string>) => {
    if (!values.length) return;
    const label = document.createElement('span');
    label.className = 'filter-title';
    label.textContent = title;
    box.append(label);
    for (const v of values) {
      box.append(checkbox(v, !hidden.has(v), (on) => {
        if (on) hidden.delete(v);
        else hidden.add(v);
        render();
      }));
    }
  };
  group('Artifact types', types, view.hiddenTypes);
  if (types.length && jobTypes.length) box.append(divider());
  group('Job types', jobTypes, view.hiddenJobTypes);
}

// ---- drawing ---------------------------------------------------------------------------------

function svgEl<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function nodeKind(n: ViewNode): 'run' | 'version' | 'cluster' {
  return n.members ? 'cluster' : n.kind;
}

function render(): void {
  if (!view.graph) return;
  const t0 = performance.now();
  const folded = foldClusters(view.graph, { expandedClusters: view.expandedClusters });
  const shown = filterGraph(folded, { hiddenTypes: view.hiddenTypes, hiddenJobTypes: view.hiddenJobTypes }, view.focusId);
  const layout = layoutGraph(shown);
  const t1 = performance.now();
  view.layout = layout;

  const port = $<SVGGElement>('viewport');
  const defs = svgEl('defs', {});
  const marker = svgEl('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(svgEl('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }));
  defs.append(marker);
  const edges = svgEl('g', { class: 'edges' });
  for (const e of layout.edges) {
    if (!e.points.length) continue;
    const d = e.points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    edges.append(svgEl('path', { d, class: 'edge', 'marker-end': 'url(#arrow)', 'data-from': e.from, 'data-to': e.to }));
  }
  const nodes = svgEl('g', { class: 'nodes' });
  for (const p of layout.nodes) {
    const kind = nodeKind(p.node);
    const classes = ['node', `node-${kind}`];
    if (p.node.id === view.focusId) classes.push('focus');
    if (p.node.id === view.selected) classes.push('selected');
    const g = svgEl('g', { class: classes.join(' '), transform: `translate(${(p.x - p.width / 2).toFixed(1)},${(p.y - p.height / 2).toFixed(1)})`, 'data-id': p.node.id, 'data-kind': kind, tabindex: 0, role: 'button' });
    const title = svgEl('title', {});
    title.textContent = kind === 'run' ? `run ${p.node.label}` : kind === 'cluster' ? `${p.node.label}: click to show each version` : `${p.node.project}/${p.node.label} (${p.node.type})`;
    const rx = kind === 'run' ? 4 : NODE_HEIGHT / 2;
    g.append(title, svgEl('rect', { width: p.width, height: p.height, rx, ry: rx }));
    if (kind === 'cluster') g.append(svgEl('rect', { class: 'stack', x: 4, y: -4, width: p.width, height: p.height, rx, ry: rx }));
    const text = svgEl('text', { x: p.width / 2, y: p.height / 2 + 4, 'text-anchor': 'middle' });
    text.textContent = shortLabel(p.node.label);
    g.append(text);
    nodes.append(g);
  }
  port.replaceChildren(defs, edges, nodes);
  $('graph').setAttribute('data-nodes', String(layout.nodes.length));
  if (!view.transform.k || view.transform.k === 1 && view.transform.x === 0 && view.transform.y === 0) fit();
  else applyTransform();
  // Measure until the frame that shows the graph has been painted.
  requestAnimationFrame(() => requestAnimationFrame(() => {
    const t2 = performance.now();
    setStatus(`${layout.nodes.length} nodes · ${layout.edges.length} edges · laid out in ${(t1 - t0).toFixed(0)} ms, drawn in ${(t2 - t1).toFixed(0)} ms`);
    $('status').setAttribute('data-total-ms', (t2 - t0).toFixed(1));
    vscode.postMessage({ type: 'rendered', nodes: layout.nodes.length, edges: layout.edges.length, layoutMs: t1 - t0, renderMs: t2 - t1 });
  }));
}

function setStatus(text: string): void {
  const s = $('status');
  s.textContent = text;
}

// ---- pan and zoom ----------------------------------------------------------------------------

function applyTransform(): void {
  const { x, y, k } = view.transform;
  $<SVGGElement>('viewport').setAttribute('transform', `translate(${x.toFixed(1)},${y.toFixed(1)}) scale(${k.toFixed(4)})`);
}

function fit(): void {
  const layout = view.layout;
  const box = $('canvas').getBoundingClientRect();
  if (!layout || !layout.width || !box.width) return;
  const k = Math.min(2, Math.max(0.05, Math.min(box.width / layout.width, box.height / layout.height)));
  view.transform = { k, x: (box.width - layout.width * k) / 2, y: (box.height - layout.height * k) / 2 };
  applyTransform();
}

function zoomBy(factor: number, cx?: number, cy?: number): void {
  const box = $('canvas').getBoundingClientRect();
  const px = cx ?? box.width / 2;
  const py = cy ?? box.height / 2;
  const t = view.transform;
  const k = Math.min(4, Math.max(0.05, t.k * factor));
  view.transform = { k, x: px - ((px - t.x) * k) / t.k, y: py - ((py - t.y) * k) / t.k };
  applyTransform();
}

const canvas = $('canvas');
let drag: { x: number; y: number; tx: number; ty: number; moved: boolean } | undefined;
canvas.addEventListener('pointerdown', (e) => {
  drag = { x: e.clientX, y: e.clientY, tx: view.transform.x, ty: view.transform.y, moved: false };
});
window.addEventListener('pointermove', (e) => {
  if (!drag) return;
  const dx = e.clientX - drag.x;
  const dy = e.clientY - drag.y;
  if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
  if (!drag.moved) return;
  view.transform = { ...view.transform, x: drag.tx + dx, y: drag.ty + dy };
  applyTransform();
});
window.addEventListener('pointerup', () => {
  setTimeout(() => (drag = undefined), 0);
});
canvas.addEventListener('wheel', (e) => {
  e.preventDefault();
  const box = canvas.getBoundingClientRect();
  zoomBy(e.deltaY < 0 ? 1.1 : 1 / 1.1, e.clientX - box.left, e.clientY - box.top);
}, { passive: false });
canvas.addEventListener('keydown', (e) => {
  if (e.key === '+' || e.key === '=') zoomBy(1.25);
  else if (e.key === '-') zoomBy(0.8);
  else if (e.key === '0') fit();
  else if (e.key === 'Enter' && document.activeElement instanceof SVGGElement) activate(document.activeElement);
});
canvas.addEventListener('click', (e) => {
  if (drag?.moved) return;
  const g = (e.target as Element).closest('g.node');
  if (g) activate(g);
});

function activate(g: Element): void {
  const id = g.getAttribute('data-id');
  if (!id) return;
  if (g.getAttribute('data-kind') === 'cluster') {
    view.expandedClusters.add(id);
    render();
    return;
  }
  view.selected = id;
  document.querySelectorAll('g.node.selected').forEach((n) => n.classList.remove('selected'));
  g.classList.add('selected');
  expandUp.disabled = false;
  expandDown.disabled = false;
  const pane = $('details');
  const loading = document.createElement('p');
  loading.className = 'hint';
  loading.textContent = 'Loading…';
  pane.replaceChildren(loading);
  vscode.postMessage({ type: 'selectNode', nodeId: id });
}

// ---- details ---------------------------------------------------------------------------------

function showDetails(d: NodeDetails): void {
  if (d.nodeId !== view.selected) return;
  const pane = $('details');
  const h = document.createElement('h2');
  h.textContent = d.title;
  h.setAttribute('data-node', d.nodeId);
  const table = document.createElement('dl');
  for (const row of d.rows) {
    const dt = document.createElement('dt');
    dt.textContent = row.label;
    const dd = document.createElement('dd');
    dd.textContent = row.value;
    table.append(dt, dd);
  }
  pane.replaceChildren(h, table);
  if (d.metadata) {
    const mh = document.createElement('h3');
    mh.textContent = 'Metadata';
    const pre = document.createElement('pre');
    pre.textContent = d.metadata;
    pane.append(mh, pre);
  }
  if (d.files?.length) {
    const fh = document.createElement('h3');
    fh.textContent = 'Files';
    const ul = document.createElement('ul');
    ul.className = 'files';
    for (const f of d.files) {
      const li = document.createElement('li');
      li.textContent = `${f.path} — ${f.size}`;
      ul.append(li);
    }
    if (d.moreFiles) {
      const li = document.createElement('li');
      li.className = 'hint';
      li.textContent = `… and ${d.moreFiles} more`;
      ul.append(li);
    }
    pane.append(fh, ul);
  }
}

function showError(message: string): void {
  const p = document.createElement('p');
  p.className = 'error';
  p.textContent = message;
  $('details').replaceChildren(p);
  setStatus(message);
}

// ---- messages --------------------------------------------------------------------------------

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'graph': {
      const first = !view.graph;
      view.graph = m.graph;
      view.focusId = m.focusId;
      vscode.setState(m.state);
      buildFilters(m.graph);
      if (first) view.transform = { x: 0, y: 0, k: 1 };
      render();
      return;
    }
    case 'details':
      showDetails(m.details);
      return;
    case 'error':
      showError(m.message);
      return;
    default: {
      const never: never = m;
      console.warn('Unknown message', never);
    }
  }
});

window.addEventListener('resize', () => fit());
setStatus('Loading lineage…');
vscode.postMessage({ type: 'ready' });

/**
 * The lineage webview: receives the graph from the extension (src/shared/lineageProtocol.ts),
 * folds clusters, filters (bridging what it hides), lays it out with dagre and draws it as SVG
 * with pan, zoom and an overview. Fit keeps labels readable (see MIN_SCREEN_PX in layout.ts);
 * a graph too large for that shows a part, and the overview moves around it.
 */
import type { LineageGraph } from '../src/core/types';
import {
  clusterGroups, facets, filterGraph, foldClusters, nodeCategory, type NodeCategory, type ViewGraph, type ViewNode,
} from '../src/shared/lineageGraph';
import type { ExpandDirection, FromWebview, LineageState, NodeAction, NodeDetails, ToWebview } from '../src/shared/lineageProtocol';
import {
  layoutGraph, MAX_FIT_SCALE, MIN_FIT_SCALE, NODE_HEIGHT, shortLabel, subLabel, TEXT_X, type Layout, type PlacedNode,
} from './layout';
import { button, checkbox } from './toolkit';

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
  state: undefined as LineageState | undefined,
  focusId: '',
  selected: undefined as string | undefined,
  expandedClusters: new Set<string>(),
  hiddenTypes: new Set<string>(),
  hiddenJobTypes: new Set<string>(),
  showViewOnly: false,
  shown: undefined as ViewGraph | undefined,
  layout: undefined as Layout | undefined,
  transform: { x: 0, y: 0, k: 1 },
  /** The area (graph units) whose nodes are drawn now; see drawVisible. */
  drawn: undefined as { left: number; right: number; top: number; bottom: number } | undefined,
  /** The view is as Fit left it (not panned or zoomed since): a resize of the canvas fits again. */
  fitted: false,
  /** A message about the last action (expand, filters), kept in the status line until the next one. */
  notice: '',
};

// ---- toolbar ---------------------------------------------------------------------------------

const expandUp = button('◀ Expand up', { title: 'Add the run that made the selected version and what that run used (for a run: its inputs)', onClick: () => expand('up') });
const expandDown = button('Expand down ▶', { title: 'Add the runs that used the selected version and what they made (for a run: its outputs)', onClick: () => expand('down') });
const foldAll = button('Fold clusters', { title: 'Fold the opened clusters back into one node each', onClick: () => foldClustersBack() });
const whole = checkbox('Whole pipeline', false, (on) => {
  if (!view.state || !!view.state.whole === on) return;
  view.notice = on ? 'Loading the whole pipeline…' : 'Loading the lineage around the version…';
  setStatus(view.notice);
  vscode.postMessage({ type: 'setWhole', whole: on });
});
whole.id = 'whole';
whole.title = 'Show everything connected to this version: every run and version of its pipeline';
expandUp.disabled = true;
expandDown.disabled = true;
foldAll.disabled = true;
$('toolbar').append(
  button('Fit', { title: 'Fit the graph to the window, labels kept readable (0)', onClick: () => fit() }),
  button('+', { title: 'Zoom in (+)', appearance: 'icon', onClick: () => zoomBy(1.25) }),
  button('−', { title: 'Zoom out (-)', appearance: 'icon', onClick: () => zoomBy(0.8) }),
  expandUp,
  expandDown,
  foldAll,
  whole,
);

function expand(direction: ExpandDirection): void {
  if (!view.selected || view.selected.startsWith('cluster:')) return;
  setStatus(`Expanding ${direction === 'up' ? 'up' : 'down'}…`);
  vscode.postMessage({ type: 'expand', nodeId: view.selected, direction });
}

function foldClustersBack(only?: string): void {
  if (only) view.expandedClusters.delete(only);
  else view.expandedClusters.clear();
  view.notice = '';
  render(true);
  if (only) showPart([only]);
}

function separator(): HTMLElement {
  const s = document.createElement('span');
  s.className = 'sep';
  s.setAttribute('role', 'separator');
  s.setAttribute('aria-orientation', 'vertical');
  return s;
}

function buildFilters(graph: LineageGraph): void {
  const { types, jobTypes, viewOnly } = facets(graph);
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
        view.notice = '';
        render(true);
      }));
    }
  };
  group('Artifact types', types, view.hiddenTypes);
  if (types.length && jobTypes.length) box.append(separator());
  group('Job types', jobTypes, view.hiddenJobTypes);
  if (viewOnly) {
    box.append(separator());
    const c = checkbox(`Downloads to look at data (${viewOnly})`, view.showViewOnly, (on) => {
      view.showViewOnly = on;
      view.notice = '';
      render(true);
    });
    c.id = 'show-downloads';
    c.title = 'Runs that only downloaded a version and made nothing; hidden unless checked';
    box.append(c);
  }
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

/** Icons in a 16 × 16 box, drawn with the category's colour (stroke). */
const ICONS: Record<NodeCategory | 'download', string> = {
  dataset: 'M2 3.5C2 2.1 4.7 1 8 1s6 1.1 6 2.5v9c0 1.4-2.7 2.5-6 2.5s-6-1.1-6-2.5z M2 3.5c0 1.4 2.7 2.5 6 2.5s6-1.1 6-2.5 M2 8c0 1.4 2.7 2.5 6 2.5s6-1.1 6-2.5',
  model: 'M8 1L14.5 4.5V11.5L8 15L1.5 11.5V4.5Z M1.5 4.5L8 8L14.5 4.5 M8 8V15',
  other: 'M3 1H10L13 4V15H3Z M10 1V4H13 M5.5 8H10.5 M5.5 11H10.5',
  run: 'M8 1A7 7 0 1 1 7.99 1Z M6.2 4.8L11.2 8L6.2 11.2Z',
  download: 'M8 1.5V10.5 M4.5 7L8 10.5L11.5 7 M2 14H14',
};

const CATEGORY_NAMES: Record<NodeCategory, string> = { dataset: 'Dataset', model: 'Model', other: 'Other artifact', run: 'Run' };

function icon(name: NodeCategory | 'download', x: number, y: number): SVGGElement {
  const g = svgEl('g', { class: 'icon', transform: `translate(${x},${y})` });
  g.append(svgEl('path', { d: ICONS[name] }));
  return g;
}

function drawNode(p: PlacedNode): SVGGElement {
  const n = p.node;
  const kind = nodeKind(n);
  const category = nodeCategory(n);
  const classes = ['node', `node-${kind}`, `cat-${category}`];
  if (n.viewOnly) classes.push('view-only');
  if (n.deleted) classes.push('deleted');
  if (n.id === view.focusId) classes.push('focus');
  if (n.id === view.selected) classes.push('selected');
  const g = svgEl('g', {
    class: classes.join(' '), transform: `translate(${(p.x - p.width / 2).toFixed(1)},${(p.y - p.height / 2).toFixed(1)})`,
    'data-id': n.id, 'data-kind': kind, 'data-category': category, tabindex: 0, role: 'button',
  });
  const title = svgEl('title', {});
  const what = subLabel(n);
  title.textContent = kind === 'run' ? `${n.label} · ${what}` : kind === 'cluster' ? `${n.label}: click to show each version` : `${n.project}/${n.label} · ${what}`;
  const rx = kind === 'run' ? 5 : 12;
  if (kind === 'cluster') g.append(svgEl('rect', { class: 'stack', x: 5, y: -5, width: p.width, height: p.height, rx, ry: rx }));
  g.append(title, svgEl('rect', { class: 'box', width: p.width, height: p.height, rx, ry: rx }));
  g.append(svgEl('rect', { class: 'band', x: 0, y: 0, width: 6, height: p.height, rx: 3 }));
  g.append(icon(n.viewOnly ? 'download' : category, 13, (NODE_HEIGHT - 16) / 2));
  const label = svgEl('text', { class: 'label', x: TEXT_X, y: 20 });
  label.textContent = shortLabel(n.label);
  const sub = svgEl('text', { class: 'sub', x: TEXT_X, y: 36 });
  sub.textContent = what;
  g.append(label, sub);
  return g;
}

/** Which opened cluster each shown member belongs to (for the fold-back frames). */
function openClusters(graph: LineageGraph): Map<string, string[]> {
  const open = new Map<string, string[]>();
  if (!view.expandedClusters.size) return open;
  for (const [id, members] of clusterGroups(graph)) if (view.expandedClusters.has(id)) open.set(id, members.map((m) => m.id));
  return open;
}

function render(refit = false): void {
  if (!view.graph) return;
  const t0 = performance.now();
  const folded = foldClusters(view.graph, { expandedClusters: view.expandedClusters, keep: view.focusId });
  const shown = filterGraph(folded, { hiddenTypes: view.hiddenTypes, hiddenJobTypes: view.hiddenJobTypes, showViewOnly: view.showViewOnly }, view.focusId);
  const box = canvasBox();
  const layout = layoutGraph(shown, { width: box.width, height: box.height });
  const t1 = performance.now();
  view.shown = shown;
  view.layout = layout;

  view.drawn = undefined;
  $('graph').setAttribute('data-nodes', String(layout.nodes.length));
  foldAll.disabled = view.expandedClusters.size === 0;
  drawOverview(layout);
  buildLegend(shown);
  if (refit || !view.transform.k) fit();
  else applyTransform();
  drawVisible();
  updateStatus();
  // Measure until the frame that shows the graph has been painted; the figures go to the output channel.
  requestAnimationFrame(() => requestAnimationFrame(() => {
    const t2 = performance.now();
    vscode.postMessage({ type: 'rendered', nodes: layout.nodes.length, edges: layout.edges.length, layoutMs: t1 - t0, renderMs: t2 - t1, graphNodes: view.graph?.nodes.length });
  }));
}

interface Rect { left: number; right: number; top: number; bottom: number }
const overlaps = (a: Rect, b: Rect) => a.left <= b.right && b.left <= a.right && a.top <= b.bottom && b.top <= a.bottom;
const inside = (a: Rect, b: Rect) => a.left >= b.left && a.right <= b.right && a.top >= b.top && a.bottom <= b.bottom;

/** The part of the graph (graph units) the canvas shows now. */
function visibleRect(): Rect {
  const box = canvasBox();
  const { x, y, k } = view.transform;
  return { left: -x / k, top: -y / k, right: (box.width - x) / k, bottom: (box.height - y) / k };
}

/**
 * Draws the nodes, edges and cluster frames around the visible part (the view plus half a view on
 * each side), and again only when panning or zooming leaves that area: a graph of thousands of
 * nodes, shown at a readable scale, costs what its visible part costs.
 */
function drawVisible(): void {
  const layout = view.layout;
  const shown = view.shown;
  if (!layout || !shown || !view.graph) return;
  const seen = visibleRect();
  if (view.drawn && inside(seen, view.drawn)) return;
  const w = seen.right - seen.left;
  const h = seen.bottom - seen.top;
  const area = { left: seen.left - w / 2, right: seen.right + w / 2, top: seen.top - h / 2, bottom: seen.bottom + h / 2 };
  view.drawn = area;
  const boxOf = (p: PlacedNode): Rect => ({ left: p.x - p.width / 2, right: p.x + p.width / 2, top: p.y - p.height / 2, bottom: p.y + p.height / 2 });

  const defs = svgEl('defs', {});
  const marker = svgEl('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 11, markerHeight: 11, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' });
  marker.append(svgEl('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }));
  defs.append(marker);

  // Frames around opened clusters, with a label that folds them back.
  const frames = svgEl('g', { class: 'frames' });
  const placed = new Map(layout.nodes.map((p) => [p.node.id, p]));
  for (const [id, members] of openClusters(view.graph)) {
    const boxes = members.map((m) => placed.get(m)).filter((p): p is PlacedNode => !!p);
    if (!boxes.length) continue;
    const around = bounds(boxes);
    const [l, r, t, b] = [around.left - 8, around.right + 8, around.top - 26, around.bottom + 8];
    if (!overlaps({ left: l, right: r, top: t, bottom: b }, area)) continue;
    const frame = svgEl('g', { class: `cluster-frame cat-${nodeCategory(boxes[0].node)}`, 'data-cluster': id });
    frame.append(svgEl('rect', { x: l, y: t, width: r - l, height: b - t, rx: 8 }));
    const fold = svgEl('text', { class: 'fold', x: l + 8, y: t + 17, 'data-fold': id, tabindex: 0, role: 'button' });
    fold.textContent = `⊟ Fold ${members.length} versions`;
    frame.append(fold);
    frames.append(frame);
  }

  const edges = svgEl('g', { class: 'edges' });
  const bridgedEdges = new Set(shown.edges.filter((x) => x.bridged).map((x) => `${x.from}>${x.to}`));
  for (const e of layout.edges) {
    if (!e.points.length) continue;
    const r = { left: Infinity, right: -Infinity, top: Infinity, bottom: -Infinity };
    for (const p of e.points) {
      r.left = Math.min(r.left, p.x);
      r.right = Math.max(r.right, p.x);
      r.top = Math.min(r.top, p.y);
      r.bottom = Math.max(r.bottom, p.y);
    }
    if (!overlaps(r, area)) continue;
    const d = e.points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    const bridged = bridgedEdges.has(`${e.from}>${e.to}`);
    edges.append(svgEl('path', { d, class: bridged ? 'edge bridged' : 'edge', 'marker-end': 'url(#arrow)', 'data-from': e.from, 'data-to': e.to }));
  }
  const nodes = svgEl('g', { class: 'nodes' });
  for (const p of layout.nodes) if (overlaps(boxOf(p), area)) nodes.append(drawNode(p));
  $<SVGGElement>('viewport').replaceChildren(defs, frames, edges, nodes);
}

function buildLegend(shown: ViewGraph): void {
  const legend = $('legend');
  legend.replaceChildren();
  const item = (cls: string, iconName: NodeCategory | 'download' | undefined, text: string, line?: string) => {
    const span = document.createElement('span');
    span.className = `legend-item ${cls}`;
    const svg = svgEl('svg', { width: 18, height: 18, viewBox: line ? '0 0 18 18' : '-1 -1 18 18', 'aria-hidden': 'true' });
    if (iconName) svg.append(icon(iconName, 0, 0));
    if (line) svg.append(svgEl('path', { class: line, d: 'M1 9H17' }));
    span.append(svg, document.createTextNode(text));
    legend.append(span);
  };
  for (const c of ['dataset', 'model', 'other', 'run'] as NodeCategory[]) item(`cat-${c}`, c, CATEGORY_NAMES[c]);
  if (shown.nodes.some((n) => n.members)) item('cat-cluster', undefined, '▣ Folded versions');
  if (shown.nodes.some((n) => n.viewOnly)) item('cat-run view-only', 'download', 'Download (view only)');
  if (shown.nodes.some((n) => n.deleted)) item('cat-other deleted', 'other', 'Deleted version');
  item('edge-key', undefined, 'Data flow', 'edge');
  if (shown.edges.some((e) => e.bridged)) item('edge-key', undefined, 'Through hidden nodes', 'edge bridged');
}

function updateStatus(): void {
  if (!view.graph || !view.shown) return;
  const total = view.graph.nodes.length;
  const hidden = total - view.shown.nodes.reduce((s, n) => s + (n.members?.length ?? 1), 0);
  const parts = [`${view.shown.nodes.length} nodes`, `${view.shown.edges.length} edges`];
  if (hidden > 0) parts.push(`${hidden} hidden by the filters`);
  if (view.state?.whole) parts.push('whole pipeline');
  setStatus(parts.join(' · ') + (view.notice ? ` — ${view.notice}` : ''));
}

function setStatus(text: string): void {
  $('status').textContent = text;
}

// ---- pan, zoom and overview ------------------------------------------------------------------

function canvasBox(): DOMRect {
  return $('canvas').getBoundingClientRect();
}

function applyTransform(): void {
  const { x, y, k } = view.transform;
  $<SVGGElement>('viewport').setAttribute('transform', `translate(${x.toFixed(1)},${y.toFixed(1)}) scale(${k.toFixed(4)})`);
  $('canvas').setAttribute('data-scale', k.toFixed(4));
  updateOverviewWindow();
  drawVisible();
}

/**
 * Fits the graph to the canvas, never below the scale that keeps labels readable: a larger graph
 * is shown around the selected node (else the focus), with the overview to move around.
 */
function fit(): void {
  const layout = view.layout;
  const box = canvasBox();
  if (!layout || !layout.width || !box.width) return;
  const fitK = Math.min(box.width / layout.width, box.height / layout.height);
  const k = Math.min(MAX_FIT_SCALE, Math.max(MIN_FIT_SCALE, fitK));
  const centre = layout.nodes.find((p) => p.node.id === view.selected) ?? layout.nodes.find((p) => p.node.id === view.focusId);
  const axis = (size: number, extent: number, at: number | undefined) => {
    if (extent * k <= size || at === undefined) return (size - extent * k) / 2;
    return Math.min(0, Math.max(size - extent * k, size / 2 - at * k));
  };
  view.transform = { k, x: axis(box.width, layout.width, centre?.x), y: axis(box.height, layout.height, centre?.y) };
  applyTransform();
  view.fitted = true;
}

function zoomBy(factor: number, cx?: number, cy?: number): void {
  const box = canvasBox();
  const px = cx ?? box.width / 2;
  const py = cy ?? box.height / 2;
  const t = view.transform;
  const k = Math.min(4, Math.max(0.05, t.k * factor));
  view.transform = { k, x: px - ((px - t.x) * k) / t.k, y: py - ((py - t.y) * k) / t.k };
  applyTransform();
  view.fitted = false;
}

/** Centres the main view on a point of the graph (graph units). */
function centreOn(gx: number, gy: number): void {
  const box = canvasBox();
  const k = view.transform.k;
  view.transform = { k, x: box.width / 2 - gx * k, y: box.height / 2 - gy * k };
  applyTransform();
  view.fitted = false;
}

const OVERVIEW_W = 220;
const OVERVIEW_H = 150;
let overviewScale = 1;

function drawOverview(layout: Layout): void {
  const ov = $<SVGSVGElement>('overview');
  overviewScale = Math.min(OVERVIEW_W / layout.width, OVERVIEW_H / layout.height);
  const w = Math.max(20, layout.width * overviewScale);
  const h = Math.max(20, layout.height * overviewScale);
  ov.setAttribute('width', String(w.toFixed(0)));
  ov.setAttribute('height', String(h.toFixed(0)));
  const g = svgEl('g', { transform: `scale(${overviewScale.toFixed(5)})` });
  for (const p of layout.nodes) {
    g.append(svgEl('rect', { class: `ov-node cat-${nodeCategory(p.node)}`, x: p.x - p.width / 2, y: p.y - p.height / 2, width: p.width, height: p.height, rx: 6 }));
  }
  const windowRect = svgEl('rect', { id: 'overview-window', x: 0, y: 0, width: 0, height: 0 });
  ov.replaceChildren(g, windowRect);
  updateOverviewWindow();
}

/** Shows the overview while the graph does not fit the canvas, with the visible part framed. */
function updateOverviewWindow(): void {
  const layout = view.layout;
  const ov = $<SVGSVGElement>('overview');
  const rect = document.getElementById('overview-window');
  if (!layout || !rect) return;
  const box = canvasBox();
  const { x, y, k } = view.transform;
  const fits = layout.width * k <= box.width + 1 && layout.height * k <= box.height + 1;
  ov.classList.toggle('hidden', fits);
  const s = overviewScale;
  rect.setAttribute('x', ((-x / k) * s).toFixed(1));
  rect.setAttribute('y', ((-y / k) * s).toFixed(1));
  rect.setAttribute('width', ((box.width / k) * s).toFixed(1));
  rect.setAttribute('height', ((box.height / k) * s).toFixed(1));
}

const overview = $<SVGSVGElement>('overview');
let overviewDrag = false;
const moveFromOverview = (e: PointerEvent) => {
  const r = overview.getBoundingClientRect();
  centreOn((e.clientX - r.left) / overviewScale, (e.clientY - r.top) / overviewScale);
};
overview.addEventListener('pointerdown', (e) => {
  e.stopPropagation();
  overviewDrag = true;
  moveFromOverview(e);
});
window.addEventListener('pointermove', (e) => {
  if (overviewDrag) moveFromOverview(e);
});
window.addEventListener('pointerup', () => (overviewDrag = false));

const canvas = $('canvas');
let drag: { x: number; y: number; tx: number; ty: number; moved: boolean } | undefined;
canvas.addEventListener('pointerdown', (e) => {
  drag = { x: e.clientX, y: e.clientY, tx: view.transform.x, ty: view.transform.y, moved: false };
});
window.addEventListener('pointermove', (e) => {
  if (!drag || overviewDrag) return;
  const dx = e.clientX - drag.x;
  const dy = e.clientY - drag.y;
  if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
  if (!drag.moved) return;
  view.transform = { ...view.transform, x: drag.tx + dx, y: drag.ty + dy };
  applyTransform();
  view.fitted = false;
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
  else if (e.key === 'Enter' && document.activeElement instanceof SVGElement) activate(document.activeElement);
});
canvas.addEventListener('click', (e) => {
  if (drag?.moved) return;
  const target = e.target as Element;
  if (target.closest('#overview')) return;
  const fold = target.closest('[data-fold]');
  if (fold) {
    activate(fold);
    return;
  }
  const g = target.closest('g.node');
  if (g) activate(g);
});

function activate(g: Element): void {
  const foldId = g.getAttribute('data-fold');
  if (foldId) {
    foldClustersBack(foldId);
    return;
  }
  const id = g.getAttribute('data-id');
  if (!id) return;
  if (g.getAttribute('data-kind') === 'cluster') unfold(id);
  else select(id);
}

function select(id: string): void {
  view.selected = id;
  document.querySelectorAll('g.node.selected').forEach((n) => n.classList.remove('selected'));
  document.querySelector(`g.node[data-id="${CSS.escape(id)}"]`)?.classList.add('selected');
  const whole = !!view.state?.whole;
  expandUp.disabled = whole;
  expandDown.disabled = whole;
  const pane = openPane();
  const loading = document.createElement('p');
  loading.className = 'hint';
  loading.textContent = 'Loading…';
  pane.replaceChildren(loading);
  vscode.postMessage({ type: 'selectNode', nodeId: id });
}

// ---- details ---------------------------------------------------------------------------------

/** The details pane appears with something to show and goes away with its close button. */
function openPane(): HTMLElement {
  const pane = $('details');
  pane.classList.remove('hidden');
  return pane;
}

function closePane(): void {
  $('details').classList.add('hidden');
  view.selected = undefined;
  document.querySelectorAll('g.node.selected').forEach((n) => n.classList.remove('selected'));
  expandUp.disabled = true;
  expandDown.disabled = true;
}

const ACTION_LABELS: Record<NodeAction, string> = {
  download: 'Download', reveal: 'Reveal in Tree', copyReference: 'Copy Reference', comparePrevious: 'Compare with Previous', showLineage: 'Show Its Lineage',
};

function header(title: string, subtitle: string, category: string): HTMLElement {
  const head = document.createElement('div');
  head.className = 'details-head';
  const svg = svgEl('svg', { width: 20, height: 20, viewBox: '-1 -1 18 18', class: `cat-${category}`, 'aria-hidden': 'true' });
  svg.append(icon(category as NodeCategory, 0, 0));
  const text = document.createElement('div');
  const h = document.createElement('h2');
  h.textContent = title;
  const sub = document.createElement('div');
  sub.className = 'subtitle';
  sub.textContent = subtitle;
  text.append(h, sub);
  const close = button('✕', { title: 'Close the details', appearance: 'icon', onClick: () => closePane() });
  close.classList.add('close');
  head.append(svg, text, close);
  return head;
}

function listSection(label: string, items: { nodeId: string; label: string }[], onPick: (nodeId: string) => void): HTMLElement[] {
  const h = document.createElement('h3');
  h.textContent = label;
  const ul = document.createElement('ul');
  ul.className = 'links';
  ul.setAttribute('data-list', label);
  if (!items.length) {
    const li = document.createElement('li');
    li.className = 'hint';
    li.textContent = 'none';
    ul.append(li);
  }
  for (const it of items) {
    const li = document.createElement('li');
    if (it.nodeId) {
      const a = document.createElement('a');
      a.href = '#';
      a.textContent = it.label;
      a.setAttribute('data-node', it.nodeId);
      a.addEventListener('click', (e) => {
        e.preventDefault();
        onPick(it.nodeId);
      });
      li.append(a);
    } else {
      li.className = 'hint';
      li.textContent = it.label;
    }
    ul.append(li);
  }
  return [h, ul];
}

/** A version or run named in the pane: selected when it is in the graph, else its own lineage opens. */
function pickListed(nodeId: string): void {
  if (view.layout?.nodes.some((p) => p.node.id === nodeId)) {
    select(nodeId);
    fit();
    return;
  }
  const cluster = view.shown?.nodes.find((n) => n.members?.includes(nodeId));
  if (cluster) {
    view.expandedClusters.add(cluster.id);
    render(true);
    select(nodeId);
    fit();
    return;
  }
  if (nodeId.startsWith('version:')) vscode.postMessage({ type: 'action', action: 'showLineage', nodeId });
  else setNotice('That run is not in this view; Expand or Whole pipeline shows it.');
}

function setNotice(text: string): void {
  view.notice = text;
  updateStatus();
}

function showDetails(d: NodeDetails): void {
  if (d.nodeId !== view.selected) return;
  const pane = openPane();
  const node = view.graph?.nodes.find((n) => n.id === d.nodeId);
  pane.replaceChildren(header(d.title, d.subtitle, node ? nodeCategory(node) : d.kind === 'run' ? 'run' : 'other'));
  pane.setAttribute('data-node', d.nodeId);
  const openCluster = [...openClusters(view.graph ?? { nodes: [], edges: [] })].find(([, members]) => members.includes(d.nodeId));
  if (d.actions.length || openCluster) {
    const actions = document.createElement('div');
    actions.className = 'actions';
    for (const a of d.actions) {
      const b = button(ACTION_LABELS[a], { title: `${ACTION_LABELS[a]}: ${d.title}`, onClick: () => vscode.postMessage({ type: 'action', action: a, nodeId: d.nodeId }) });
      b.setAttribute('data-action', a);
      actions.append(b);
    }
    if (openCluster) {
      const b = button(`Fold back (${openCluster[1].length} versions)`, { title: 'Show these versions as one cluster node again', onClick: () => foldClustersBack(openCluster[0]) });
      b.setAttribute('data-action', 'fold');
      actions.append(b);
    }
    pane.append(actions);
  }
  const table = document.createElement('dl');
  for (const row of d.rows) {
    const dt = document.createElement('dt');
    dt.textContent = row.label;
    const dd = document.createElement('dd');
    dd.textContent = row.value;
    table.append(dt, dd);
  }
  pane.append(table);
  for (const list of d.lists ?? []) pane.append(...listSection(list.label, list.items, pickListed));
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

/** A cluster opens into one node per version, framed with a link that folds them back. */
function unfold(id: string): void {
  const members = view.shown?.nodes.find((n) => n.id === id)?.members ?? [];
  view.expandedClusters.add(id);
  view.notice = '';
  render(true);
  showPart(members);
}

/** Moves the view to a group of nodes when the graph is too large to show them all. */
function showPart(ids: string[]): void {
  const boxes = view.layout?.nodes.filter((p) => ids.includes(p.node.id)) ?? [];
  if (!boxes.length || $('overview').classList.contains('hidden')) return; // all of it is in view
  const around = bounds(boxes);
  centreOn((around.left + around.right) / 2, (around.top + around.bottom) / 2);
}

/** The rectangle around placed nodes (a loop: a cluster can have thousands of members). */
function bounds(boxes: PlacedNode[]): { left: number; right: number; top: number; bottom: number } {
  const r = { left: Infinity, right: -Infinity, top: Infinity, bottom: -Infinity };
  for (const b of boxes) {
    r.left = Math.min(r.left, b.x - b.width / 2);
    r.right = Math.max(r.right, b.x + b.width / 2);
    r.top = Math.min(r.top, b.y - b.height / 2);
    r.bottom = Math.max(r.bottom, b.y + b.height / 2);
  }
  return r;
}

function showError(message: string): void {
  const p = document.createElement('p');
  p.className = 'error';
  p.textContent = message;
  openPane().replaceChildren(p);
  setStatus(message);
}

// ---- messages --------------------------------------------------------------------------------

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'graph': {
      view.graph = m.graph;
      view.state = m.state;
      view.focusId = m.focusId;
      vscode.setState(m.state);
      (whole as HTMLElement & { checked: boolean }).checked = !!m.state.whole;
      view.notice = m.expanded ? expansionNotice(m.graph, m.expanded) : '';
      if (view.selected && !m.graph.nodes.some((n) => n.id === view.selected) && !view.selected.startsWith('cluster:')) closePane();
      buildFilters(m.graph);
      render(true);
      if (view.selected) select(view.selected);
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

/** What an expansion did, in words: what it added (and how much of it the filters hide), or that there was nothing more. */
function expansionNotice(graph: LineageGraph, x: { nodeId: string; direction: ExpandDirection; added: string[] }): string {
  const label = graph.nodes.find((n) => n.id === x.nodeId)?.label ?? x.nodeId;
  const where = x.direction === 'up' ? 'upstream of' : 'downstream of';
  if (!x.added.length) return `Nothing more ${where} ${label}.`;
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const runs = x.added.filter((id) => byId.get(id)?.kind === 'run').length;
  const versions = x.added.length - runs;
  const parts = [runs && `${runs} run${runs === 1 ? '' : 's'}`, versions && `${versions} version${versions === 1 ? '' : 's'}`].filter(Boolean);
  const hidden = x.added.filter((id) => {
    const n = byId.get(id)!;
    return n.kind === 'run' ? (n.viewOnly && !view.showViewOnly) || view.hiddenJobTypes.has(n.jobType ?? '') : view.hiddenTypes.has(n.type ?? '');
  }).length;
  return `Added ${parts.join(' and ')} ${where} ${label}${hidden ? ` (${hidden} hidden by the filters)` : ''}.`;
}

// The details pane opening or closing, or the panel resizing: a fitted graph is fitted again.
let lastSize = '';
new ResizeObserver(() => {
  const box = canvasBox();
  const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
  if (size === lastSize) return;
  lastSize = size;
  if (view.fitted) fit();
  else updateOverviewWindow();
}).observe($('canvas'));
setStatus('Loading lineage…');
vscode.postMessage({ type: 'ready' });

/**
 * The message contract between the extension (src/extension/lineagePanel.ts) and the lineage
 * webview (webview/main.ts). Both sides import this file; it holds no `vscode` import and no DOM
 * code. Every message is a discriminated union member checked exhaustively on receipt.
 *
 * Handshake: the webview posts `ready` once its script runs; only then does the extension send
 * `graph`. After a window reload VS Code restores the panel through a WebviewPanelSerializer with
 * the `LineageState` the webview last stored by `setState`, and the handshake repeats.
 */
import type { LineageGraph } from '../core/types';

export type ExpandDirection = 'up' | 'down';

/** What the webview persists with `setState` and the serializer gets back after a reload. */
export interface LineageState {
  /** The version the panel was opened for, as `project/name:vK`. */
  ref: string;
  depth: number;
  /** Node ids expanded one hop, in order, with their direction, replayed on restore. */
  expansions: { nodeId: string; direction: ExpandDirection }[];
  /** The whole pipeline: everything connected to the version (depth and expansions unused). */
  whole?: boolean;
}

/** What the details pane offers to do with a node (the extension runs the matching command). */
export type NodeAction = 'download' | 'reveal' | 'copyReference' | 'comparePrevious' | 'showLineage';
export const NODE_ACTIONS: readonly NodeAction[] = ['download', 'reveal', 'copyReference', 'comparePrevious', 'showLineage'];

export interface DetailRow {
  label: string;
  value: string;
}

/** The details pane of one node, prepared by the extension. */
export interface NodeDetails {
  nodeId: string;
  title: string;
  /** What the node is, under the title: "model", "train run". */
  subtitle: string;
  kind: 'run' | 'version';
  rows: DetailRow[];
  actions: NodeAction[];
  /** Lists of versions (a run's "Used" and "Made"); each item selects its node when shown. */
  lists?: { label: string; items: { nodeId: string; label: string }[] }[];
  /** Version nodes: the first files of the manifest. */
  files?: { path: string; size: string }[];
  moreFiles?: number;
  metadata?: string;
}

export type ToWebview =
  | { type: 'graph'; graph: LineageGraph; focusId: string; state: LineageState; expanded?: { nodeId: string; direction: ExpandDirection; added: string[] } }
  | { type: 'details'; details: NodeDetails }
  | { type: 'error'; message: string };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'selectNode'; nodeId: string }
  | { type: 'expand'; nodeId: string; direction: ExpandDirection }
  | { type: 'action'; action: NodeAction; nodeId: string }
  | { type: 'setWhole'; whole: boolean }
  | { type: 'rendered'; nodes: number; edges: number; layoutMs: number; renderMs: number; graphNodes?: number };

export const LINEAGE_VIEW_TYPE = 'trove.lineage';

/** Runtime check of a message from the webview (it is untrusted input). */
export function isFromWebview(m: unknown): m is FromWebview {
  if (!m || typeof m !== 'object') return false;
  const msg = m as Record<string, unknown>;
  switch (msg.type) {
    case 'ready':
      return true;
    case 'selectNode':
      return typeof msg.nodeId === 'string';
    case 'expand':
      return typeof msg.nodeId === 'string' && (msg.direction === 'up' || msg.direction === 'down');
    case 'action':
      return typeof msg.nodeId === 'string' && NODE_ACTIONS.includes(msg.action as NodeAction);
    case 'setWhole':
      return typeof msg.whole === 'boolean';
    case 'rendered':
      return typeof msg.nodes === 'number' && typeof msg.layoutMs === 'number' && typeof msg.renderMs === 'number';
    default:
      return false;
  }
}

export function isLineageState(s: unknown): s is LineageState {
  if (!s || typeof s !== 'object') return false;
  const st = s as Record<string, unknown>;
  return typeof st.ref === 'string' && typeof st.depth === 'number' && Array.isArray(st.expansions) && (st.whole === undefined || typeof st.whole === 'boolean');
}

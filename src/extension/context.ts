import * as vscode from 'vscode';
import type { TreeElement } from '../shared/artifactTree';
import { TROVE_SCHEME } from '../shared/versionUri';
import { ArtifactsTreeProvider } from './artifactsTree';
import { Backend, type BackendState } from './backend';
import { ARTIFACTS_VIEW } from './commandIds';
import { registerCommands } from './commands';
import { COMPARE_SCHEME, CompareDocuments } from './compareDocuments';
import { affectsBackend, TOKEN_SECRET } from './config';
import { LineagePanels, type RenderReport } from './lineagePanel';
import { TroveLog } from './log';
import { BackendStatusItem } from './statusBar';
import { TerminalEnvironment } from './terminalEnvironment';
import { VersionCache } from './versionCache';
import { VersionFileSystem } from './versionFileSystem';

/** What the extension exports: read by the extension-host tests and by other extensions. */
export interface TroveApi {
  /** Milliseconds spent evaluating the bundle plus running `activate` (VS Code's definition). */
  readonly activationMs: number;
  /** Resolves once the backend was opened and its health checked. */
  readonly ready: Promise<void>;
  backendState(): BackendState | undefined;
  backendLocation(): string;
  /** How many times the backend was opened since activation. */
  backendOpens(): number;
  lastError(): string | undefined;
  readonly onDidRenderLineage: vscode.Event<RenderReport>;
  /** Fires after the tree reloaded because the backend changed (another process included). */
  readonly onDidChangeBackend: vscode.Event<void>;
  /** The children the Artifacts tree shows under an element (the root when undefined). */
  treeChildren(element?: TreeElement): Promise<TreeElement[]>;
}

/**
 * Owns everything the extension creates; disposing it disposes all of it. `activate` builds one
 * and nothing else keeps state.
 */
export class TroveContext implements vscode.Disposable {
  readonly api: TroveApi;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  constructor(context: vscode.ExtensionContext, clock: { loadStart: number; loadEnd: number; activateStart: number }) {
    const log = this.own(new TroveLog());
    const backend = this.own(new Backend(log, context.secrets));
    const versions = new VersionCache(backend);
    const tree = this.own(new ArtifactsTreeProvider(backend, versions, log));
    const treeView = this.own(vscode.window.createTreeView(ARTIFACTS_VIEW, { treeDataProvider: tree, showCollapseAll: true }));
    const compare = new CompareDocuments(backend);
    const lineage = this.own(new LineagePanels(context.extensionUri, backend, log));
    this.own(new BackendStatusItem(backend));
    this.own(new TerminalEnvironment(context, log));
    this.own(vscode.workspace.registerFileSystemProvider(TROVE_SCHEME, new VersionFileSystem(backend, versions), { isReadonly: true, isCaseSensitive: true }));
    this.own(vscode.workspace.registerTextDocumentContentProvider(COMPARE_SCHEME, compare));
    registerCommands({ context, backend, tree, treeView, compare, lineage, log }).forEach((d) => this.own(d));
    this.own(backend.onDidChange(() => tree.refresh()));
    // A token stored or removed (Sign In / Sign Out) reopens a server backend with it.
    this.own(context.secrets.onDidChange((e) => {
      if (e.key === TOKEN_SECRET && !backend.isEmbedded) void backend.open().then(() => tree.refresh());
    }));
    this.own(vscode.workspace.onDidChangeConfiguration((e) => {
      if (!affectsBackend(e)) return;
      versions.clear();
      compare.clear();
      void backend.open().then(() => tree.refresh());
    }));

    // Opening the backend and starting the language server are asynchronous so that activation stays fast.
    const ready = backend.open().then(() => tree.refresh());
    // The client library is evaluated only here, after activation has returned.
    void import('./languageClient').then(({ startLanguageClient }) => startLanguageClient(context, log.channel, async () => context.secrets.get(TOKEN_SECRET))).then(
      (client) => (this.disposed ? client.dispose() : this.own(client)),
      (e) => log.report('Starting the Trove language server', e),
    );
    const loadMs = clock.loadEnd - clock.loadStart;
    const activateMs = performance.now() - clock.activateStart;
    const activationMs = loadMs + activateMs;
    log.info(`Trove activated in ${activationMs.toFixed(1)} ms (bundle evaluated in ${loadMs.toFixed(1)} ms, activate ran ${activateMs.toFixed(1)} ms; the host prepared the extension context for ${(clock.activateStart - clock.loadEnd).toFixed(1)} ms in between)`);
    this.api = {
      activationMs,
      ready,
      backendState: () => backend.state,
      backendLocation: () => backend.location,
      backendOpens: () => backend.opens,
      lastError: () => log.lastError,
      onDidRenderLineage: lineage.onDidRender,
      onDidChangeBackend: backend.onDidChange,
      treeChildren: (element) => tree.getChildren(element),
    };
  }

  private own<T extends vscode.Disposable>(d: T): T {
    this.disposables.push(d);
    return d;
  }

  dispose(): void {
    this.disposed = true;
    for (const d of this.disposables.reverse()) d.dispose();
    this.disposables.length = 0;
  }
}

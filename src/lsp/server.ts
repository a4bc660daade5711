import { dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind, CodeLensRefreshRequest, MessageType, ShowMessageNotification, DiagnosticSeverity, DidChangeConfigurationNotification, ErrorCodes, ResponseError, NotebookDocuments, TextDocuments,
  TextDocumentSyncKind, type ClientCapabilities, type NotebookDocument, type Connection, type InitializeResult, type Location,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { isServerUrl } from '../core/backendChoice';
import { defaultProject, defaultStorePath } from '../core/config';
import { describeError } from '../core/errors';
import { formatRef } from '../core/names';
import type { Registry } from '../core/registry';
import { backendCacheDir, backendKey, missingStore, openBackend } from './backend';
import { runServerCommand, SERVER_COMMANDS } from './commands';
import { ArtifactCatalog } from './catalog';
import { referenceCodeActions } from './codeActions';
import { referenceLenses } from './codeLens';
import { COMPLETION_TRIGGERS, completeReference } from './completion';
import { DIAGNOSTIC_SOURCE, findProblems, toDiagnostics } from './diagnostics';
import { hoverMarkdown } from './hover';
import {
  DiagnosticCodes, DidChangeTokenNotification, RevealVersionNotification, SETTINGS_SECTION, VersionDocumentRequest, versionDocumentUri,
  type TroveInitializationOptions, type TroveSettings,
} from './protocol';
import { normalizeSettings, pickTroveSettings, pushedTroveSettings } from './settings';
import { versionCardMarkdown } from './versionCard';
import { findApiVariableNames, findPythonImports } from './pythonReferences';
import { findReferences, referenceAt, referenceLanguage, type ArtifactReference } from './references';

export interface TroveServerOptions {
  /** Delay between an edit and its diagnostics, so typing does not resolve every keystroke. */
  diagnosticsDelayMs?: number;
  /** How long cached artifact lists live without a change notification (server backends). */
  cacheMaxAgeMs?: number;
}

/** The references of one version of a document, and the project its bare names belong to. */
interface Analysis {
  /** The document's version, and for a notebook cell its notebook's version. */
  key: string;
  version: number;
  references: ArtifactReference[];
}

/** The open backend, or why there is none (`missing`: the store folder that does not exist yet). */
type Backend =
  | { ok: true; key: string; registry: Registry; catalog: ArtifactCatalog; unsubscribe: () => void }
  | { ok: false; key: string; message: string; missing?: string };

/**
 * The Trove language server on a connection it is given (stdio in `main.ts`, in-memory streams in
 * the tests). It keeps documents (plain ones and notebook cells) in sync, reads `trove.*` settings
 * (pushed in `initializationOptions` and `workspace/didChangeConfiguration`, and pulled through
 * `workspace/configuration` when the client offers it), opens the backend they name, and answers hover, completion,
 * code lens, code action and definition requests and pushes diagnostics, all from an
 * `ArtifactCatalog` that is refreshed when the registry reports a change.
 */
export function startTroveServer(connection: Connection, options: TroveServerOptions = {}): void {
  const diagnosticsDelayMs = options.diagnosticsDelayMs ?? 200;
  const documents = new TextDocuments(TextDocument);
  const notebooks = new NotebookDocuments(TextDocument);
  const analyses = new Map<string, Analysis>();
  const timers = new Map<string, NodeJS.Timeout>();
  const projectsByFolder = new Map<string, string>();
  let capabilities: ClientCapabilities = {};
  let initOptions: TroveInitializationOptions = {};
  /** What the client pushed (initializationOptions, then didChangeConfiguration), and what it answered when asked. */
  let pushed: TroveSettings = {};
  let pulled: TroveSettings | undefined;
  let settings: TroveSettings = {};
  /** A settings read under way: requests wait for it, so the first one already sees the client's settings. */
  let loading: Promise<void> = Promise.resolve();
  const reported = new Set<string>();
  let token: string | undefined;
  let workspaceFolders: string[] = [];
  let backend: Backend | undefined;
  let changeTimer: NodeJS.Timeout | undefined;
  let markReady!: () => void;
  const initialized = new Promise<void>((r) => (markReady = r));
  const settled = async () => {
    await initialized;
    await loading;
  };

  const getDocument = (uri: string) => documents.get(uri) ?? notebooks.cellTextDocuments.get(uri);
  const openDocuments = () => [...documents.all(), ...notebooks.cellTextDocuments.all()];

  function analyze(document: TextDocument): ArtifactReference[] {
    // A notebook cell also depends on its siblings (`api = wandb.Api()` in an earlier cell).
    const notebook = notebooks.findNotebookDocumentForCell(document.uri);
    const key = notebook ? `${document.version}/${notebook.version}` : `${document.version}`;
    const cached = analyses.get(document.uri);
    if (cached && cached.key === key) return cached.references;
    const language = referenceLanguage(document.languageId);
    let apiVariables: Set<string> | undefined;
    let imports: Map<string, string> | undefined;
    if (notebook && language === 'python') {
      apiVariables = new Set();
      imports = new Map();
      for (const cell of notebook.cells) {
        const sibling = notebooks.getCellTextDocument(cell);
        if (sibling && sibling.uri !== document.uri && sibling.languageId === 'python') {
          const text = sibling.getText();
          findApiVariableNames(text).forEach((n) => apiVariables!.add(n));
          findPythonImports(text).forEach((module, name) => imports!.set(name, module));
        }
      }
    }
    const references = language ? findReferences(language, document.getText(), apiVariables, imports) : [];
    analyses.set(document.uri, { key, version: document.version, references });
    return references;
  }

  /** The project bare names belong to (core's defaultProject: `trove.project`, TROVE_PROJECT, else the document's workspace folder's). */
  function projectFor(uri: string): string {
    const path = uriToPath(uri);
    const folder = (path && workspaceFolders.filter((f) => path === f || path.startsWith(f.endsWith(sep) ? f : f + sep)).sort((a, b) => b.length - a.length)[0])
      ?? (path ? dirname(path) : workspaceFolders[0] ?? process.cwd());
    let project = projectsByFolder.get(folder);
    if (!project) {
      project = defaultProject(folder, settings.project);
      projectsByFolder.set(folder, project);
    }
    return project;
  }

  function useBackend(): Backend {
    const key = backendKey(settings, token);
    // A store folder that did not exist is looked for again: logging an artifact creates it.
    if (backend?.key === key && !(!backend.ok && backend.missing && !missingStore(settings))) return backend;
    closeBackend();
    const missing = missingStore(settings);
    if (missing) {
      backend = { ok: false, key, message: missing.message, missing: missing.path };
      connection.console.error(`Trove: ${missing.message}`);
      return backend;
    }
    try {
      const registry = openBackend(settings, token);
      const catalog = new ArtifactCatalog(registry, options.cacheMaxAgeMs, () => resubscribe());
      const opened: Backend = { ok: true, key, registry, catalog, unsubscribe: registry.onDidChange(onRegistryChange) };
      backend = opened;
      connection.console.info(`Trove: reading ${registry.location}`);
    } catch (e) {
      backend = { ok: false, key, message: describeError(e) };
      connection.console.error(`Trove: ${backend.message}`);
    }
    return backend;
  }

  /**
   * Shows why the backend cannot be used, once per setting, when it matters: a document has
   * references to check (a Python file without any says nothing).
   */
  function report(key: string, message: string): void {
    if (reported.has(key)) return;
    reported.add(key);
    void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message: `Trove: ${message}` });
  }

  /** The settings in use: what the client answered when asked, over what it pushed. */
  function applySettings(): void {
    settings = normalizeSettings({ ...pushed, ...pulled }, workspaceFolders[0]);
    projectsByFolder.clear();
  }

  /** After a cache expiry, watch again: an embedded store created since start-up is only watched from now on. */
  function resubscribe(): void {
    if (!backend?.ok) return;
    backend.unsubscribe();
    backend.unsubscribe = backend.registry.onDidChange(onRegistryChange);
  }

  function closeBackend(): void {
    if (backend?.ok) {
      backend.unsubscribe();
      void backend.registry.close();
    }
    backend = undefined;
  }

  function onRegistryChange(): void {
    // A log writes several files; one refresh after the burst is enough.
    if (changeTimer) clearTimeout(changeTimer);
    changeTimer = setTimeout(() => {
      changeTimer = undefined;
      if (backend?.ok) backend.catalog.invalidate();
      refreshAll();
    }, 100);
  }

  /** Re-validates every open document and asks the client to fetch code lenses again. */
  function refreshAll(): void {
    for (const document of openDocuments()) validateNow(document.uri);
    if (capabilities.workspace?.codeLens?.refreshSupport) {
      connection.sendRequest(CodeLensRefreshRequest.type).catch((e) => connection.console.warn(`Trove: code lens refresh failed: ${describeError(e)}`));
    }
  }

  async function validate(uri: string): Promise<void> {
    await settled();
    const document = getDocument(uri);
    // Documents in other languages (a notebook's Markdown cells, say) are not ours to check.
    if (!document || !referenceLanguage(document.languageId)) return;
    const version = document.version;
    const references = analyze(document);
    const b = useBackend();
    let diagnostics;
    if (!b.ok) {
      if (references.length) report(b.key, b.message);
      diagnostics = references.length
        ? [{ range: { start: document.positionAt(references[0].start), end: document.positionAt(references[0].end) }, severity: DiagnosticSeverity.Information, source: DIAGNOSTIC_SOURCE, code: DiagnosticCodes.backendUnavailable, message: b.message }]
        : [];
    } else {
      diagnostics = toDiagnostics(document, await findProblems(b.catalog, references, projectFor(uri)));
    }
    // A newer edit has its own validation coming; do not publish results for old text.
    if (getDocument(uri)?.version !== version) return;
    await connection.sendDiagnostics({ uri, version, diagnostics });
  }

  function scheduleValidation(uri: string, delayMs: number): void {
    clearTimeout(timers.get(uri));
    timers.set(uri, setTimeout(() => validateNow(uri), delayMs));
  }

  function forget(uri: string): void {
    clearTimeout(timers.get(uri));
    timers.delete(uri);
    analyses.delete(uri);
    void connection.sendDiagnostics({ uri, diagnostics: [] });
  }

  function validateNow(uri: string): void {
    clearTimeout(timers.get(uri));
    timers.delete(uri);
    validate(uri).catch((e) => connection.console.error(`Trove: checking ${uri} failed: ${describeError(e)}`));
  }

  documents.onDidOpen((e) => {
    analyze(e.document);
    validateNow(e.document.uri);
  });
  documents.onDidChangeContent((e) => {
    // didOpen also fires a content change, for text the open handler has analysed and validates at once.
    if (analyses.get(e.document.uri)?.version !== e.document.version) scheduleValidation(e.document.uri, diagnosticsDelayMs);
  });
  documents.onDidClose((e) => forget(e.document.uri));

  // Notebook cells are checked from the notebook's events, which come once its cell map is up to
  // date; a change in one cell can change what another's `api.artifact(…)` means, so all are re-checked.
  const notebookCells = (notebook: NotebookDocument) => notebook.cells
    .map((cell) => notebooks.getCellTextDocument(cell))
    .filter((d): d is TextDocument => !!d && !!referenceLanguage(d.languageId));
  notebooks.onDidOpen((notebook) => notebookCells(notebook).forEach((d) => validateNow(d.uri)));
  notebooks.onDidChange((e) => notebookCells(e.notebookDocument).forEach((d) => scheduleValidation(d.uri, diagnosticsDelayMs)));
  notebooks.cellTextDocuments.onDidClose((e) => forget(e.document.uri));

  /** The document, its references, the reference at `position` and the open catalog, for one request. */
  async function at(uri: string, position: { line: number; character: number }) {
    await settled();
    const document = getDocument(uri);
    if (!document) return undefined;
    const references = analyze(document);
    const offset = document.offsetAt(position);
    const reference = referenceAt(references, offset);
    if (!reference) return undefined;
    return { document, references, reference, offset, backend: useBackend(), project: projectFor(uri) };
  }

  /**
   * Asks the client for the `trove` section when it can answer. A client that has no such section
   * (Neovim answers null when its `settings` lack `trove`) keeps what it pushed.
   */
  async function loadSettings(): Promise<void> {
    if (capabilities.workspace?.configuration) {
      try {
        const answer: unknown = await connection.workspace.getConfiguration(SETTINGS_SECTION);
        pulled = answer && typeof answer === 'object' ? pickTroveSettings(answer) : undefined;
      } catch (e) {
        connection.console.error(`Trove: could not read the trove settings: ${describeError(e)}`);
      }
    }
    applySettings();
  }

  connection.onInitialize((params): InitializeResult => {
    capabilities = params.capabilities;
    initOptions = (params.initializationOptions ?? {}) as TroveInitializationOptions;
    token = initOptions.token || undefined;
    workspaceFolders = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri)).filter((p): p is string => !!p);
    if (!workspaceFolders.length && params.rootUri) {
      const root = uriToPath(params.rootUri);
      if (root) workspaceFolders = [root];
    }
    // `settings: { storePath, … }` as documented; `settings: { trove: … }` and the keys themselves are read too.
    pushed = pushedTroveSettings(initOptions.settings) ?? pushedTroveSettings(initOptions) ?? {};
    applySettings();
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        notebookDocumentSync: { notebookSelector: [{ notebook: '*', cells: [{ language: 'python' }] }] },
        hoverProvider: true,
        completionProvider: { triggerCharacters: COMPLETION_TRIGGERS, resolveProvider: false },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        codeLensProvider: { resolveProvider: false },
        definitionProvider: true,
        ...(initOptions.clientCommands ? {} : { executeCommandProvider: { commands: [...SERVER_COMMANDS] } }),
        workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
      },
      serverInfo: { name: 'trove-language-server', version: '0.1.0' },
    };
  });

  connection.onInitialized(async () => {
    if (capabilities.workspace?.didChangeConfiguration?.dynamicRegistration) {
      await connection.client.register(DidChangeConfigurationNotification.type, { section: SETTINGS_SECTION });
    }
    if (capabilities.workspace?.workspaceFolders) {
      connection.workspace.onDidChangeWorkspaceFolders((e) => {
        const removed = new Set(e.removed.map((f) => uriToPath(f.uri)));
        workspaceFolders = workspaceFolders.filter((f) => !removed.has(f)).concat(e.added.map((f) => uriToPath(f.uri)).filter((p): p is string => !!p));
        projectsByFolder.clear();
        refreshAll();
      });
    }
    loading = loadSettings();
    markReady();
  });

  connection.onDidChangeConfiguration(async (params) => {
    // Pushed settings count at once; `{ settings: null }` (VS Code) only says "ask again".
    const next = pushedTroveSettings(params.settings);
    if (next) pushed = next;
    applySettings();
    if (capabilities.workspace?.configuration) {
      loading = loading.then(loadSettings);
      await loading;
    }
    if (backend?.ok) backend.catalog.invalidate();
    refreshAll();
  });

  connection.onNotification(DidChangeTokenNotification.type, ({ token: next }) => {
    token = next || undefined;
    refreshAll();
  });

  connection.onHover(async ({ textDocument, position }) => {
    const hit = await at(textDocument.uri, position);
    if (!hit) return null;
    const range = { start: hit.document.positionAt(hit.reference.start), end: hit.document.positionAt(hit.reference.end) };
    if (!hit.backend.ok) return { range, contents: { kind: 'markdown', value: `**Trove** · ${hit.backend.message}` } };
    const links = !!initOptions.clientCommands;
    if (!hit.reference.text.trim()) return null;
    const resolution = await hit.backend.catalog.resolve(hit.reference, hit.project);
    try {
      return { range, contents: { kind: 'markdown', value: await hoverMarkdown(hit.backend.catalog, hit.reference, resolution, links) } };
    } catch (e) {
      // The list said the version exists but its details could not be read (a damaged store, a server error).
      connection.console.error(`Trove: hover on "${hit.reference.text}" failed: ${describeError(e)}`);
      return { range, contents: { kind: 'markdown', value: `**Trove** · ${hit.backend.registry.location} could not be read: ${describeError(e)}` } };
    }
  });

  connection.onCompletion(async ({ textDocument, position }) => {
    const hit = await at(textDocument.uri, position);
    if (!hit || !hit.backend.ok) return null;
    try {
      return await completeReference(hit.backend.catalog, hit.document, hit.reference, hit.offset, hit.project);
    } catch (e) {
      connection.console.error(`Trove: completion failed: ${describeError(e)}`);
      return null;
    }
  });

  connection.onCodeLens(async ({ textDocument }) => {
    await settled();
    const document = getDocument(textDocument.uri);
    const b = useBackend();
    if (!document || !b.ok) return [];
    return referenceLenses(b.catalog, document, analyze(document), projectFor(document.uri), !initOptions.clientCommands);
  });

  connection.onCodeAction(async ({ textDocument, range, context }) => {
    await settled();
    const document = getDocument(textDocument.uri);
    const b = useBackend();
    if (!document || !b.ok) return [];
    return referenceCodeActions(b.catalog, document, analyze(document), range, projectFor(document.uri), context.diagnostics, !initOptions.clientCommands);
  });

  connection.onDefinition(async ({ textDocument, position }): Promise<Location | null> => {
    const hit = await at(textDocument.uri, position);
    if (!hit || !hit.backend.ok || !hit.reference.text.trim()) return null;
    const resolution = await hit.backend.catalog.resolve(hit.reference, hit.project);
    if (resolution.kind !== 'resolved') return null;
    const { project, name } = resolution.ref;
    const version = resolution.version.version;
    if (initOptions.versionDocuments) {
      // The version's card; the client reveals the version in its tree when the card is shown.
      return { uri: versionDocumentUri({ project, name, version }), range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } };
    }
    // A client without cards: tell it which version to reveal, and answer with the reference itself.
    await connection.sendNotification(RevealVersionNotification.type, { project, name, version, ref: formatRef(project, name, version) });
    return { uri: textDocument.uri, range: { start: hit.document.positionAt(hit.reference.start), end: hit.document.positionAt(hit.reference.end) } };
  });

  connection.onRequest(VersionDocumentRequest.type, async (args) => {
    await settled();
    const b = useBackend();
    if (!b.ok) throw new ResponseError(ErrorCodes.InvalidRequest, b.message);
    try {
      return { markdown: await versionCardMarkdown(b.catalog, args) };
    } catch (e) {
      throw new ResponseError(ErrorCodes.InvalidRequest, describeError(e));
    }
  });

  // The commands a client without Trove's own runs through the server (advertised only to such clients).
  connection.onExecuteCommand(async ({ command, arguments: args }) => {
    await settled();
    if (initOptions.clientCommands || !SERVER_COMMANDS.includes(command)) {
      throw new ResponseError(ErrorCodes.InvalidRequest, `The Trove language server does not run "${command}"${initOptions.clientCommands ? ': this client runs it itself' : `; it runs ${SERVER_COMMANDS.join(' and ')}`}.`);
    }
    const b = useBackend();
    if (!b.ok) throw new ResponseError(ErrorCodes.InvalidRequest, b.message);
    const embedded = !isServerUrl((settings.backend ?? '').trim());
    try {
      const outcome = await runServerCommand(command, args ?? [], {
        registry: b.registry,
        cacheDir: backendCacheDir(settings),
        workspaceFolder: workspaceFolders[0],
        excluded: embedded ? [defaultStorePath(settings.storePath)] : [],
        choose: async (message, choices) => {
          const picked = await connection.window.showInformationMessage(message, ...choices.map((title) => ({ title })));
          return picked?.title;
        },
      });
      if (!outcome) return null;
      connection.console.info(`Trove: ${outcome.message}`);
      void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Info, message: `Trove: ${outcome.message}` });
      return outcome.result;
    } catch (e) {
      const message = describeError(e);
      connection.console.error(`Trove: ${command} failed: ${message}`);
      throw new ResponseError(ErrorCodes.InvalidRequest, message);
    }
  });

  connection.onShutdown(() => {
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
    if (changeTimer) clearTimeout(changeTimer);
    closeBackend();
  });

  documents.listen(connection);
  notebooks.listen(connection);
  connection.listen();
}

/** The file-system path of a `file:` URI or of a notebook cell's `vscode-notebook-cell:` URI. */
export function uriToPath(uri: string): string | undefined {
  try {
    const url = new URL(uri);
    if (url.protocol === 'file:') return resolve(fileURLToPath(url));
    if (url.protocol === 'vscode-notebook-cell:') return resolve(decodeURIComponent(url.pathname));
  } catch {
    // Not a URL we can map to a folder (untitled:, …): the caller falls back to the workspace.
  }
  return undefined;
}

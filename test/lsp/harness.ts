/**
 * Test harness of the language server: a real embedded store in a temp folder, the server on
 * in-memory streams, and a real LSP client connection (vscode-languageserver-protocol) that
 * answers `workspace/configuration` and records what the server pushes.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { logArtifact } from '../../src/core/operations';
import { LocalRegistry } from '../../src/store/localRegistry';
import { startTroveServer, type TroveServerOptions } from '../../src/lsp/server';
import type { TroveSettings, VersionArgs } from '../../src/lsp/protocol';

export const FIXTURES = resolve(__dirname, '../fixtures/lsp');

export function fixture(name: string): { uri: string; text: string; path: string } {
  const path = join(FIXTURES, name);
  return { uri: pathToFileURL(path).href, text: readFileSync(path, 'utf8'), path };
}

/** Writes files into a fresh folder and logs it as the next version of an artifact. */
export async function logFiles(registry: LocalRegistry, root: string, req: {
  project: string; name: string; type: string; files: Record<string, string>; aliases?: string[];
  description?: string; metadata?: Record<string, unknown>; runId?: string;
}) {
  const dir = mkdtempSync(join(root, 'content-'));
  for (const [path, content] of Object.entries(req.files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return logArtifact(registry, {
    project: req.project, name: req.name, type: req.type, content: { dirs: [{ absPath: dir }], files: [], references: [] },
    aliases: req.aliases, description: req.description, metadata: req.metadata, runId: req.runId, cacheDir: join(root, 'statcache'),
  });
}

export const GIT_COMMIT = '3f2c9a1b7d4e5f60718293a4b5c6d7e8f9a0b1c2';

/**
 * The demo store the fixtures refer to:
 *   demo/mnist-raw  dataset  v0 (2 files), v1 (3 files; aliases latest, production; 6 metadata keys)
 *   demo/mnist-cnn  model    v0 (logged by a "train" run at GIT_COMMIT; aliases latest, candidate)
 *   other/cifar     dataset  v0
 */
export async function buildDemoStore(root: string): Promise<string> {
  const store = join(root, 'store');
  const registry = new LocalRegistry(store);
  await logFiles(registry, root, { project: 'demo', name: 'mnist-raw', type: 'dataset', files: { 'train.csv': 'a,b\n1,2\n', 'test.csv': 'a,b\n3,4\n' } });
  await logFiles(registry, root, {
    project: 'demo', name: 'mnist-raw', type: 'dataset', aliases: ['production'],
    files: { 'train.csv': 'a,b\n1,2\n5,6\n', 'test.csv': 'a,b\n3,4\n', 'README.md': '# MNIST\n' },
    description: 'Raw MNIST digits, as downloaded',
    metadata: { source: 'yann.lecun.com', rows: 70000, classes: 10, format: 'csv', split: [60000, 10000], license: 'CC BY-SA 3.0' },
  });
  const run = await registry.createRun({ project: 'demo', jobType: 'train', name: 'train-cnn', git: { commit: GIT_COMMIT, branch: 'main', dirty: false } });
  await logFiles(registry, root, {
    project: 'demo', name: 'mnist-cnn', type: 'model', aliases: ['candidate'], runId: run.id,
    files: { 'model.pt': 'weights'.repeat(100) }, metadata: { epochs: 10 },
  });
  await registry.finishRun(run.id, 'finished');
  await logFiles(registry, root, { project: 'other', name: 'cifar', type: 'dataset', files: { 'data.bin': 'cifar' } });
  await registry.close();
  return store;
}

export interface ClientOptions {
  /** The `trove` section answered to workspace/configuration (null: the client has no such section). */
  settings: TroveSettings | null;
  /** A client that does not offer workspace/configuration (Neovim 0.7's built-in client). */
  noConfiguration?: boolean;
  workspaceFolder?: string;
  initializationOptions?: Record<string, unknown>;
  serverOptions?: TroveServerOptions;
}

/** A client connection to a server running in this process, with what the server sent it. */
export class TestClient {
  readonly connection: ProtocolConnection;
  readonly diagnostics = new Map<string, PublishDiagnosticsParams>();
  readonly reveals: (VersionArgs & { ref: string })[] = [];
  readonly logs: string[] = [];
  readonly messages: { type: number; message: string }[] = [];
  /** window/showMessageRequest questions, and how to answer them (default: dismissed). */
  readonly questions: { message: string; actions: { title: string }[] }[] = [];
  answer: (q: { message: string; actions: { title: string }[] }) => string | undefined = () => undefined;
  codeLensRefreshes = 0;
  configurationRequests = 0;
  settings: TroveSettings | null;
  private waiters: (() => void)[] = [];

  constructor(private readonly options: ClientOptions) {
    this.settings = options.settings;
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const serverConnection = createConnection(ProposedFeatures.all, new StreamMessageReader(toServer), new StreamMessageWriter(toClient));
    startTroveServer(serverConnection, { diagnosticsDelayMs: 20, ...options.serverOptions });
    this.connection = createProtocolConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
    this.connection.onRequest('workspace/configuration', (params: { items: { section?: string }[] }) => {
      this.configurationRequests++;
      return params.items.map((item) => (item.section === 'trove' ? this.settings : null));
    });
    this.connection.onRequest('client/registerCapability', () => null);
    this.connection.onRequest('workspace/codeLens/refresh', () => {
      this.codeLensRefreshes++;
      this.notify();
      return null;
    });
    this.connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.diagnostics.set(p.uri, p);
      this.notify();
    });
    this.connection.onNotification('trove/revealVersion', (p: VersionArgs & { ref: string }) => {
      this.reveals.push(p);
      this.notify();
    });
    this.connection.onNotification('window/logMessage', (p: { message: string }) => this.logs.push(p.message));
    this.connection.onRequest('window/showMessageRequest', (q: { message: string; actions?: { title: string }[] }) => {
      const question = { message: q.message, actions: q.actions ?? [] };
      this.questions.push(question);
      const title = this.answer(question);
      return title === undefined ? null : { title };
    });
    this.connection.onNotification('window/showMessage', (p: { type: number; message: string }) => {
      this.messages.push(p);
      this.notify();
    });
    this.connection.listen();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  }

  async start(): Promise<void> {
    const folder = this.options.workspaceFolder ?? FIXTURES;
    await this.connection.sendRequest('initialize', {
      processId: null,
      rootUri: pathToFileURL(folder).href,
      workspaceFolders: [{ uri: pathToFileURL(folder).href, name: 'fixtures' }],
      // By default the client runs Trove's commands itself, as the VS Code extension does.
      initializationOptions: this.options.initializationOptions ?? { clientCommands: true },
      capabilities: {
        workspace: this.options.noConfiguration
          ? { workspaceFolders: true }
          : { configuration: true, didChangeConfiguration: { dynamicRegistration: true }, workspaceFolders: true, codeLens: { refreshSupport: true } },
        textDocument: { hover: { contentFormat: ['markdown'] }, completion: { completionItem: { snippetSupport: false } }, publishDiagnostics: {} },
        notebookDocument: { synchronization: { dynamicRegistration: false } },
      },
    });
    await this.connection.sendNotification('initialized', {});
  }

  /** Waits until `check()` returns a value (re-checked whenever the server sends something). */
  async waitFor<T>(check: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Diagnostics of `uri`, once published for `version` (any version when omitted). */
  diagnosticsFor(uri: string, version?: number, timeoutMs?: number): Promise<Diagnostic[]> {
    return this.waitFor(() => {
      const p = this.diagnostics.get(uri);
      return p && (version === undefined || p.version === version) ? p.diagnostics : undefined;
    }, `diagnostics of ${uri}${version !== undefined ? ` v${version}` : ''}`, timeoutMs);
  }

  open(uri: string, languageId: string, text: string, version = 1): Promise<void> {
    return this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version, text } });
  }

  async stop(): Promise<void> {
    await this.connection.sendRequest('shutdown');
    this.connection.dispose();
  }
}

/** The position of the `delta`-th character of the first occurrence of `needle` (after `after`). */
export function positionOf(text: string, needle: string, delta = 0, after?: string): { line: number; character: number } {
  const from = after ? text.indexOf(after) : 0;
  const at = text.indexOf(needle, from < 0 ? 0 : from);
  if (at < 0) throw new Error(`"${needle}" is not in the fixture`);
  const offset = at + delta;
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

export function tempRoot(prefix: string): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * The bundled server as a client starts it: `node dist/server.js --stdio`, settings answered
 * through workspace/configuration, the token passed in initializationOptions.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection } from 'vscode-languageserver-protocol/node';
import type { Hover, MarkupContent, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { buildDemoStore, tempRoot } from './harness';

const SERVER = resolve(__dirname, '../../dist/server.js');
const { root, cleanup } = tempRoot('trove-lsp-stdio-');
let child: ChildProcess;
let connection: ProtocolConnection;

before(async () => {
  assert.ok(existsSync(SERVER), `${SERVER} is missing: build it with \`node esbuild.js\``);
  const store = await buildDemoStore(root);
  child = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  connection.onRequest('workspace/configuration', (p: { items: { section?: string }[] }) => p.items.map(() => ({ storePath: store, project: 'demo', backend: '' })));
  connection.onRequest('client/registerCapability', () => null);
  connection.listen();
});

after(async () => {
  await connection.sendRequest('shutdown');
  await connection.sendNotification('exit');
  const code = await new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('exit', r)));
  connection.dispose();
  cleanup();
  assert.equal(code, 0, 'the server exits with 0 after shutdown + exit');
});

test('node dist/server.js --stdio: initialize, diagnostics and hover', async () => {
  const init = (await connection.sendRequest('initialize', {
    processId: process.pid, rootUri: pathToFileURL(root).href, workspaceFolders: null,
    initializationOptions: { token: 'not-used-by-the-embedded-store' },
    capabilities: { workspace: { configuration: true } },
  })) as { capabilities: Record<string, unknown>; serverInfo: { name: string } };
  assert.equal(init.serverInfo.name, 'trove-language-server');
  for (const c of ['hoverProvider', 'completionProvider', 'codeLensProvider', 'codeActionProvider', 'definitionProvider', 'notebookDocumentSync']) {
    assert.ok(init.capabilities[c], `capability ${c}`);
  }
  await connection.sendNotification('initialized', {});
  const uri = pathToFileURL(join(root, 'train.py')).href;
  const diagnostics = new Promise<PublishDiagnosticsParams>((r) => connection.onNotification('textDocument/publishDiagnostics', r));
  const text = 'raw = run.use_artifact("mnist-raw:production")\nbad = run.use_artifact("mnist-raw:nope")\n';
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
  const published = await diagnostics;
  assert.deepEqual(published.diagnostics.map((d) => [d.code, d.range.start.line]), [['unknown-alias', 1]]);
  const hover = (await connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 26 } })) as Hover;
  assert.match((hover.contents as MarkupContent).value, /demo\/mnist-raw:v1\*\* · dataset/);
});

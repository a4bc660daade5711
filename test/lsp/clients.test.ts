/**
 * The language server with clients other than VS Code (issue 11, items 18 and 19): settings pushed
 * in initializationOptions and workspace/didChangeConfiguration by a client without
 * workspace/configuration (Neovim 0.7), a client whose configuration has no `trove` section, a store
 * folder that does not exist, and the commands a server runs itself (workspace/executeCommand).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Hover, MarkupContent } from 'vscode-languageserver-protocol';
import { LocalRegistry } from '../../src/store/localRegistry';
import { buildDemoStore, logFiles, tempRoot, TestClient } from './harness';

const { root, cleanup } = tempRoot('trove-lsp-clients-');
let store: string;

before(async () => {
  store = await buildDemoStore(root);
});
after(() => cleanup());

const markdown = (h: Hover | null) => {
  assert.ok(h, 'expected a hover');
  return (h.contents as MarkupContent).value;
};
const codes = (ds: { code?: string | number }[]) => ds.map((d) => d.code);
const TEXT = 'x = run.use_artifact("mnist-raw:production")\n';
// The default store (~/.trove, or TROVE_STORE) must not be what these tests read by accident.
const ENV_STORE = process.env.TROVE_STORE;
before(() => {
  process.env.TROVE_STORE = join(root, 'not-the-default-store');
});
after(() => {
  if (ENV_STORE === undefined) delete process.env.TROVE_STORE;
  else process.env.TROVE_STORE = ENV_STORE;
});

async function withClient(options: ConstructorParameters<typeof TestClient>[0], body: (c: TestClient, uri: string) => Promise<void>): Promise<void> {
  const ws = join(root, `ws-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(ws);
  const client = new TestClient({ workspaceFolder: ws, ...options });
  await client.start();
  try {
    await body(client, pathToFileURL(join(ws, 'train.py')).href);
  } finally {
    await client.stop();
  }
}

describe('settings from a client without workspace/configuration (Neovim 0.7)', () => {
  test('initializationOptions settings count from the first request', async () => {
    await withClient({ settings: null, noConfiguration: true, initializationOptions: { settings: { storePath: store, project: 'demo' } } }, async (c, uri) => {
      await c.open(uri, 'python', TEXT);
      const md = markdown(await c.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 25 } }));
      assert.match(md, /demo\/mnist-raw:v1\*\* · dataset/);
      assert.deepEqual(await c.diagnosticsFor(uri, 1), []);
    });
  });

  test('a push without a trove section keeps them; a push of the section (nested or flat) replaces them', async () => {
    await withClient({ settings: null, noConfiguration: true, initializationOptions: { settings: { storePath: store, project: 'demo' } } }, async (c, uri) => {
      await c.open(uri, 'python', TEXT);
      assert.deepEqual(await c.diagnosticsFor(uri, 1), []);
      // Neovim sends its whole `settings` table: another server's section says nothing about Trove.
      c.diagnostics.delete(uri);
      await c.connection.sendNotification('workspace/didChangeConfiguration', { settings: { pylsp: { plugins: {} } } });
      assert.deepEqual(await c.diagnosticsFor(uri, 1), []);
      const empty = join(root, 'empty-store');
      mkdirSync(empty, { recursive: true });
      c.diagnostics.delete(uri);
      await c.connection.sendNotification('workspace/didChangeConfiguration', { settings: { trove: { storePath: empty, project: 'demo' } } });
      assert.deepEqual(codes(await c.diagnosticsFor(uri, 1)), ['unknown-artifact']);
      c.diagnostics.delete(uri);
      await c.connection.sendNotification('workspace/didChangeConfiguration', { settings: { storePath: store, project: 'demo' } });
      assert.deepEqual(await c.diagnosticsFor(uri, 1), []);
    });
  });

  test('settings pushed right after initialized are used by the first request', async () => {
    await withClient({ settings: null, noConfiguration: true }, async (c, uri) => {
      await c.connection.sendNotification('workspace/didChangeConfiguration', { settings: { trove: { storePath: store, project: 'demo' } } });
      const md = markdown(await (async () => {
        await c.open(uri, 'python', TEXT);
        return c.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 25 } });
      })());
      assert.match(md, /demo\/mnist-raw:v1\*\*/);
    });
  });
});

describe('settings from a client whose configuration has no trove section', () => {
  test('workspace/configuration answering null keeps the initializationOptions settings', async () => {
    await withClient({ settings: null, initializationOptions: { settings: { storePath: store, project: 'demo' } } }, async (c, uri) => {
      await c.open(uri, 'python', TEXT);
      assert.deepEqual(await c.diagnosticsFor(uri, 1), []);
      assert.ok(c.configurationRequests >= 1, 'the server asked');
    });
  });
});

describe('a store folder that does not exist', () => {
  test('is reported (diagnostic, hover, one message), not read as an empty store; logging there creates it and it is read', async () => {
    const missing = join(root, 'no-such-store');
    await withClient({ settings: { storePath: missing, project: 'demo' } }, async (c, uri) => {
      await c.open(uri, 'python', TEXT);
      const ds = await c.diagnosticsFor(uri, 1);
      assert.deepEqual(codes(ds), ['backend-unavailable']);
      assert.equal(ds[0].message, `The store folder ${missing} (the setting trove.storePath) does not exist: set trove.storePath to an existing Trove store, or log an artifact there first.`);
      const md = markdown(await c.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 25 } }));
      assert.match(md, /does not exist/);
      await c.waitFor(() => (c.messages.length ? true : undefined), 'a window/showMessage');
      assert.equal(c.messages.length, 1);
      assert.equal(c.messages[0].type, 2);
      assert.ok(!existsSync(missing), 'the server does not create the store');
      // Logged there since: the next request finds it.
      const registry = new LocalRegistry(missing);
      await logFiles(registry, root, { project: 'demo', name: 'mnist-raw', type: 'dataset', aliases: ['production'], files: { 'a.csv': '1\n' } });
      await registry.close();
      const after = markdown(await c.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 25 } }));
      assert.match(after, /demo\/mnist-raw:v0\*\* · dataset/);
      assert.equal(c.messages.length, 1, 'reported once');
    });
  });

  test('a store path that is a file is reported too', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a store');
    await withClient({ settings: { storePath: file } }, async (c, uri) => {
      await c.open(uri, 'python', TEXT);
      const ds = await c.diagnosticsFor(uri, 1);
      assert.match(ds[0].message, /a-file \(the setting trove\.storePath\) is not a folder/);
      assert.equal(readFileSync(file, 'utf8'), 'not a store');
    });
  });
});

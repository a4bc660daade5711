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
      // A Python file without references says nothing about the store.
      const plain = uri.replace(/train\.py$/, 'plain.py');
      await c.open(plain, 'python', 'print("no artifacts here")\n');
      assert.deepEqual(await c.diagnosticsFor(plain, 1), []);
      assert.equal(c.messages.length, 0);
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

describe('workspace/executeCommand for clients without Trove commands', () => {
  const init = () => ({ settings: null, noConfiguration: true, initializationOptions: { settings: { storePath: store, project: 'demo' } } });

  test('the server advertises the commands it runs, and none to the VS Code extension (which runs them)', async () => {
    for (const [options, expected] of [[{ settings: { storePath: store } }, undefined], [init(), ['trove.downloadVersion', 'trove.logFolder']]] as const) {
      const c = new TestClient({ ...options, workspaceFolder: root });
      const result = (await c.connection.sendRequest('initialize', {
        processId: null, rootUri: pathToFileURL(root).href, workspaceFolders: null,
        initializationOptions: 'initializationOptions' in options ? options.initializationOptions : { clientCommands: true }, capabilities: {},
      })) as { capabilities: { executeCommandProvider?: { commands: string[] } } };
      assert.deepEqual(result.capabilities.executeCommandProvider?.commands, expected);
      await c.connection.sendNotification('initialized', {});
      await c.stop();
    }
  });

  test('the Download lens runs on the server: files in artifacts/<name>-v<K>, a download run in the lineage, a message', async () => {
    await withClient(init(), async (c, uri) => {
      await c.open(uri, 'python', TEXT);
      const lenses = (await c.connection.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as { command: { title: string; command: string; arguments: unknown[] } }[];
      assert.deepEqual(lenses.map((l) => [l.command.title, l.command.command, l.command.arguments]), [['v1 · 3 files · 28 B — Download', 'trove.downloadVersion', ['demo/mnist-raw:v1']]]);
      const hover = markdown(await c.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 25 } }));
      assert.doesNotMatch(hover, /command:/, 'no links this client cannot follow');
      const result = (await c.connection.sendRequest('workspace/executeCommand', lenses[0].command)) as { root: string; files: number };
      const ws = new URL('.', uri).pathname;
      assert.equal(result.root, join(ws, 'artifacts/mnist-raw-v1'));
      assert.equal(result.files, 3);
      assert.equal(readFileSync(join(result.root, 'train.csv'), 'utf8'), 'a,b\n1,2\n5,6\n');
      await c.waitFor(() => c.messages.find((m) => /downloaded/.test(m.message)), 'the message');
      assert.ok(c.messages.some((m) => m.type === 3 && m.message === 'Trove: mnist-raw:v1 downloaded: 3 files in artifacts/mnist-raw-v1'));
      const registry = new LocalRegistry(store);
      const v1 = await registry.getVersion({ project: 'demo', name: 'mnist-raw', alias: 'v1' });
      const runs = await Promise.all(v1.usedBy.map((u) => registry.getRun(u.runId)));
      assert.ok(runs.some((r) => r.jobType === 'download' && /language server: Download demo\/mnist-raw:v1/.test(r.command ?? '')), 'recorded as a download run');
      await registry.close();
      // A changed file is not overwritten unless asked.
      writeFileSync(join(result.root, 'train.csv'), 'changed\n');
      await assert.rejects(c.connection.sendRequest('workspace/executeCommand', lenses[0].command),
        (e: Error) => e.message === '1 file(s) in artifacts/mnist-raw-v1 differ from demo/mnist-raw:v1 (first: train.csv); pass {"overwrite": true} as the second argument, or another "root".');
      assert.equal(readFileSync(join(result.root, 'train.csv'), 'utf8'), 'changed\n');
      await c.connection.sendRequest('workspace/executeCommand', { command: 'trove.downloadVersion', arguments: ['demo/mnist-raw:v1', { overwrite: true }] });
      assert.equal(readFileSync(join(result.root, 'train.csv'), 'utf8'), 'a,b\n1,2\n5,6\n');
    });
  });

  test('Log a folder: the given folder, or one picked through window/showMessageRequest; dismissing logs nothing', async () => {
    await withClient(init(), async (c, uri) => {
      const ws = new URL('.', uri).pathname;
      mkdirSync(join(ws, 'data'));
      writeFileSync(join(ws, 'data', 'x.txt'), 'x\n');
      const text = 'a = wandb.Artifact("fresh-data", type="dataset")\n';
      await c.open(uri, 'python', text);
      const lenses = (await c.connection.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as { command: { command: string; arguments: unknown[] } }[];
      assert.deepEqual(lenses.map((l) => [l.command.command, l.command.arguments]), [['trove.logFolder', [{ project: 'demo', name: 'fresh-data', type: 'dataset' }]]]);
      const actions = (await c.connection.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 0, character: 22 }, end: { line: 0, character: 22 } }, context: { diagnostics: [] } })) as { title: string }[];
      assert.deepEqual(actions.map((a) => a.title), ['Log a folder as "fresh-data"']);
      // Dismissed: nothing is logged.
      assert.equal(await c.connection.sendRequest('workspace/executeCommand', lenses[0].command), null);
      assert.deepEqual(c.questions.map((q) => [q.message, q.actions.map((a) => a.title)]), [['Log which folder as "fresh-data" in project demo?', ['.', 'data']]]);
      // Picked.
      c.answer = (q) => (q.actions.some((a) => a.title === 'data') ? 'data' : undefined);
      const logged = (await c.connection.sendRequest('workspace/executeCommand', lenses[0].command)) as { ref: string; created: boolean; files: number };
      assert.deepEqual([logged.ref, logged.created, logged.files], ['demo/fresh-data:v0', true, 1]);
      // Given, with the type asked for.
      c.answer = (q) => (q.message === 'Which type is "fresh-model"?' ? 'model' : undefined);
      const model = (await c.connection.sendRequest('workspace/executeCommand', { command: 'trove.logFolder', arguments: [{ project: 'demo', name: 'fresh-model', folder: join(ws, 'data') }] })) as { ref: string };
      assert.equal(model.ref, 'demo/fresh-model:v0');
      const registry = new LocalRegistry(store);
      assert.equal((await registry.listArtifacts('demo')).find((a) => a.name === 'fresh-model')?.type, 'model');
      await registry.close();
      await assert.rejects(c.connection.sendRequest('workspace/executeCommand', { command: 'trove.logFolder', arguments: [{ project: 'demo', name: 'x', type: 'dataset', folder: 'no-such-folder' }] }),
        /no-such-folder is not a folder; pass the folder to log as "folder"/);
      await assert.rejects(c.connection.sendRequest('workspace/executeCommand', { command: 'trove.showLineage', arguments: ['demo/mnist-raw:v1'] }),
        /does not run "trove\.showLineage"; it runs trove\.downloadVersion and trove\.logFolder/);
    });
  });
});

describe('W&B code from other projects (issue 11, item 20)', () => {
  test("other libraries' calls are not checked, W&B's other calls are, and names W&B accepts are not flagged", async () => {
    await withClient({ settings: { storePath: store, project: 'demo' } }, async (c, uri) => {
      const text = [
        'import comet_ml, wandb',
        'x = comet_ml.Artifact("mnist raw", "dataset")',
        'm = run.use_model("mnist-cnn:candidate")',
        'r = run.use_artifact("wandb-registry-model/My Model:v0")',
        'run.link_artifact(art, "wandb-registry-model/My Model")',
        'y = run.use_artifact(name="mnist-raw:nope")',
        'z = wandb.use_model(name="mnist-cnn:v9")',
      ].join('\n');
      await c.open(uri, 'python', text);
      const ds = await c.diagnosticsFor(uri, 1);
      assert.deepEqual(ds.map((d) => [d.range.start.line, d.code]).sort(), [[5, 'unknown-alias'], [6, 'unknown-version']]);
      const hover = async (line: number, character: number) => markdown(await c.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line, character } }));
      assert.match(await hover(2, 22), /^\*\*demo\/mnist-cnn:v0\*\* · model/);
      assert.match(await hover(3, 30), /^\*\*Trove\*\* · W&B accepts "wandb-registry-model\/My Model:v0", but it is not a Trove reference \(Invalid artifact name "My Model"/);
      assert.equal(await c.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 26 } }), null, 'comet_ml.Artifact is not a reference');
    });
  });
});

/**
 * The language server driven over in-memory streams by a real LSP client connection, against a
 * real embedded store: hover, completion, diagnostics, code actions, code lens and definition on
 * the fixtures in test/fixtures/lsp (Python, a notebook, TypeScript, YAML).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { CodeAction, CodeLens, CompletionList, Diagnostic, Hover, Location, MarkupContent } from 'vscode-languageserver-protocol';
import { parseVersionDocumentPath } from '../../src/lsp/protocol';
import { LocalRegistry } from '../../src/store/localRegistry';
import { buildDemoStore, fixture, FIXTURES, GIT_COMMIT, logFiles, positionOf, tempRoot, TestClient } from './harness';

const { root, cleanup } = tempRoot('trove-lsp-');
let store: string;
let client: TestClient;

before(async () => {
  store = await buildDemoStore(root);
  client = new TestClient({ settings: { storePath: store, project: 'demo', backend: 'embedded' } });
  await client.start();
});

after(async () => {
  await client.stop();
  cleanup();
});

const markdown = (h: Hover | null) => {
  assert.ok(h, 'expected a hover');
  return (h.contents as MarkupContent).value;
};
const byCode = (ds: Diagnostic[]) => ds.map((d) => `${d.code}: ${d.message}`).sort();
const commandArg = (link: string, command: string) => {
  const m = new RegExp(`command:${command.replace('.', '\\.')}\\?([^ )]+)`).exec(link);
  assert.ok(m, `no ${command} link in ${link}`);
  return JSON.parse(decodeURIComponent(m[1]))[0];
};

describe('Python file', () => {
  const py = fixture('train.py');
  before(() => client.open(py.uri, 'python', py.text));

  test('diagnostics flag exactly the unknown artifact, alias and version, with suggestions', async () => {
    const ds = await client.diagnosticsFor(py.uri, 1);
    assert.deepEqual(byCode(ds).filter((d) => !d.startsWith('type-mismatch')), [
      'unknown-alias: "mnist-raw" has no alias "prod". Did you mean "production"?',
      'unknown-artifact: Artifact "mnist-rwa" does not exist in project "demo". Did you mean "mnist-raw"?',
      'unknown-version: "mnist-raw" has no version v7; it has 2 versions. Did you mean "v1", "v0"?',
    ]);
    assert.ok(ds.every((d) => d.severity === 2 && d.source === 'trove'));
    // Logging an existing artifact with another type fails in Trove (and W&B): flagged on the type.
    const mismatch = ds.find((d) => d.code === 'type-mismatch')!;
    assert.equal(mismatch.message, '"mnist-raw" is a dataset artifact; logging it as "model" fails. Use type "dataset" or another name.');
    assert.deepEqual(mismatch.range.start, positionOf(py.text, 'model")', 0, 'wrong_type'));
    const alias = ds.find((d) => d.code === 'unknown-alias')!;
    // The squiggle covers the alias only.
    assert.deepEqual(alias.range.start, positionOf(py.text, 'prod")'));
    assert.deepEqual(alias.range.end, positionOf(py.text, 'prod")', 4));
  });

  test('hover on use_artifact shows the resolved version as Markdown with command links', async () => {
    const md = markdown(await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: py.uri }, position: positionOf(py.text, 'mnist-raw:production', 3) }));
    assert.match(md, /demo\/mnist-raw:v1\*\* · dataset · `latest` `production`/);
    assert.match(md, /3 files · 28 B · created \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    assert.match(md, /> Raw MNIST digits, as downloaded/);
    assert.match(md, /Metadata: `source`: `yann.lecun.com`, `rows`: `70000`, `classes`: `10`, `format`: `csv`, `split`: `\[60000,10000\]`, … \(1 more\)/);
    assert.equal(commandArg(md, 'trove.showLineage'), 'demo/mnist-raw:v1');
    assert.equal(commandArg(md, 'trove.downloadVersion'), 'demo/mnist-raw:v1');
    assert.equal(commandArg(md, 'trove.revealVersion'), 'demo/mnist-raw:v1');
  });

  test('hover shows the producing run with job type and git commit (Api().artifact, entity/project/name)', async () => {
    const md = markdown(await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: py.uri }, position: positionOf(py.text, 'acme/demo/mnist-cnn', 12) }));
    assert.match(md, /demo\/mnist-cnn:v0\*\* · model · `latest` `candidate`/);
    assert.match(md, new RegExp(`Produced by run \`train-cnn\` · job type \`train\` at commit \`${GIT_COMMIT.slice(0, 10)}\` on \`main\``));
  });

  test('api.artifact on a variable bound to wandb.Api() resolves', async () => {
    const md = markdown(await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: py.uri }, position: positionOf(py.text, '"mnist-cnn")', 2) }));
    assert.match(md, /demo\/mnist-cnn:v0/);
  });

  test('comments, plain strings and f-strings are not references', async () => {
    for (const needle of ['commented-out', 'inside-a-string', 'mnist-raw:{alias}']) {
      const h = await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: py.uri }, position: positionOf(py.text, needle, 2) });
      assert.equal(h, null, needle);
    }
  });

  test('hover on a wandb.Artifact name that is not logged yet offers to log a folder', async () => {
    const md = markdown(await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: py.uri }, position: positionOf(py.text, 'brand-new-model', 3) }));
    assert.match(md, /not logged yet/);
    assert.deepEqual(commandArg(md, 'trove.logFolder'), { project: 'demo', name: 'brand-new-model', type: 'model' });
  });

  test('completion offers artifact names with type and latest version', async () => {
    const list = (await client.connection.sendRequest('textDocument/completion', { textDocument: { uri: py.uri }, position: positionOf(py.text, 'mnist-rwa', 3) })) as CompletionList;
    const names = list.items.filter((i) => i.detail !== 'project');
    assert.deepEqual(names.map((i) => `${i.label} (${i.detail})`).sort(), ['mnist-cnn (model · v0)', 'mnist-raw (dataset · v1)']);
    // The edit replaces the name segment only, keeping ":latest".
    const edit = names[0].textEdit as { range: { start: { character: number }; end: { character: number } } };
    assert.equal(edit.range.start.character, positionOf(py.text, 'mnist-rwa').character);
    assert.equal(edit.range.end.character, positionOf(py.text, 'mnist-rwa', 9).character);
    assert.ok(list.items.some((i) => i.label === 'other/' && i.detail === 'project'));
  });

  test('completion after ":" offers aliases and vK versions', async () => {
    const list = (await client.connection.sendRequest('textDocument/completion', { textDocument: { uri: py.uri }, position: positionOf(py.text, 'prod")', 2) })) as CompletionList;
    const labels = list.items.map((i) => i.label);
    assert.deepEqual(labels.sort(), ['latest', 'production', 'v0', 'v1']);
    const production = list.items.find((i) => i.label === 'production')!;
    assert.equal(production.detail, 'v1 · 3 files · 28 B');
  });

  test('code lens shows "vK · N files · size — Show Lineage | Download" per resolved reference', async () => {
    const lenses = (await client.connection.sendRequest('textDocument/codeLens', { textDocument: { uri: py.uri } })) as CodeLens[];
    const line = positionOf(py.text, 'mnist-raw:production').line;
    const onLine = lenses.filter((l) => l.range.start.line === line);
    assert.deepEqual(onLine.map((l) => l.command!.title), ['v1 · 3 files · 28 B — Show Lineage', 'Download']);
    assert.deepEqual(onLine.map((l) => l.command!.command), ['trove.showLineage', 'trove.downloadVersion']);
    assert.deepEqual(onLine.map((l) => l.command!.arguments), [['demo/mnist-raw:v1'], ['demo/mnist-raw:v1']]);
    // Unresolved references get no lens; a new artifact gets "Log a Folder".
    assert.equal(lenses.filter((l) => l.range.start.line === positionOf(py.text, 'mnist-rwa').line).length, 0);
    const fresh = lenses.find((l) => l.range.start.line === positionOf(py.text, 'brand-new-model').line)!;
    assert.equal(fresh.command!.command, 'trove.logFolder');
    // other/cifar:v0 resolves in the other project.
    const other = lenses.find((l) => l.range.start.line === positionOf(py.text, 'other/cifar').line)!;
    assert.equal(other.command!.title, 'v0 · 1 file · 5 B — Show Lineage');
  });

  test('code actions: "Log a folder as" for an unknown artifact, and "Change to" the nearest name', async () => {
    const ds = await client.diagnosticsFor(py.uri, 1);
    const unknown = ds.find((d) => d.code === 'unknown-artifact')!;
    const actions = (await client.connection.sendRequest('textDocument/codeAction', { textDocument: { uri: py.uri }, range: unknown.range, context: { diagnostics: [unknown] } })) as CodeAction[];
    assert.deepEqual(actions.map((a) => a.title), ['Change to "mnist-raw"', 'Log a folder as "mnist-rwa"']);
    assert.deepEqual(actions[1].command, { title: 'Log a folder as "mnist-rwa"', command: 'trove.logFolder', arguments: [{ project: 'demo', name: 'mnist-rwa' }] });
    assert.deepEqual(actions[0].edit!.changes![py.uri], [{ range: unknown.range, newText: 'mnist-raw' }]);
    assert.deepEqual(actions[0].diagnostics, [unknown]);
    const alias = ds.find((d) => d.code === 'unknown-alias')!;
    const aliasActions = (await client.connection.sendRequest('textDocument/codeAction', { textDocument: { uri: py.uri }, range: alias.range, context: { diagnostics: [alias] } })) as CodeAction[];
    assert.deepEqual(aliasActions.map((a) => a.title), ['Change to "production"']);
    const mismatch = ds.find((d) => d.code === 'type-mismatch')!;
    const typeActions = (await client.connection.sendRequest('textDocument/codeAction', { textDocument: { uri: py.uri }, range: mismatch.range, context: { diagnostics: [mismatch] } })) as CodeAction[];
    assert.deepEqual(typeActions.map((a) => [a.title, a.edit!.changes![py.uri][0].newText]), [['Change to "dataset"', 'dataset']]);
  });

  test('go to definition reveals the version in the tree and answers with the reference itself', async () => {
    const before = client.reveals.length;
    const loc = (await client.connection.sendRequest('textDocument/definition', { textDocument: { uri: py.uri }, position: positionOf(py.text, 'mnist-raw:v0', 2) })) as Location;
    assert.equal(loc.uri, py.uri);
    assert.deepEqual(loc.range.start, positionOf(py.text, 'mnist-raw:v0'));
    const reveal = await client.waitFor(() => client.reveals[before], 'trove/revealVersion');
    assert.deepEqual(reveal, { project: 'demo', name: 'mnist-raw', version: 0, ref: 'demo/mnist-raw:v0' });
    const none = await client.connection.sendRequest('textDocument/definition', { textDocument: { uri: py.uri }, position: positionOf(py.text, 'mnist-rwa', 2) });
    assert.equal(none, null);
  });

  test('an edit is re-checked: fixing the alias clears its diagnostic', async () => {
    const start = positionOf(py.text, 'prod")');
    await client.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri: py.uri, version: 2 },
      contentChanges: [{ range: { start, end: { line: start.line, character: start.character + 4 } }, text: 'production' }],
    });
    const ds = await client.diagnosticsFor(py.uri, 2);
    assert.deepEqual(ds.map((d) => d.code).sort(), ['type-mismatch', 'unknown-artifact', 'unknown-version']);
  });
});

describe('notebook (LSP notebook document sync)', () => {
  const nb = fixture('explore.ipynb');
  const cells = (JSON.parse(nb.text).cells as { cell_type: string; source: string[] }[]).map((c, i) => ({
    kind: c.cell_type === 'code' ? 2 : 1,
    uri: `vscode-notebook-cell:${nb.path}#W${i}sZmlsZQ%3D%3D`,
    languageId: c.cell_type === 'code' ? 'python' : 'markdown',
    text: c.source.join(''),
  }));

  before(() => client.connection.sendNotification('notebookDocument/didOpen', {
    notebookDocument: { uri: nb.uri, notebookType: 'jupyter-notebook', version: 1, cells: cells.map((c) => ({ kind: c.kind, document: c.uri })) },
    cellTextDocuments: cells.map((c) => ({ uri: c.uri, languageId: c.languageId, version: 1, text: c.text })),
  }));

  test('each code cell gets its own diagnostics; markdown cells are not code', async () => {
    assert.deepEqual(await client.diagnosticsFor(cells[1].uri, 1), []);
    const ds = await client.diagnosticsFor(cells[2].uri, 1);
    assert.deepEqual(byCode(ds), ['unknown-alias: "mnist-cnn" has no alias "best". Did you mean "latest", "candidate"?']);
    assert.equal(client.diagnostics.has(cells[0].uri), false);
  });

  test('api = wandb.Api() in one cell makes api.artifact(…) in another a reference', async () => {
    assert.deepEqual(byCode(await client.diagnosticsFor(cells[3].uri, 1)), ['unknown-alias: "mnist-cnn" has no alias "bets". Did you mean "latest", "candidate"?']);
  });

  test('a cell added through notebookDocument/didChange is checked', async () => {
    const uri = `vscode-notebook-cell:${nb.path}#added`;
    await client.connection.sendNotification('notebookDocument/didChange', {
      notebookDocument: { uri: nb.uri, version: 2 },
      change: { cells: { structure: { array: { start: 4, deleteCount: 0, cells: [{ kind: 2, document: uri }] }, didOpen: [{ uri, languageId: 'python', version: 1, text: 'x = api.artifact("other/cifar:v9")' }] } } },
    });
    assert.deepEqual((await client.diagnosticsFor(uri, 1)).map((d) => d.code), ['unknown-version']);
  });

  test('hover and completion work inside a cell', async () => {
    const md = markdown(await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: cells[1].uri }, position: positionOf(cells[1].text, 'mnist-raw:production', 1) }));
    assert.match(md, /demo\/mnist-raw:v1/);
    const list = (await client.connection.sendRequest('textDocument/completion', { textDocument: { uri: cells[2].uri }, position: positionOf(cells[2].text, 'best', 0) })) as CompletionList;
    assert.deepEqual(list.items.map((i) => i.label).sort(), ['candidate', 'latest', 'v0']);
  });

  test('editing a cell through notebookDocument/didChange re-checks it', async () => {
    const at = positionOf(cells[2].text, 'best');
    await client.connection.sendNotification('notebookDocument/didChange', {
      notebookDocument: { uri: nb.uri, version: 3 },
      change: { cells: { textContent: [{ document: { uri: cells[2].uri, version: 2 }, changes: [{ range: { start: at, end: { line: at.line, character: at.character + 4 } }, text: 'candidate' }] }] } },
    });
    assert.deepEqual(await client.diagnosticsFor(cells[2].uri, 2), []);
  });

  test('a cell sent as a plain text document (clients without notebook sync) is checked too', async () => {
    const uri = `vscode-notebook-cell:${nb.path}#plain`;
    await client.open(uri, 'python', 'x = run.use_artifact("mnist-raw:nightly")');
    assert.deepEqual((await client.diagnosticsFor(uri, 1)).map((d) => d.code), ['unknown-alias']);
  });
});

describe('TypeScript file', () => {
  const ts = fixture('pipeline.ts');
  before(() => client.open(ts.uri, 'typescript', ts.text));

  test('diagnostics cover useArtifact strings only (not comments, regexes or template literals with ${})', async () => {
    const ds = await client.diagnosticsFor(ts.uri, 1);
    assert.deepEqual(byCode(ds), ['unknown-artifact: Artifact "mnist-cnm" does not exist in project "demo". Did you mean "mnist-cnn"?']);
  });

  test('hover on useArtifact and on logArtifact({project, name})', async () => {
    assert.match(markdown(await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: ts.uri }, position: positionOf(ts.text, 'mnist-cnn:candidate', 1) })), /demo\/mnist-cnn:v0\*\* · model/);
    const md = markdown(await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: ts.uri }, position: positionOf(ts.text, "'cifar'", 2) }));
    assert.match(md, /other\/cifar:v0\*\* · dataset/);
    assert.match(md, /logging here creates `v1`/);
  });

  test('completion in a useArtifact string, and code lens for new Artifact(name)', async () => {
    const list = (await client.connection.sendRequest('textDocument/completion', { textDocument: { uri: ts.uri }, position: positionOf(ts.text, 'mnist-cnn:candidate', 10) })) as CompletionList;
    assert.deepEqual(list.items.map((i) => i.label).sort(), ['candidate', 'latest', 'v0']);
    const lenses = (await client.connection.sendRequest('textDocument/codeLens', { textDocument: { uri: ts.uri } })) as CodeLens[];
    const evalLens = lenses.find((l) => l.range.start.line === positionOf(ts.text, 'mnist-eval').line)!;
    assert.deepEqual(evalLens.command, { title: 'new artifact — Log a Folder', command: 'trove.logFolder', arguments: [{ project: 'demo', name: 'mnist-eval', type: 'dataset' }] });
  });
});

describe('YAML config', () => {
  const yaml = fixture('config.yaml');
  before(() => client.open(yaml.uri, 'yaml', yaml.text));

  test('trove:// URIs are checked', async () => {
    const ds = await client.diagnosticsFor(yaml.uri, 1);
    assert.deepEqual(byCode(ds), ['unknown-alias: "mnist-raw" has no alias "nightly". Did you mean "latest", "production"?']);
  });

  test('hover, code lens and completion on trove:// URIs', async () => {
    assert.match(markdown(await client.connection.sendRequest('textDocument/hover', { textDocument: { uri: yaml.uri }, position: positionOf(yaml.text, 'other/cifar', 3) })), /other\/cifar:v0/);
    const lenses = (await client.connection.sendRequest('textDocument/codeLens', { textDocument: { uri: yaml.uri } })) as CodeLens[];
    assert.deepEqual(lenses.filter((l) => l.command!.command === 'trove.showLineage').map((l) => l.command!.title), [
      'v1 · 3 files · 28 B — Show Lineage', 'v0 · 2 files · 16 B — Show Lineage', 'v0 · 1 file · 5 B — Show Lineage',
    ]);
    const list = (await client.connection.sendRequest('textDocument/completion', { textDocument: { uri: yaml.uri }, position: positionOf(yaml.text, 'mnist-raw:production', 2) })) as CompletionList;
    assert.deepEqual(list.items.map((i) => i.label).filter((l) => !l.endsWith('/')).sort(), ['mnist-cnn', 'mnist-raw']);
  });
});

describe('refresh when the store changes', () => {
  test('a version logged by another process-like writer re-checks open documents and refreshes code lenses', async () => {
    const uri = pathToFileURL(`${FIXTURES}/refresh.py`).href;
    await client.open(uri, 'python', 'x = run.use_artifact("mnist-raw:v2")\ny = run.use_artifact("late-arrival")\n');
    assert.deepEqual((await client.diagnosticsFor(uri, 1)).map((d) => d.code).sort(), ['unknown-artifact', 'unknown-version']);
    const refreshes = client.codeLensRefreshes;
    client.diagnostics.delete(uri);
    // A second registry on the same folder, as a CLI run in a terminal would be: only the file watcher connects them.
    const writer = new LocalRegistry(store);
    await logFiles(writer, root, { project: 'demo', name: 'mnist-raw', type: 'dataset', files: { 'train.csv': 'new' } });
    await logFiles(writer, root, { project: 'demo', name: 'late-arrival', type: 'dataset', files: { 'a.txt': 'a' } });
    await writer.close();
    await client.waitFor(() => (client.diagnostics.get(uri)?.diagnostics.length === 0 ? true : undefined), 'diagnostics cleared after the store changed');
    await client.waitFor(() => (client.codeLensRefreshes > refreshes ? true : undefined), 'a code lens refresh request');
  });
});

describe('settings through workspace/configuration', () => {
  test('changing trove.storePath re-reads the configuration and re-checks documents against the new store', async () => {
    const other = tempRoot('trove-lsp-empty-');
    const second = new TestClient({ settings: { storePath: store, project: 'demo' } });
    await second.start();
    try {
      const uri = pathToFileURL(`${FIXTURES}/settings.py`).href;
      await second.open(uri, 'python', 'x = run.use_artifact("mnist-raw:production")\n');
      assert.deepEqual(await second.diagnosticsFor(uri, 1), []);
      assert.ok(second.configurationRequests >= 1);
      second.settings = { storePath: other.root, project: 'demo' };
      second.diagnostics.delete(uri);
      await second.connection.sendNotification('workspace/didChangeConfiguration', { settings: null });
      const ds = await second.diagnosticsFor(uri, 1);
      assert.deepEqual(ds.map((d) => d.code), ['unknown-artifact']);
      // A bad backend setting is one clear sentence, not a crash.
      second.settings = { backend: 'ftp://nowhere' };
      second.diagnostics.delete(uri);
      await second.connection.sendNotification('workspace/didChangeConfiguration', { settings: null });
      const bad = await second.diagnosticsFor(uri, 1);
      assert.equal(bad.length, 1);
      assert.equal(bad[0].code, 'backend-unavailable');
      assert.match(bad[0].message, /trove\.backend is "ftp:\/\/nowhere"/);
    } finally {
      await second.stop();
      other.cleanup();
    }
  });

  test('the project defaults to the workspace folder name when trove.project is empty', async () => {
    const ws = tempRoot('trove-lsp-ws-');
    const folder = `${ws.root}/demo`;
    (await import('node:fs')).mkdirSync(folder);
    const third = new TestClient({ settings: { storePath: store }, workspaceFolder: folder });
    await third.start();
    try {
      const uri = pathToFileURL(`${folder}/a.py`).href;
      await third.open(uri, 'python', 'x = run.use_artifact("mnist-raw")\n');
      assert.deepEqual(await third.diagnosticsFor(uri, 1), []);
      const md = markdown(await third.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 24 } }));
      assert.match(md, /demo\/mnist-raw:v/);
    } finally {
      await third.stop();
      ws.cleanup();
    }
  });
});

describe('go to definition with version documents (the VS Code client)', () => {
  test('the definition is the version card, whose Markdown the client fetches; no reveal notification', async () => {
    const cards = new TestClient({ settings: { storePath: store, project: 'demo' }, initializationOptions: { versionDocuments: true } });
    await cards.start();
    try {
      const py = fixture('train.py');
      await cards.open(py.uri, 'python', py.text);
      const loc = (await cards.connection.sendRequest('textDocument/definition', { textDocument: { uri: py.uri }, position: positionOf(py.text, 'acme/demo/mnist-cnn', 12) })) as Location;
      assert.equal(loc.uri, 'trove-version:/demo/mnist-cnn/v0.md');
      assert.deepEqual(parseVersionDocumentPath(new URL(loc.uri).pathname), { project: 'demo', name: 'mnist-cnn', version: 0 });
      const { markdown: card } = (await cards.connection.sendRequest('trove/versionDocument', { project: 'demo', name: 'mnist-raw', version: 1 })) as { markdown: string };
      assert.match(card, /^# demo\/mnist-raw:v1\n/);
      // (`latest` moved to v2 in the refresh test above.)
      assert.match(card, /\| aliases \| `production` \|/);
      assert.match(card, /## Files \(3 files\)\n\n\| path \| size \| digest \|\n\|---\|---\|---\|\n\| README\.md \| 8 B \| `[0-9a-f]{12}` \|\n\| test\.csv \| 8 B \|/);
      assert.match(card, /"license": "CC BY-SA 3\.0"/);
      const model = ((await cards.connection.sendRequest('trove/versionDocument', { project: 'demo', name: 'mnist-cnn', version: 0 })) as { markdown: string }).markdown;
      assert.match(model, new RegExp(`produced by \\| run \`train-cnn\` \\(job type \`train\`, commit \`${GIT_COMMIT}\` on \`main\`\\)`));
      await assert.rejects(cards.connection.sendRequest('trove/versionDocument', { project: 'demo', name: 'mnist-raw', version: 42 }), /Version v42 of "demo\/mnist-raw" does not exist/);
      assert.equal(cards.reveals.length, 0);
    } finally {
      await cards.stop();
    }
  });

  test('a card lists one page of the files (the first 500 in path order) and says how many more', async () => {
    const writer = new LocalRegistry(store);
    const files: Record<string, string> = {};
    for (let i = 0; i < 620; i++) files[`part-${String(i).padStart(4, '0')}.txt`] = `${i}`;
    await logFiles(writer, root, { project: 'cards-many', name: 'shards', type: 'dataset', files });
    await writer.close();
    const cards = new TestClient({ settings: { storePath: store, project: 'cards-many' }, initializationOptions: { versionDocuments: true } });
    await cards.start();
    try {
      const { markdown: card } = (await cards.connection.sendRequest('trove/versionDocument', { project: 'cards-many', name: 'shards', version: 0 })) as { markdown: string };
      assert.match(card, /## Files \(620 files\)/);
      const rows = card.split('\n').filter((l) => l.startsWith('| part-'));
      assert.equal(rows.length, 500);
      assert.match(rows[0], /^\| part-0000\.txt \| 1 B \|/);
      assert.match(rows[499], /^\| part-0499\.txt \|/);
      assert.match(card, /… and 120 more\n$/);
    } finally {
      await cards.stop();
    }
  });
});

describe('a damaged store record', () => {
  test('a reference to an artifact whose state.json is damaged says so, not "unknown artifact"', async () => {
    const own = tempRoot('trove-lsp-damaged-');
    const damagedStore = `${own.root}/store`;
    const writer = new LocalRegistry(damagedStore);
    await logFiles(writer, own.root, { project: 'demo', name: 'healthy', type: 'dataset', files: { 'a.txt': 'a' } });
    await logFiles(writer, own.root, { project: 'demo', name: 'broken', type: 'dataset', files: { 'b.txt': 'b' } });
    await writer.close();
    (await import('node:fs')).writeFileSync(`${damagedStore}/projects/demo/broken/state.json`, '{"versions": [');
    const client = new TestClient({ settings: { storePath: damagedStore, project: 'demo' } });
    await client.start();
    try {
      const uri = pathToFileURL(`${own.root}/train.py`).href;
      await client.open(uri, 'python', 'a = run.use_artifact("healthy:latest")\nb = run.use_artifact("broken:latest")\n');
      const diagnostics = await client.diagnosticsFor(uri, 1);
      assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics));
      assert.equal(diagnostics[0].range.start.line, 1);
      assert.match(diagnostics[0].message, /state\.json is damaged/);
      assert.doesNotMatch(diagnostics[0].message, /unknown|no artifact/i);
    } finally {
      await client.stop();
      own.cleanup();
    }
  });
});

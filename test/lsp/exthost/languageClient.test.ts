/**
 * The language client in a real VS Code (code-server's extension host): the server bundle is
 * started by `startLanguageClient`, and hover, completion, diagnostics, code lens, definition and
 * notebook cells are checked through VS Code's own provider commands.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { LspTestApi } from './extension';

const workspace = () => vscode.workspace.workspaceFolders![0].uri;
const file = (name: string) => vscode.Uri.joinPath(workspace(), name);

async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function positionOf(doc: vscode.TextDocument, needle: string, delta: number): vscode.Position {
  const at = doc.getText().indexOf(needle);
  assert.ok(at >= 0, `${needle} not in ${doc.uri.fsPath}`);
  return doc.positionAt(at + delta);
}

const hoverText = (hovers: vscode.Hover[]) => hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value))).join('\n');

suite('Trove language client', () => {
  let api: LspTestApi;
  let train: vscode.TextDocument;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<LspTestApi>('trove-test.trove-lsp-exthost')!;
    api = await ext.activate();
    train = await vscode.workspace.openTextDocument(file('train.py'));
    await vscode.window.showTextDocument(train);
  });

  suiteTeardown(async () => {
    // Leave nothing dirty or open: a dirty editor would hold up the window's shutdown after the tests.
    const dirty = [...vscode.workspace.textDocuments.filter((d) => d.isDirty).map((d) => d.uri.toString()), ...vscode.workspace.notebookDocuments.filter((n) => n.isDirty).map((n) => n.uri.toString())];
    console.log(`dirty at the end: ${dirty.join(', ') || 'none'}`);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('diagnostics of a Python file reach the Problems collection', async () => {
    const diags = await waitFor('trove diagnostics of train.py', () => {
      const d = vscode.languages.getDiagnostics(train.uri).filter((x) => x.source === 'trove');
      return d.length ? d : undefined;
    });
    const codes = diags.map((d) => String(d.code)).sort();
    assert.deepEqual(codes, ['type-mismatch', 'unknown-alias', 'unknown-artifact', 'unknown-version']);
    const alias = diags.find((d) => d.code === 'unknown-alias')!;
    assert.equal(alias.severity, vscode.DiagnosticSeverity.Warning);
    assert.match(alias.message, /has no alias "prod". Did you mean "production"\?/);
  });

  test('the hover over a squiggle says its message once (VS Code shows the diagnostic\'s); beside the squiggle, or with diagnostics off, the hover says it', async () => {
    const message = /has no alias "prod"\. Did you mean "production"\?/g;
    const count = (hovers: vscode.Hover[]) => hoverText(hovers).replace(/\\(.)/g, '$1').match(message)?.length ?? 0;
    const alias = await waitFor('the unknown-alias squiggle', () => vscode.languages.getDiagnostics(train.uri).find((d) => d.source === 'trove' && d.code === 'unknown-alias'));
    const under = alias.range.start.translate(0, 1);
    assert.match(train.getText(alias.range), /^prod$/);
    const hover = (at: vscode.Position) => vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', train.uri, at);
    assert.equal(count(await hover(under)), 0, 'under the squiggle, only the diagnostic says it');
    const beside = positionOf(train, 'mnist-raw:prod"', 2);
    assert.ok(!alias.range.contains(beside));
    assert.equal(count(await hover(beside)), 1, 'beside it, the hover says it');
    await vscode.workspace.getConfiguration('trove').update('diagnostics.enabled', false, vscode.ConfigurationTarget.Workspace);
    try {
      await waitFor('the squiggles to go', () => (vscode.languages.getDiagnostics(train.uri).some((d) => d.source === 'trove') ? undefined : true));
      assert.equal(count(await hover(under)), 1, 'with diagnostics off, the hover says it');
    } finally {
      await vscode.workspace.getConfiguration('trove').update('diagnostics.enabled', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await waitFor('the squiggles to return', () => vscode.languages.getDiagnostics(train.uri).find((d) => d.source === 'trove' && d.code === 'unknown-alias'));
  });

  test('hover on use_artifact shows the version with trusted command links', async () => {
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', train.uri, positionOf(train, 'mnist-raw:production', 3));
    const text = hoverText(hovers);
    assert.match(text, /demo\/mnist-raw:v1\*\* · dataset/);
    assert.match(text, /command:trove\.showLineage\?/);
  });

  test('completion offers artifact names, then aliases', async () => {
    const names = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', train.uri, positionOf(train, 'mnist-rwa', 3));
    const labels = names.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    assert.ok(labels.includes('mnist-raw') && labels.includes('mnist-cnn'), labels.join(', '));
    const aliases = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', train.uri, positionOf(train, 'prod")', 2));
    assert.ok(aliases.items.some((i) => i.label === 'production'));
  });

  test('code lenses run the Trove commands with JSON arguments', async () => {
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', train.uri);
    const line = positionOf(train, 'mnist-raw:production', 0).line;
    const onLine = lenses.filter((l) => l.range.start.line === line);
    assert.deepEqual(onLine.map((l) => l.command?.title), ['v1 · 3 files · 28 B — Show Lineage', 'Download']);
    await vscode.commands.executeCommand(onLine[1].command!.command, ...(onLine[1].command!.arguments ?? []));
    assert.deepEqual(api.recorded.at(-1), { command: 'trove.downloadVersion', args: 'demo/mnist-raw:v1' });
  });

  test('go to definition opens the version card and reveals the version in the tree', async () => {
    const locations = await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>('vscode.executeDefinitionProvider', train.uri, positionOf(train, 'mnist-raw:v0', 2));
    const target = 'uri' in locations[0] ? locations[0].uri : locations[0].targetUri;
    assert.equal(target.toString(), 'trove-version:/demo/mnist-raw/v0.md');
    const card = await vscode.workspace.openTextDocument(target);
    assert.match(card.getText(), /^# demo\/mnist-raw:v0\n/);
    assert.match(card.getText(), /## Files \(2 files\)/);
    await vscode.window.showTextDocument(card);
    await waitFor('trove.revealVersion', () => api.recorded.find((r) => r.command === 'trove.revealVersion'));
    assert.equal(api.recorded.find((r) => r.command === 'trove.revealVersion')!.args, 'demo/mnist-raw:v0');
    // The card is shown rendered: the Markdown preview replaces its source tab.
    const tabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs);
    await waitFor('the rendered card', () => tabs().find((t) => t.input instanceof vscode.TabInputWebview && /markdown\.preview/.test(t.input.viewType) && t.label.includes('v0.md')));
    await waitFor('the source tab to close', () => (tabs().some((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === target.toString()) ? undefined : true));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('notebook cells are synchronised and checked', async () => {
    const notebook = await vscode.workspace.openNotebookDocument(file('explore.ipynb'));
    await vscode.window.showNotebookDocument(notebook);
    const last = notebook.cellAt(notebook.cellCount - 1).document;
    const diags = await waitFor('diagnostics of the last notebook cell', () => {
      const d = vscode.languages.getDiagnostics(last.uri).filter((x) => x.source === 'trove');
      return d.length ? d : undefined;
    });
    assert.deepEqual(diags.map((d) => d.code), ['unknown-alias']);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', notebook.cellAt(1).document.uri, positionOf(notebook.cellAt(1).document, 'mnist-raw:production', 2));
    assert.match(hoverText(hovers), /demo\/mnist-raw:v1/);
  });

  test('changing trove.project in the settings re-checks open files', async () => {
    await vscode.workspace.getConfiguration('trove').update('project', 'other', vscode.ConfigurationTarget.Workspace);
    await waitFor('diagnostics against project "other"', () => {
      const d = vscode.languages.getDiagnostics(train.uri).filter((x) => x.source === 'trove');
      return d.some((x) => /does not exist in project "other"/.test(x.message)) ? true : undefined;
    });
  });
});

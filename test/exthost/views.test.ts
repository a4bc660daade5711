import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Commands } from '../../src/extension/commandIds';
import type { TroveApi } from '../../src/extension/context';
import type { RenderReport } from '../../src/extension/lineagePanel';
import { elementId, type TreeElement } from '../../src/shared/artifactTree';
import { makeFolder, storePath, tempDir, troveApi, troveCli, waitFor } from './helpers';

type Kind = TreeElement['kind'];
const labelOf = (e: TreeElement) => elementId(e).slice(elementId(e).indexOf(':') + 1);

async function child(api: TroveApi, parent: TreeElement | undefined, kind: Kind, id: string): Promise<TreeElement> {
  const children = await api.treeChildren(parent);
  const found = children.find((c) => c.kind === kind && elementId(c) === `${kind === 'typeGroup' ? 'type' : kind}:${id}`);
  assert.ok(found, `tree has ${kind} ${id} among ${children.map(labelOf).join(', ')}`);
  return found;
}

export function registerViewSuites(): void {
  suite('Activation and the Artifacts tree', () => {
    let api: TroveApi;

    suiteSetup(async () => {
      api = await troveApi();
    });

    test('activates in under 200 ms and opens the demo store', () => {
      console.log(`    activation time: ${api.activationMs.toFixed(1)} ms`);
      assert.ok(api.activationMs < 200, `activation took ${api.activationMs.toFixed(1)} ms`);
      assert.equal(api.backendState(), 'ok');
      assert.match(api.backendLocation(), /embedded store .*store/);
    });

    test('registers every command of package.json', async () => {
      const all = new Set(await vscode.commands.getCommands(true));
      for (const id of Object.values(Commands)) assert.ok(all.has(id), id);
      const ext = vscode.extensions.getExtension('trove.trove')!;
      const contributed = (ext.packageJSON.contributes.commands as { command: string; category: string; icon: string }[]);
      assert.deepEqual(contributed.map((c) => c.command).sort(), Object.values(Commands).sort());
      for (const c of contributed) {
        assert.equal(c.category, 'Trove', c.command);
        assert.match(c.icon, /^\$\([a-z-]+\)$/, c.command);
      }
    });

    test('shows projects > types > artifacts > versions > files', async () => {
      const project = await child(api, undefined, 'project', 'mnist-demo');
      await child(api, undefined, 'project', 'sandbox');
      const types = (await api.treeChildren(project)).map(labelOf);
      assert.deepEqual(types, ['mnist-demo/dataset', 'mnist-demo/model']);
      const models = await child(api, project, 'typeGroup', 'mnist-demo/model');
      const cnn = await child(api, models, 'artifact', 'mnist-demo/mnist-cnn');
      const versions = await api.treeChildren(cnn);
      assert.deepEqual(versions.map(labelOf), ['mnist-demo/mnist-cnn:v1', 'mnist-demo/mnist-cnn:v0']);
      const v1 = versions[0] as TreeElement & { kind: 'version' };
      assert.deepEqual(v1.aliases, ['latest', 'best']);
      assert.equal(v1.hasPrevious, true);
      const files = (await api.treeChildren(v1)).map(labelOf);
      assert.deepEqual(files, ['mnist-demo/mnist-cnn:v1/history.csv', 'mnist-demo/mnist-cnn:v1/model.json']);
    });

    test('pages children past 200 with "Load more"', async () => {
      const files: Record<string, string> = {};
      for (let i = 0; i < 450; i++) files[`f${String(i).padStart(3, '0')}.txt`] = `file ${i}\n`;
      const dir = makeFolder('many-files', files);
      const outcome = await vscode.commands.executeCommand<{ version: number }>(Commands.logFolder, vscode.Uri.file(dir), { name: 'many-files', type: 'dataset' });
      assert.equal(outcome?.version, 0);
      const version: TreeElement = { kind: 'version', project: 'mnist-demo', name: 'many-files', type: 'dataset', version: 0, aliases: [], size: 0, files: 0, createdAt: '', digest: '', hasPrevious: false };
      let page = await api.treeChildren(version);
      assert.equal(page.length, 201);
      const more = page[200];
      assert.equal(more.kind, 'loadMore');
      await vscode.commands.executeCommand(Commands.loadMore, more);
      page = await api.treeChildren(version);
      assert.equal(page.length, 401);
      assert.equal(page[399].kind === 'file' && page[399].path, 'f399.txt');
    });

    test('refreshes when the CLI logs in a terminal (store watch)', async function () {
      const dir = makeFolder('from-cli', { 'x.txt': 'made by the CLI\n' });
      const changed = waitFor(api.onDidChangeBackend, 15000, 'a change notification from the store');
      troveCli(['log', dir, '--name', 'cli-made', '--type', 'dataset']);
      await changed;
      const project = await child(api, undefined, 'project', 'mnist-demo');
      const datasets = await child(api, project, 'typeGroup', 'mnist-demo/dataset');
      await child(api, datasets, 'artifact', 'mnist-demo/cli-made');
    });

    test('Select Backend switches stores, reports an empty store and an unreachable server', async () => {
      const original = storePath();
      try {
        const empty = tempDir('trove-empty-store-');
        await vscode.commands.executeCommand(Commands.selectBackend, { backend: 'embedded', storePath: empty });
        assert.equal(api.backendState(), 'empty');
        assert.deepEqual(await api.treeChildren(), []);
        await vscode.commands.executeCommand(Commands.selectBackend, { backend: 'http://127.0.0.1:9' });
        assert.equal(api.backendState(), 'unreachable');
        assert.deepEqual(await api.treeChildren(), []);
        const before = api.lastError();
        await vscode.commands.executeCommand(Commands.selectBackend, { backend: 'ftp://user:secret@example.invalid' });
        assert.notEqual(api.lastError(), before);
        assert.match(api.lastError() ?? '', /is not a backend/);
      } finally {
        // From the server back to a store: two settings change and the command opens too; the
        // requests made while one open runs share it (one more at most, never three).
        const opensBefore = api.backendOpens();
        await vscode.commands.executeCommand(Commands.selectBackend, { backend: 'embedded', storePath: original });
        await new Promise((r) => setTimeout(r, 300));
        assert.ok(api.backendOpens() - opensBefore <= 2, `opened ${api.backendOpens() - opensBefore} times for one Select Backend`);
      }
      assert.equal(api.backendState(), 'ok');
    });
  });

  suite('Sign In to a team server', () => {
    test('stores the token in SecretStorage (not settings), reaches a real `trove serve --require-auth`, and signs out', async function () {
      this.timeout(60000);
      const api = await troveApi();
      const original = storePath();
      const ext = vscode.extensions.getExtension('trove.trove')!;
      const cli = join(ext.extensionPath, 'dist', 'cli.js');
      const serverStore = tempDir('trove-served-store-');
      const env = { ...process.env, TROVE_RUN_ID: '', TROVE_SERVER: '', TROVE_TOKEN: '' };
      const token = JSON.parse(execFileSync(process.execPath, [cli, 'token', 'create', '--project', '*', '--scope', 'write', '--store', serverStore, '--json'], { encoding: 'utf8', env })).token as string;
      const data = makeFolder('served', { 'a.txt': 'on the server' });
      // A port of our own, then the server on it (127.0.0.1 only), stopped at the end by its PID.
      const port = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const p = (probe.address() as AddressInfo).port;
          probe.close(() => resolve(p));
        });
      });
      const server = spawn(process.execPath, [cli, 'serve', '--listen', `127.0.0.1:${port}`, '--store', serverStore, '--require-auth'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      try {
        await new Promise<void>((resolve, reject) => {
          server.stdout!.on('data', (d) => String(d).includes('listening') && resolve());
          server.on('exit', (code) => reject(new Error(`trove serve exited with ${code}`)));
        });
        const url = `http://127.0.0.1:${port}`;
        execFileSync(process.execPath, [cli, 'log', data, '--name', 'served-data', '--type', 'dataset', '--project', 'team', '--server', url], { encoding: 'utf8', env: { ...env, TROVE_TOKEN: token } });
        const signedIn = await vscode.commands.executeCommand<string>(Commands.signIn, { server: url, token });
        assert.equal(signedIn, url);
        assert.equal(api.backendState(), 'ok', api.lastError());
        assert.match(api.backendLocation(), new RegExp(`127\\.0\\.0\\.1:${port}`));
        const projects = (await api.treeChildren()).map(labelOf);
        assert.deepEqual(projects, ['team']);
        const settings = JSON.stringify(vscode.workspace.getConfiguration('trove'));
        assert.ok(!settings.includes(token), 'the token is not in the settings');
        // A wrong token is refused with the server's clear message and changes nothing.
        const before = api.lastError();
        await vscode.commands.executeCommand(Commands.signIn, { server: url, token: 'trove_wrong' });
        assert.notEqual(api.lastError(), before);
        assert.match(api.lastError() ?? '', /401|token|unauthori[sz]ed/i);
        await vscode.commands.executeCommand(Commands.signOut);
        assert.equal(api.backendState(), 'unreachable', 'without the token the server refuses the listing');
      } finally {
        server.kill('SIGTERM');
        await vscode.commands.executeCommand(Commands.selectBackend, { backend: 'embedded', storePath: original });
      }
      assert.equal(api.backendState(), 'ok');
    });
  });

  suite('Lineage webview', () => {
    let api: TroveApi;

    suiteSetup(async () => {
      api = await troveApi();
    });

    teardown(async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    test('renders the lineage of the processed dataset in a webview', async () => {
      const rendered = waitFor<RenderReport>(api.onDidRenderLineage, 30000, 'the lineage webview to render', (r) => r.ref === 'mnist-demo/processed-data:v0');
      const ref = await vscode.commands.executeCommand<string>(Commands.showLineage, 'mnist-demo/processed-data:v0');
      assert.equal(ref, 'mnist-demo/processed-data:v0');
      const report = await rendered;
      // raw-data, processed-data, mnist-cnn v0 and v1, the 7 checkpoints folded into one cluster, and
      // the ingest, preprocess, two train and one sweep runs.
      assert.equal(report.nodes, 10, JSON.stringify(report));
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
      assert.ok(tab?.input instanceof vscode.TabInputWebview, 'the active tab is the webview');
      assert.match(tab.label, /Lineage: processed-data:v0/);
    });

    test('lays out and renders a 500-node graph in under 1 s', async () => {
      const rendered = waitFor<RenderReport>(api.onDidRenderLineage, 60000, 'the 500-node graph to render', (r) => r.ref === 'scale/source:v0');
      await vscode.commands.executeCommand(Commands.showLineage, 'scale/source:v0');
      const report = await rendered;
      const total = report.layoutMs + report.renderMs;
      console.log(`    500-node lineage: ${report.nodes} nodes, ${report.edges} edges, layout ${report.layoutMs.toFixed(0)} ms + render ${report.renderMs.toFixed(0)} ms = ${total.toFixed(0)} ms`);
      assert.ok(report.nodes >= 500, `${report.nodes} nodes`);
      assert.ok(total < 1000, `${total.toFixed(0)} ms`);
    });

    test('renders a 5,000-node lineage, clustered, within 2 s', async function () {
      this.timeout(120000);
      // test/stages/30-vscode.sh writes this store beside the demo store (make-scale-lineage.ts --sweeps).
      const sweeps = `${storePath()}-sweeps`;
      assert.ok(existsSync(sweeps), `${sweeps} exists`);
      const original = storePath();
      try {
        await vscode.commands.executeCommand(Commands.selectBackend, { backend: 'embedded', storePath: sweeps });
        const rendered = waitFor<RenderReport>(api.onDidRenderLineage, 60000, 'the 5,000-node graph to render', (r) => r.ref === 'sweeps/grid:v0');
        const t0 = performance.now();
        await vscode.commands.executeCommand(Commands.showLineage, 'sweeps/grid:v0');
        const report = await rendered;
        const total = performance.now() - t0;
        const drawing = report.layoutMs + report.renderMs;
        console.log(`    5,000-node lineage: ${report.graphNodes} nodes folded to ${report.nodes}, ${report.edges} edges; read ${report.fetchMs.toFixed(0)} ms, layout ${report.layoutMs.toFixed(0)} ms + render ${report.renderMs.toFixed(0)} ms = ${drawing.toFixed(0)} ms; command to painted graph ${total.toFixed(0)} ms`);
        assert.ok(report.graphNodes >= 5000, `${report.graphNodes} nodes`);
        assert.equal(report.nodes, 102, 'the dataset, its ingest run, 50 sweeps and their 50 clusters');
        assert.ok(total < 2000, `${total.toFixed(0)} ms from the command to the painted graph`);
      } finally {
        await vscode.commands.executeCommand(Commands.selectBackend, { backend: 'embedded', storePath: original });
      }
    });
  });
}

import * as assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { DownloadOutcome, LogOutcome } from '../../src/core/operations';
import type { VersionDiff } from '../../src/core/types';
import { Commands } from '../../src/extension/commandIds';
import type { TroveApi } from '../../src/extension/context';
import { makeFolder, storeRegistry, tempDir, troveApi, workspaceDir } from './helpers';

const run = <T>(command: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(command, ...args);

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`])).sort();
}

export function registerCommandSuites(): void {
  suite('Commands', () => {
    let api: TroveApi;
    const registry = storeRegistry();

    suiteSetup(async () => {
      api = await troveApi();
    });

    suiteTeardown(async () => {
      await registry.close();
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    test('Log Folder as Artifact: creates v0, reports unchanged, then v1 after an edit, with git provenance', async () => {
      const dir = makeFolder('exthost-log', { 'a.csv': 'x,y\n1,2\n', 'sub/b.txt': 'bee\n' });
      const first = await run<LogOutcome>(Commands.logFolder, vscode.Uri.file(dir), { name: 'exthost-data', type: 'dataset', aliases: ['raw'], description: 'from the tests' });
      assert.ok(first, api.lastError());
      assert.deepEqual([first.ref, first.created, first.files], ['mnist-demo/exthost-data:v0', true, 2]);
      const again = await run<LogOutcome>(Commands.logFolder, vscode.Uri.file(dir), { name: 'exthost-data', type: 'dataset' });
      assert.deepEqual([again?.version, again?.created], [0, false]);
      writeFileSync(join(dir, 'a.csv'), 'x,y\n1,3\n');
      const edited = await run<LogOutcome>(Commands.logFolder, vscode.Uri.file(dir), { name: 'exthost-data', type: 'dataset' });
      assert.deepEqual([edited?.version, edited?.created], [1, true]);

      const v0 = await registry.getVersion({ project: 'mnist-demo', name: 'exthost-data', alias: 'raw' });
      assert.equal(v0.version, 0);
      assert.equal(v0.description, 'from the tests');
      assert.deepEqual(Object.keys(v0.manifest), ['a.csv', 'sub/b.txt']);
      const creator = await registry.getRun(v0.createdBy!.runId);
      assert.equal(creator.status, 'finished');
      assert.match(creator.git?.commit ?? '', /^[0-9a-f]{40}$/, 'git commit recorded');
    });

    test('an invalid artifact name is refused with a clear message and creates nothing', async () => {
      const dir = makeFolder('exthost-bad', { 'a.txt': 'a\n' });
      const before = await registry.listArtifacts('mnist-demo');
      const outcome = await run<LogOutcome>(Commands.logFolder, vscode.Uri.file(dir), { name: 'bad name!', type: 'dataset' });
      assert.equal(outcome, undefined);
      assert.match(api.lastError() ?? '', /^Invalid artifact name "bad name!": use 1-128 letters/);
      assert.deepEqual((await registry.listArtifacts('mnist-demo')).map((a) => a.name), before.map((a) => a.name));
      const badType = await run<LogOutcome>(Commands.logFolder, vscode.Uri.file(dir), { name: 'ok-name', type: 'two words' });
      assert.equal(badType, undefined);
      assert.match(api.lastError() ?? '', /^Invalid artifact type/);
      assert.ok(!(await registry.listArtifacts('mnist-demo')).some((a) => a.name === 'ok-name'));
    });

    test('Download Version writes identical files, refuses to overwrite changes unless allowed', async () => {
      const root = join(workspaceDir(), 'artifacts', 'exthost-download');
      const outcome = await run<DownloadOutcome>(Commands.downloadVersion, 'mnist-demo/raw-data:v0', { root });
      assert.ok(outcome, api.lastError());
      assert.equal(outcome.files, 3);
      const source = join(workspaceDir(), 'data', 'raw');
      assert.deepEqual(listFiles(root), listFiles(source));
      for (const f of listFiles(source)) assert.ok(readFileSync(join(root, f)).equals(readFileSync(join(source, f))), f);

      writeFileSync(join(root, 'labels.json'), 'changed locally\n');
      const refused = await run<DownloadOutcome>(Commands.downloadVersion, 'mnist-demo/raw-data:v0', { root, overwrite: false });
      assert.equal(refused, undefined);
      assert.match(api.lastError() ?? '', /1 file\(s\) in .* differ from mnist-demo\/raw-data:v0 \(first: labels.json\)/);
      assert.equal(readFileSync(join(root, 'labels.json'), 'utf8'), 'changed locally\n');
      const forced = await run<DownloadOutcome>(Commands.downloadVersion, 'mnist-demo/raw-data:v0', { root, overwrite: true });
      assert.equal(forced?.unchanged, 2);
      assert.ok(readFileSync(join(root, 'labels.json')).equals(readFileSync(join(source, 'labels.json'))));
      const v = await registry.getVersion({ project: 'mnist-demo', name: 'raw-data', alias: 'v0' });
      assert.ok(v.usedBy.some((u) => u.jobType === 'download'), 'the download is recorded as a use');
    });

    test('a version of 1,500 small files downloads exactly (two writing threads inside the extension host)', async () => {
      const files: Record<string, string> = {};
      for (let i = 0; i < 1500; i++) files[`part${i % 3}/f${i}.txt`] = `file ${i}\n`.repeat(1 + (i % 7));
      const dir = makeFolder('exthost-many', files);
      const logged = await run<LogOutcome>(Commands.logFolder, vscode.Uri.file(dir), { name: 'exthost-many', type: 'dataset' });
      assert.ok(logged, api.lastError());
      assert.equal(logged.files, 1500);
      const root = join(workspaceDir(), 'artifacts', 'exthost-many');
      const outcome = await run<DownloadOutcome>(Commands.downloadVersion, logged.ref, { root });
      assert.ok(outcome, api.lastError());
      assert.equal(outcome.files, 1500);
      assert.deepEqual(listFiles(root), Object.keys(files).sort());
      for (const [p, content] of Object.entries(files)) assert.equal(readFileSync(join(root, p), 'utf8'), content, p);
    });

    test('Add Alias and Remove Alias', async () => {
      assert.equal(await run(Commands.addAlias, 'mnist-demo/mnist-cnn:v0', 'candidate'), 'candidate');
      assert.deepEqual((await registry.getVersion({ project: 'mnist-demo', name: 'mnist-cnn', alias: 'candidate' })).version, 0);
      assert.equal(await run(Commands.addAlias, 'mnist-demo/mnist-cnn:v0', 'v7'), undefined);
      assert.match(api.lastError() ?? '', /reserved for version numbers/);
      assert.equal(await run(Commands.removeAlias, 'mnist-demo/mnist-cnn:v0', 'candidate'), 'candidate');
      await assert.rejects(registry.getVersion({ project: 'mnist-demo', name: 'mnist-cnn', alias: 'candidate' }), /does not exist/);
    });

    test('Delete Artifact and Delete Version: a protected alias refuses with one sentence, a whole throwaway artifact goes, and leaves the tree', async () => {
      const dir = makeFolder('exthost-throwaway', { 'x.txt': 'zero\n' });
      await run<LogOutcome>(Commands.logFolder, vscode.Uri.file(dir), { name: 'exthost-throwaway', type: 'scratch', aliases: ['production'] });
      writeFileSync(join(dir, 'x.txt'), 'one\n');
      await run<LogOutcome>(Commands.logFolder, vscode.Uri.file(dir), { name: 'exthost-throwaway', type: 'scratch' });
      assert.equal(await run(Commands.deleteArtifact, 'mnist-demo/exthost-throwaway', { yes: true }), undefined);
      assert.match(api.lastError() ?? '', /^mnist-demo\/exthost-throwaway:v0 has the protected alias "production", so it is not deleted; remove the alias first/);
      assert.equal(await run(Commands.deleteVersion, 'mnist-demo/exthost-throwaway', { yes: true }), undefined);
      assert.match(api.lastError() ?? '', /names an artifact, not a version/);
      const one = await run<{ deleted: { version: number }[]; latest?: number }>(Commands.deleteVersion, 'mnist-demo/exthost-throwaway:v1', { yes: true });
      assert.deepEqual([one?.deleted.map((d) => d.version), one?.latest], [[1], 0]);
      await run(Commands.removeAlias, 'mnist-demo/exthost-throwaway:v0', 'production');
      const all = await run<{ deleted: { version: number }[]; latest?: number }>(Commands.deleteArtifact, 'mnist-demo/exthost-throwaway', { yes: true });
      assert.deepEqual([all?.deleted.map((d) => d.version), all?.latest], [[0], undefined]);
      await assert.rejects(registry.listVersions('mnist-demo', 'exthost-throwaway'), /was deleted/);
      const projects = await api.treeChildren();
      const demo = projects.find((p) => p.kind === 'project' && p.project === 'mnist-demo')!;
      const groups = await api.treeChildren(demo);
      assert.ok(!groups.some((g) => g.kind === 'typeGroup' && g.type === 'scratch'), 'the type group of the deleted artifact is gone from the tree');
    });

    test('Compare with Previous Version opens the change list and the diff editor of a modified text file', async () => {
      const diff = await run<VersionDiff>(Commands.compareWithPrevious, 'mnist-demo/mnist-cnn:v1', { diffPath: 'model.json' });
      assert.deepEqual(diff, { added: [], removed: [], modified: ['model.json'], renamed: [] });
      const report = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'trove-compare');
      assert.ok(report, 'the comparison document is open');
      assert.match(report.getText(), /Trove: mnist-demo\/mnist-cnn:v0 \u2192 mnist-demo\/mnist-cnn:v1/);
      assert.match(report.getText(), /M model\.json/);
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
      assert.ok(tab?.input instanceof vscode.TabInputTextDiff, 'a diff editor is active');
      assert.equal(tab.input.original.toString(), 'trove:/mnist-demo/mnist-cnn/v0/model.json');
      assert.equal(tab.input.modified.toString(), 'trove:/mnist-demo/mnist-cnn/v1/model.json');
      const first = await run(Commands.compareWithPrevious, 'mnist-demo/raw-data:v0');
      assert.equal(first, undefined);
      assert.match(api.lastError() ?? '', /is the first version/);
    });

    test('Compare Versions… compares any two versions of an artifact', async () => {
      const diff = await run<VersionDiff>(Commands.compareVersions, 'mnist-demo/exthost-data:v1', 'v0', { askForDiff: false });
      assert.deepEqual(diff?.modified, ['a.csv']);
    });

    test('Open File reads a version file through the read-only trove: file system', async () => {
      const uri = vscode.Uri.parse('trove:/mnist-demo/raw-data/v0/labels.json');
      const bytes = await vscode.workspace.fs.readFile(uri);
      assert.ok(Buffer.from(bytes).equals(readFileSync(join(workspaceDir(), 'data', 'raw', 'labels.json'))));
      const opened = await run<vscode.Uri>(Commands.openFile, { kind: 'file', project: 'mnist-demo', name: 'raw-data', type: 'dataset', version: 0, path: 'labels.json', size: bytes.length, external: false });
      assert.equal(opened?.toString(), uri.toString());
      const editor = vscode.window.activeTextEditor;
      assert.equal(editor?.document.uri.toString(), uri.toString());
      assert.match(editor!.document.getText(), /synthetic digits/);
      await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(uri, new Uint8Array([1]))), /read-only|NoPermissions/);
      const listing = await vscode.workspace.fs.readDirectory(vscode.Uri.parse('trove:/mnist-demo/exthost-data/v1'));
      assert.deepEqual(listing, [['sub', vscode.FileType.Directory], ['a.csv', vscode.FileType.File]]);
    });

    const fileOf = (name: string, version: number, path: string) => ({ kind: 'file', project: 'mnist-demo', name, type: 'dataset', version, path, size: 1, external: false });
    const activeTab = () => vscode.window.tabGroups.activeTabGroup.activeTab;

    test('Compare with Workspace Folder: an edited download against its version (the base), all changes in the multi-file diff editor', async () => {
      const root = join(workspaceDir(), 'artifacts', 'exthost-data-v1');
      assert.ok(await run<DownloadOutcome>(Commands.downloadVersion, 'mnist-demo/exthost-data:v1', { root }), api.lastError());
      const same = await run<VersionDiff>(Commands.compareWithFolder, 'mnist-demo/exthost-data:v1', root);
      assert.deepEqual(same, { added: [], removed: [], modified: [], renamed: [] }, api.lastError());
      writeFileSync(join(root, 'a.csv'), 'x,y\n1,4\n');
      writeFileSync(join(root, 'notes.txt'), 'added in the workspace\n');
      rmSync(join(root, 'sub', 'b.txt'));
      const diff = await run<VersionDiff>(Commands.compareWithFolder, 'mnist-demo/exthost-data:v1', 'artifacts/exthost-data-v1');
      assert.deepEqual(diff, { added: ['notes.txt'], removed: ['sub/b.txt'], modified: ['a.csv'], renamed: [] }, api.lastError());
      // VS Code adds the number of files to the title: "… (3 files)".
      assert.match(activeTab()?.label ?? '', /^exthost-data:v1 \(base\) \u2194 artifacts\/exthost-data-v1\b/);
      assert.equal(await run(Commands.compareWithFolder, 'mnist-demo/exthost-data:v1', join(root, 'no-such-folder')), undefined);
      assert.match(api.lastError() ?? '', /no-such-folder is not a folder on this machine/);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    test('Compare with Workspace File: a file of a version (the base) against a workspace file in the diff editor', async () => {
      const local = join(workspaceDir(), 'artifacts', 'exthost-data-v1', 'a.csv');
      const opened = await run<vscode.Uri>(Commands.compareWithFile, fileOf('exthost-data', 1, 'a.csv'), local);
      assert.equal(opened?.fsPath, local, api.lastError());
      const tab = activeTab();
      assert.ok(tab?.input instanceof vscode.TabInputTextDiff, 'a diff editor is active');
      assert.equal(tab.input.original.toString(), 'trove:/mnist-demo/exthost-data/v1/a.csv');
      assert.equal(tab.input.modified.fsPath, local);
      assert.match(tab.label, /exthost-data\/a\.csv \(v1, base\) \u2194 artifacts\/exthost-data-v1\/a\.csv/);
      assert.equal(await run(Commands.compareWithFile, fileOf('exthost-data', 1, 'a.csv'), join(workspaceDir(), 'artifacts')), undefined);
      assert.match(api.lastError() ?? '', /artifacts is not a file on this machine/);
      assert.equal(await run(Commands.compareWithFile, 'mnist-demo/exthost-data:v1'), undefined);
      assert.match(api.lastError() ?? '', /^Compare with Workspace File works on a file of a version/);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    test('a file of a version: Open to the Side, Copy Path, Save As', async () => {
      const uri = await run<vscode.Uri>(Commands.openFileToSide, fileOf('exthost-data', 1, 'sub/b.txt'));
      assert.equal(uri?.toString(), 'trove:/mnist-demo/exthost-data/v1/sub/b.txt', api.lastError());
      assert.equal(vscode.window.activeTextEditor?.document.uri.toString(), uri.toString());
      assert.equal(vscode.window.activeTextEditor?.viewColumn, vscode.ViewColumn.Two, 'opened beside the editor group');
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');

      assert.equal(await run(Commands.copyFilePath, fileOf('exthost-data', 1, 'sub/b.txt')), 'sub/b.txt');
      assert.equal(await vscode.env.clipboard.readText(), 'sub/b.txt');

      const dir = tempDir('trove-save-as-');
      const dest = join(dir, 'b-copy.txt');
      const saved = await run<vscode.Uri>(Commands.saveFileAs, fileOf('exthost-data', 1, 'sub/b.txt'), dest);
      assert.equal(saved?.fsPath, dest, api.lastError());
      assert.equal(readFileSync(dest, 'utf8'), 'bee\n');
      // Replacing a file the save dialog agreed to replace; nothing else is left in the folder.
      writeFileSync(dest, 'old content\n');
      await run(Commands.saveFileAs, fileOf('exthost-data', 1, 'a.csv'), dest);
      assert.equal(readFileSync(dest, 'utf8'), 'x,y\n1,3\n');
      assert.deepEqual(readdirSync(dir), ['b-copy.txt']);
      assert.equal(await run(Commands.saveFileAs, fileOf('exthost-data', 1, 'missing.txt'), join(dir, 'x.txt')), undefined);
      assert.match(api.lastError() ?? '', /mnist-demo\/exthost-data:v1\/missing\.txt does not exist/);
      assert.deepEqual(readdirSync(dir), ['b-copy.txt']);
    });

    test('Copy Reference and Copy Usage Snippet put working text on the clipboard', async () => {
      assert.equal(await run(Commands.copyReference, 'mnist-demo/mnist-cnn:best'), 'mnist-demo/mnist-cnn:v1');
      assert.equal(await vscode.env.clipboard.readText(), 'mnist-demo/mnist-cnn:v1');
      const ts = await run<string>(Commands.copyUsageSnippet, 'mnist-demo/mnist-cnn:v1', 'typescript');
      assert.match(ts ?? '', /run\.useArtifact\("mnist-demo\/mnist-cnn:v1"\)/);
      const py = await run<string>(Commands.copyUsageSnippet, 'mnist-demo/processed-data:v0', 'python');
      assert.match(py ?? '', /^artifact = run\.use_artifact\("mnist-demo\/processed-data:v0"\)$/m);
      assert.match(py ?? '', /^path = artifact\.download\(\)$/m);
      assert.equal(await vscode.env.clipboard.readText(), py);
    });

    test('a palette command without a workspace target still explains what is wrong', async () => {
      const dir = tempDir('trove-not-a-folder-');
      const file = join(dir, 'file.txt');
      writeFileSync(file, 'x');
      assert.equal(await run(Commands.logFolder, vscode.Uri.file(file), { name: 'x', type: 'dataset' }), undefined);
      assert.match(api.lastError() ?? '', /is not a folder/);
    });
  });
}

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { diffManifests } from '../../src/core/manifest';
import { contextValue, elementId, page, PAGE_SIZE, parentOf, type TreeElement } from '../../src/shared/artifactTree';
import { diffReport } from '../../src/shared/diffReport';
import { isFromWebview, isLineageState } from '../../src/shared/lineageProtocol';
import { usageSnippet } from '../../src/shared/usageSnippets';
import { formatVersionPath, isFolder, listFolder, looksLikeText, parseVersionPath } from '../../src/shared/versionUri';

const version: TreeElement = {
  kind: 'version', project: 'p', name: 'mnist', type: 'dataset', version: 3, aliases: ['latest', 'best'], size: 10, files: 2, createdAt: '', digest: 'ab', hasPrevious: true,
};

describe('Artifacts tree model', () => {
  test('ids are stable and parents rebuild the chain up to the project', () => {
    const file: TreeElement = { kind: 'file', project: 'p', name: 'mnist', type: 'dataset', version: 3, path: 'a/b/c.csv', size: 1, external: false };
    const chain: string[] = [];
    for (let e: TreeElement | undefined = file; e; e = parentOf(e)) chain.push(elementId(e));
    assert.deepEqual(chain, ['file:p/mnist:v3/a/b/c.csv', 'folder:p/mnist:v3/a/b', 'folder:p/mnist:v3/a', 'version:p/mnist:v3', 'artifact:p/mnist', 'type:p/dataset', 'project:p']);
  });

  test('paging adds "Load more" past 200 children', () => {
    const kids: TreeElement[] = Array.from({ length: 450 }, (_, i) => ({ kind: 'project', project: `p${i}`, artifacts: 1 }));
    assert.equal(page('root', kids.slice(0, PAGE_SIZE)).length, 200);
    const first = page('root', kids);
    assert.equal(first.length, 201);
    assert.deepEqual(first[200], { kind: 'loadMore', parentId: 'root', shown: 200, total: 450 });
    assert.equal(page('root', kids, 400).length, 401);
    assert.equal(page('root', kids, 600).length, 450);
  });

  test('contextValue flags drive the menus', () => {
    assert.equal(contextValue(version), 'version latest hasPrevious customAlias');
    assert.equal(contextValue({ ...version, aliases: [], hasPrevious: false } as TreeElement), 'version');
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    const when = (cmd: string) => pkg.contributes.menus['view/item/context'].filter((m: { command: string }) => m.command === cmd).map((m: { when: string }) => m.when);
    const matches = (cmd: string, value: string) => when(cmd).some((w: string) => [...w.matchAll(/viewItem =~ \/(.+?)\/(?= |$)/g)].every((m) => new RegExp(m[1]).test(value)));
    assert.ok(matches('trove.removeAlias', 'version latest hasPrevious customAlias'));
    assert.ok(!matches('trove.removeAlias', 'version latest'));
    assert.ok(matches('trove.compareWithPrevious', 'version hasPrevious'));
    assert.ok(!matches('trove.compareWithPrevious', 'version latest'));
    assert.ok(matches('trove.openFile', 'file'));
    for (const cmd of ['trove.openFileToSide', 'trove.copyFilePath', 'trove.saveFileAs', 'trove.compareWithFile']) {
      assert.ok(matches(cmd, 'file'), cmd);
      assert.ok(!matches(cmd, 'version latest'), cmd);
    }
    assert.ok(matches('trove.compareWithFolder', 'version latest'));
    assert.ok(!matches('trove.compareWithFolder', 'file'));
  });
});

describe('trove: paths', () => {
  test('round-trip and reject paths that could escape', () => {
    const p = { project: 'p', name: 'mnist', version: 12, path: 'a/b.csv' };
    assert.equal(formatVersionPath(p), '/p/mnist/v12/a/b.csv');
    assert.deepEqual(parseVersionPath('/p/mnist/v12/a/b.csv'), p);
    assert.deepEqual(parseVersionPath('/p/mnist/v0'), { project: 'p', name: 'mnist', version: 0, path: '' });
    assert.throws(() => parseVersionPath('/p/mnist/v1/../x'), /"\.\." and could escape/);
    assert.throws(() => parseVersionPath('/p/mnist/latest/x'), /not a Trove file path/);
    assert.throws(() => parseVersionPath('/p/bad name/v1/x'), /Invalid artifact name/);
  });

  test('folder listings', () => {
    const paths = ['a.txt', 'd/x.txt', 'd/e/y.txt', 'z.txt'];
    assert.deepEqual(listFolder(paths, ''), { files: ['a.txt', 'z.txt'], folders: ['d'] });
    assert.deepEqual(listFolder(paths, 'd'), { files: ['x.txt'], folders: ['e'] });
    assert.ok(isFolder(paths, 'd/e'));
    assert.ok(!isFolder(paths, 'd/x.txt'));
  });

  test('text detection for the diff editor', () => {
    assert.ok(looksLikeText(new TextEncoder().encode('héllo\nworld')));
    assert.ok(!looksLikeText(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00, 0x01])));
    assert.ok(!looksLikeText(new Uint8Array([0xff, 0xfe, 0xfd])));
    const long = new TextEncoder().encode('é'.repeat(5000)); // a 2-byte character cut at 8 KiB
    assert.ok(looksLikeText(long));
  });
});

describe('Compare report', () => {
  test('lists added, removed, modified and renamed files with sizes', () => {
    const d = (c: string) => c.repeat(64);
    const a = { 'same.txt': { digest: d('a'), size: 1 }, 'old.txt': { digest: d('b'), size: 2 }, 'mod.txt': { digest: d('c'), size: 3 }, 'gone.txt': { digest: d('e'), size: 5 } };
    const b = { 'same.txt': { digest: d('a'), size: 1 }, 'new-name.txt': { digest: d('b'), size: 2 }, 'mod.txt': { digest: d('d'), size: 4000 }, 'added.txt': { digest: d('f'), size: 6 } };
    const text = diffReport('p/x:v0', 'p/x:v1', a, b, diffManifests(a, b));
    assert.match(text, /^Trove: p\/x:v0 → p\/x:v1/);
    assert.match(text, /1 added, 1 removed, 1 modified, 1 renamed/);
    assert.match(text, /\+ added\.txt {2}\(6 B\)/);
    assert.match(text, /- gone\.txt {2}\(5 B\)/);
    assert.match(text, /M mod\.txt {2}\(3 B → 4\.0 KB\)/);
    assert.match(text, /R old\.txt → new-name\.txt/);
    assert.match(diffReport('p/x:v0', 'p/x:v0', a, a, diffManifests(a, a)), /No differences/);
  });
});

describe('Usage snippets', () => {
  const target = { project: 'mnist-demo', name: 'processed-data', alias: 'v0', type: 'dataset' };

  test('the TypeScript snippet type-checks against the Trove SDK', () => {
    const code = usageSnippet('typescript', target).replace("from 'trove'", "from '../../../src/sdk/index'");
    const dir = mkdtempSync(join(process.cwd(), 'test', 'unit', '.snippet-'));
    try {
      const file = join(dir, 'snippet.ts');
      writeFileSync(file, `${code}\nexport {};\n`);
      const program = ts.createProgram([file], { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, types: ['node'], skipLibCheck: true });
      const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      assert.deepEqual(problems, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.match(code, /useArtifact\("mnist-demo\/processed-data:v0"\)/);
  });

  test('the Python snippet is wandb code (the W&B door answers it), not a subprocess call, and is valid Python', () => {
    const code = usageSnippet('python', target);
    assert.match(code, /^run = wandb\.init\(project="mnist-demo", job_type="train"\)$/m);
    assert.match(code, /^artifact = run\.use_artifact\("mnist-demo\/processed-data:v0"\)$/m);
    assert.match(code, /^path = artifact\.download\(\)$/m);
    assert.doesNotMatch(code, /subprocess|"trove", "download"/);
    execFileSync('python3', ['-c', `import ast, sys; ast.parse(sys.stdin.read())`], { input: code });
    assert.match(usageSnippet('python', { ...target, name: 'mnist-cnn', type: 'model' }), /job_type="evaluate"/);
  });
});

describe('Lineage message contract', () => {
  test('accepts well-formed webview messages and rejects others', () => {
    assert.ok(isFromWebview({ type: 'ready' }));
    assert.ok(isFromWebview({ type: 'expand', nodeId: 'run:x', direction: 'up' }));
    assert.ok(isFromWebview({ type: 'rendered', nodes: 3, edges: 2, layoutMs: 1, renderMs: 2 }));
    assert.ok(!isFromWebview({ type: 'expand', nodeId: 'run:x', direction: 'sideways' }));
    assert.ok(!isFromWebview({ type: 'selectNode' }));
    assert.ok(!isFromWebview({ type: 'eval', code: 'x' }));
    assert.ok(!isFromWebview(null));
    assert.ok(isLineageState({ ref: 'p/x:v1', depth: 3, expansions: [] }));
    assert.ok(!isLineageState({ ref: 'p/x:v1' }));
  });
});

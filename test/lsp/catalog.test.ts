/** The language server's artifact cache and settings handling, on a real embedded store. */
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Registry } from '../../src/core/registry';
import { backendKey, openBackend } from '../../src/lsp/backend';
import { ArtifactCatalog } from '../../src/lsp/catalog';
import { normalizeSettings, pickTroveSettings } from '../../src/lsp/settings';
import { LocalRegistry } from '../../src/store/localRegistry';
import { buildDemoStore, logFiles, tempRoot } from './harness';
import { findProblems } from '../../src/lsp/diagnostics';
import { problemMessage } from '../../src/lsp/hover';
import { DiagnosticCodes } from '../../src/lsp/protocol';

const { root, cleanup } = tempRoot('trove-lsp-catalog-');
let store: string;
before(async () => {
  store = await buildDemoStore(root);
});
after(cleanup);

/** A real LocalRegistry whose read calls are counted. */
function countingRegistry(): { registry: Registry; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const real = new LocalRegistry(store);
  const registry = new Proxy(real, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
        return value.apply(target, args);
      };
    },
  });
  return { registry, calls };
}

describe('ArtifactCatalog', () => {
  test('resolves references and asks the backend once per list until invalidated', async () => {
    const { registry, calls } = countingRegistry();
    const catalog = new ArtifactCatalog(registry);
    const [a, b] = await Promise.all([
      catalog.resolve({ text: 'mnist-raw:production', role: 'use' }, 'demo'),
      catalog.resolve({ text: 'mnist-raw:v0', role: 'use' }, 'demo'),
    ]);
    assert.equal(a.kind === 'resolved' && a.version.version, 1);
    assert.equal(b.kind === 'resolved' && b.version.version, 0);
    await catalog.resolve({ text: 'demo/mnist-raw', role: 'use' }, 'other');
    assert.equal(calls.listArtifacts, 1);
    assert.equal(calls.listVersions, 1);
    catalog.invalidate();
    await catalog.resolve({ text: 'mnist-raw', role: 'use' }, 'demo');
    assert.equal(calls.listArtifacts, 2);
  });

  test('entries expire after maxAge, and the expiry is reported', async () => {
    const { registry, calls } = countingRegistry();
    let expired = 0;
    // 400 ms: two calls in a row stay well inside it even on a loaded 2-core machine (30 ms did not).
    const catalog = new ArtifactCatalog(registry, 400, () => expired++);
    await catalog.artifacts('demo');
    await catalog.artifacts('demo');
    assert.equal(calls.listArtifacts, 1);
    await new Promise((r) => setTimeout(r, 450));
    await catalog.artifacts('demo');
    assert.equal(calls.listArtifacts, 2);
    assert.equal(expired, 1);
  });

  test('unknown project, artifact, alias and version, and log references to new artifacts', async () => {
    const catalog = new ArtifactCatalog(new LocalRegistry(store));
    const project = await catalog.resolve({ text: 'dmeo/mnist-raw', role: 'use' }, 'other');
    assert.deepEqual(project.kind === 'unknown-project' && project.suggestions, ['demo']);
    const artifact = await catalog.resolve({ text: 'cifra', role: 'use' }, 'other');
    assert.deepEqual(artifact.kind === 'unknown-artifact' && artifact.suggestions, ['cifar']);
    const version = await catalog.resolve({ text: 'cifar:v3', role: 'use' }, 'other');
    assert.deepEqual(version.kind === 'unknown-version' && version.suggestions, ['v0']);
    const fresh = await catalog.resolve({ text: 'cifar-100', role: 'log' }, 'other');
    assert.equal(fresh.kind, 'new-artifact');
    const invalid = await catalog.resolve({ text: 'a b', role: 'use' }, 'other');
    assert.equal(invalid.kind, 'invalid');
  });

  test('a reference to a deleted version or artifact says it was deleted (diagnostic and hover), not that it never existed', async () => {
    const registry = new LocalRegistry(join(root, 'deleted-store'));
    await logFiles(registry, root, { project: 'demo', name: 'mnist-cnn', type: 'model', files: { 'w.bin': 'one' } });
    await logFiles(registry, root, { project: 'demo', name: 'mnist-cnn', type: 'model', files: { 'w.bin': 'two' } });
    await logFiles(registry, root, { project: 'demo', name: 'scratch', type: 'dataset', files: { 'x': 'x' } });
    await registry.deleteVersion({ project: 'demo', name: 'mnist-cnn', alias: 'v1' });
    await registry.deleteArtifact('demo', 'scratch');
    const catalog = new ArtifactCatalog(registry);
    const v1 = await catalog.resolve({ text: 'mnist-cnn:v1', role: 'use' }, 'demo');
    assert.equal(v1.kind, 'deleted');
    assert.deepEqual(v1.kind === 'deleted' && v1.suggestions, ['v0']);
    assert.match(problemMessage(v1)!, /^mnist-cnn:v1 \(deleted\): Version demo\/mnist-cnn:v1 was deleted on \d{4}-\d\d-\d\d; /);
    const whole = await catalog.resolve({ text: 'scratch:v0', role: 'use' }, 'demo');
    assert.match(problemMessage(whole)!, /^scratch \(deleted\): Artifact "scratch" in project "demo" was deleted on /);
    // A version that never existed is still "unknown".
    assert.equal((await catalog.resolve({ text: 'mnist-cnn:v7', role: 'use' }, 'demo')).kind, 'unknown-version');
    const text = 'use_artifact("mnist-cnn:v1")';
    const problems = await findProblems(catalog, [{ text: 'mnist-cnn:v1', role: 'use', start: 14, end: 26 } as never], 'demo');
    assert.equal(problems.length, 1);
    assert.equal(problems[0].code, DiagnosticCodes.deleted);
    assert.equal(text.slice(problems[0].start, problems[0].end), 'v1', 'the squiggle is on the version');
    await registry.close();
  });

  test('a backend that cannot be read gives "unavailable", not an exception', async () => {
    const { writeFileSync, mkdirSync } = await import('node:fs');
    const broken = join(root, 'broken-store');
    mkdirSync(join(broken, 'projects', 'demo', 'x'), { recursive: true });
    writeFileSync(join(broken, 'projects', 'demo', 'x', 'state.json'), '{ not json');
    // One damaged artifact is left out of the lists (the store says so), the rest stays readable;
    // a reference to it says that its record is damaged, not that the name is unknown.
    const partly = await new ArtifactCatalog(new LocalRegistry(broken)).resolve({ text: 'x', role: 'use' }, 'demo');
    assert.equal(partly.kind, 'unavailable');
    assert.match(partly.kind === 'unavailable' ? partly.message : '', /x.state\.json is damaged/);
    assert.equal((await new ArtifactCatalog(new LocalRegistry(broken)).resolve({ text: 'other', role: 'use' }, 'demo')).kind, 'unknown-artifact');
    // A store that cannot be read at all (its format.json is damaged) is "unavailable".
    writeFileSync(join(broken, 'format.json'), '{ not json');
    const catalog = new ArtifactCatalog(new LocalRegistry(broken));
    const r = await catalog.resolve({ text: 'x', role: 'use' }, 'demo');
    assert.equal(r.kind, 'unavailable');
    assert.match(r.kind === 'unavailable' ? r.message : '', /embedded store .*broken-store could not be read/);
  });
});

describe('settings', () => {
  test('only storePath, backend and project reach the server, trimmed, with ~ and relative store paths made absolute', () => {
    assert.deepEqual(pickTroveSettings({ storePath: 'x', backend: 'embedded', project: 'p', downloadRoot: 'artifacts', secret: 1 }), { storePath: 'x', backend: 'embedded', project: 'p' });
    assert.deepEqual(pickTroveSettings(null), {});
    assert.deepEqual(normalizeSettings({ storePath: ' ~/stores/t ', project: ' demo ', backend: '' }, '/ws'), { storePath: join(homedir(), 'stores/t'), project: 'demo' });
    assert.deepEqual(normalizeSettings({ storePath: '.trove' }, '/ws'), { storePath: '/ws/.trove' });
    assert.deepEqual(normalizeSettings({ storePath: '/abs', backend: 'http://h:1' }, '/ws'), { storePath: '/abs', backend: 'http://h:1' });
  });
});

describe('opening the backend from settings', () => {
  test('embedded store by default or by name, at trove.storePath', async () => {
    for (const backend of [undefined, '', 'embedded']) {
      const registry = openBackend({ storePath: store, backend }, undefined);
      assert.equal(registry.location, `embedded store ${store}`);
      assert.deepEqual((await registry.listProjects()).map((p) => p.name), ['demo', 'other']);
      await registry.close();
    }
  });

  test('a server URL is never silently replaced by the embedded store; other values are one clear error', async () => {
    let opened;
    try {
      opened = openBackend({ storePath: store, backend: 'http://127.0.0.1:9' }, 'secret-token');
    } catch (e) {
      // Before the SDK's openRegistry knows servers, the sentence says so.
      assert.match((e as Error).message, /cannot reach the server http:\/\/127\.0\.0\.1:9/);
    }
    if (opened) {
      assert.match(opened.location, /127\.0\.0\.1:9/);
      await opened.close();
    }
    assert.throws(() => openBackend({ backend: 's3://bucket' }, undefined), /trove\.backend is "s3:\/\/bucket": use "embedded" or the URL of a Trove server/);
  });

  test('the backend is reopened only when what it names changes', () => {
    assert.equal(backendKey({ storePath: '/a', project: 'x' }, 't1'), backendKey({ storePath: '/a', project: 'y' }, 't2'));
    assert.notEqual(backendKey({ storePath: '/a' }, undefined), backendKey({ storePath: '/b' }, undefined));
    assert.notEqual(backendKey({ backend: 'http://h' }, 't1'), backendKey({ backend: 'http://h' }, 't2'));
  });
});

/**
 * The import boundaries of the house style, checked on the sources: `vscode` only under
 * src/extension/ (and the extension-host tests), and @vscode/webview-ui-toolkit only in
 * webview/toolkit.ts, so that replacing the archived toolkit stays a one-file change. And each
 * rule in one home: faces reach a backend only through src/backends/openRegistry.ts, only
 * src/store/ spells the embedded store's paths, and only src/server/protocol.ts the HTTP routes.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';

const ROOT = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.(ts|mts|js|mjs)$/.test(e.name) ? [p] : [];
  });
}

function importers(specifier: RegExp, dirs: string[]): string[] {
  const pattern = new RegExp(`(from\\s+|require\\(|import\\()\\s*['"]${specifier.source}['"]`);
  return dirs.flatMap(sources).filter((f) => pattern.test(readFileSync(join(ROOT, f), 'utf8'))).map((f) => relative(ROOT, join(ROOT, f))).sort();
}

describe('import boundaries', () => {
  test('vscode is imported only under src/extension/ and test/exthost/', () => {
    const offenders = importers(/vscode/, ['src', 'webview', 'test/unit', 'test/integration']).filter((f) => !f.startsWith('src/extension/'));
    assert.deepEqual(offenders, []);
    assert.ok(importers(/vscode/, ['src']).length > 5, 'the check sees the extension sources');
  });

  test('@vscode/webview-ui-toolkit is imported by webview/toolkit.ts only', () => {
    assert.deepEqual(importers(/@vscode\/webview-ui-toolkit[^'"]*/, ['src', 'webview']), ['webview/toolkit.ts']);
  });

  /** The files of `dirs` whose text matches `pattern`, with the first match, as `file: match`. */
  function matching(pattern: RegExp, dirs: string[]): string[] {
    return dirs.flatMap(sources).flatMap((f) => {
      const m = pattern.exec(readFileSync(join(ROOT, f), 'utf8'));
      return m ? [`${relative(ROOT, join(ROOT, f))}: ${m[0]}`] : [];
    }).sort();
  }

  const FACES = ['src/cli', 'src/sdk', 'src/lsp', 'src/extension'];
  const BACKEND_CLASSES = /(\.\.\/)+(store\/localRegistry|store\/blobs|client\/httpRegistry|server\/pgStore|server\/blobStore|server\/backend)/;

  test('faces (cli, sdk, lsp, extension) open a backend through src/backends/, never a backend class directly', () => {
    assert.deepEqual(importers(BACKEND_CLASSES, FACES), []);
    // The check sees the imports it forbids: the one place allowed to make backends has them.
    assert.deepEqual(importers(BACKEND_CLASSES, ['src/backends']), ['src/backends/openRegistry.ts']);
  });

  test('only src/store/ builds a path inside the embedded store (its layout is FORMAT.md\'s)', () => {
    const storePath = /join\([^)]*['"](format\.json|blobs|packs|projects|runs|tmp|locks|cache|state\.json|versions|used-by|server|tokens\.json|changed)['"]/;
    assert.deepEqual(matching(storePath, ['src', 'webview']).filter((f) => !f.startsWith('src/store/')), []);
    assert.ok(matching(storePath, ['src/store']).length >= 3, 'the check sees the store building its own paths');
  });

  test('an /api/v1/ route is written only in src/server/protocol.ts', () => {
    const route = /\/api\/(v\d|\$\{)/;
    assert.deepEqual(matching(route, ['src', 'webview']).filter((f) => !f.startsWith('src/server/protocol.ts')), []);
    assert.equal(matching(route, ['src/server']).length, 1, 'the check sees the routes where they are declared');
  });
});

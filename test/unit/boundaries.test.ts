/**
 * The import boundaries of the house style, checked on the sources: `vscode` only under
 * src/extension/ (and the extension-host tests), and @vscode/webview-ui-toolkit only in
 * webview/toolkit.ts, so that replacing the archived toolkit stays a one-file change.
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
});

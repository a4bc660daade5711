/**
 * `npm run package` as a maintainer runs it: @vscode/vsce builds trove-<version>.vsix from the
 * .vscodeignore allow-list. Checks what is inside, that the bundles need nothing the VSIX lacks,
 * the icon, the marketplace README's images, and the size. (Stage 30 installs this VSIX into
 * code-server and runs the UI end-to-end test against the installed copy.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { readZip } from './zip';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const VSIX = join(ROOT, `trove-${pkg.version}.vsix`);
const MAX_BYTES = 3 * 1024 * 1024;

describe('the VSIX (npm run package)', () => {
  let output = '';
  let files: Map<string, Buffer>;
  before(() => {
    const r = spawnSync('npm', ['run', 'package'], { cwd: ROOT, encoding: 'utf8' });
    output = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 0, output);
    files = readZip(VSIX);
  });

  test('vsce packs it without a warning and prints its size; it is under 3 MB', () => {
    const done = /DONE\s+Packaged: (\S+) \((\d+) files, ([\d.]+ [KM]B)\)/.exec(output);
    assert.ok(done, output);
    assert.equal(done[1], VSIX);
    console.log(`  ${done[0]}; ${statSync(VSIX).size} bytes`);
    assert.doesNotMatch(output, /WARNING|ERROR/);
    assert.ok(statSync(VSIX).size < MAX_BYTES, `${statSync(VSIX).size} bytes`);
  });

  test('it holds exactly what the extension runs: the bundles, media, LICENSE, CHANGELOG and the marketplace README', () => {
    const extension = [...files.keys()].filter((f) => f.startsWith('extension/')).sort();
    assert.deepEqual(extension, [
      'extension/LICENSE.txt',
      'extension/changelog.md',
      'extension/dist/cli.js',
      'extension/dist/extension.js',
      'extension/dist/language-client.js',
      'extension/dist/server.js',
      'extension/dist/trove-server.js',
      'extension/dist/webview.js',
      'extension/media/icon.png',
      'extension/media/lineage.css',
      'extension/media/trove.svg',
      'extension/package.json',
      'extension/readme.md',
    ]);
    assert.equal(files.get('extension/LICENSE.txt')!.toString(), readFileSync(join(ROOT, 'LICENSE'), 'utf8'));
    assert.match(files.get('extension/changelog.md')!.toString(), new RegExp(`^## ${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
    // Production bundles: minified, no source maps to ship.
    assert.doesNotMatch(files.get('extension/dist/extension.js')!.toString(), /sourceMappingURL/);
  });

  test('the bundles require only Node built-ins, vscode, each other, and two optional modules they guard', () => {
    const allowed = new Set([...builtinModules, 'vscode', './trove-server.js', './language-client.js',
      // Loaded in try/catch by the S3 SDK and pg: absent means "not used".
      '@aws-sdk/signature-v4-crt', 'pg-native']);
    for (const [name, body] of files) {
      if (!name.startsWith('extension/dist/')) continue;
      const required = [...body.toString().matchAll(/\b(?:require|import)\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1].replace(/^node:/, ''));
      assert.deepEqual(required.filter((m) => !allowed.has(m)), [], name);
    }
  });

  test('the manifest has what the marketplace shows: icon (128×128 PNG), repository, keywords, gallery banner', () => {
    const manifest = JSON.parse(files.get('extension/package.json')!.toString());
    assert.equal(manifest.icon, 'media/icon.png');
    const png = files.get('extension/media/icon.png')!;
    assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a');
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [128, 128]);
    assert.match(manifest.repository.url, /^https:\/\/github\.com\/[^/]+\/[^/]+\.git$/);
    assert.ok(manifest.keywords.length >= 5 && manifest.keywords.length <= 30);
    assert.match(manifest.galleryBanner.color, /^#[0-9a-f]{6}$/i);
    assert.equal(manifest.license, 'MIT');
    const xml = files.get('extension.vsixmanifest')!.toString();
    assert.match(xml, /<Icon>extension\/media\/icon\.png<\/Icon>/);
    assert.match(xml, /<License>extension\/LICENSE\.txt<\/License>/);
  });

  test("the marketplace README's images are PNG screenshots committed in the repository at the URLs it names", () => {
    const readme = files.get('extension/readme.md')!.toString();
    assert.doesNotMatch(readme, /## Code layout|## Benchmarks/, 'the marketplace README, not the repository one');
    const base = pkg.repository.url.replace(/\.git$/, '/raw/HEAD/');
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    assert.ok(images.length >= 3, `${images.length} images`);
    for (const url of images) {
      assert.ok(url.startsWith(base), `${url} is under ${base}`);
      const path = url.slice(base.length);
      assert.match(path, /^media\/screenshots\/[a-z0-9-]+\.png$/);
      const file = join(ROOT, path);
      assert.ok(existsSync(file), `${path} exists`);
      assert.equal(readFileSync(file).subarray(1, 4).toString(), 'PNG', path);
      const tracked = spawnSync('git', ['ls-files', '--error-unmatch', path], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(tracked.status, 0, `${path} is committed, so the URL resolves once pushed`);
    }
  });
});

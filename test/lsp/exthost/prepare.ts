/**
 * Prepares the end-to-end run of the language client: the test extension folder (package.json,
 * bundles, the server bundle) and a workspace holding the LSP fixtures, with an embedded store
 * (the demo store of test/lsp/harness.ts) named in .vscode/settings.json.
 * Usage: node --import tsx test/lsp/exthost/prepare.ts <harness dir>
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildDemoStore, FIXTURES } from '../harness';

const REPO = resolve(__dirname, '../../..');

async function main(): Promise<void> {
  const harness = resolve(process.argv[2] ?? join(REPO, '.harness/lsp-exthost'));
  const ext = join(harness, 'ext');
  const ws = join(harness, 'workspace');
  rmSync(harness, { recursive: true, force: true });
  mkdirSync(join(ext, 'dist'), { recursive: true });
  mkdirSync(join(ws, '.vscode'), { recursive: true });
  writeFileSync(join(ext, 'package.json'), JSON.stringify({
    name: 'trove-lsp-exthost', publisher: 'trove-test', version: '0.0.1', engines: { vscode: '^1.91.0' },
    main: './out/extension.js',
    activationEvents: ['onLanguage:python', 'onLanguage:typescript', 'onLanguage:yaml', 'onNotebook:jupyter-notebook'],
    contributes: {
      configuration: {
        title: 'Trove', properties: {
          'trove.storePath': { type: 'string', default: '' },
          'trove.backend': { type: 'string', default: 'embedded' },
          'trove.project': { type: 'string', default: '' },
          'trove.hover.enabled': { type: 'boolean', default: true },
          'trove.codeLens.enabled': { type: 'boolean', default: true },
          'trove.diagnostics.enabled': { type: 'boolean', default: true },
        },
      },
    },
  }, null, 2));
  copyFileSync(join(REPO, 'dist/server.js'), join(ext, 'dist/server.js'));
  const common = { bundle: true, platform: 'node' as const, format: 'cjs' as const, target: 'node20', external: ['vscode', 'mocha'], logLevel: 'warning' as const };
  await build({ ...common, entryPoints: [join(__dirname, 'extension.ts')], outfile: join(ext, 'out/extension.js') });
  await build({ ...common, entryPoints: [join(__dirname, 'index.ts'), join(__dirname, 'languageClient.test.ts')], outdir: join(ext, 'out/test') });
  for (const f of ['train.py', 'pipeline.ts', 'config.yaml', 'explore.ipynb']) copyFileSync(join(FIXTURES, f), join(ws, f));
  const store = await buildDemoStore(harness);
  writeFileSync(join(ws, '.vscode/settings.json'), JSON.stringify({ 'trove.storePath': store, 'trove.project': 'demo' }, null, 2));
  console.log(`prepared ${ext} and ${ws}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

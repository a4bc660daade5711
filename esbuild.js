// Builds every entry point: node esbuild.js [--watch] [--production]
const esbuild = require('esbuild');
const { existsSync } = require('node:fs');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** The CLI loads the server side (`serve`, `token`) and S3 from their own bundle, at run time. */
const serverApart = {
  name: 'server-apart',
  setup(build) {
    build.onResolve({ filter: /^(\.\.\/server\/index|\.\/s3ref)$/ }, () => ({ path: './trove-server.js', external: true }));
  },
};

/**
 * The extension loads the language client and S3 from their own bundles, after activation: what
 * VS Code parses when it activates Trove stays small.
 */
const extensionApart = {
  name: 'extension-apart',
  setup(build) {
    build.onResolve({ filter: /^\.\/s3ref$/ }, () => ({ path: './trove-server.js', external: true }));
    build.onResolve({ filter: /^\.\/languageClient$/ }, () => ({ path: './language-client.js', external: true }));
  },
};

/** Node bundles (CLI, extension, language server) and the browser bundle of the webview. */
const targets = [
  { entryPoints: { cli: 'src/cli/index.ts' }, platform: 'node', format: 'cjs', plugins: [serverApart] },
  { entryPoints: { 'trove-server': 'src/server/index.ts' }, platform: 'node', format: 'cjs' },
  { entryPoints: { sdk: 'src/sdk/index.ts' }, platform: 'node', format: 'cjs' },
  { entryPoints: { extension: 'src/extension/main.ts' }, platform: 'node', format: 'cjs', external: ['vscode'], plugins: [extensionApart] },
  { entryPoints: { 'language-client': 'src/extension/languageClient.ts' }, platform: 'node', format: 'cjs', external: ['vscode'] },
  { entryPoints: { server: 'src/lsp/main.ts' }, platform: 'node', format: 'cjs' },
  { entryPoints: { 'extension-tests': 'test/exthost/index.ts' }, platform: 'node', format: 'cjs', external: ['vscode', 'mocha'] },
  { entryPoints: { webview: 'webview/main.ts' }, platform: 'browser', format: 'iife' },
].filter((t) => Object.values(t.entryPoints).every((p) => existsSync(p)));

async function main() {
  const contexts = await Promise.all(targets.map((t) => esbuild.context({
    bundle: true,
    outdir: 'dist',
    target: t.platform === 'node' ? 'node20' : 'es2022',
    minify: production,
    sourcemap: !production,
    sourcesContent: false,
    logLevel: 'warning',
    legalComments: 'none',
    ...t,
  })));
  if (watch) {
    await Promise.all(contexts.map((c) => c.watch()));
    console.log('esbuild: watching');
    return;
  }
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});

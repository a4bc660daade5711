// Builds every entry point: node esbuild.js [--watch] [--production] [--declarations]
const esbuild = require('esbuild');
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
/** The npm package ships the SDK's type declarations (dist/types/, `types` in package.json). */
const declarations = process.argv.includes('--declarations');

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
  asciiOnly();
  if (declarations) emitDeclarations();
}

/**
 * Bundles as pure ASCII. esbuild escapes every non-ASCII character of code (charset ascii), but an
 * unminified bundle keeps its dependencies' comments, and one character such as "\u2014" in a
 * comment of pg makes V8 hold the whole 2.5 MB source of trove-server.js as a two-byte string:
 * 5 MB of every `trove serve`'s heap (measured: 16.2 MB idle before, see issue 13). Each such
 * character (only ever in a comment) becomes "?" (two for one outside the BMP, so that columns,
 * and the source maps, stay the same).
 */
function asciiOnly() {
  for (const file of readdirSync('dist')) {
    if (!file.endsWith('.js')) continue;
    const path = join('dist', file);
    const text = readFileSync(path, 'utf8');
    if (!/[^\x00-\x7f]/.test(text)) continue;
    // A new file renamed over the old one: a process starting meanwhile reads one or the other whole.
    writeFileSync(`${path}.${process.pid}.tmp`, text.replace(/[^\x00-\x7f]/gu, (c) => '?'.repeat(c.length)));
    renameSync(`${path}.${process.pid}.tmp`, path);
  }
}

/** tsc writes .d.ts files for the SDK and what its types refer to, under dist/types/ (src/ layout). */
function emitDeclarations() {
  rmSync('dist/types', { recursive: true, force: true });
  const tsc = require.resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, 'src/sdk/index.ts', '--declaration', '--emitDeclarationOnly', '--outDir', 'dist/types',
    '--rootDir', 'src', '--target', 'ES2022', '--module', 'ESNext', '--moduleResolution', 'bundler', '--strict',
    '--esModuleInterop', '--skipLibCheck', '--types', 'node', '--stripInternal'], { stdio: 'inherit' });
  // Keep only what the SDK's declarations reach: a consumer never loads the rest (the S3 client's
  // types, for one, would name a package that the npm package does not install).
  const reached = new Set();
  const visit = (file) => {
    if (reached.has(file) || !existsSync(file)) return;
    reached.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/(?:from |import\()['"](\.[^'"]+)['"]/g)) visit(join(dirname(file), `${spec}.d.ts`));
  };
  visit('dist/types/sdk/index.d.ts');
  const all = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? all(join(dir, e.name)) : [join(dir, e.name)]));
  for (const file of all('dist/types')) if (!reached.has(file)) rmSync(file);
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});

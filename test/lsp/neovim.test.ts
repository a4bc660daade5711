/**
 * Headless Neovim from Debian's packages (0.7.2 on Debian 12) drives `node dist/server.js --stdio`
 * with its built-in LSP client, started by the README's Neovim set-up (its `init.lua` block, with
 * this test's paths) and driven by test/lsp/neovim/drive.lua: settings from init_options and
 * workspace/didChangeConfiguration honoured, diagnostics, hover, completion, and the Download code
 * lens executed through workspace/executeCommand.
 * The 15-lsp stage installs Neovim first (test/lsp/neovim/install.sh) when it is missing.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { LocalRegistry } from '../../src/store/localRegistry';
import { buildDemoStore, tempRoot } from './harness';

const REPO = resolve(__dirname, '../..');
const SERVER = join(REPO, 'dist/server.js');
const { root, cleanup } = tempRoot('trove-lsp-nvim-');
let store: string;

before(async () => {
  assert.ok(existsSync(SERVER), `${SERVER} is missing: build it with \`node esbuild.js\``);
  const nvim = spawnSync('nvim', ['--version'], { encoding: 'utf8' });
  assert.ok(!nvim.error, 'nvim is not installed: run `bash test/lsp/neovim/install.sh` (Debian\'s neovim package)');
  store = await buildDemoStore(root);
});
after(() => cleanup());

/** The README's Neovim `init.lua`, pointed at this build, store and project. */
function readmeInit(server: string, storePath: string): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Neovim'));
  const m = /```lua\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'the README has a Lua block under "### Neovim"');
  const lua = m[1];
  for (const needle of ["'/path/to/trove/dist/server.js'", "vim.fn.expand('~/.trove')", "'my-project'"]) assert.ok(lua.includes(needle), `the README's set-up names ${needle}`);
  return lua
    .replaceAll("'/path/to/trove/dist/server.js'", JSON.stringify(server))
    .replaceAll("vim.fn.expand('~/.trove')", JSON.stringify(storePath))
    .replaceAll("'my-project'", "'demo'");
}

test('headless Neovim 0.7 with its built-in client: settings, diagnostics, hover, completion, and the Download lens run', async () => {
  // The folder's name is not the project: only the settings say "demo".
  const ws = join(root, 'nvim-workspace');
  mkdirSync(ws);
  const file = join(ws, 'train.py');
  writeFileSync(file, 'raw = run.use_artifact("mnist-raw:production")\nbad = run.use_artifact("mnist-raw:nope")\n');
  const outFile = join(root, 'nvim-out.json');
  const init = join(root, 'init.lua');
  writeFileSync(init, readmeInit(SERVER, store));
  const child = spawn('nvim', ['--headless', '-u', init, '-i', 'NONE', '-n', `+luafile ${join(REPO, 'test/lsp/neovim/drive.lua')}`], {
    cwd: ws, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, TROVE_NVIM_FILE: file, TROVE_NVIM_OUT: outFile,
      // Neither the environment's store nor its project may stand in for the settings.
      TROVE_STORE: join(root, 'not-the-store'), TROVE_PROJECT: '', XDG_STATE_HOME: join(root, 'state'), XDG_DATA_HOME: join(root, 'data'),
    },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', () => undefined);
  const code = await new Promise<number | null>((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      done(c);
    });
  });
  assert.ok(existsSync(outFile), `Neovim wrote no result (exit ${code}): ${stderr.slice(0, 500)}`);
  const out = JSON.parse(readFileSync(outFile, 'utf8'));
  assert.equal(out.error, undefined, `Neovim failed at "${out.steps.at(-1)}": ${out.error}`);
  assert.equal(code, 0);
  assert.equal(`${out.nvim.major}.${out.nvim.minor}`, '0.7', 'Debian 12 ships Neovim 0.7');
  assert.equal(out.filetype, 'python');

  assert.deepEqual(out.executeCommands, ['trove.downloadVersion', 'trove.logFolder']);
  // Settings honoured: the demo store and project (the default store does not exist, and the
  // folder's name would be the project otherwise), so only the unknown alias is flagged.
  assert.deepEqual(out.diagnostics.map((d: { line: number; message: string }) => [d.line, d.message]), [[1, '"mnist-raw" has no alias "nope". Did you mean "latest", "production"?']]);
  assert.match(out.hover, /^\*\*demo\/mnist-raw:v1\*\* · dataset · `latest` `production`/);
  assert.doesNotMatch(out.hover, /command:/);
  assert.ok(out.completion.includes('mnist-raw') && out.completion.includes('mnist-cnn'), `completion: ${out.completion}`);
  assert.deepEqual(out.lenses.map((l: { line: number; title: string; command: string }) => [l.line, l.title, l.command]), [[0, 'v1 · 3 files · 28 B — Download', 'trove.downloadVersion']]);

  // The lens ran on the server: the files are in the workspace, and the run is in the lineage.
  assert.ok(out.messages.includes('Trove: mnist-raw:v1 downloaded: 3 files in artifacts/mnist-raw-v1'), `messages: ${out.messages}`);
  assert.equal(readFileSync(join(ws, 'artifacts/mnist-raw-v1/train.csv'), 'utf8'), 'a,b\n1,2\n5,6\n');
  const registry = new LocalRegistry(store);
  try {
    const v1 = await registry.getVersion({ project: 'demo', name: 'mnist-raw', alias: 'v1' });
    const runs = await Promise.all(v1.usedBy.map((u) => registry.getRun(u.runId)));
    assert.ok(runs.some((r) => r.jobType === 'download'), 'the download is recorded as a run');
  } finally {
    await registry.close();
  }
  assert.equal(out.stopped, true, 'the server stopped when asked');
});

test('the stage installs Neovim when missing, tries twice, and fails with one line naming what it could not fetch', () => {
  // A machine without nvim whose apt-get cannot fetch the package (a fake apt-get; the real tools otherwise).
  const bin = join(root, 'bin-without-nvim');
  mkdirSync(bin);
  for (const tool of ['bash', 'grep', 'sed', 'sort', 'tr', 'mktemp', 'rm', 'sleep', 'cat']) {
    const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(found, join(bin, tool));
  }
  const calls = join(root, 'apt-calls');
  writeFileSync(join(bin, 'apt-get'), `#!/bin/bash\necho "$*" >> ${calls}\n[ "$1" = update ] && exit 0\necho "E: Failed to fetch http://deb.debian.org/debian/pool/main/n/neovim/neovim_0.7.2-7_amd64.deb  Connection failed [IP: 151.101.2.132 80]" >&2\nexit 100\n`);
  chmodSync(join(bin, 'apt-get'), 0o755);
  const r = spawnSync(join(bin, 'bash'), [join(REPO, 'test/lsp/neovim/install.sh')], { encoding: 'utf8', env: { PATH: bin, TROVE_INSTALL_RETRY_DELAY: '0' } });
  assert.equal(r.status, 1);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines, [
    "installing Debian's neovim package (attempt 1)",
    "installing Debian's neovim package (attempt 2)",
    'Neovim could not be installed: could not fetch http://deb.debian.org/debian/pool/main/n/neovim/neovim_0.7.2-7_amd64.deb',
  ]);
  assert.equal(readFileSync(calls, 'utf8').split('\n').filter((l) => l.startsWith('install')).length, 2, 'tried twice');
});

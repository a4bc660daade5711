/** The `trove` launcher the extension puts on PATH in integrated terminals (src/extension/terminalCli.ts). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { terminalCliScript, terminalVariables, writeTerminalCli } from '../../src/extension/terminalCli';
import { ensureBuilt, tempDir } from '../helpers';
import { DEFAULT_PROTECTED_ALIASES, protectedAliasesFromEnv } from '../../src/core/versionRules';

const ROOT = join(__dirname, '..', '..');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

describe('terminal launcher', () => {
  let t: ReturnType<typeof tempDir>;
  before(() => {
    t = tempDir('trove-launcher-');
    ensureBuilt();
  });
  after(() => t.cleanup());

  test('runs the bundled CLI with no node on PATH, from a folder whose name needs quoting', { skip: process.platform === 'win32' }, async () => {
    const bin = join(t.dir, "it's global storage", 'bin');
    const launcher = await writeTerminalCli(bin, { execPath: process.execPath, cliPath: join(ROOT, 'dist', 'cli.js'), version: VERSION });
    assert.equal(launcher, join(bin, 'trove'));
    assert.equal(statSync(launcher).mode & 0o777, 0o755);
    // PATH holds the launcher's folder only: /bin/sh runs it, the editor's Node (an absolute path) runs the CLI.
    const env = { PATH: bin, HOME: t.dir, TROVE_STORE: join(t.dir, 'store') };
    const version = spawnSync('trove', ['--version'], { env, encoding: 'utf8' });
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout, `trove ${VERSION}\n`);
    mkdirSync(join(t.dir, 'data'));
    const logged = spawnSync('trove', ['log', join(t.dir, 'data'), '--name', "odd name's", '--type', 'dataset'], { env, encoding: 'utf8' });
    assert.equal(logged.status, 1, 'the argument with a quote reaches the CLI intact');
    assert.match(logged.stderr, /odd name's/);
  });

  test('ELECTRON_RUN_AS_NODE is not passed on to the commands `trove run` starts', { skip: process.platform === 'win32' }, async () => {
    const bin = join(t.dir, 'bin2');
    await writeTerminalCli(bin, { execPath: process.execPath, cliPath: join(ROOT, 'dist', 'cli.js'), version: VERSION });
    const env = { PATH: `${bin}:/usr/bin:/bin`, HOME: t.dir, TROVE_STORE: join(t.dir, 'store'), TROVE_PROJECT: 'p' };
    const r = spawnSync('trove', ['run', '--job-type', 'check', '--', 'sh', '-c', 'echo "child sees ${ELECTRON_RUN_AS_NODE:-nothing}"'], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'child sees nothing\n');
  });

  test('Windows gets a .cmd with the same command', () => {
    const { file, text } = terminalCliScript({ execPath: 'C:\\Code\\Code.exe', cliPath: 'C:\\ext\\dist\\cli.js', version: '1.2.3', platform: 'win32' });
    assert.equal(file, 'trove.cmd');
    assert.match(text, /^set ELECTRON_RUN_AS_NODE=1\r$/m);
    assert.match(text, /^"C:\\Code\\Code\.exe" "C:\\ext\\dist\\cli\.js" %\*\r$/m);
  });

  test('terminals get the store, project and server of the settings, never a token', () => {
    assert.deepEqual(terminalVariables({ store: '/data/store', project: 'mnist' }), { TROVE_SERVER: '', TROVE_STORE: '/data/store', TROVE_PROJECT: 'mnist', TROVE_PROTECTED_ALIASES: undefined });
    assert.deepEqual(terminalVariables({ server: 'http://127.0.0.1:8470', store: '/data/store' }), { TROVE_SERVER: 'http://127.0.0.1:8470', TROVE_STORE: undefined, TROVE_PROJECT: undefined, TROVE_PROTECTED_ALIASES: undefined });
    // trove.protectedAliases reaches `trove rm` in a terminal; an empty list protects nothing, unset leaves the CLI's default.
    assert.equal(terminalVariables({ protectedAliases: ['production', 'gold'] }).TROVE_PROTECTED_ALIASES, 'production,gold');
    assert.equal(terminalVariables({ protectedAliases: [] }).TROVE_PROTECTED_ALIASES, '');
    assert.equal(terminalVariables({ protectedAliases: null }).TROVE_PROTECTED_ALIASES, undefined);
    // ... and the CLI reads them back as the same lists.
    for (const list of [['production', 'gold'], [], null]) {
      assert.deepEqual(protectedAliasesFromEnv({ TROVE_PROTECTED_ALIASES: terminalVariables({ protectedAliases: list }).TROVE_PROTECTED_ALIASES }), list ?? [...DEFAULT_PROTECTED_ALIASES]);
    }
    assert.ok(!Object.keys(terminalVariables({ server: 'http://x' })).some((k) => /TOKEN/.test(k)));
  });
});

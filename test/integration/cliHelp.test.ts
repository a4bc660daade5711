/** `trove --help`, `trove --version` and `trove <command> --help`, as a user runs them (the built bundle). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { COMMAND_HELP } from '../../src/cli/help';
import { COMMAND_NAMES } from '../../src/cli/main';
import { ensureBuilt } from '../helpers';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const trove = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, TROVE_STORE: '/nonexistent/store' } });

describe('trove help and version', () => {
  before(() => {
    ensureBuilt();
  });

  test('every command the CLI dispatches has help with an example, and nothing else has', () => {
    assert.deepEqual([...COMMAND_NAMES].sort(), Object.keys(COMMAND_HELP).sort());
    for (const [name, h] of Object.entries(COMMAND_HELP)) {
      assert.ok(h.examples.length > 0, name);
      for (const e of h.examples) assert.match(e, new RegExp(`^trove ${name}( |$)`), name);
    }
  });

  test('trove --version prints the version in package.json', () => {
    const r = trove('--version');
    assert.equal(r.status, 0);
    assert.equal(r.stdout, `trove ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`);
  });

  test('trove --help lists every command; no command prints usage and exits 2', () => {
    const r = trove('--help');
    assert.equal(r.status, 0);
    for (const name of COMMAND_NAMES) assert.match(r.stdout, new RegExp(`^  ${name} `, 'm'), name);
    const bare = trove();
    assert.equal(bare.status, 2);
    assert.equal(bare.stdout, r.stdout);
  });

  test('trove <command> --help and trove help <command> show the command with its examples, and touch no store', () => {
    for (const name of COMMAND_NAMES) {
      const r = trove(name, '--help');
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, new RegExp(`^Usage: trove ${name} `), name);
      assert.match(r.stdout, /^Examples?:$/m, name);
      for (const e of COMMAND_HELP[name].examples) assert.ok(r.stdout.includes(`  ${e}\n`), `${name}: ${e}`);
      assert.equal(trove('help', name).stdout, r.stdout);
    }
  });

  test('an unknown option names the command help; an unknown help topic is a usage error', () => {
    const r = trove('log', '--bogus');
    assert.equal(r.status, 2);
    assert.equal(r.stderr, "trove: Unknown option '--bogus'. Run `trove log --help`.\n");
    const topic = trove('help', 'nope');
    assert.equal(topic.status, 2);
    assert.match(topic.stderr, /^trove: Unknown command "nope"; run `trove --help` for the list\.\n$/);
  });
});

/**
 * How the suite scores its stages (issue 11, item 22): a stage passes only when its runner exits 0
 * and ran at least one test; a failing after() hook is a failure; skipped and todo tests are
 * counted and shown in the final line. Runs the real scripts (test/run-all.sh,
 * test/stages/lib/node-tests.sh) on throw-away stages and on the test files in
 * test/fixtures/stage-scoring/, and the mocha runners' scoring (test/e2e/score.mjs).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

const root = path.resolve(__dirname, '../..');
const fixtures = path.join(root, 'test/fixtures/stage-scoring');

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  // Without NODE_TEST_CONTEXT, which would make the inner `node --test` refuse to run files.
  const { NODE_TEST_CONTEXT: _, ...outer } = process.env;
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...outer, TROVE_STAGES: '', ...env } });
  return { code: r.status, out: r.stdout + r.stderr, lines: (r.stdout + r.stderr).trim().split('\n') };
}

/** test/run-all.sh over a folder holding the given stage scripts. */
function runAll(stages: Record<string, string>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trove-stages-'));
  try {
    for (const [name, body] of Object.entries(stages)) fs.writeFileSync(path.join(dir, name), `#!/usr/bin/env bash\n${body}\n`);
    return run('bash', ['test/run-all.sh'], { TROVE_STAGE_DIR: dir });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('test/run-all.sh scoring', () => {
  test('a stage that exits non-zero after reporting only passes counts as a failure', () => {
    const r = runAll({ '10-a.sh': 'echo "RESULT 3 0"; exit 1' });
    assert.equal(r.lines.at(-1), '3 passed, 1 failed, 0 skipped');
    assert.equal(r.code, 1);
  });

  test('a stage that ran no test counts as a failure', () => {
    const r = runAll({ '10-a.sh': 'echo "RESULT 2 0 (fine)"', '20-empty.sh': 'echo "RESULT 0 0 (nothing)"' });
    assert.equal(r.lines.at(-1), '2 passed, 1 failed, 0 skipped');
    assert.match(r.out, /stage 20-empty\.sh ran no test/);
    assert.equal(r.code, 1);
  });

  test('skipped tests are summed and printed in the final line; a stage that is not a test may say so', () => {
    const r = runAll({
      '10-a.sh': 'echo "RESULT 2 0 1 (with one skipped)"; echo "RESULT 1 0 (typecheck)"',
      '40-bench.sh': 'echo "NOT-A-TEST (figures only)"',
    });
    assert.equal(r.lines.at(-1), '3 passed, 0 failed, 1 skipped');
    assert.equal(r.code, 0);
  });
});

describe('test/stages/lib/node-tests.sh scoring', () => {
  const nodeTests = (...files: string[]) => run('bash', ['test/stages/lib/node-tests.sh', 'fixture', ...files.map((f) => path.join(fixtures, f))]);

  test('a failing after() hook is a failure although node counts none', () => {
    const r = nodeTests('after-hook-fails.test.ts');
    assert.match(r.out, /^ℹ fail 0$/m, 'the premise: node itself counts no failure here');
    assert.equal(r.lines.at(-1), 'RESULT 1 1 0 (fixture)');
    assert.equal(r.code, 1);
  });

  test('a test file that registers no test is a failure', () => {
    const r = nodeTests('no-test.test.ts', 'skips.test.ts');
    assert.match(r.out, /registers no test: .*no-test\.test\.ts/);
    assert.equal(r.lines.at(-1), 'RESULT 1 1 2 (fixture)');
    assert.equal(r.code, 1);
  });

  test('skipped and todo tests are counted as skipped, not passed', () => {
    const r = nodeTests('skips.test.ts');
    assert.equal(r.lines.at(-1), 'RESULT 1 0 2 (fixture)');
    assert.equal(r.code, 0);
  });
});

describe('extension-host mocha scoring (test/e2e/score.mjs)', () => {
  test('no test, a silent suite, or a non-zero exit without a counted failure fail the run', async () => {
    const { parseResultLine, score } = await import(pathToFileURL(path.join(root, 'test/e2e/score.mjs')).href);
    assert.deepEqual(parseResultLine('TROVE_EXTHOST_RESULT 4 0 2'), { passed: 4, failed: 0, skipped: 2 });
    assert.equal(parseResultLine('some other line'), undefined);
    assert.deepEqual(score({ passed: 4, failed: 0, skipped: 2 }, 0), { passed: 4, failed: 0, skipped: 2, notes: [] });
    assert.equal(score({ passed: 0, failed: 0, skipped: 0 }, 0).failed, 1);
    assert.equal(score({ passed: 0, failed: 0, skipped: 3 }, 0).failed, 1);
    assert.equal(score(undefined, 'timeout').failed, 1);
    assert.equal(score({ passed: 5, failed: 0, skipped: 0 }, 1).failed, 1);
    assert.equal(score({ passed: 5, failed: 2, skipped: 0 }, 1).failed, 2);
  });
});

/** fetch_step (test/stages/lib/fetch-step.sh): network steps retry once, then fail with one line naming what was not fetched. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '../helpers';

const LIB = join(__dirname, '..', 'stages', 'lib', 'fetch-step.sh');

describe('fetch_step', () => {
  const t = tempDir('trove-fetch-step-');
  after(() => t.cleanup());
  const step = (what: string, command: string) =>
    spawnSync('bash', ['-c', `. ${LIB}; fetch_step "${what}" bash -c '${command}'`], { encoding: 'utf8', env: { ...process.env, TROVE_FETCH_RETRY_DELAY: '0', TMPDIR: t.dir } });

  test('a step that keeps failing is tried twice, then one line names what could not be fetched', () => {
    const calls = join(t.dir, 'calls-apt');
    const r = step('the Debian packages restic', `echo try >> ${calls}; echo "Reading package lists..."; echo "E: Failed to fetch http://deb.debian.org/debian/pool/main/r/restic/restic_0.14.0-1_amd64.deb  Connection failed [IP: 151.101.2.132 80]" >&2; exit 100`);
    assert.equal(r.status, 1);
    assert.equal(readFileSync(calls, 'utf8'), 'try\ntry\n');
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, r.stdout);
    assert.match(lines[0], /^could not fetch the Debian packages restic \(Failed to fetch http:\/\/deb\.debian\.org\/debian\/pool\/main\/r\/restic\/restic_0\.14\.0-1_amd64\.deb\); log: \S+$/);
    assert.ok(existsSync(lines[0].replace(/^.*; log: /, '')), 'the full output is kept');
  });

  test("npm's error line is the reason given", () => {
    const r = step('the npm packages of package-lock.json (npm ci)', 'echo "npm error code ECONNRESET" >&2; echo "npm error network aborted" >&2; exit 1');
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^could not fetch the npm packages of package-lock\.json \(npm ci\) \(npm error code ECONNRESET\); log: /);
  });

  test('a step that fails once and then succeeds passes quietly', () => {
    const marker = join(t.dir, 'once');
    const r = step('something', `if [ -e ${marker} ]; then echo fetched; exit 0; fi; touch ${marker}; exit 1`);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, '');
  });
});

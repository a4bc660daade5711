/**
 * Stress: logs SIGKILLed at random moments while `trove gc` runs beside them without pause.
 * Sized for 2 cores: two logs at a time, one gc loop. Content repeats every few rounds, so logs
 * keep finding blobs that killed logs left unused (which gc is free to remove meanwhile).
 * Nothing may be lost: every version that exists verifies, and every log that said "created"
 * has its version with its digest.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseRef } from '../../src/core/names';
import { LocalRegistry } from '../../src/store/localRegistry';
import { ensureBuilt, tempDir, writeTree } from '../helpers';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const KILLS = 100;
const MAX_ROUNDS = 150; // two logs per round
const VARIANTS = 5;

let t: ReturnType<typeof tempDir>;
before(() => {
  t = tempDir('trove-kill-');
  ensureBuilt();
});
after(() => t.cleanup());

function run(args: string[], killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, TROVE_RUN_ID: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

test(`${KILLS} logs killed at random moments with gc running beside them: no version lost or damaged`, { timeout: 900_000 }, async () => {
  const store = join(t.dir, 'store');
  const folders = [0, 1].map((k) => join(t.dir, `data-${k}`));
  const fill = (folder: string, variant: number, round: number) => {
    const files: Record<string, string | Buffer> = {};
    for (let i = 0; i < 24; i++) files[`part-${i % 4}/f${i}.txt`] = `variant ${variant} file ${i} `.repeat(40 + i);
    // A large file (a loose blob) that repeats with the variant, and one small file unique to the round.
    files['weights.bin'] = Buffer.alloc((1 << 20) + 4096 * (variant + 1), variant + 1);
    files['round.txt'] = `round ${round}`;
    writeTree(folder, files);
  };
  let stop = false;
  let gcRuns = 0;
  const gcFailures: string[] = [];
  const gcLoop = (async () => {
    while (!stop) {
      const r = await run(['--store', store, 'gc', '--min-age', '1', '--json']);
      if (r.code !== 0 && !/does not exist|no such/i.test(r.stderr)) gcFailures.push(r.stderr.trim());
      gcRuns++;
    }
  })();
  const created: { version: number; digest: string }[] = [];
  // Kill moments spread over a whole log as long as it takes on this machine now (startup, scan, store, commit).
  fill(folders[0], VARIANTS, -1);
  const t0 = Date.now();
  const warm = await run(['--store', store, '--project', 'kl', 'log', folders[0], '--name', 'data', '--type', 'dataset', '--json']);
  assert.equal(warm.code, 0, warm.stderr);
  created.push(JSON.parse(warm.stdout));
  // Follows how long logs take now (the machine's load changes): each finished log updates it.
  let span = Math.max(200, Date.now() - t0);
  let killed = 0;
  const otherFailures: string[] = [];
  try {
    for (let round = 0; killed < KILLS && round < MAX_ROUNDS; round++) {
      const results = await Promise.all(folders.map((folder, k) => {
        fill(folder, (round + k) % VARIANTS, round * 2 + k);
        // Every sixth log is left to finish; the others are killed somewhere in their work.
        const kill = (round * 2 + k) % 6 === 5 ? undefined : Math.round(span * (0.2 + ((round * 97 + k * 131) % 100) / 135));
        return run(['--store', store, '--project', 'kl', 'log', folder, '--name', 'data', '--type', 'dataset', '--json'], kill);
      }));
      for (const r of results) {
        if (r.signal === 'SIGKILL') killed++;
        else if (r.code === 0) {
          created.push(JSON.parse(r.stdout));
          span = Math.max(150, Math.round(0.6 * span + 0.4 * r.ms));
        }
        else otherFailures.push(r.stderr.trim());
      }
    }
  } finally {
    stop = true;
    await gcLoop;
  }
  assert.deepEqual(gcFailures, [], 'gc never failed');
  assert.deepEqual(otherFailures, [], 'no log failed other than by the kill');
  assert.ok(killed >= KILLS, `at least ${KILLS} logs were killed (${killed})`);
  assert.ok(gcRuns >= 10, `gc ran beside the logs (${gcRuns} times)`);
  assert.ok(created.length >= 10, `logs that were not killed finished (${created.length})`);

  const check = async (when: string) => {
    const reg = new LocalRegistry(store);
    try {
      const versions = await reg.listVersions('kl', 'data');
      for (const c of created) {
        assert.equal(versions.find((v) => v.version === c.version)?.digest, c.digest, `${when}: the version a finished log reported (v${c.version}) exists`);
      }
      let checked = 0;
      for (const v of versions) {
        const detail = await reg.getVersion(parseRef(`kl/data:v${v.version}`));
        for (const [path, e] of Object.entries(detail.manifest)) {
          assert.ok(await reg.verifyBlob(e.digest), `${when}: ${path} of v${v.version} is stored and intact`);
          checked++;
        }
      }
      return { versions: versions.length, checked };
    } finally {
      await reg.close();
    }
  };
  const first = await check('after the loop');
  // Everything unused goes now; every version keeps its content.
  const gc = await run(['--store', store, 'gc', '--min-age', '0', '--json']);
  assert.equal(gc.code, 0, gc.stderr);
  const second = await check('after a final gc');
  assert.equal(second.versions, first.versions);
  assert.ok(first.versions >= created.length);
  // Killed logs leave nothing for ever: gc took their temporary files and unused blobs.
  const tmpLeft = readdirSync(join(store, 'tmp'));
  assert.deepEqual(tmpLeft, [], 'no temporary file survives gc');
  // No run stays "running" once its process is gone: gc marked the killed ones failed, and
  // removed run folders that a kill left without run.json.
  const runs = readdirSync(join(store, 'runs'));
  const stuck = runs.filter((id) => {
    const file = join(store, 'runs', id, 'run.json');
    return !existsSync(file) || (JSON.parse(readFileSync(file, 'utf8')) as { status: string }).status === 'running';
  });
  assert.deepEqual(stuck, [], `no run left running or without run.json (of ${runs.length})`);
  console.log(JSON.stringify({ killed, created: created.length, gcRuns, ...first }));
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { withCommitGate, withGcGate, withLock } from '../../src/store/lock';
import { tempDir } from '../helpers';

test('the lock serialises holders and is released after an error', async () => {
  const t = tempDir();
  try {
    const lock = join(t.dir, '.lock');
    const order: string[] = [];
    await Promise.all([1, 2, 3].map((i) => withLock(lock, async () => {
      order.push(`in${i}`);
      await new Promise((r) => setTimeout(r, 20));
      order.push(`out${i}`);
    })));
    for (let i = 0; i < order.length; i += 2) assert.equal(order[i].slice(2), order[i + 1].slice(3), `no overlap: ${order}`);
    await assert.rejects(withLock(lock, async () => { throw new Error('boom'); }), /boom/);
    assert.equal(existsSync(lock), false);
  } finally {
    await t.cleanup();
  }
});

test('a lock left by a dead process is taken over; a live holder is waited for until the timeout', async () => {
  const t = tempDir();
  try {
    const lock = join(t.dir, '.lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(lock, `${dead}@${hostname()}`);
    assert.equal(await withLock(lock, async () => 'taken over'), 'taken over');
    writeFileSync(lock, `${process.pid}@${hostname()}`);
    await assert.rejects(withLock(lock, async () => 'never', 200), /locked by process/);
  } finally {
    await t.cleanup();
  }
});

test('an empty lock (a writer killed before filling it) is waited for while fresh and taken over once old', async () => {
  const t = tempDir();
  try {
    const lock = join(t.dir, '.lock');
    writeFileSync(lock, '');
    await assert.rejects(withLock(lock, async () => 'never', 200), /locked by process unknown/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    assert.equal(await withLock(lock, async () => readFileSync(lock, 'utf8')), `${process.pid}@${hostname()}`, 'the new holder is named in the lock');
    assert.equal(existsSync(lock), false);
    assert.deepEqual(readdirSync(t.dir), [], 'no private file or moved lock is left behind');
  } finally {
    await t.cleanup();
  }
});

test('commits and gc exclude each other through the gate; commits run side by side; a killed committer does not block gc', async () => {
  const t = tempDir();
  try {
    const gate = join(t.dir, 'locks');
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let commits = 0;
    let maxCommits = 0;
    let gcInside = false;
    const overlaps: string[] = [];
    const commit = async (wait: number) => {
      await sleep(wait);
      await withCommitGate(gate, async () => {
        if (gcInside) overlaps.push('commit entered during gc');
        maxCommits = Math.max(maxCommits, ++commits);
        await sleep(15);
        if (gcInside) overlaps.push('gc entered during a commit');
        commits--;
      });
    };
    const gc = async (wait: number) => {
      await sleep(wait);
      await withGcGate(gate, async () => {
        if (commits) overlaps.push('gc entered while a commit ran');
        gcInside = true;
        await sleep(40);
        gcInside = false;
      });
    };
    // Pairs of commits start every 25 ms over 300 ms; three gcs start among them.
    await Promise.all([...Array.from({ length: 24 }, (_, i) => commit((i >> 1) * 25 + (i & 1))), gc(3), gc(100), gc(200)]);
    assert.deepEqual(overlaps, []);
    assert.ok(maxCommits >= 2, 'commits do not wait for each other');
    // The marker of a committer that was killed: gc removes it instead of waiting for it.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(join(gate, 'commits', `${dead}-dead`), `${dead}@${hostname()}`);
    assert.equal(await withGcGate(gate, async () => 'ran'), 'ran');
    assert.equal(existsSync(join(gate, 'commits', `${dead}-dead`)), false);
  } finally {
    await t.cleanup();
  }
});

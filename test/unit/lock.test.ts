import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { withLock } from '../../src/store/lock';
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

/** copyAndHash: the one-pass copy the embedded store uses for large files. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { copyAndHash } from '../../src/store/directCopy';
import { tempDir } from '../helpers';

const TMPFS_MAGIC = 0x01021994;

describe('copyAndHash', () => {
  let t: ReturnType<typeof tempDir>;
  before(() => (t = tempDir()));
  after(() => t.cleanup());

  // Sizes around the 4 KiB block and the 8 MiB buffer: a padded tail must be cut back exactly.
  for (const size of [0, 1, 4095, 4096, 4097, (8 << 20) - 1, (8 << 20) + 4096, (24 << 20) + 123]) {
    test(`copies ${size} bytes exactly and returns their SHA-256`, async () => {
      const data = randomBytes(size);
      const src = join(t.dir, `src-${size}`);
      const dest = join(t.dir, `dest-${size}`);
      writeFileSync(src, data);
      let reported = 0;
      const got = await copyAndHash(src, dest, { onBytes: (n) => (reported += n) });
      assert.equal(got.size, size);
      assert.equal(got.digest, createHash('sha256').update(data).digest('hex'));
      assert.ok(readFileSync(dest).equals(data));
      assert.equal(reported, size);
    });
  }

  test('writes past the page cache on a disk filesystem, and buffered when asked', async () => {
    const data = randomBytes((3 << 20) + 17);
    const src = join(t.dir, 'mode-src');
    writeFileSync(src, data);
    const direct = await copyAndHash(src, join(t.dir, 'mode-direct'));
    // The test folder is on the machine's disk (ext4 here); O_DIRECT is what makes large logs
    // fast on it. (tmpfs before Linux 6.6 had no O_DIRECT: the copy is buffered there.)
    if (statfsSync(t.dir).type !== TMPFS_MAGIC) assert.equal(direct.direct, true);
    const buffered = await copyAndHash(src, join(t.dir, 'mode-buffered'), { direct: false });
    assert.equal(buffered.direct, false);
    assert.equal(buffered.digest, direct.digest);
    assert.ok(readFileSync(join(t.dir, 'mode-buffered')).equals(data));
    assert.ok(readFileSync(join(t.dir, 'mode-direct')).equals(data));
  });

  test('never overwrites an existing file, and stops when cancelled', async () => {
    const src = join(t.dir, 'guard-src');
    writeFileSync(src, randomBytes(40 << 20));
    const existing = join(t.dir, 'guard-existing');
    writeFileSync(existing, 'keep me');
    await assert.rejects(copyAndHash(src, existing), { code: 'EEXIST' });
    assert.equal(readFileSync(existing, 'utf8'), 'keep me');
    const controller = new AbortController();
    let copied = 0;
    const cancelled = copyAndHash(src, join(t.dir, 'guard-cancelled'), {
      signal: controller.signal,
      onBytes: (n) => {
        copied += n;
        controller.abort(); // cancelled after the first buffer of five
      },
    });
    await assert.rejects(cancelled, /Cancelled/);
    assert.ok(copied < 40 << 20, `copied ${copied} bytes after cancelling`);
    assert.equal(existsSync(join(t.dir, 'guard-cancelled')), false, 'a cancelled copy leaves nothing behind');
  });

  test('a source that grows after a read reached its end is copied as it was then', async () => {
    for (let round = 0; round < 10; round++) {
      const first = randomBytes((8 << 20) + 1000);
      const src = join(t.dir, `growing-${round}`);
      writeFileSync(src, first);
      const dest = join(t.dir, `growing-copy-${round}`);
      // The short last read has returned when its bytes are reported: the file grows only then.
      const got = await copyAndHash(src, dest, { onBytes: (n) => n === 1000 && appendFileSync(src, randomBytes(5000)) });
      assert.equal(got.size, first.length);
      assert.ok(readFileSync(dest).equals(first));
      assert.equal(got.digest, createHash('sha256').update(first).digest('hex'));
    }
  });
});

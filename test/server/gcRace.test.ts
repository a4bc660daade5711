/**
 * gc against a commit on PostgreSQL + S3 (issue 11 item 1), at the worst moment: after the
 * server checked the commit's blobs in the ledger and before the commit's transaction. The test
 * plays gc itself on the database: it takes gc's advisory lock, waits until the commit waits for
 * it, removes the blobs' ledger rows as gc does, and lets go. The commit must look again inside
 * its transaction and the log store the blobs again: every blob of the version stays readable.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { HttpRegistry } from '../../src/client/httpRegistry';
import { parseRef } from '../../src/core/names';
import { downloadVersion, logArtifact } from '../../src/core/operations';
import { scanFolder } from '../../src/core/scan';
import { GC_LOCK } from '../../src/server/pgStore';
import { writeTree } from '../helpers';
import { scaleOutArgs, startServe, tempDir, type ServeProcess } from './harness';

let server: ServeProcess;
let database: string;
let registry: HttpRegistry;
before(async () => {
  const scaleOut = await scaleOutArgs('gcrace');
  database = scaleOut.database;
  server = await startServe(scaleOut.args);
  registry = new HttpRegistry({ url: server.url });
});
after(async () => {
  await registry?.close();
  await server?.stop();
});

test('gc between the server\'s blob check and the commit transaction leaves no version without its content', async () => {
  const work = tempDir('trove-gcrace-');
  const folder = writeTree(join(work, 'data'), { 'small.txt': `small ${randomBytes(8).toString('hex')}`, 'big.bin': randomBytes((1 << 20) + 4096) });
  // A failed log: the blobs are stored and in the ledger, and no version uses them.
  const files = await scanFolder(folder);
  const stored = await registry.storeFiles(files);
  const digests = stored.map((s) => s.digest);
  const gc = new pg.Client({ connectionString: database });
  await gc.connect();
  try {
    await gc.query('select pg_advisory_lock($1)', [GC_LOCK]);
    const logged = logArtifact(registry, { project: 'race', name: 'd', type: 'dataset', content: { dirs: [{ absPath: folder }], files: [], references: [] }, cacheDir: join(work, 'cache') });
    // Wait until the commit waits for gc's lock (a fixed commit does; one that does not take it has committed meanwhile).
    const until = Date.now() + 15_000;
    let waiting = 0;
    while (Date.now() < until && !waiting) {
      waiting = Number((await gc.query("select count(*) as n from pg_locks where locktype = 'advisory' and not granted")).rows[0].n);
      if (!waiting) await new Promise((r) => setTimeout(r, 50));
    }
    // What gc does to unused blobs while it holds the lock: they leave the ledger (and the bucket).
    await gc.query('delete from blobs where digest = any($1::text[])', [digests]);
    await gc.query('select pg_advisory_unlock($1)', [GC_LOCK]);
    const r = await logged;
    assert.equal(r.created, true);
    assert.ok(waiting > 0, 'the commit waited for gc');
  } finally {
    await gc.end();
  }
  const v = await registry.getVersion(parseRef('race/d:v0'));
  for (const [path, e] of Object.entries(v.manifest)) assert.equal(await registry.verifyBlob(e.digest), true, `${path} is stored`);
  await downloadVersion(registry, v, { root: join(work, 'out') });
});

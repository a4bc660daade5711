/** The TypeScript SDK with W&B's shape, on a real embedded store. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { Artifact, deleteArtifact, init, restoreVersion, undoDelete } from '../../src/sdk';
import { LocalRegistry } from '../../src/store/localRegistry';
import { parseRef } from '../../src/core/names';
import { tempDir, writeTree } from '../helpers';

let t: ReturnType<typeof tempDir>;
before(() => {
  t = tempDir('trove-sdk-');
  delete process.env.TROVE_RUN_ID;
});
after(() => t.cleanup());

test('init / Artifact / logArtifact / useArtifact().download() / finish', async () => {
  const store = join(t.dir, 'store');
  const data = writeTree(join(t.dir, 'data'), { 'train/a.csv': '1,2', 'test/b.csv': '3,4', 'README.md': '# data', 'ext.bin': 'external' });

  const ingest = await init({ project: 'sdk', jobType: 'ingest', store, cwd: t.dir });
  const raw = new Artifact('raw', 'dataset', { description: 'raw csvs', metadata: { source: 'unit-test' } });
  raw.addDir(join(data, 'train'), 'train').addDir(join(data, 'test'), 'test').addFile(join(data, 'README.md'));
  raw.addReference(pathToFileURL(join(data, 'ext.bin')).toString());
  const logged = await ingest.logArtifact(raw, { aliases: ['v-first', 'golden'] });
  assert.equal(logged.ref, 'sdk/raw:v0');
  assert.equal(logged.files, 4);
  await ingest.finish();

  const train = await init({ project: 'sdk', jobType: 'train', name: 'train-run', store, cwd: t.dir });
  const used = await train.useArtifact('raw:golden');
  assert.equal(used.ref, 'sdk/raw:v0');
  const out = await used.download({ root: join(t.dir, 'dl'), pathPrefix: 'train/' });
  assert.equal(out.files, 1);
  assert.equal(readFileSync(join(t.dir, 'dl', 'train', 'a.csv'), 'utf8'), '1,2');
  const all = await used.download({ root: join(t.dir, 'dl-all') });
  assert.equal(readFileSync(join(t.dir, 'dl-all', 'ext.bin'), 'utf8'), 'external');
  assert.equal(all.files, 4);
  const model = new Artifact('net', 'model');
  model.addFile(join(data, 'README.md'), 'weights.txt');
  await train.logArtifact(model);
  await train.finish();

  const reg = new LocalRegistry(store);
  const run = await reg.getRun(train.id);
  assert.equal(run.status, 'finished');
  assert.equal(run.name, 'train-run');
  const rawV = await reg.getVersion(parseRef('sdk/raw'));
  assert.deepEqual(rawV.aliases.sort(), ['golden', 'latest', 'v-first']);
  assert.deepEqual(rawV.usedBy, [{ runId: train.id, jobType: 'train' }]);
  assert.deepEqual(rawV.metadata, { source: 'unit-test' });
  const graph = await reg.lineage(parseRef('sdk/net'), 3);
  assert.ok(graph.edges.some((e) => e.from === 'version:sdk/raw:v0' && e.to === `run:${train.id}`));
  assert.ok(graph.edges.some((e) => e.from === `run:${ingest.id}` && e.to === 'version:sdk/raw:v0'));
});

test('inside `trove run` (TROVE_RUN_ID) init attaches to that run and leaves finishing to it', async () => {
  const store = join(t.dir, 'store2');
  const reg = new LocalRegistry(store);
  const outer = await reg.createRun({ project: 'sdk', jobType: 'pipeline' });
  process.env.TROVE_RUN_ID = outer.id;
  try {
    const run = await init({ project: 'ignored', jobType: 'ignored', store });
    assert.equal(run.id, outer.id);
    const a = new Artifact('x', 'dataset');
    a.addFile(join(t.dir, 'data', 'README.md'));
    await run.logArtifact(a);
    await run.finish();
    assert.equal((await reg.getRun(outer.id)).status, 'running');
    assert.deepEqual((await reg.getVersion(parseRef('sdk/x'))).createdBy, { runId: outer.id, jobType: 'pipeline' });
  } finally {
    delete process.env.TROVE_RUN_ID;
  }
});

test('SDK errors are clear sentences', async () => {
  assert.throws(() => new Artifact('bad name', 'dataset'), /Invalid artifact name/);
  assert.throws(() => new Artifact('ok', 'two words'), /Invalid artifact type/);
  const run = await init({ project: 'sdk', jobType: 'x', store: join(t.dir, 'store3') });
  const empty = new Artifact('empty', 'dataset');
  await assert.rejects(run.logArtifact(empty), /nothing to log/);
  const dup = new Artifact('dup', 'dataset').addFile(join(t.dir, 'data', 'README.md')).addFile(join(t.dir, 'data', 'train', 'a.csv'), 'README.md');
  await assert.rejects(run.logArtifact(dup), /would have the path "README.md"/);
  await assert.rejects(run.useArtifact('nothing-here'), /does not exist/);
  await run.finish('failed');
});

test('deleteArtifact deletes a version or a whole artifact, refuses a protected alias, and restoreVersion / undoDelete undo it', async () => {
  const store = join(t.dir, 'store4');
  const run = await init({ project: 'sdk', jobType: 'x', store });
  const data = writeTree(join(t.dir, 'del'), { 'a.txt': 'A' });
  await run.logArtifact(new Artifact('m', 'model').addFile(join(data, 'a.txt')), { aliases: ['production'] });
  writeTree(data, { 'a.txt': 'B' });
  await run.logArtifact(new Artifact('m', 'model').addFile(join(data, 'a.txt')));
  await run.finish();
  const reg = new LocalRegistry(store);
  await assert.rejects(deleteArtifact('sdk/m:v0', { store }), /protected alias "production"/);
  await assert.rejects(deleteArtifact('sdk/m', { store }), /protected alias "production"/);
  const gone = await deleteArtifact('sdk/m:v1', { store });
  assert.deepEqual(gone, { project: 'sdk', name: 'm', deleted: [{ version: 1, aliases: ['latest'] }], latest: 0 });
  assert.deepEqual(await restoreVersion('sdk/m:v1', { store }), { project: 'sdk', name: 'm', version: 1, aliases: ['latest'] });
  const all = await deleteArtifact('sdk/m', { store, protectedAliases: [] });
  assert.deepEqual(all.deleted.map((d) => d.version), [0, 1]);
  await assert.rejects(reg.listVersions('sdk', 'm'), /was deleted/);
  await undoDelete(all, { store });
  assert.deepEqual((await reg.listVersions('sdk', 'm')).map((v) => [v.version, v.aliases]), [[1, ['latest']], [0, ['production']]]);
  await assert.rejects(restoreVersion('sdk/m:latest', { store }), /by its number/);
  await reg.close();
});

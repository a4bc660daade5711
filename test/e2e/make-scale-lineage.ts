/**
 * Adds large lineages to a store, written through the Registry API (the CLI would take minutes):
 *  - project "scale": around scale/source:v0, 501 nodes: the source dataset, 250 runs that use
 *    it and 250 models they produce (one each, so nothing folds);
 *  - with --sweeps, instead, project "sweeps": around sweeps/grid:v0, 5,052 nodes: the dataset, its
 *    ingest run, 50 sweep runs that use it, and 100 checkpoint versions from each (each run's 100
 *    fold into a cluster). About 30 s on tmpfs, minutes on a slow disk.
 * Usage: node --import tsx test/e2e/make-scale-lineage.ts <store> [--sweeps]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRegistry } from '../../src/store/localRegistry';

const RUNS = 250;
const SWEEPS = 50;
const CHECKPOINTS = 100;
const store = process.argv[2];
if (!store) throw new Error('usage: make-scale-lineage.ts <store> [--sweeps]');
const withSweeps = process.argv.includes('--sweeps');
const registry = new LocalRegistry(store);
const dir = mkdtempSync(join(tmpdir(), 'trove-scale-'));
let files = 0;

async function commit(project: string, name: string, type: string, text: string, runId: string) {
  const p = join(dir, `f${files++}`);
  writeFileSync(p, text);
  const [stored] = await registry.storeFiles([{ path: `${name}.txt`, absPath: p, size: Buffer.byteLength(text) }]);
  return registry.commitVersion({ project, name, type, manifest: { [stored.path]: { digest: stored.digest, size: stored.size } }, aliases: [], runId });
}

/** Runs `count` jobs, `width` at a time (different artifacts: their locks do not meet). */
async function inParallel(count: number, width: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await job(next++);
  }));
}

async function star(): Promise<number> {
  const ingest = await registry.createRun({ project: 'scale', jobType: 'ingest' });
  await commit('scale', 'source', 'dataset', 'the source data', ingest.id);
  await registry.finishRun(ingest.id, 'finished');
  await inParallel(RUNS, 4, async (i) => {
    const run = await registry.createRun({ project: 'scale', jobType: i % 2 ? 'train' : 'evaluate', name: `trial-${i}` });
    await registry.recordUse(run.id, { project: 'scale', name: 'source', version: 0 });
    await commit('scale', `model-${String(i).padStart(3, '0')}`, 'model', `model ${i}`, run.id);
    await registry.finishRun(run.id, 'finished');
  });
  return 2 + 2 * RUNS;
}

async function sweeps(): Promise<number> {
  const ingest = await registry.createRun({ project: 'sweeps', jobType: 'ingest', name: 'ingest-grid' });
  await commit('sweeps', 'grid', 'dataset', 'the grid search data', ingest.id);
  await registry.finishRun(ingest.id, 'finished');
  await inParallel(SWEEPS, 4, async (i) => {
    const run = await registry.createRun({ project: 'sweeps', jobType: 'sweep', name: `sweep-${i}` });
    await registry.recordUse(run.id, { project: 'sweeps', name: 'grid', version: 0 });
    for (let c = 0; c < CHECKPOINTS; c++) await commit('sweeps', `ckpt-${String(i).padStart(2, '0')}`, 'model', `sweep ${i} checkpoint ${c}`, run.id);
    await registry.finishRun(run.id, 'finished');
  });
  return 2 + SWEEPS * (1 + CHECKPOINTS);
}

async function main(): Promise<void> {
  const t0 = Date.now();
  let nodes = 0;
  try {
    nodes += withSweeps ? await sweeps() : await star();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await registry.close();
  }
  console.log(`scale lineage: ${nodes} nodes written in ${Date.now() - t0} ms`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

/**
 * Adds a project "scale" to a store whose lineage around scale/source:v0 has 501 nodes: the
 * source dataset, 250 runs that use it and 250 models they produce (one each, so nothing folds).
 * Written through the Registry API (the CLI would take minutes for 500 processes).
 * Usage: node --import tsx test/e2e/make-scale-lineage.ts <store>
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRegistry } from '../../src/store/localRegistry';

const RUNS = 250;
const store = process.argv[2];
if (!store) throw new Error('usage: make-scale-lineage.ts <store>');
const registry = new LocalRegistry(store);
const dir = mkdtempSync(join(tmpdir(), 'trove-scale-'));
async function main(): Promise<void> {
  const t0 = Date.now();
  try {
    const file = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return { path: name, absPath: p, size: Buffer.byteLength(text) };
    };
    const commit = async (name: string, type: string, text: string, runId: string) => {
      const [stored] = await registry.storeFiles([file(`${name}.txt`, text)]);
      return registry.commitVersion({ project: 'scale', name, type, manifest: { [stored.path]: { digest: stored.digest, size: stored.size } }, aliases: [], runId });
    };
    const ingest = await registry.createRun({ project: 'scale', jobType: 'ingest' });
    await commit('source', 'dataset', 'the source data', ingest.id);
    await registry.finishRun(ingest.id, 'finished');
    for (let i = 0; i < RUNS; i++) {
      const run = await registry.createRun({ project: 'scale', jobType: i % 2 ? 'train' : 'evaluate', name: `trial-${i}` });
      await registry.recordUse(run.id, { project: 'scale', name: 'source', version: 0 });
      await commit(`model-${String(i).padStart(3, '0')}`, 'model', `model ${i}`, run.id);
      await registry.finishRun(run.id, 'finished');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await registry.close();
  }
  console.log(`scale lineage: ${1 + 2 * RUNS} nodes written in ${Date.now() - t0} ms`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

/**
 * The W&B door's benchmark: the same shape of folder (10,000 files of 4 KiB; two folders of
 * different random bytes, so neither log profits from the other's blobs) logged with the real
 * `wandb` client into `trove serve` and with `trove log` into the same server, then the unchanged
 * re-log of each. Printed side by side with ratios (wandb / trove log). Embedded backend.
 * Run: node --import tsx test/bench/wandb-bench.ts (after test/wandb/setup-venv.sh and a build).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runCli, startServe, tempDir } from '../server/harness';
import { doorStats, py, wandbEnv } from '../wandb/harness';
import { makeBenchData } from './benchData';

const FILES = Number(process.env.BENCH_FILES ?? 10_000);
const KEY = 'b'.repeat(40);

async function main(): Promise<void> {
  const work = tempDir('trove-wandb-bench-');
  const a = makeBenchData(join(work, 'a'), FILES, 0).folder;
  const b = makeBenchData(join(work, 'b'), FILES, 0).folder;
  const server = await startServe(['--store', join(work, 'store')]);
  try {
    const home = join(work, 'home');
    mkdirSync(home, { recursive: true });
    const wandbLog = async (label: string) => {
      const t0 = performance.now();
      const r = await py('bench_log.py', [a, 'bench-wandb'], wandbEnv(server.url, KEY, 'bench', join(home, label)), work, 900_000);
      const wall = (performance.now() - t0) / 1000;
      if (r.code !== 0) throw new Error(`wandb log failed: ${r.stderr.slice(-2000)}`);
      return { wall, log: Number(r.values.LOG_SECONDS) };
    };
    const troveLog = async () => {
      const t0 = performance.now();
      const r = await runCli(['--server', server.url, '--project', 'bench', 'log', b, '--name', 'bench-trove', '--type', 'dataset', '--json']);
      if (r.code !== 0) throw new Error(`trove log failed: ${r.stderr}`);
      return (performance.now() - t0) / 1000;
    };
    const s0 = await doorStats(server.url, KEY);
    const w1 = await wandbLog('first');
    const s1 = await doorStats(server.url, KEY);
    const t1 = await troveLog();
    const w2 = await wandbLog('again');
    const s2 = await doorStats(server.url, KEY);
    const t2 = await troveLog();
    const fmt = (s: number) => `${s.toFixed(2)} s`;
    const rows = [
      [`log ${FILES.toLocaleString('en')} × 4 KiB`, fmt(w1.wall), fmt(w1.log), fmt(t1), (w1.wall / t1).toFixed(1), (w1.log / t1).toFixed(1)],
      ['re-log unchanged', fmt(w2.wall), fmt(w2.log), fmt(t2), (w2.wall / t2).toFixed(1), (w2.log / t2).toFixed(1)],
    ];
    const head = ['operation', 'wandb (process)', 'wandb (log_artifact→committed)', 'trove log (process)', 'ratio process', 'ratio log_artifact'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    console.log(`W&B door benchmark: the real wandb client vs trove log, into one trove serve (embedded store), ${FILES} files of 4 KiB`);
    for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
    console.log(`bytes the door received: first wandb log ${s1.artifactBytesReceived - s0.artifactBytesReceived}, unchanged re-log ${s2.artifactBytesReceived - s1.artifactBytesReceived} (upload URLs ${s2.uploadUrlsIssued - s1.uploadUrlsIssued}, deduped artifacts ${s2.dedupedArtifacts - s1.dedupedArtifacts})`);
  } finally {
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});

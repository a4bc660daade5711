/**
 * Team-server benchmark, in one run on data it builds itself: uploads through `trove serve` in
 * scale-out mode (metadata in PostgreSQL, blobs in Ceph RGW over S3) against `rclone copy` of the
 * same data to the same Ceph bucket:
 *   1. log 10,000 files of 4 KiB            vs  rclone copy of the folder
 *   2. re-log the same folder unchanged     (target: under 1 s)
 *   3. log one 1 GiB file                   vs  rclone copy of the file
 * plus, for reference, downloading the 10,000-file version into an empty folder.
 * Trove runs as the built CLI (node dist/cli.js --server …), a fresh process each time, as a user
 * would; every run logs into a fresh database and bucket so that nothing is deduplicated away.
 * Each figure is the median of BENCH_REPEAT runs (default 3; the re-log runs 3 times in each). The script starts PostgreSQL and Ceph
 * itself (test/services/up.sh, installing them and rclone when missing) and stops them at the end.
 * Usage: node --import tsx test/bench/server-bench.ts [--small]   (--small: 1,000 files, 64 MiB)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBenchData } from './benchData';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const SVC = join(ROOT, '.services', 'bench');
const small = process.argv.includes('--small');
const FILES = small ? 1000 : 10_000;
const BIG = small ? 64 << 20 : 1 << 30;
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function time(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): { ms: number; stdout: string } {
  spawnSync('sync');
  const t0 = process.hrtime.bigint();
  const stdout = sh(cmd, args, env);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, stdout };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  sh('node', [join(ROOT, 'esbuild.js')]);
  console.log('starting PostgreSQL and Ceph RGW…');
  sh('bash', [join(ROOT, 'test/services/up.sh'), SVC], { WITH_RCLONE: '1', PGPORT: '54349', RGW_PORT: '7495', MON_V2_PORT: '3320', MON_V1_PORT: '6809' });
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(SVC, 'services.env'), 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  Object.assign(process.env, env);
  const { startServe, createDatabase, uniqueName } = await import('../server/harness');
  const work = mkdtempSync(join(tmpdir(), 'trove-server-bench-'));
  try {
    console.log(`building ${FILES} files of 4 KiB and one ${BIG >> 20} MiB file in ${work}…`);
    const { folder, bigDir } = makeBenchData(work, FILES, BIG);
    const rcloneEnv = {
      RCLONE_CONFIG_CEPH_TYPE: 's3', RCLONE_CONFIG_CEPH_PROVIDER: 'Ceph', RCLONE_CONFIG_CEPH_ENDPOINT: env.TROVE_TEST_S3_ENDPOINT,
      RCLONE_CONFIG_CEPH_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID, RCLONE_CONFIG_CEPH_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
      RCLONE_CONFIG_CEPH_FORCE_PATH_STYLE: 'true', RCLONE_CONFIG: '/dev/null',
      // Debian's rclone refuses to start when AWS_CA_BUNDLE is set and the endpoint is plain http.
      AWS_CA_BUNDLE: '',
    };
    const rclone = (src: string, dest: string) => {
      const { AWS_CA_BUNDLE: _drop, ...rest } = process.env;
      spawnSync('sync');
      const t0 = process.hrtime.bigint();
      const r = spawnSync('rclone', ['copy', src, dest], { env: { ...rest, ...rcloneEnv, AWS_CA_BUNDLE: undefined } as NodeJS.ProcessEnv, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`rclone copy failed: ${r.stderr}`);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    const results = { trove10k: [] as number[], relog: [] as number[], trove1g: [] as number[], rclone10k: [] as number[], rclone1g: [] as number[], download: [] as number[] };
    for (let run = 0; run < REPEAT; run++) {
      const bucket = uniqueName('bench').toLowerCase();
      const server = await startServe(['--database', await createDatabase('bench'), '--blobs', `s3://${bucket}`, '--s3-endpoint', env.TROVE_TEST_S3_ENDPOINT]);
      try {
        const client = (cache: string) => ({ TROVE_SERVER: server.url, TROVE_CACHE_DIR: join(work, `cache-${run}-${cache}`), TROVE_PROJECT: 'bench' });
        const log = (path: string, name: string, cache: string) => time('node', [CLI, 'log', path, '--name', name, '--type', 'dataset', '--json'], client(cache));
        // Alternate which tool goes first, so neither always meets a colder or fuller cluster.
        const order = run % 2 === 0 ? ['trove', 'rclone'] : ['rclone', 'trove'];
        for (const tool of order) {
          if (tool === 'trove') {
            const first = log(folder, 'files', 'files');
            if (!(JSON.parse(first.stdout) as { created: boolean }).created) throw new Error('the first log did not create a version');
            results.trove10k.push(first.ms);
            // Three re-logs per run (cheap): the median then shows the usual time, not one stall.
            for (let k = 0; k < 3; k++) {
              const again = log(folder, 'files', 'files');
              if ((JSON.parse(again.stdout) as { created: boolean }).created) throw new Error('the re-log created a version');
              results.relog.push(again.ms);
            }
            results.trove1g.push(log(bigDir, 'model', 'big').ms);
          } else {
            results.rclone10k.push(rclone(folder, `ceph:${bucket}/rclone/files`));
            results.rclone1g.push(rclone(bigDir, `ceph:${bucket}/rclone/big`));
          }
        }
        results.download.push(time('node', [CLI, 'download', 'bench/files', '--root', join(work, `dl-${run}`), '--json'], client('files')).ms);
      } finally {
        await server.stop();
      }
      console.log(`run ${run + 1}/${REPEAT}: trove ${results.trove10k[run].toFixed(0)} ms / rclone ${results.rclone10k[run].toFixed(0)} ms (files); re-log ${results.relog.slice(run * 3).map((x) => x.toFixed(0)).join('/')} ms; trove ${results.trove1g[run].toFixed(0)} ms / rclone ${results.rclone1g[run].toFixed(0)} ms (1 file)`);
    }
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const rows: [string, number, number | undefined, string][] = [
      [`upload ${FILES} x 4 KiB`, median(results.trove10k), median(results.rclone10k), '<= 1.0'],
      [`re-log unchanged folder (max ${s(Math.max(...results.relog))})`, median(results.relog), undefined, '< 1 s'],
      [`upload 1 file of ${BIG >> 20} MiB`, median(results.trove1g), median(results.rclone1g), '<= 1.0'],
      [`download ${FILES} files (reference)`, median(results.download), undefined, ''],
    ];
    console.log(`\nTrove server (PostgreSQL + Ceph RGW) vs rclone copy to the same bucket, median of ${REPEAT}, ${new Date().toISOString()}`);
    console.log(`${'operation'.padEnd(34)}${'trove'.padStart(10)}${'rclone'.padStart(10)}${'ratio'.padStart(8)}  target  verdict`);
    let ok = true;
    for (const [label, t, r, target] of rows) {
      const ratio = r === undefined ? undefined : t / r;
      const pass = target === '<= 1.0' ? ratio! <= 1.0 : target === '< 1 s' ? t < 1000 : true;
      if (!pass) ok = false;
      console.log(`${label.padEnd(34)}${s(t).padStart(10)}${(r === undefined ? '-' : s(r)).padStart(10)}${(ratio === undefined ? '-' : ratio.toFixed(2)).padStart(8)}  ${target.padEnd(6)}  ${target ? (pass ? 'ok' : 'MISSED') : ''}`);
    }
    process.exitCode = ok ? 0 : 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
    sh('bash', [join(ROOT, 'test/services/down.sh'), SVC]);
  }
}

main().catch((e) => {
  console.error(`server-bench: ${(e as Error).message}`);
  spawnSync('bash', [join(ROOT, 'test/services/down.sh'), SVC]);
  process.exitCode = 1;
});

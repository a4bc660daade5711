/**
 * Trove against DVC on the same data, in one run (`npm run bench:scale`):
 *   log            trove log                      vs  dvc add + dvc push to a local remote
 *   re-log         trove log, nothing changed     vs  dvc add again, and vs dvc status
 *   download       trove download, fresh folder   vs  dvc pull (fetch + checkout) into a fresh workspace,
 *                                                     and vs dvc checkout alone (from the cache the pull filled)
 * for 10,000 files of 4 KiB and one 1 GiB file; with --million also for 1,000,000 files of 1 KiB
 * (1,000 folders of 1,000: slow on two cores, so not run by default nor in CI). With --serve the
 * million-file log and download also go through `trove serve --store` (the embedded backend).
 *
 * It builds its data itself (under BENCH_SCALE_DIR, default ./tmp/bench-scale, deleted at the
 * end), installs DVC from PyPI into a virtual environment cached in
 * ${TROVE_BENCH_CACHE:-~/.cache/trove-bench}/dvc-venv, runs every command as a fresh process,
 * flushes dirty pages and reads each command's input once before timing it, and measures each
 * process's peak RSS with GNU time (Debian package `time`). It prints one table: operation,
 * Trove time, DVC time, ratio, Trove's peak RSS, target (ratio below 1, every Trove command at
 * most 1 GiB). Exits 1 when a target is missed.
 * Usage: npm run bench:scale [-- --million] [--serve] [--small] [--files=N] [--only-files]
 *   --small: 1,000 files, 64 MiB, for a quick check; --files=N: also N files of 1 KiB in folders of
 *   1,000 (100000, say, where DVC on a million does not fit in the time there is); --only-files:
 *   only the --million / --files sets.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { cpus, homedir, loadavg } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const args = process.argv.slice(2);
const small = args.includes('--small');
const million = args.includes('--million');
const extraFiles = Number(args.find((a) => a.startsWith('--files='))?.slice('--files='.length) ?? 0);
const onlyFiles = args.includes('--only-files');
const serve = args.includes('--serve');
const DVC_VERSION = '3.67.1';
const CACHE = process.env.TROVE_BENCH_CACHE ?? join(homedir(), '.cache', 'trove-bench');
const VENV = join(CACHE, 'dvc-venv');
const DVC = join(VENV, 'bin', 'dvc');
const WORK = process.env.BENCH_SCALE_DIR ?? join(ROOT, 'tmp', 'bench-scale');
const GIB = 1 << 30;
const TIME = '/usr/bin/time';

interface Measure { ms: number; rssKb: number }

const loadNow = () => loadavg().map((l) => l.toFixed(2)).join(', ');
const startLoad = loadNow();

function ensureDvc(): void {
  const ok = existsSync(DVC) && spawnSync(DVC, ['--version'], { encoding: 'utf8' }).stdout.trim() === DVC_VERSION;
  if (ok) return;
  console.log(`installing DVC ${DVC_VERSION} from PyPI into ${VENV}`);
  mkdirSync(CACHE, { recursive: true });
  execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  execFileSync(join(VENV, 'bin', 'pip'), ['install', '--quiet', `dvc==${DVC_VERSION}`], { stdio: 'inherit' });
}

/** Writes `files` files of `size` random bytes in folders of `perFolder`. */
function makeFiles(dir: string, files: number, size: number, perFolder: number): void {
  const buf = Buffer.alloc(size);
  for (let i = 0; i < files; i++) {
    const sub = join(dir, `d${String(Math.floor(i / perFolder)).padStart(4, '0')}`);
    if (i % perFolder === 0) mkdirSync(sub, { recursive: true });
    randomFillSync(buf);
    const fd = openSync(join(sub, `f${String(i).padStart(7, '0')}.bin`), 'w');
    writeSync(fd, buf);
    closeSync(fd);
  }
}

function makeBig(dir: string, bytes: number): void {
  mkdirSync(dir, { recursive: true });
  const chunk = Buffer.alloc(16 << 20);
  const fd = openSync(join(dir, 'model.bin'), 'w');
  for (let done = 0; done < bytes; done += chunk.length) writeSync(fd, randomFillSync(chunk), 0, Math.min(chunk.length, bytes - done));
  closeSync(fd);
}

/** Flushes dirty pages and reads `warm` once, so that no command pays for another's write-back or page cache. */
function settle(warm: string[]): void {
  spawnSync('sync');
  for (const path of warm) spawnSync('sh', ['-c', `find "${path}" -type f -print0 | xargs -0 -r cat > /dev/null`]);
}

/** Runs one command as a fresh process under GNU time: wall time and peak RSS. */
function run(cmd: string, cmdArgs: string[], cwd: string, env: NodeJS.ProcessEnv = {}, warm: string[] = []): Measure {
  settle(warm);
  const out = join(WORK, 'time.out');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(TIME, ['-o', out, '-f', '%M', cmd, ...cmdArgs], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const rssKb = Number(readFileSync(out, 'utf8').trim().split('\n').pop());
  return { ms, rssKb };
}

const sum = (...ms: Measure[]): Measure => ({ ms: ms.reduce((s, m) => s + m.ms, 0), rssKb: Math.max(...ms.map((m) => m.rssKb)) });

interface Row { op: string; trove: Measure; peer: Measure; peerName: string; rssBudgetKb: number }
const rows: Row[] = [];
/** Rows through `trove serve`, whose DVC figures are the local rows' (filled in when those are measured). */
const viaServe: Row[] = [];

function addRow(row: Row): void {
  rows.push(row);
  for (const r of viaServe) if (r.op === `${row.op} via serve`) r.peer = row.peer;
  console.log(`  ${formatRow(row)}`);
}

function formatRow(r: Row): string {
  const ratio = r.trove.ms / r.peer.ms;
  const met = (Number.isNaN(ratio) || ratio < 1) && r.trove.rssKb <= r.rssBudgetKb;
  const n = (x: number, digits = 0) => (Number.isNaN(x) ? '-' : x.toFixed(digits));
  return [r.op.padEnd(36), n(r.trove.ms).padStart(9), n(r.peer.ms).padStart(9), n(ratio, 2).padStart(7), (r.trove.rssKb / 1024).toFixed(0).padStart(8),
    `<1, <=${r.rssBudgetKb / 1024 / 1024} GiB`.padStart(20), `  ${r.peerName}${met ? '' : '   (target missed)'}`].join('');
}

const dvcEnv = { DVC_NO_ANALYTICS: '1', DVC_SITE_CACHE_DIR: join(WORK, 'dvc-site-cache') };

/** Logs, re-logs and downloads one data set with both tools; `data` is `<workspace>/data`. */
async function compare(label: string, make: (dir: string) => void): Promise<void> {
  const ws = join(WORK, `ws-${label}`);
  const data = join(ws, 'data');
  const store = join(WORK, `trove-${label}`);
  const remote = join(WORK, `dvc-remote-${label}`);
  console.log(`building ${label} in ${data}`);
  mkdirSync(ws, { recursive: true });
  make(data);
  execFileSync(DVC, ['init', '--no-scm', '-q'], { cwd: ws, env: { ...process.env, ...dvcEnv } });
  execFileSync(DVC, ['remote', 'add', '-d', 'local', remote], { cwd: ws, env: { ...process.env, ...dvcEnv } });
  const trove = (...a: string[]) => run(process.execPath, [CLI, '--store', store, '--project', 'bench', ...a], WORK, {}, []);
  const dvc = (...a: string[]) => run(DVC, a, ws, dvcEnv);

  // Trove's commands first, then DVC's on the same data (each row is printed as soon as it is complete).
  console.log(`  trove: log, re-log, download ${label}`);
  settle([data]);
  const tLog = trove('log', data, '--name', label, '--type', 'dataset', '--json');
  settle([data]);
  const tRelog = trove('log', data, '--name', label, '--type', 'dataset', '--json');
  settle([join(store, 'packs'), join(store, 'blobs')]);
  const tDown = trove('download', `${label}:latest`, '--root', join(WORK, `download-${label}`), '--json');
  rmSync(join(WORK, `download-${label}`), { recursive: true, force: true });
  console.log(`  trove ${label}: log ${tLog.ms.toFixed(0)} ms (${(tLog.rssKb / 1024).toFixed(0)} MiB), re-log ${tRelog.ms.toFixed(0)} ms (${(tRelog.rssKb / 1024).toFixed(0)} MiB), download ${tDown.ms.toFixed(0)} ms (${(tDown.rssKb / 1024).toFixed(0)} MiB)`);
  if (serve && label.startsWith('1M')) await throughServe(label, data);

  console.log(`  dvc: add + push, add again, status, pull ${label}`);
  settle([data]);
  const dAdd = dvc('add', '-q', 'data');
  const dPush = dvc('push', '-q');
  addRow({ op: `log ${label}`, trove: tLog, peer: sum(dAdd, dPush), peerName: 'dvc add + dvc push', rssBudgetKb: GIB / 1024 });
  settle([data]);
  const dReadd = dvc('add', '-q', 'data');
  addRow({ op: `re-log ${label} unchanged`, trove: tRelog, peer: dReadd, peerName: 'dvc add (unchanged)', rssBudgetKb: GIB / 1024 });
  settle([data]);
  const dStatus = dvc('status', '-q');
  addRow({ op: `re-log ${label} unchanged`, trove: tRelog, peer: dStatus, peerName: 'dvc status', rssBudgetKb: GIB / 1024 });
  const fresh = join(WORK, `fresh-${label}`);
  mkdirSync(fresh, { recursive: true });
  execFileSync(DVC, ['init', '--no-scm', '-q'], { cwd: fresh, env: { ...process.env, ...dvcEnv } });
  execFileSync(DVC, ['remote', 'add', '-d', 'local', remote], { cwd: fresh, env: { ...process.env, ...dvcEnv } });
  copyFileSync(join(ws, 'data.dvc'), join(fresh, 'data.dvc'));
  settle([remote]);
  const dPull = run(DVC, ['pull', '-q'], fresh, dvcEnv);
  addRow({ op: `download ${label}`, trove: tDown, peer: dPull, peerName: 'dvc pull (fresh workspace)', rssBudgetKb: GIB / 1024 });
  // DVC's checkout alone, from the cache the pull filled (Trove's download reads its store the same way).
  rmSync(join(fresh, 'data'), { recursive: true, force: true });
  settle([join(fresh, '.dvc', 'cache')]);
  const dCheckout = run(DVC, ['checkout', '-q'], fresh, dvcEnv);
  addRow({ op: `download ${label}`, trove: tDown, peer: dCheckout, peerName: 'dvc checkout (from its cache)', rssBudgetKb: GIB / 1024 });
  // Free the disk before the next set (this disk slows down while it discards large deletes).
  for (const d of [ws, store, remote, fresh, join(WORK, `download-${label}`)]) rmSync(d, { recursive: true, force: true });
}

/** The same log and download through `trove serve --store` (embedded backend); the server's peak RSS is its VmHWM. */
async function throughServe(label: string, data: string): Promise<void> {
  const serverStore = join(WORK, `serve-${label}`);
  const log = join(WORK, 'serve.log');
  const fd = openSync(log, 'w');
  const proc = spawn(process.execPath, [CLI, 'serve', '--store', serverStore, '--listen', '127.0.0.1:0'], { stdio: ['ignore', fd, 'inherit'] });
  closeSync(fd);
  try {
    let url: string | undefined;
    for (let i = 0; i < 300 && !url; i++) {
      await new Promise((r) => setTimeout(r, 100));
      url = /"url":"([^"]+)"/.exec(readFileSync(log, 'utf8'))?.[1];
    }
    if (!url) throw new Error(`trove serve did not start: ${readFileSync(log, 'utf8').slice(0, 500)}`);
    const cli = (...a: string[]) => run(process.execPath, [CLI, '--server', url!, '--project', 'bench', ...a], WORK, { TROVE_STORE: join(WORK, 'serve-client') });
    settle([data]);
    const tLog = cli('log', data, '--name', label, '--type', 'dataset', '--json');
    const tDown = cli('download', `${label}:latest`, '--root', join(WORK, `serve-download-${label}`), '--json');
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1] ?? 0);
    console.log(`  trove via serve ${label}: log ${tLog.ms.toFixed(0)} ms (${(tLog.rssKb / 1024).toFixed(0)} MiB), download ${tDown.ms.toFixed(0)} ms (${(tDown.rssKb / 1024).toFixed(0)} MiB); server peak RSS ${(hwm / 1024).toFixed(0)} MiB`);
    viaServe.push({ op: `log ${label} via serve`, trove: tLog, peer: { ms: NaN, rssKb: 0 }, peerName: 'dvc add + dvc push', rssBudgetKb: GIB / 1024 });
    viaServe.push({ op: `download ${label} via serve`, trove: tDown, peer: { ms: NaN, rssKb: 0 }, peerName: 'dvc pull (fresh workspace)', rssBudgetKb: GIB / 1024 });
    viaServe.push({ op: 'trove serve during both', trove: { ms: NaN, rssKb: hwm }, peer: { ms: NaN, rssKb: 0 }, peerName: '(server peak RSS)', rssBudgetKb: GIB / 1024 });
  } finally {
    proc.kill('SIGTERM');
    rmSync(serverStore, { recursive: true, force: true });
    rmSync(join(WORK, `serve-download-${label}`), { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!existsSync(TIME)) {
    console.error('GNU time is not installed; run: apt-get install -y time (the benchmark measures peak RSS with it).');
    process.exit(1);
  }
  ensureDvc();
  if (!existsSync(CLI)) execFileSync(process.execPath, ['esbuild.js', '--production'], { cwd: ROOT });
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  try {
    const files = small ? 1000 : 10_000;
    const bigBytes = small ? 64 << 20 : GIB;
    if (!onlyFiles) {
      await compare(`${files / 1000}k-x-4KiB`, (dir) => makeFiles(dir, files, 4096, 500));
      await compare(`${bigBytes >> 20}MiB-file`, (dir) => makeBig(dir, bigBytes));
    }
    if (extraFiles > 0) await compare(`${extraFiles / 1000}k-x-1KiB`, (dir) => makeFiles(dir, extraFiles, 1024, 1000));
    if (million) await compare('1M-x-1KiB', (dir) => makeFiles(dir, 1_000_000, 1024, 1000));
  } finally {
    rmSync(WORK, { recursive: true, force: true });
  }
  const dvcVersion = spawnSync(DVC, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`\none run each, milliseconds; peer: DVC ${dvcVersion} with a local remote; RSS: the Trove command's peak`);
  console.log(`load average (1, 5, 15 min) at the start ${startLoad}, at the end ${loadNow()}; ${cpus().length} CPUs`);
  const head = ['operation'.padEnd(36), 'trove'.padStart(9), 'peer'.padStart(9), 'ratio'.padStart(7), 'RSS MiB'.padStart(8), 'target'.padStart(20), '  peer command'];
  console.log(head.join(''));
  let allMet = true;
  for (const r of [...rows, ...viaServe]) {
    const ratio = r.trove.ms / r.peer.ms;
    allMet &&= (Number.isNaN(ratio) || ratio < 1) && r.trove.rssKb <= r.rssBudgetKb;
    console.log(formatRow(r));
  }
  console.log(allMet ? '\nall targets met' : '\nsome targets missed');
  if (!allMet) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});

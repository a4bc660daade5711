/**
 * Trove against DVC on the same data, in one run (`npm run bench:scale`):
 *   log            trove log                      vs  dvc add + dvc push to a local remote
 *   re-log         trove log, nothing changed     vs  dvc add again, and vs dvc status
 *   download       trove download, fresh folder   vs  dvc pull (fetch + checkout) into a fresh workspace,
 *                                                     and vs dvc checkout alone (from the cache the pull filled)
 *   verify         trove verify --root (the       vs  dvc status in that fresh workspace with DVC's hash
 *                  downloaded folder, rehashed)       cache cleared (so it rehashes every file too)
 *   re-log, 1%     trove log after 1% of the      vs  dvc add of the same changed data, and vs dvc add +
 *   changed        files were rewritten in place      dvc push
 *   diff           trove diff v0 v1 (the 1%)      no peer: dvc diff compares git revisions, and DVC runs
 *                                                     here without git (printed as '-')
 * for 10,000 files of 4 KiB and one 1 GiB file (whose "1%" is 1% of its bytes, rewritten in place);
 * with --million also for 1,000,000 files of 1 KiB (1,000 folders of 1,000: slow on two cores, so
 * not run by default nor in CI). With --serve the --million and --files sets' log, unchanged re-log,
 * download, verify, changed re-log and diff also go through `trove serve --store` (the embedded
 * backend), with --serve-pg through `trove serve` on PostgreSQL + Ceph RGW (S3), which the bench
 * starts on 127.0.0.1 with test/services/up.sh (ports from PGPORT, RGW_PORT, MON_V2_PORT,
 * MON_V1_PORT) and stops at the end; each server's peak RSS (VmHWM, over all of those commands) is
 * a row. PostgreSQL's and Ceph's own memory is not in it.
 *
 * It builds its data itself (under BENCH_SCALE_DIR, default ./tmp/bench-scale, deleted at the
 * end), installs DVC from PyPI into a virtual environment cached in
 * ${TROVE_BENCH_CACHE:-~/.cache/trove-bench}/dvc-venv, runs every command as a fresh process,
 * flushes dirty pages and reads each command's input once before timing it, and measures each
 * process's peak RSS with GNU time (Debian package `time`). It prints one table: operation,
 * Trove time, DVC time, ratio, Trove's peak RSS, target (ratio below 1, every Trove command at
 * most 1 GiB). Exits 1 when a target is missed.
 * Usage: npm run bench:scale [-- --million] [--serve] [--serve-pg] [--small] [--files=N] [--only-files] [--trove-only]
 *   --small: 1,000 files, 64 MiB, for a quick check; --files=N: also N files of 1 KiB in folders of
 *   1,000 (100000, say, where DVC on a million does not fit in the time there is); --only-files:
 *   only the --million / --files sets; --trove-only: DVC is neither installed nor run, and the
 *   table says so in place of its figures (Trove's rows at a million without the hours DVC takes).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, homedir, loadavg } from 'node:os';
import { join } from 'node:path';
import { startServe } from '../server/harness';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const args = process.argv.slice(2);
const known = /^--(small|million|only-files|serve|serve-pg|trove-only|files=\d+)$/;
const unknown = args.filter((a) => !known.test(a));
if (unknown.length) {
  console.error(`bench:scale: unknown option ${unknown.join(' ')}; the options are --million --serve --serve-pg --small --files=N --only-files --trove-only.`);
  process.exit(2);
}
const small = args.includes('--small');
const million = args.includes('--million');
const extraFiles = Number(args.find((a) => a.startsWith('--files='))?.slice('--files='.length) ?? 0);
const onlyFiles = args.includes('--only-files');
const troveOnly = args.includes('--trove-only');
type Backend = 'embedded' | 'pg';
const backends: Backend[] = [...(args.includes('--serve') ? ['embedded' as const] : []), ...(args.includes('--serve-pg') ? ['pg' as const] : [])];
const BACKEND_NAME: Record<Backend, string> = { embedded: 'embedded store', pg: 'PostgreSQL + Ceph S3' };
const DVC_VERSION = '3.67.1';
const CACHE = process.env.TROVE_BENCH_CACHE ?? join(homedir(), '.cache', 'trove-bench');
const VENV = join(CACHE, 'dvc-venv');
const DVC = join(VENV, 'bin', 'dvc');
const WORK = process.env.BENCH_SCALE_DIR ?? join(ROOT, 'tmp', 'bench-scale');
const SERVICES = join(WORK, 'services');
const GIB = 1 << 30;
const TIME = '/usr/bin/time';

interface Measure { ms: number; rssKb: number }
const NOT_RUN: Measure = { ms: NaN, rssKb: 0 };

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

/** The files under `dir`, in path order (the data sets are one or two levels deep). */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.isDirectory()) out.push(...listFiles(join(dir, e.name)).map((f) => join(e.name, f)));
    else out.push(e.name);
  }
  return out;
}

/**
 * Changes 1% of the data in place: every 100th file (in path order) rewritten with new random
 * bytes of the same size, or, for a set of fewer than 100 files, 1% of each file's bytes in its
 * middle. Returns how many files changed and a function that writes the old bytes back (the next
 * tool then logs the same data from scratch).
 */
function changeOnePercent(data: string): { changed: number; restore: () => void } {
  const files = listFiles(data);
  const saved: { file: string; at: number; bytes: Buffer }[] = [];
  const rewrite = (file: string, at: number, length: number) => {
    const fd = openSync(file, 'r+');
    try {
      const bytes = Buffer.alloc(length);
      readSync(fd, bytes, 0, length, at);
      saved.push({ file, at, bytes });
      writeSync(fd, randomFillSync(Buffer.alloc(length)), 0, length, at);
    } finally {
      closeSync(fd);
    }
  };
  if (files.length >= 100) {
    for (let i = 0; i < files.length; i += 100) rewrite(join(data, files[i]), 0, statSync(join(data, files[i])).size);
  } else {
    for (const f of files) {
      const size = statSync(join(data, f)).size;
      const length = Math.max(1, Math.floor(size / 100));
      rewrite(join(data, f), Math.floor((size - length) / 2), length);
    }
  }
  return {
    changed: saved.length,
    restore: () => {
      for (const s of saved) {
        const fd = openSync(s.file, 'r+');
        writeSync(fd, s.bytes, 0, s.bytes.length, s.at);
        closeSync(fd);
      }
    },
  };
}

/** Flushes dirty pages and reads `warm` once, so that no command pays for another's write-back or page cache. */
function settle(warm: string[]): void {
  spawnSync('sync');
  for (const path of warm) spawnSync('sh', ['-c', `find "${path}" -type f -print0 | xargs -0 -r cat > /dev/null`]);
}

/** Runs one command as a fresh process under GNU time: wall time and peak RSS (its output to `stdoutFile`, when given). */
function run(cmd: string, cmdArgs: string[], cwd: string, env: NodeJS.ProcessEnv = {}, warm: string[] = [], stdoutFile?: string): Measure {
  settle(warm);
  const out = join(WORK, 'time.out');
  const stdoutFd = stdoutFile ? openSync(stdoutFile, 'w') : 'ignore';
  const t0 = process.hrtime.bigint();
  const r = spawnSync(TIME, ['-o', out, '-f', '%M', cmd, ...cmdArgs], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', stdoutFd, 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (typeof stdoutFd === 'number') closeSync(stdoutFd);
  if (r.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const rssKb = Number(readFileSync(out, 'utf8').trim().split('\n').pop());
  return { ms, rssKb };
}

const sum = (...ms: Measure[]): Measure => ({ ms: ms.reduce((s, m) => s + m.ms, 0), rssKb: Math.max(...ms.map((m) => m.rssKb)) });

/** `trove diff`'s output (one `M path` line per modified file) must name exactly the files changed. */
function checkDiff(outFile: string, changed: number, what: string): void {
  const lines = readFileSync(outFile, 'utf8').split('\n').filter(Boolean);
  const modified = lines.filter((l) => l.startsWith('M ')).length;
  if (modified !== changed || lines.length !== changed) throw new Error(`${what}: trove diff listed ${lines.length} lines, ${modified} modified, where ${changed} files changed.`);
}

interface Row {
  op: string;
  trove: Measure;
  peer: Measure;
  peerName: string;
  rssBudgetKb: number;
  /** Rows through `trove serve`: the local row (operation and peer command) whose DVC figure they share. */
  peerOf?: string;
}
const rows: Row[] = [];
const BUDGET_KB = GIB / 1024;
const OP_WIDTH = 58;

function addRow(row: Row): void {
  rows.push(row);
  console.log(`  ${formatRow(row)}`);
}

/** The DVC figure of a row through `trove serve`: its local row's. */
function peerOf(r: Row): Measure {
  if (!r.peerOf) return r.peer;
  return rows.find((l) => !l.peerOf && `${l.op}|${l.peerName}` === r.peerOf)?.peer ?? NOT_RUN;
}

function met(r: Row): boolean {
  const ratio = r.trove.ms / peerOf(r).ms;
  return (Number.isNaN(ratio) || ratio < 1) && r.trove.rssKb <= r.rssBudgetKb;
}

function formatRow(r: Row): string {
  const peer = peerOf(r);
  const ratio = r.trove.ms / peer.ms;
  const n = (x: number, digits = 0) => (Number.isNaN(x) ? '-' : x.toFixed(digits));
  return [r.op.padEnd(OP_WIDTH), n(r.trove.ms).padStart(9), n(peer.ms).padStart(9), n(ratio, 2).padStart(7), (r.trove.rssKb / 1024).toFixed(0).padStart(8),
    `<1, <=${r.rssBudgetKb / 1024 / 1024} GiB`.padStart(20), `  ${r.peerName}${met(r) ? '' : '   (target missed)'}`].join('');
}

const dvcEnv = { DVC_NO_ANALYTICS: '1', DVC_SITE_CACHE_DIR: join(WORK, 'dvc-site-cache') };
const NO_DVC = 'DVC not run (--trove-only)';
const NO_DIFF_PEER = 'none: dvc diff needs a git repository';

/** Trove's figures for one data set, through one way of reaching the registry. */
interface TroveRun { log: Measure; relog: Measure; download: Measure; verify: Measure; changed: Measure; diff: Measure }

/**
 * Trove's six commands on `data` (`trove` runs the CLI against the registry): log, unchanged
 * re-log, download into a new folder, verify of that folder, re-log after 1% changed, diff of the
 * two versions (checked to list exactly the changed files). The data is as it was afterwards.
 */
function troveSequence(label: string, data: string, where: string, trove: (stdoutFile: string | undefined, ...a: string[]) => Measure, storeDirs: string[]): TroveRun {
  const download = join(WORK, `download-${where}-${label}`);
  settle([data]);
  const log = trove(undefined, 'log', data, '--name', label, '--type', 'dataset', '--json');
  settle([data]);
  const relog = trove(undefined, 'log', data, '--name', label, '--type', 'dataset', '--json');
  settle(storeDirs);
  const down = trove(undefined, 'download', `${label}:v0`, '--root', download, '--json');
  settle([download]);
  const verify = trove(undefined, 'verify', `${label}:v0`, '--root', download);
  rmSync(download, { recursive: true, force: true });
  const change = changeOnePercent(data);
  settle([data]);
  const changed = trove(undefined, 'log', data, '--name', label, '--type', 'dataset', '--json');
  const diffOut = join(WORK, 'diff.out');
  spawnSync('sync');
  const diff = trove(diffOut, 'diff', `${label}:v0`, `${label}:v1`);
  checkDiff(diffOut, change.changed, `${label} (${where})`);
  change.restore();
  const mb = (m: Measure) => `${m.ms.toFixed(0)} ms (${(m.rssKb / 1024).toFixed(0)} MiB)`;
  console.log(`  trove ${where} ${label}: log ${mb(log)}, re-log ${mb(relog)}, download ${mb(down)}, verify ${mb(verify)}, re-log with ${change.changed} files changed ${mb(changed)}, diff ${mb(diff)}`);
  return { log, relog, download: down, verify, changed, diff };
}

/** Logs, re-logs, downloads, verifies, changes 1% and diffs one data set with both tools; `data` is `<workspace>/data`. */
async function compare(label: string, make: (dir: string) => void, viaServe: boolean): Promise<void> {
  const ws = join(WORK, `ws-${label}`);
  const data = join(ws, 'data');
  const store = join(WORK, `trove-${label}`);
  const remote = join(WORK, `dvc-remote-${label}`);
  console.log(`building ${label} in ${data}`);
  mkdirSync(ws, { recursive: true });
  make(data);
  const what = label.endsWith('-file') ? `one ${label.replace(/-file$/, '')} file` : label;

  // Trove's commands first (the embedded store, then each server), then DVC's on the same data.
  console.log(`  trove: log, re-log, download, verify, re-log 1% changed, diff ${label}`);
  const local = troveSequence(label, data, 'local', (stdoutFile, ...a) => run(process.execPath, [CLI, '--store', store, '--project', 'bench', ...a], WORK, {}, [], stdoutFile), [join(store, 'packs'), join(store, 'blobs')]);
  rmSync(store, { recursive: true, force: true });
  const served: { backend: Backend; run: TroveRun; hwmKb: number }[] = [];
  if (viaServe) for (const backend of backends) served.push(await throughServe(label, data, backend));

  const dvc = (...a: string[]) => run(DVC, a, ws, dvcEnv);
  let d: Record<string, Measure> = {};
  let changedFiles = 0;
  if (!troveOnly) {
    console.log(`  dvc: add + push, add again, status, pull, checkout, status (rehashing), add 1% changed (+ push) ${label}`);
    execFileSync(DVC, ['init', '--no-scm', '-q'], { cwd: ws, env: { ...process.env, ...dvcEnv } });
    execFileSync(DVC, ['remote', 'add', '-d', 'local', remote], { cwd: ws, env: { ...process.env, ...dvcEnv } });
    settle([data]);
    d.add = dvc('add', '-q', 'data');
    d.push = dvc('push', '-q');
    settle([data]);
    d.readd = dvc('add', '-q', 'data');
    settle([data]);
    d.status = dvc('status', '-q');
    // A fresh workspace with its own hash cache (DVC_SITE_CACHE_DIR), so that clearing it for the
    // verify peer leaves the first workspace's alone.
    const fresh = join(WORK, `fresh-${label}`);
    const freshEnv = { ...dvcEnv, DVC_SITE_CACHE_DIR: join(WORK, 'dvc-site-cache-fresh') };
    mkdirSync(fresh, { recursive: true });
    execFileSync(DVC, ['init', '--no-scm', '-q'], { cwd: fresh, env: { ...process.env, ...freshEnv } });
    execFileSync(DVC, ['remote', 'add', '-d', 'local', remote], { cwd: fresh, env: { ...process.env, ...freshEnv } });
    copyFileSync(join(ws, 'data.dvc'), join(fresh, 'data.dvc'));
    settle([remote]);
    d.pull = run(DVC, ['pull', '-q'], fresh, freshEnv);
    // DVC's checkout alone, from the cache the pull filled (Trove's download reads its store the same way).
    rmSync(join(fresh, 'data'), { recursive: true, force: true });
    settle([join(fresh, '.dvc', 'cache')]);
    d.checkout = run(DVC, ['checkout', '-q'], fresh, freshEnv);
    // Verify's peer: dvc status of the checked-out folder against data.dvc, with DVC's record of
    // the files' hashes (by inode, mtime and size) cleared so that it reads and hashes every file,
    // as trove verify --root does (with the record, dvc status only stats them).
    rmSync(freshEnv.DVC_SITE_CACHE_DIR, { recursive: true, force: true });
    settle([join(fresh, 'data')]);
    d.verify = run(DVC, ['status', '-q'], fresh, freshEnv);
    rmSync(fresh, { recursive: true, force: true });
    const change = changeOnePercent(data);
    changedFiles = change.changed;
    settle([data]);
    d.changed = dvc('add', '-q', 'data');
    d.changedPush = dvc('push', '-q');
  } else {
    d = { add: NOT_RUN, push: NOT_RUN, readd: NOT_RUN, status: NOT_RUN, pull: NOT_RUN, checkout: NOT_RUN, verify: NOT_RUN, changed: NOT_RUN, changedPush: NOT_RUN };
  }
  const peer = (name: string) => (troveOnly ? NO_DVC : name);
  const rowsOf = (t: TroveRun, suffix: string, shared: boolean) => {
    const row = (op: string, trove: Measure, peerM: Measure, peerName: string) =>
      addRow({ op: `${op}${suffix}`, trove, peer: peerM, peerName: peer(peerName), rssBudgetKb: BUDGET_KB, peerOf: shared ? `${op}|${peer(peerName)}` : undefined });
    row(`log ${what}`, t.log, sum(d.add, d.push), 'dvc add + dvc push');
    row(`re-log ${what}, unchanged`, t.relog, d.readd, 'dvc add (unchanged)');
    if (!shared && !troveOnly) row(`re-log ${what}, unchanged`, t.relog, d.status, 'dvc status');
    row(`download ${what}`, t.download, d.pull, 'dvc pull (fresh workspace)');
    if (!shared && !troveOnly) row(`download ${what}`, t.download, d.checkout, 'dvc checkout (from its cache)');
    row(`verify ${what} (downloaded folder)`, t.verify, d.verify, 'dvc status, hash cache cleared (rehashes)');
    row(`re-log ${what}, 1% changed`, t.changed, d.changed, 'dvc add (1% changed)');
    if (!shared && !troveOnly) row(`re-log ${what}, 1% changed`, t.changed, sum(d.changed, d.changedPush), 'dvc add + dvc push (1% changed)');
    addRow({ op: `diff ${what} v0 v1 (1% changed)${suffix}`, trove: t.diff, peer: NOT_RUN, peerName: NO_DIFF_PEER, rssBudgetKb: BUDGET_KB });
  };
  if (!troveOnly && changedFiles === 0) throw new Error(`${label}: DVC's 1% change changed nothing`);
  rowsOf(local, '', false);
  for (const s of served) {
    rowsOf(s.run, ` via serve (${s.backend})`, true);
    addRow({ op: `trove serve (${BACKEND_NAME[s.backend]}), peak over the above`, trove: { ms: NaN, rssKb: s.hwmKb }, peer: NOT_RUN, peerName: '(the server process\'s VmHWM)', rssBudgetKb: BUDGET_KB });
  }
  // Free the disk before the next set (this disk slows down while it discards large deletes).
  for (const dir of [ws, remote]) rmSync(dir, { recursive: true, force: true });
}

let servicesEnv: Record<string, string> | undefined;

/** PostgreSQL and Ceph RGW on 127.0.0.1 (test/services/up.sh, the server stage's), once per run. */
function startServices(): Record<string, string> {
  if (servicesEnv) return servicesEnv;
  console.log(`starting PostgreSQL (port ${process.env.PGPORT ?? 'default'}) and Ceph RGW (port ${process.env.RGW_PORT ?? 'default'}) in ${SERVICES}`);
  const r = spawnSync('bash', [join(ROOT, 'test', 'services', 'up.sh'), SERVICES], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('PostgreSQL and Ceph RGW did not start (test/services/up.sh failed; see above).');
  servicesEnv = Object.fromEntries(readFileSync(join(SERVICES, 'services.env'), 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return servicesEnv;
}

function stopServices(): void {
  if (!existsSync(SERVICES)) return;
  spawnSync('bash', [join(ROOT, 'test', 'services', 'down.sh'), SERVICES], { stdio: 'inherit' });
}

/** A new database on the services' PostgreSQL for one data set; returns its URL. */
async function createDatabase(base: string, name: string): Promise<string> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  try {
    await c.query(`drop database if exists ${name}`);
    await c.query(`create database ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

/** The same commands through `trove serve` on one backend; the server's peak RSS is its VmHWM. */
async function throughServe(label: string, data: string, backend: Backend): Promise<{ backend: Backend; run: TroveRun; hwmKb: number }> {
  const serverStore = join(WORK, `serve-${label}`);
  let serverArgs: string[];
  let serverEnv: NodeJS.ProcessEnv = {};
  let warm: string[] = [];
  if (backend === 'embedded') {
    serverArgs = ['--store', serverStore];
    warm = [join(serverStore, 'packs'), join(serverStore, 'blobs')];
  } else {
    const env = startServices();
    const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, '_');
    const database = await createDatabase(env.TROVE_TEST_DATABASE_URL, `bench_${slug}`);
    serverArgs = ['--database', database, '--blobs', `s3://bench-${slug.replace(/_/g, '-')}`, '--s3-endpoint', env.TROVE_TEST_S3_ENDPOINT];
    serverEnv = { AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY, AWS_REGION: env.AWS_REGION };
  }
  console.log(`  trove via serve (${BACKEND_NAME[backend]}): log, re-log, download, verify, re-log 1% changed, diff ${label}`);
  const server = await startServe(serverArgs, serverEnv);
  const clientCache = join(WORK, `serve-client-cache-${backend}`);
  try {
    // The client's stat cache in the bench's folder (a server client keeps it in ~/.cache/trove otherwise).
    const cli = (stdoutFile: string | undefined, ...a: string[]) => run(process.execPath, [CLI, '--server', server.url, '--project', 'bench', ...a], WORK, { TROVE_CACHE_DIR: clientCache }, [], stdoutFile);
    const result = troveSequence(label, data, `serve-${backend}`, cli, warm);
    const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))?.[1] ?? 0);
    console.log(`  trove serve (${BACKEND_NAME[backend]}) ${label}: peak RSS ${(hwmKb / 1024).toFixed(0)} MiB`);
    return { backend, run: result, hwmKb };
  } finally {
    await server.stop();
    rmSync(serverStore, { recursive: true, force: true });
    rmSync(clientCache, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!existsSync(TIME)) {
    console.error('GNU time is not installed; run: apt-get install -y time (the benchmark measures peak RSS with it).');
    process.exit(1);
  }
  if (!troveOnly) ensureDvc();
  if (!existsSync(CLI)) execFileSync(process.execPath, ['esbuild.js', '--production'], { cwd: ROOT });
  stopServices(); // leftovers of an interrupted run into the same folder
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  if (backends.length && !extraFiles && !million) console.log('note: --serve and --serve-pg apply to the --million and --files=N sets only');
  try {
    const files = small ? 1000 : 10_000;
    const bigBytes = small ? 64 << 20 : GIB;
    if (!onlyFiles) {
      await compare(`${files / 1000}k-x-4KiB`, (dir) => makeFiles(dir, files, 4096, 500), false);
      await compare(`${bigBytes >> 20}MiB-file`, (dir) => makeBig(dir, bigBytes), false);
    }
    if (extraFiles > 0) await compare(`${extraFiles / 1000}k-x-1KiB`, (dir) => makeFiles(dir, extraFiles, 1024, 1000), true);
    if (million) await compare('1M-x-1KiB', (dir) => makeFiles(dir, 1_000_000, 1024, 1000), true);
  } finally {
    stopServices();
    rmSync(WORK, { recursive: true, force: true });
  }
  const peerLine = troveOnly ? 'peer: DVC not run (--trove-only)' : `peer: DVC ${spawnSync(DVC, ['--version'], { encoding: 'utf8' }).stdout.trim()} with a local remote`;
  console.log(`\none run each, milliseconds; ${peerLine}; RSS: the Trove command's peak (a server row: the server's)`);
  console.log(`load average (1, 5, 15 min) at the start ${startLoad}, at the end ${loadNow()}; ${cpus().length} CPUs`);
  const head = ['operation'.padEnd(OP_WIDTH), 'trove'.padStart(9), 'peer'.padStart(9), 'ratio'.padStart(7), 'RSS MiB'.padStart(8), 'target'.padStart(20), '  peer command'];
  console.log(head.join(''));
  let allMet = true;
  for (const r of rows) {
    allMet &&= met(r);
    console.log(formatRow(r));
  }
  console.log(allMet ? '\nall targets met' : '\nsome targets missed');
  if (!allMet) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  stopServices();
  process.exit(1);
});

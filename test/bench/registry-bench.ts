/**
 * Embedded-store benchmark against Debian's restic and cp, on data it builds itself, in one run:
 *   1. log 10,000 files of 4 KiB           vs  restic backup into a fresh repository
 *   2. re-log the same files unchanged      vs  restic backup again (parent snapshot)
 *   3. log one 1 GiB file                   vs  restic backup into a fresh repository
 *   4. download the 10,000-file version     vs  cp -r into an empty folder
 * The two tools of a row run in turn, A B A B, BENCH_REPEAT pairs (default 3; the download row,
 * the noisiest, 2 x BENCH_REPEAT + 1): each pair gives a ratio and a row quotes the median of
 * its pair ratios (and the median times). Before each timed command dirty pages are flushed and
 * the benchmark waits until the disk has been idle for a second. The 1 GiB writes come last, so
 * that no timed command runs right after another tool's 1 GiB write. Trove runs as the built CLI
 * (node dist/cli.js), a fresh process each time, as a user would run it.
 * Usage: node --import tsx test/bench/registry-bench.ts [--small]   (--small: 1,000 files, 64 MiB)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBenchData } from './benchData';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const small = process.argv.includes('--small');
const FILES = small ? 1000 : 10_000;
const BIG = small ? 64 << 20 : 1 << 30;
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const DOWNLOAD_PAIRS = 2 * REPEAT + 1;
const DISK = diskOf(tmpdir());

/** The block device holding `dir` (e.g. vda), whose busy time /sys/block/<dev>/stat reports. */
function diskOf(dir: string): string | undefined {
  const source = spawnSync('df', ['--output=source', dir], { encoding: 'utf8' }).stdout.trim().split('\n').pop() ?? '';
  const dev = source.replace(/^\/dev\//, '').replace(/p?\d+$/, '');
  return existsSync(`/sys/block/${dev}/stat`) ? dev : existsSync(`/sys/block/${source.replace(/^\/dev\//, '')}/stat`) ? source.replace(/^\/dev\//, '') : undefined;
}

/**
 * Waits until the disk has been idle for a second (its busy-time counter stops moving), at most
 * 30 s: a write-back still running from the last command would be billed to whichever tool
 * comes next.
 */
function waitForIdleDisk(): void {
  if (!DISK) return;
  const busy = () => Number(readFileSync(`/sys/block/${DISK}/stat`, 'utf8').trim().split(/\s+/)[9]);
  const deadline = Date.now() + 30_000;
  let last = busy();
  let quietSince = Date.now();
  while (Date.now() < deadline && Date.now() - quietSince < 1000) {
    spawnSync('sleep', ['0.2']);
    const now = busy();
    if (now !== last) quietSince = Date.now();
    last = now;
  }
}

function need(cmd: string): void {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) {
    console.error(`${cmd} is not installed; run: apt-get install -y restic (the benchmark compares against it).`);
    process.exit(1);
  }
}

/**
 * Times one command. Dirty pages are flushed first so that no run pays for the previous one's
 * writeback; nothing is deleted until the end, because this disk is mounted with `discard` and
 * a large delete slows the file creations that follow it.
 */
function time(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, warm: string[] = []): number {
  spawnSync('sync');
  waitForIdleDisk();
  // Inputs are read once first, so that neither tool pays for the other having evicted or
  // warmed the page cache (this machine reclaims idle pages on its own).
  for (const path of warm) spawnSync('sh', ['-c', `find "${path}" -type f -exec cat {} + > /dev/null`]);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], cwd: workDir });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

/** Commands run in the benchmark's own folder (not a git work tree, so no provenance is recorded). */
let workDir = tmpdir();

/** The middle value (the mean of the two middle ones for an even count). */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function main(): void {
  need('restic');
  if (!existsSync(CLI)) execFileSync(process.execPath, ['esbuild.js', '--production'], { cwd: ROOT });
  const work = mkdtempSync(join(tmpdir(), 'trove-bench-'));
  workDir = work;
  try {
    console.log(`building data: ${FILES} files of 4 KiB and one ${BIG >> 20} MiB file in ${work}`);
    const { folder, bigDir: bigFile } = makeBenchData(work, FILES, BIG);
    const resticEnv = { RESTIC_PASSWORD: 'bench', RESTIC_CACHE_DIR: join(work, 'restic-cache') };
    const results: Record<string, { trove: number[]; peer: number[] }> = {
      log: { trove: [], peer: [] }, relog: { trove: [], peer: [] }, big: { trove: [], peer: [] }, download: { trove: [], peer: [] },
    };
    /** One pair of a row: Trove then the peer, timed in turn (A B), so a row's runs go A B A B. */
    const pair = (key: string, trove: () => number, peer: () => number) => {
      results[key].trove.push(trove());
      results[key].peer.push(peer());
    };
    const troveIn = (store: string) => (warm: string[], ...args: string[]) => time(process.execPath, [CLI, '--store', store, '--project', 'bench', ...args], {}, warm);
    const resticInit = (repo: string) => execFileSync('restic', ['init', '--repo', repo, '-q'], { env: { ...process.env, ...resticEnv } });
    // 1-2. Log and re-log the small files: a fresh store and a fresh repository per pair.
    for (let i = 0; i < REPEAT; i++) {
      const trove = troveIn(join(work, `store${i}`));
      const repo = join(work, `restic${i}`);
      resticInit(repo);
      pair('log', () => trove([folder], 'log', folder, '--name', 'files', '--type', 'dataset', '--json'), () => time('restic', ['--repo', repo, 'backup', '-q', folder], resticEnv, [folder]));
      pair('relog', () => trove([folder], 'log', folder, '--name', 'files', '--type', 'dataset', '--json'), () => time('restic', ['--repo', repo, 'backup', '-q', folder], resticEnv, [folder]));
    }
    // 4. Download the 10,000 files against cp -r, before any 1 GiB write: the most sensitive row
    // to the disk's state, so more pairs.
    for (let i = 0; i < DOWNLOAD_PAIRS; i++) {
      const store = join(work, `store${i % REPEAT}`);
      pair('download', () => troveIn(store)([join(store, 'packs')], 'download', 'files:v0', '--root', join(work, `dl${i}`), '--json'),
        () => time('cp', ['-r', folder, join(work, `cp${i}`)], {}, [folder]));
    }
    // 3. The 1 GiB file, last.
    for (let i = 0; i < REPEAT; i++) {
      const repoBig = join(work, `restic-big${i}`);
      resticInit(repoBig);
      pair('big', () => troveIn(join(work, `store${i}`))([bigFile], 'log', bigFile, '--name', 'big', '--type', 'model', '--json'), () => time('restic', ['--repo', repoBig, 'backup', '-q', bigFile], resticEnv, [bigFile]));
    }
    const rows: [string, string, string, number][] = [
      [`log ${FILES} x 4 KiB`, 'log', 'restic backup', 0.7],
      [`re-log ${FILES} unchanged`, 'relog', 'restic backup (unchanged)', 0.25],
      [`log ${BIG >> 20} MiB file`, 'big', 'restic backup', 0.5],
      [`download ${FILES} files`, 'download', 'cp -r', 2],
    ];
    console.log(`\nmedians of ${REPEAT} pairs (download: ${DOWNLOAD_PAIRS}), milliseconds; ratio = median of the pairs' Trove/peer ratios (restic ${execFileSync('restic', ['version']).toString().split(' ')[1]})`);
    console.log(['task'.padEnd(28), 'trove'.padStart(9), 'peer'.padStart(9), 'ratio'.padStart(7), 'target'.padStart(8), '  pair ratios'.padEnd(30), '  peer command'].join(''));
    let allMet = true;
    for (const [label, key, peer, target] of rows) {
      const tr = median(results[key].trove);
      const pr = median(results[key].peer);
      const ratios = results[key].trove.map((t, i) => t / results[key].peer[i]);
      const ratio = median(ratios);
      allMet &&= ratio <= target;
      console.log([label.padEnd(28), tr.toFixed(0).padStart(9), pr.toFixed(0).padStart(9), ratio.toFixed(2).padStart(7), `<=${target}`.padStart(8), `  ${ratios.map((r) => r.toFixed(2)).join(' ')}`.padEnd(30), `  ${peer}${ratio <= target ? '' : '   (target missed)'}`].join(''));
    }
    console.log(allMet ? '\nall targets met' : '\nsome targets missed');
    if (!allMet) process.exitCode = 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();

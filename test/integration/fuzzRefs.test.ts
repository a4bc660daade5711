/**
 * Fuzzed references through the CLI: whatever a user types as a reference or alias, every command
 * ends with exit code 0, 1 or 2, and a failure is one line on stderr without a stack trace.
 * Most cases call the CLI's main() in this process (its whole code path after start-up); a
 * sample runs as real `trove` processes. The generator is seeded, so a failure repeats.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { main } from '../../src/cli/main';
import { logArtifact } from '../../src/core/operations';
import { LocalRegistry } from '../../src/store/localRegistry';
import { ensureBuilt, tempDir, writeTree } from '../helpers';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const CASES = 400; // references; each goes through several commands
const PROCESSES = 12;

function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  'p', 'd', 'v0', 'v1', 'best', 'latest', 'missing', '', ':', '/', '//', '::', '.', '..', '../..', 'constructor', '__proto__', 'toString',
  'hasOwnProperty', 'v999999999999', 'v-1', 'V1', 'v01', 'ü', '😀', '\u0000x', '\t', ' ', '\n', '%2F', '\\', '*', '?', '#', '@', '$HOME',
  'a'.repeat(300), '-', '--', '-h', '--json', '=', 'p/d:v0', 'e/p/d:best', 'p/d/x/y:z', ':latest', 'trove://p/d', '\u202e', '\ud800',
];

function fuzzRef(next: () => number): string {
  let out = '';
  const parts = 1 + Math.floor(next() * 5);
  for (let i = 0; i < parts; i++) {
    if (next() < 0.15) out += String.fromCharCode(Math.floor(next() * 0x3000));
    else out += PIECES[Math.floor(next() * PIECES.length)];
  }
  // argv cannot hold NUL: the shell would have cut it there.
  return out.replace(/\u0000/g, '');
}

let t: ReturnType<typeof tempDir>;
let store: string;
before(async () => {
  t = tempDir('trove-fuzz-');
  ensureBuilt();
  store = join(t.dir, 'store');
  const reg = new LocalRegistry(store);
  const folder = writeTree(join(t.dir, 'data'), { 'a.txt': 'a', 'sub/b.txt': 'b' });
  await logArtifact(reg, { project: 'p', name: 'd', type: 'dataset', content: { dirs: [{ absPath: folder }], files: [], references: [] }, aliases: ['best'], cacheDir: join(store, 'cache') });
  writeTree(folder, { 'a.txt': 'changed' });
  await logArtifact(reg, { project: 'p', name: 'd', type: 'dataset', content: { dirs: [{ absPath: folder }], files: [], references: [] }, cacheDir: join(store, 'cache') });
  await reg.close();
});
after(() => t.cleanup());

const commands = (ref: string, out: string): string[][] => [
  ['show', ref], ['ls', ref], ['download', ref, '--root', out], ['lineage', ref], ['verify', ref], ['diff', ref, 'p/d:v0'],
  ['alias', 'add', ref, 'fuzzed'], ['alias', 'rm', 'p/d', ref], ['alias', 'add', 'p/d:v0', ref],
];

function check(args: string[], code: number, stderr: string): string | undefined {
  const what = JSON.stringify(args);
  if (![0, 1, 2].includes(code)) return `${what}: exit code ${code}`;
  if (/\n\s+at |Unexpected error|unexpected error/.test(stderr)) return `${what}: ${stderr}`;
  if (code !== 0 && stderr.trim().split('\n').length !== 1) return `${what}: not one line: ${stderr}`;
  return undefined;
}

test(`${CASES} fuzzed references through every command that takes one: exit 0, 1 or 2, one line, no stack trace`, async () => {
  const next = random(11);
  const problems: string[] = [];
  const codes = new Map<number, number>();
  const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  for (let i = 0; i < CASES; i++) {
    const ref = fuzzRef(next);
    const out = join(t.dir, `out-${i}`);
    for (const args of commands(ref, out)) {
      let stderr = '';
      process.stdout.write = (() => true) as typeof process.stdout.write;
      process.stderr.write = ((chunk: string | Uint8Array) => {
        stderr += chunk.toString();
        return true;
      }) as typeof process.stderr.write;
      let code: number;
      try {
        code = await main(['--store', store, '--project', 'p', ...args]);
      } catch (e) {
        code = -1;
        stderr += `thrown: ${(e as Error).stack}`;
      } finally {
        process.stdout.write = write.out;
        process.stderr.write = write.err;
      }
      codes.set(code, (codes.get(code) ?? 0) + 1);
      const problem = check(args, code, stderr);
      if (problem) problems.push(problem);
    }
    rmSync(out, { recursive: true, force: true });
  }
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} problems`);
  assert.ok((codes.get(0) ?? 0) > 0 && (codes.get(1) ?? 0) > 0 && (codes.get(2) ?? 0) > 0, `all three exit codes occur: ${JSON.stringify([...codes])}`);
});

test(`${PROCESSES} fuzzed references as real trove processes`, () => {
  const next = random(23);
  const problems: string[] = [];
  for (let i = 0; i < PROCESSES; i++) {
    const ref = fuzzRef(next);
    const all = commands(ref, join(t.dir, `proc-out-${i}`));
    const args = all[i % all.length];
    const r = spawnSync(process.execPath, [CLI, '--store', store, '--project', 'p', ...args], { encoding: 'utf8', env: { ...process.env, TROVE_RUN_ID: '' } });
    const problem = check(args, r.status ?? -1, r.stderr);
    if (problem) problems.push(problem);
  }
  assert.deepEqual(problems, []);
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'trove-test-'): { dir: string; cleanup: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes `files` (relative path -> content) under `root`. */
export function writeTree(root: string, files: Record<string, string | Buffer>): string {
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, ...path.split('/'));
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return root;
}

/** The project's folder. */
export const ROOT = join(__dirname, '..');
/** The CLI bundle the tests run as a user would. */
export const CLI = join(ROOT, 'dist', 'cli.js');

function newestSourceMs(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSourceMs(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Builds the bundles (esbuild.js) when dist/cli.js is missing or older than a file of src/, and
 * only then. The stages build before they test, and test files run two at a time: a file that
 * rebuilt unconditionally rewrote dist/cli.js while another file's test ran it, which then
 * exited 0 having printed nothing (seen in a loaded run of the unit stage).
 */
export function ensureBuilt(): string {
  const built = statSync(CLI, { throwIfNoEntry: false });
  if (!built || built.mtimeMs < newestSourceMs(join(ROOT, 'src'))) {
    const r = spawnSync(process.execPath, ['esbuild.js'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`node esbuild.js failed: ${r.stderr}`);
  }
  return CLI;
}

/** Starts `server` on 127.0.0.1 at a free port; its base URL. */
export async function listenLoopback(server: import('node:http').Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
}

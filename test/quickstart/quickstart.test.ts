/**
 * The README's quick start, as a newcomer runs it: a fresh `git clone` into a folder only root may
 * enter (like root's mode-700 home), then
 *   - `npm start` with no display: it installs the npm packages, builds, creates the demo, prints
 *     the URL and serves VS Code with Trove on it until Ctrl+C (checked in Chromium: the Trove view
 *     shows the demo's projects), then stops cleanly on SIGINT;
 *   - `npm test`: the full suite cannot run inside itself, so this runs it as the README says, from
 *     the clone, limited to the server stage (TROVE_STAGES=20-server), the one that failed from a
 *     mode-700 folder (PostgreSQL's user could not reach its data); and it checks that CI's
 *     `.ci/run` is exactly `npm test` and that `npm test` runs every stage, so CI runs the rest of
 *     the quick start from its own clean clone.
 * Needs the code-server harness of stage 30 (TROVE_HARNESS, default .harness/); ports from
 * TROVE_CS_PORT, PGPORT, RGW_PORT, MON_V2_PORT, MON_V1_PORT.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { tempDir } from '../helpers';

const ROOT = join(__dirname, '..', '..');
const HARNESS = process.env.TROVE_HARNESS ?? join(ROOT, '.harness');
// Stage 30's code-server has stopped by now: the demo takes its port.
const PORT = Number(process.env.TROVE_CS_PORT ?? 8090);

/** The environment of a newcomer's shell: no display, no npm or Trove variables of the outer run. */
function newcomerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // NODE_TEST_CONTEXT would make the clone's own node:test runs believe they are nested in this one.
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|TROVE_|NODE_TEST_CONTEXT$|DISPLAY$|WAYLAND_DISPLAY$|NODE_OPTIONS$|INIT_CWD$)/.test(k)) env[k] = v;
  for (const k of ['PGPORT', 'RGW_PORT', 'MON_V2_PORT', 'MON_V1_PORT']) if (process.env[k]) env[k] = process.env[k];
  return { ...env, TROVE_HARNESS: HARNESS, ...extra };
}

describe("the README's quick start from a clean clone in a mode-700 folder", () => {
  let t: ReturnType<typeof tempDir>;
  let clone: string;
  before(() => {
    t = tempDir('trove-quickstart-');
    const closed = join(t.dir, 'home');
    mkdirSync(closed);
    chmodSync(closed, 0o700);
    clone = join(closed, 'trove');
    const cloned = spawnSync('git', ['clone', '--quiet', ROOT, clone], { encoding: 'utf8' });
    assert.equal(cloned.status, 0, cloned.stderr);
    assert.equal(statSync(closed).mode & 0o777, 0o700);
    assert.ok(!existsSync(join(clone, 'node_modules')) && !existsSync(join(clone, 'dist')), 'a clean clone');
  });
  after(() => t.cleanup());

  test('the README gives exactly these two commands', () => {
    const readme = readFileSync(join(clone, 'README.md'), 'utf8');
    const block = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    assert.deepEqual(block.trim().split('\n').map((l) => l.replace(/#.*$/, '').trim()), ['npm start', 'npm test']);
  });

  test('npm start with no display prints the URL, serves VS Code with Trove until Ctrl+C, then stops', async () => {
    const child = spawn('npm', ['start'], { cwd: clone, env: newcomerEnv({ TROVE_DEMO_PORT: String(PORT) }), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL after 8 minutes:\n${output.slice(-3000)}`)), 8 * 60_000);
        const look = () => {
          const m = /Trove demo: open (http:\/\/127\.0\.0\.1:\d+\/\?folder=\S+)/.exec(output);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        };
        child.stdout.on('data', look);
        void exited.then((code) => reject(new Error(`npm start exited with ${code} before printing the URL:\n${output.slice(-3000)}`)));
      });
      assert.equal(url, `http://127.0.0.1:${PORT}/?folder=${join(clone, 'demo', 'workspace')}`);
      // Still serving a while later, and the page is VS Code with Trove showing the demo store.
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(child.exitCode, null, 'npm start keeps serving');
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        await page.goto(url);
        await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
        await page.locator('.activitybar .action-item a[aria-label^="Trove"]').click({ timeout: 90_000 });
        const tree = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Artifacts' }) });
        await tree.locator('.monaco-list-row', { hasText: 'mnist-demo' }).first().waitFor({ timeout: 90_000 });
      } finally {
        await browser.close();
      }
      // Ctrl+C: the terminal sends SIGINT to the whole foreground process group.
      process.kill(-child.pid!, 'SIGINT');
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running 30 s after Ctrl+C'), 30_000))]);
      // npm, in the same process group, ends by the signal itself (or with 130), the script with 0.
      assert.ok(code === 0 || code === 130 || code === 'SIGINT', `npm start ended with ${code}:\n${output.slice(-2000)}`);
      assert.match(output, /code-server stopped/);
      const health = await fetch(`http://127.0.0.1:${PORT}/healthz`).then(() => 'answered', () => 'closed');
      assert.equal(health, 'closed', 'nothing listens on the port after Ctrl+C');
    } finally {
      // Whatever happened above, leave nothing of the demo running.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the process group is gone already
      }
      spawnSync('bash', [join(clone, 'test', 'e2e', 'code-server.sh'), 'stop', join(clone, '.harness', 'demo-run')], { env: newcomerEnv() });
    }
  });

  test('npm test from the clone: CI runs exactly it; its server stage passes from the mode-700 folder', () => {
    assert.equal(readFileSync(join(clone, '.ci', 'run'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#') && !/^(set|cd) /.test(l)).join('\n'), 'npm test');
    const pkg = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8'));
    assert.equal(pkg.scripts.test, 'bash test/run-all.sh');
    const r = spawnSync('npm', ['test'], { cwd: clone, env: newcomerEnv({ TROVE_STAGES: '20-server' }), encoding: 'utf8', timeout: 20 * 60_000 });
    const tail = `${r.stdout}\n${r.stderr}`.slice(-4000);
    assert.equal(r.status, 0, tail);
    const summary = /^(\d+) passed, (\d+) failed/m.exec(r.stdout);
    assert.ok(summary && Number(summary[1]) > 20 && summary[2] === '0', tail);
    console.log(`  npm test (server stage) from ${clone}: ${summary[0]}`);
  });
});

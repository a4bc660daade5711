// Runs the extension-host mocha tests (dist/extension-tests.js) inside code-server's real Node
// extension host, as VS Code's own browser integration runner does: the workbench URL carries a
// `payload` with extensionDevelopmentPath + extensionTestsPath, and the page exposes
// codeAutomationLog (extension-host console) and codeAutomationExit (the exit code).
// The tests print `TROVE_EXTHOST_RESULT <passed> <failed> <pending>` when mocha is done; that line ends
// the run too, since code-server 4.139.1 does not always call codeAutomationExit after the host stops.
// Scored by ./score.mjs: exit 0 only when the suite reported, failed nothing and ran a test.
// Needs code-server started with --vscode-option enable-smoke-test-driver.
// Usage: node run-exthost.mjs <extensionDir> <testsModule> <workspaceFolder>   (env CS_PORT; RESULT_LABEL names the suite)
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import { parseResultLine, score } from './score.mjs';

const [extDev, extTests, folder] = process.argv.slice(2).map((p) => path.resolve(p));
const host = `127.0.0.1:${process.env.CS_PORT || '8090'}`;
const remote = (p) => `vscode-remote://${host}${p}`;
const payload = JSON.stringify([['extensionDevelopmentPath', remote(extDev)], ['extensionTestsPath', remote(extTests)], ['skipWelcome', 'true']]);
const url = `http://${host}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(payload)}`;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'trove-chrome-'));
const t0 = Date.now();
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1400, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let code = 1;
let result;
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  if (process.env.VERBOSE) page.on('console', (m) => console.log(`[browser:${m.type()}]`, m.text().slice(0, 400)));
  const done = new Promise((resolve) => {
    page.exposeFunction('codeAutomationLog', (type, args) => {
      const line = util.format(...args);
      if (!process.env.VERBOSE && /open-vsx\.org|ENOTFOUND|ERR_NAME_NOT_RESOLVED|marketplace/.test(line)) return; // offline gallery noise
      (type === 'error' ? console.error : console.log)(line);
      const r = parseResultLine(line);
      if (r) {
        result = r;
        setTimeout(() => resolve(0), 500);
      }
    });
    page.exposeFunction('codeAutomationExit', (exitCode) => resolve(exitCode));
  });
  await page.goto(url);
  const timeoutMs = Number(process.env.TEST_TIMEOUT_MS || 300000);
  code = await Promise.race([done, new Promise((r) => setTimeout(() => r('timeout'), timeoutMs))]);
  if (code === 'timeout') {
    console.error('extension-host tests: timed out waiting for codeAutomationExit');
    await page.screenshot({ path: path.join(process.env.SHOTS || os.tmpdir(), 'exthost-timeout.png') }).catch(() => {});
    code = 2;
  }
} finally {
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
const label = process.env.RESULT_LABEL || 'extension-host mocha';
const s = score(result, code);
for (const note of s.notes) console.log(`${label}: ${note}`);
console.log(`RESULT ${s.passed} ${s.failed} ${s.skipped} (${label})`);
console.log(`extension-host tests: exit code ${code} after ${((Date.now() - t0) / 1000).toFixed(1)}s`);
process.exit(s.failed ? 1 : 0);

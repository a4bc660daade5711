// Runs the test extension's mocha suite inside code-server's extension host, as VS Code's own
// browser integration runner does (after ../../../../shared/reference/vscode-e2e/run-exthost-tests.mjs):
// open the workbench with a `payload` naming extensionDevelopmentPath + extensionTestsPath, and
// expose codeAutomationExit / codeAutomationLog, which the workbench calls. The suite's
// `TROVE_LSP_E2E_RESULT <passed> <failed>` line also ends the run: code-server 4.139.1 does not
// always call codeAutomationExit after the extension host stops. Prints "RESULT <passed> <failed>".
// Usage: node runTests.mjs <extensionDir> <testsIndex> <workspaceFolder>   (env CS_PORT)
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';

const [extDev, extTests, folder] = process.argv.slice(2);
const host = `127.0.0.1:${process.env.CS_PORT}`;
const remote = (p) => `vscode-remote://${host}${path.resolve(p)}`;
const payload = JSON.stringify([['extensionDevelopmentPath', remote(extDev)], ['extensionTestsPath', remote(extTests)], ['skipWelcome', 'true']]);
const url = `http://${host}/?folder=${encodeURIComponent(path.resolve(folder))}&payload=${encodeURIComponent(payload)}`;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'trove-lsp-chrome-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let code = 1;
let result;
try {
  const page = ctx.pages()[0] || (await ctx.newPage());
  if (process.env.VERBOSE) page.on('console', (m) => console.log(`[browser:${m.type()}]`, m.text()));
  const done = new Promise((resolve) => {
    page.exposeFunction('codeAutomationLog', (type, args) => {
      const line = util.format(...args);
      if (type === 'error' && /open-vsx\.org|ENOTFOUND|ERR_NAME_NOT_RESOLVED/.test(line)) return; // offline gallery noise
      (type === 'error' ? console.error : console.log)(line);
      const m = /TROVE_LSP_E2E_RESULT (\d+) (\d+)/.exec(line);
      if (m) {
        result = { passed: Number(m[1]), failed: Number(m[2]) };
        setTimeout(() => resolve(result.failed ? 1 : 0), 500);
      }
    });
    page.exposeFunction('codeAutomationExit', (exitCode) => resolve(exitCode));
  });
  await page.goto(url);
  code = await Promise.race([done, new Promise((r) => setTimeout(() => r('timeout'), Number(process.env.TEST_TIMEOUT_MS || 240000)))]);
  if (code === 'timeout') {
    console.error('timed out waiting for the extension tests');
    code = 2;
  }
} finally {
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(result ? `RESULT ${result.passed} ${result.failed} (language client in code-server)` : 'RESULT 0 1 (language client in code-server: the suite did not report)');
process.exit(code);

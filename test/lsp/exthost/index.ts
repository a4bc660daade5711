/**
 * Mocha inside the extension host: run() is called by VS Code with the test extension loaded.
 * It also prints `TROVE_EXTHOST_RESULT <passed> <failed> <pending>`, which ends the run for test/e2e/run-exthost.mjs,
 * since code-server 4.139.1 does not always call codeAutomationExit after the host stops.
 */
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const skip = process.env.TROVE_LSP_E2E_SKIP;
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60000, reporter: 'spec', ...(skip ? { grep: skip, invert: true } : {}) });
  mocha.addFile(path.join(__dirname, 'languageClient.test.js'));
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      console.log(`TROVE_EXTHOST_RESULT ${runner.stats?.passes ?? 0} ${failures} ${runner.stats?.pending ?? 0}`);
      if (failures > 0) reject(new Error(`${failures} tests failed.`));
      else resolve();
    });
  });
}

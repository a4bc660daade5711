/**
 * Entry point VS Code's extension host calls for `extensionTestsPath` (bundled by esbuild to
 * dist/extension-tests.js): runs the mocha suites inside the real extension host.
 */
import Mocha from 'mocha';
import { registerCommandSuites } from './commands.test';
import { registerScaleSuites } from './scale.test';
import { registerViewSuites } from './views.test';

export function run(): Promise<void> {
  // TROVE_EXTHOST_GREP (in code-server's environment, which the extension host inherits) runs only
  // the tests whose full title matches it, e.g. the million-file memory test on its own.
  const grep = process.env.TROVE_EXTHOST_GREP;
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60000, reporter: 'spec', ...(grep ? { grep } : {}) });
  // The suites are bundled into this file, so give them mocha's globals by hand instead of addFile.
  mocha.suite.emit('pre-require', globalThis, 'extension-tests', mocha);
  registerViewSuites();
  registerCommandSuites();
  registerScaleSuites();
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      // The runner (test/e2e/run-exthost.mjs) reads this line: code-server 4.139.1 does not always
      // deliver the workbench's exit callback after the extension host stops.
      console.log(`TROVE_EXTHOST_RESULT ${runner.stats?.passes ?? 0} ${failures} ${runner.stats?.pending ?? 0}`);
      if (failures > 0) reject(new Error(`${failures} extension-host test(s) failed.`));
      else resolve();
    });
  });
}

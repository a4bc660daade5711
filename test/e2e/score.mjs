// How a mocha run inside the extension host is scored (test/e2e/run-exthost.mjs): the suite prints
// `TROVE_EXTHOST_RESULT <passed> <failed> [<pending>]` and the workbench may report an exit code.
// A run passes only when it reported, failed nothing, exited 0 and ran at least one test; mocha's
// failures include failing hooks (before/after). Pending (skipped) tests are counted as skipped.

/** Reads the suite's result line, or undefined when `line` is not one. */
export function parseResultLine(line) {
  const m = /TROVE_EXTHOST_RESULT (\d+) (\d+)(?: (\d+))?/.exec(line);
  return m ? { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3] ?? 0) } : undefined;
}

/**
 * The stage's score and a reason for every failure added here.
 * @param {{passed:number,failed:number,skipped:number}|undefined} result what the suite printed
 * @param {number|string} exitCode the workbench's exit code, 'timeout', or 0 when only the line came
 */
export function score(result, exitCode) {
  const notes = [];
  if (!result) {
    notes.push(exitCode === 'timeout' ? 'the suite did not report before the timeout' : 'the suite did not report');
    return { passed: 0, failed: 1, skipped: 0, notes };
  }
  let { passed, failed } = result;
  if (exitCode !== 0 && failed === 0) { failed = 1; notes.push(`the extension host exited with ${exitCode} although no test failed`); }
  if (passed + failed === 0) { failed = 1; notes.push('no test ran'); }
  return { passed, failed, skipped: result.skipped, notes };
}

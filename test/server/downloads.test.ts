/** Downloads through `trove serve` (issue 11): links in the target (item 7), the download's run where the token may write (item 17). */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HttpRegistry } from '../../src/client/httpRegistry';
import { writeTree } from '../helpers';
import { checkLinksInTarget } from '../linkTarget';
import { runCli, startServe, tempDir, type ServeProcess } from './harness';

describe('downloads through trove serve', () => {
  let server: ServeProcess;
  let store: string;
  let token: string;
  const env = (extra: NodeJS.ProcessEnv = {}) => ({ TROVE_CACHE_DIR: tempDir('trove-dl-cache-'), TROVE_STORE: '', TROVE_SERVER: '', TROVE_RUN_ID: '', TROVE_TOKEN: token, ...extra });

  before(async () => {
    store = tempDir('trove-dl-srv-');
    const w = await runCli(['token', 'create', '--store', store, '--project', 'proj', '--scope', 'write', '--json']);
    token = (JSON.parse(w.stdout) as { token: string }).token;
    server = await startServe(['--store', store, '--require-auth']);
    const data = writeTree(tempDir('trove-dl-data-'), { 'top.txt': 'top', 'sub/a.txt': 'a in sub' });
    const log = await runCli(['log', data, '--name', 'd', '--type', 'dataset', '--project', 'proj', '--server', server.url], env());
    assert.equal(log.code, 0, log.stderr);
  });
  after(async () => {
    await server?.stop();
  });

  test('a download into a target holding links never writes through them (item 7)', async () => {
    const registry = new HttpRegistry({ url: server.url, token });
    try {
      await checkLinksInTarget(registry, tempDir('trove-dl-links-'), 'proj/d', (root, force) =>
        runCli(['download', 'proj/d', '--root', root, '--server', server.url, ...(force ? ['--force'] : [])], env()));
    } finally {
      await registry.close();
    }
  });

  test('a download run from a folder named after another project is recorded in the artifact\'s project, and never fails for it (item 17)', async () => {
    // The current folder's name is the default project; this token may write only to proj.
    const cwd = join(tempDir('trove-dl-cwd-'), 'someone-else');
    mkdirSync(cwd);
    const r = await runCli(['download', 'proj/d:v0', '--root', join(cwd, 'out'), '--server', server.url, '--json'], env({ TROVE_PROJECT: '' }), cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'recorded without a warning');
    assert.equal(readFileSync(join(cwd, 'out', 'sub', 'a.txt'), 'utf8'), 'a in sub');
    const show = await runCli(['show', 'proj/d:v0', '--json', '--server', server.url], env());
    const usedBy = (JSON.parse(show.stdout) as { usedBy: { jobType: string }[] }).usedBy;
    assert.ok(usedBy.some((u) => u.jobType === 'download'), 'the download is an input of a run');
    // A token that may write nowhere: the download still succeeds, and says so.
    const reader = (JSON.parse((await runCli(['token', 'create', '--store', store, '--project', '*', '--scope', 'read', '--json'])).stdout) as { token: string }).token;
    const ro = await runCli(['download', 'proj/d:v0', '--root', join(cwd, 'out2'), '--server', server.url], env({ TROVE_TOKEN: reader }), cwd);
    assert.equal(ro.code, 0, ro.stderr);
    assert.match(ro.stderr, /not recorded as a run/);
    assert.equal(readFileSync(join(cwd, 'out2', 'top.txt'), 'utf8'), 'top');
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, startServe, tempDir, type ServeProcess } from './harness';

describe('the trove CLI against a server (--server, TROVE_SERVER, TROVE_TOKEN)', () => {
  let server: ServeProcess;
  let store: string;
  let writeToken: string;
  let readToken: string;
  let data: string;
  const env = () => ({ TROVE_CACHE_DIR: tempDir('trove-cli-cache-'), TROVE_PROJECT: 'cli', TROVE_STORE: '', TROVE_SERVER: '', TROVE_TOKEN: '' });

  before(async () => {
    store = tempDir('trove-cli-srv-');
    const w = await runCli(['token', 'create', '--store', store, '--project', 'cli', '--scope', 'write', '--json']);
    const r = await runCli(['token', 'create', '--store', store, '--project', 'cli', '--scope', 'read', '--json']);
    writeToken = (JSON.parse(w.stdout) as { token: string }).token;
    readToken = (JSON.parse(r.stdout) as { token: string }).token;
    server = await startServe(['--store', store, '--require-auth']);
    data = tempDir('trove-cli-data-');
    mkdirSync(join(data, 'sub'));
    writeFileSync(join(data, 'a.csv'), 'x,y\n1,2\n');
    writeFileSync(join(data, 'sub', 'b.bin'), randomBytes(3 << 20));
  });
  after(async () => {
    await server?.stop();
  });

  test('log, ls, show, download through --server with TROVE_TOKEN', async () => {
    const e = { ...env(), TROVE_TOKEN: writeToken };
    const log = await runCli(['log', data, '--name', 'table', '--type', 'dataset', '--alias', 'best', '--server', server.url, '--json'], e);
    assert.equal(log.code, 0, log.stderr);
    const out = JSON.parse(log.stdout) as Record<string, unknown>;
    assert.deepEqual(out, { ref: 'cli/table:v0', version: 0, digest: out.digest, created: true, files: 2, storedFiles: 2, size: 8 + (3 << 20) });
    const again = await runCli(['log', data, '--name', 'table', '--type', 'dataset', '--json'], { ...e, TROVE_SERVER: server.url });
    assert.equal((JSON.parse(again.stdout) as { created: boolean; storedFiles: number }).created, false);
    const ls = await runCli(['ls', 'cli/table', '--json', '--server', server.url], e);
    assert.deepEqual((JSON.parse(ls.stdout) as { version: number; aliases: string[] }[]).map((v) => [v.version, v.aliases]), [[0, ['latest', 'best']]]);
    const root = join(tempDir('trove-cli-dl-'), 'out');
    const dl = await runCli(['download', 'cli/table:best', '--root', root, '--json', '--server', server.url], { ...e, TROVE_TOKEN: readToken });
    assert.equal(dl.code, 0, dl.stderr);
    assert.match(dl.stderr, /read-only, so the download is not recorded as a run/);
    assert.deepEqual(readFileSync(join(root, 'sub', 'b.bin')), readFileSync(join(data, 'sub', 'b.bin')));
    const show = await runCli(['show', 'cli/table', '--json', '--server', server.url], { ...e, TROVE_TOKEN: readToken });
    assert.equal((JSON.parse(show.stdout) as { files: unknown[] }).files.length, 2);
  });

  test('without a token, or with a read token for a log: one clear line, exit 1', async () => {
    const none = await runCli(['ls', '--server', server.url], env());
    assert.equal(none.code, 1);
    assert.match(none.stderr, new RegExp(`^trove: Server ${server.url} refused the request while listing projects \\(401\\): This server requires a token`));
    assert.equal(none.stderr.trim().split('\n').length, 1);
    const ro = await runCli(['log', data, '--name', 'table2', '--type', 'dataset', '--server', server.url], { ...env(), TROVE_TOKEN: readToken });
    assert.equal(ro.code, 1);
    assert.match(ro.stderr, /^trove: Server .* refused the request while starting a run \(403\): This token is read-only/);
  });

  test('--server and --store together is a usage error; an unreachable server names itself', async () => {
    const both = await runCli(['ls', '--server', server.url, '--store', store], env());
    assert.equal(both.code, 2);
    assert.match(both.stderr, /either --server or --store/);
    const down = await runCli(['ls', '--server', 'http://127.0.0.1:9'], env());
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^trove: Cannot reach server http:\/\/127\.0\.0\.1:9 while listing projects \(ECONNREFUSED\)/);
  });

  test('trove run passes the server to the commands inside it', async () => {
    const cli = join(__dirname, '../../dist/cli.js');
    const r = await runCli(['run', '--job-type', 'train', '--server', server.url, '--json', '--', process.execPath, cli, 'download', 'cli/table', '--root', join(tempDir(), 'in-run'), '--json'],
      { ...env(), TROVE_TOKEN: writeToken });
    assert.equal(r.code, 0, r.stderr);
    const runId = (JSON.parse(r.stdout.trim().split('\n').pop()!) as { runId: string }).runId;
    const show = await runCli(['show', 'cli/table', '--json', '--server', server.url], { ...env(), TROVE_TOKEN: readToken });
    assert.ok((JSON.parse(show.stdout) as { usedBy: { runId: string }[] }).usedBy.some((u) => u.runId === runId), 'the download inside the run was recorded against it');
  });
});

test('trove serve stops cleanly on SIGTERM', async () => {
  const server = await startServe(['--store', tempDir('trove-sig-')]);
  const exited = new Promise<number | null>((r) => server.proc.once('exit', (code) => r(code)));
  server.proc.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('the SDK reaches a server: init({server, token}), logArtifact, useArtifact, download', async () => {
  const store = tempDir('trove-sdk-srv-');
  const w = await runCli(['token', 'create', '--store', store, '--project', 'sdk', '--scope', 'write', '--json']);
  const token = (JSON.parse(w.stdout) as { token: string }).token;
  const server = await startServe(['--store', store, '--require-auth']);
  const savedCache = process.env.TROVE_CACHE_DIR;
  process.env.TROVE_CACHE_DIR = tempDir('trove-sdk-cache-');
  try {
    const { init, Artifact } = await import('../../src/sdk/index');
    const data = tempDir('trove-sdk-data-');
    writeFileSync(join(data, 'weights.bin'), randomBytes(2 << 20));
    const producer = await init({ server: server.url, token, project: 'sdk', jobType: 'train' });
    const model = new Artifact('net', 'model', { metadata: { epochs: 3 } });
    model.addDir(data);
    const logged = await producer.logArtifact(model, { aliases: ['candidate'] });
    assert.equal(logged.ref, 'sdk/net:v0');
    await producer.finish();
    const consumer = await init({ server: server.url, token, project: 'sdk', jobType: 'evaluate' });
    const used = await consumer.useArtifact('net:candidate');
    assert.deepEqual(used.detail.metadata, { epochs: 3 });
    const root = join(tempDir(), 'model');
    await used.download({ root });
    assert.deepEqual(readFileSync(join(root, 'weights.bin')), readFileSync(join(data, 'weights.bin')));
    assert.equal(used.detail.createdBy?.jobType, 'train');
    await consumer.finish();
  } finally {
    if (savedCache === undefined) delete process.env.TROVE_CACHE_DIR;
    else process.env.TROVE_CACHE_DIR = savedCache;
    await server.stop();
  }
});

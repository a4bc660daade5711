/**
 * The W&B door with the real `wandb` client, against real `trove serve` processes: the seed's
 * snippets verbatim, dedupe (0 bytes sent again), aliases, the public API, references, a
 * three-step pipeline's lineage, interop both ways with the Trove CLI, and keys.
 * Backends: the embedded store always; PostgreSQL + Ceph RGW when the stage started them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { makeS3Client, s3SettingsFromEnv } from '../../src/core/s3';
import { CLI, runCli, scaleOutArgs, startServe, tempDir, uniqueName, type ServeProcess } from '../server/harness';
import { usageSnippet } from '../../src/shared/usageSnippets';
import { doorStats, py, PYTHON, runProcess, SCRIPTS, unsupported, wandbEnv } from './harness';

const ANON_KEY = 'k'.repeat(40);

interface Backend {
  name: string;
  args: () => Promise<string[]>;
}

const backends: Backend[] = [{ name: 'embedded', args: async () => ['--store', join(tempDir('trove-wandb-store-'), 'store')] }];
if (process.env.TROVE_TEST_DATABASE_URL) backends.push({ name: 'postgres+s3', args: async () => (await scaleOutArgs('wandb')).args });

function filesUnder(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, filesUnder(join(dir, e.name), rel));
    else out[rel] = readFileSync(join(dir, e.name)).toString('base64');
  }
  return out;
}

for (const backend of backends) {
  describe(`W&B door, ${backend.name}`, () => {
    let server: ServeProcess;
    const work = tempDir('trove-wandb-work-');
    const project = 'seed';
    const trove = async (args: string[]) => {
      const r = await runCli(['--server', server.url, '--json', ...args], { TROVE_TOKEN: '' });
      assert.equal(r.code, 0, `trove ${args.join(' ')}: ${r.stderr}`);
      return JSON.parse(r.stdout);
    };
    const env = (name: string, extra: NodeJS.ProcessEnv = {}) => wandbEnv(server.url, ANON_KEY, project, join(work, 'home', name), extra);

    before(async () => {
      server = await startServe(await backend.args());
    });
    after(async () => {
      await server?.stop();
    });

    test('the seed snippets: v0 logged, used and downloaded byte-identical in a second process, unchanged -> no version and 0 bytes, changed -> v1', async () => {
      const dir = join(work, 'seed');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'my-dataset.txt'), 'the first dataset\n');
      let r = await py('seed_dataset.py', [], env('create'), dir);
      assert.equal(r.code, 0, r.stderr);
      let v = await trove(['show', `${project}/my-dataset:latest`]);
      assert.equal(v.version, 0);
      assert.equal(v.type, 'dataset');
      assert.equal(v.createdBy?.jobType, 'dataset-creation');
      assert.deepEqual(v.files.map((f: { path: string }) => f.path), ['my-dataset.txt']);

      // A second process with a fresh cache: the bytes come from the server.
      const useDir = join(work, 'use');
      mkdirSync(useDir, { recursive: true });
      r = await py('seed_training.py', [], env('train'), useDir);
      assert.equal(r.code, 0, r.stderr);
      const got = readFileSync(join(r.values.ARTIFACT_DIR, 'my-dataset.txt'), 'utf8');
      assert.equal(got, 'the first dataset\n');
      v = await trove(['show', `${project}/my-dataset:v0`]);
      assert.deepEqual(v.usedBy.map((u: { jobType: string }) => u.jobType), ['model-training']);

      // Unchanged: the server answers COMMITTED, nothing is uploaded, no version appears.
      const before0 = await doorStats(server.url, ANON_KEY);
      r = await py('seed_dataset.py', [], env('relog'), dir);
      assert.equal(r.code, 0, r.stderr);
      const after0 = await doorStats(server.url, ANON_KEY);
      assert.equal(after0.artifactBytesReceived - before0.artifactBytesReceived, 0, '0 bytes uploaded for an unchanged re-log');
      assert.equal(after0.uploadUrlsIssued - before0.uploadUrlsIssued, 0);
      assert.equal(after0.dedupedArtifacts - before0.dedupedArtifacts, 1);
      let versions = await trove(['ls', `${project}/my-dataset`]);
      assert.equal(versions.length, 1);

      // Changed: v1, and only its bytes travel.
      writeFileSync(join(dir, 'my-dataset.txt'), 'the second dataset\n');
      r = await py('seed_dataset.py', [], env('change'), dir);
      assert.equal(r.code, 0, r.stderr);
      versions = await trove(['ls', `${project}/my-dataset`]);
      assert.deepEqual(versions.map((x: { version: number }) => x.version).sort(), [0, 1]);
      const after1 = await doorStats(server.url, ANON_KEY);
      assert.equal(after1.artifactBytesReceived - after0.artifactBytesReceived, 'the second dataset\n'.length);
      // The Trove CLI downloads the wandb-logged version byte-identical.
      const dl = join(work, 'trove-dl');
      await trove(['download', `${project}/my-dataset:v1`, '--root', dl]);
      assert.equal(readFileSync(join(dl, 'my-dataset.txt'), 'utf8'), 'the second dataset\n');
      assert.deepEqual(unsupported(server.stdout), []);
    });

    test('log_artifact with aliases, and wandb.Api().artifact("entity/project/name:v0").download()', async () => {
      const dir = join(work, 'aliases');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'my-dataset.txt'), 'aliased content\n');
      const r = await py('log_with_aliases.py', [join(dir, 'api-v0')], env('aliases'), dir);
      assert.equal(r.code, 0, r.stderr);
      const v = await trove(['show', `${project}/my-dataset:best`]);
      assert.deepEqual([...v.aliases].sort(), ['best', 'candidate', 'latest']);
      assert.equal(r.values.API_VERSION, 'v0');
      assert.equal(readFileSync(join(r.values.API_DIR, 'my-dataset.txt'), 'utf8'), 'the first dataset\n');
    });

    test('a three-step pipeline: trove lineage is exactly raw -> preprocess -> processed -> train -> model, with the job types', async () => {
      const dir = join(work, 'pipeline');
      mkdirSync(dir, { recursive: true });
      for (const step of [['ingest', '-', 'raw', 'dataset'], ['preprocess', 'raw', 'processed', 'dataset'], ['train', 'processed', 'model', 'model']]) {
        const r = await py('pipeline.py', step, env(`pipe-${step[0]}`), dir);
        assert.equal(r.code, 0, r.stderr);
      }
      const g = await trove(['lineage', `${project}/model:v0`, '--depth', '10']);
      // Run nodes are labelled "<job type>: <name>", versions "<name>:vN".
      const label = (id: string) => {
        const n = g.nodes.find((x: { id: string }) => x.id === id);
        return n.kind === 'run' ? `run:${n.label.split(':')[0]}` : n.label.replace(`${project}/`, '');
      };
      const edges = g.edges.map((e: { from: string; to: string }) => `${label(e.from)} -> ${label(e.to)}`).sort();
      assert.deepEqual(edges, [
        'processed:v0 -> run:train', 'raw:v0 -> run:preprocess', 'run:ingest -> raw:v0', 'run:preprocess -> processed:v0', 'run:train -> model:v0',
      ]);
      assert.equal(g.nodes.length, 6);
      // The run keeps the client's config and summary.
      const model = await trove(['show', `${project}/model:v0`]);
      const run = await (await fetch(`${server.url}/api/v1/runs/${model.createdBy.runId}`)).json() as { jobType: string; config: Record<string, unknown>; summary: Record<string, unknown>; status: string };
      assert.equal(run.jobType, 'train');
      assert.equal(run.config.step, 'train');
      assert.equal(run.config.lr, 0.01);
      assert.equal(run.summary.final, 1);
      assert.equal(run.status, 'finished');
    });

    test('interop: a version logged with trove log is used and downloaded by wandb byte-identical', async () => {
      const dir = join(work, 'interop');
      mkdirSync(join(dir, 'data', 'sub'), { recursive: true });
      writeFileSync(join(dir, 'data', 'a.txt'), 'alpha\n');
      writeFileSync(join(dir, 'data', 'sub', 'b.bin'), Buffer.from([0, 1, 2, 255, 254]));
      await trove(['--project', project, 'log', join(dir, 'data'), '--name', 'from-trove', '--type', 'dataset']);
      const r = await py('use_and_download.py', ['from-trove:latest', join(dir, 'out')], env('interop'), dir);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(filesUnder(join(dir, 'out')), filesUnder(join(dir, 'data')));
      const v = await trove(['show', `${project}/from-trove:v0`]);
      assert.deepEqual(v.usedBy.map((u: { jobType: string }) => u.jobType), ['consume']);
    });

    test('a version deleted with trove rm is one the wandb client cannot find; the version left still downloads', async () => {
      const dir = join(work, 'deleted');
      mkdirSync(join(dir, 'data'), { recursive: true });
      writeFileSync(join(dir, 'data', 'a.txt'), 'kept\n');
      await trove(['--project', project, 'log', join(dir, 'data'), '--name', 'to-delete', '--type', 'dataset']);
      writeFileSync(join(dir, 'data', 'a.txt'), 'deleted\n');
      await trove(['--project', project, 'log', join(dir, 'data'), '--name', 'to-delete', '--type', 'dataset']);
      const gone = await trove(['rm', `${project}/to-delete:v1`, '--yes']);
      assert.deepEqual(gone, { project, name: 'to-delete', deleted: [{ version: 1, aliases: ['latest'] }], latest: 0 });
      const r = await py('use_and_download.py', ['to-delete:v1', join(dir, 'out1')], env('deleted'), dir);
      assert.notEqual(r.code, 0, 'the wandb client cannot use a deleted version');
      assert.match(r.stderr, /not found|does not exist|was deleted/i);
      const latest = await py('use_and_download.py', ['to-delete:latest', join(dir, 'out0')], env('deleted'), dir);
      assert.equal(latest.code, 0, latest.stderr);
      assert.equal(readFileSync(join(dir, 'out0', 'a.txt'), 'utf8'), 'kept\n', 'latest moved to v0');
      // artifact.delete(): refused while the version has aliases of its own, unless delete_aliases=True.
      await trove(['alias', 'add', `${project}/to-delete:v0`, 'best']);
      const refused = await py('delete_artifact.py', ['to-delete:v0'], env('deleted'), dir);
      assert.equal(refused.code, 0, refused.stderr);
      assert.match(refused.values.ERROR ?? '', /has the aliases best; delete it with delete_aliases=True/);
      const deleted = await py('delete_artifact.py', ['to-delete:v0', 'delete_aliases'], env('deleted'), dir);
      assert.equal(deleted.values.DELETED, '1', deleted.stdout + deleted.stderr);
      const after = await runCli(['--server', server.url, 'ls', `${project}/to-delete`], { TROVE_TOKEN: '' });
      assert.match(after.stderr, /Artifact "to-delete" in project "seed" was deleted on /);
    });

    test('add_reference to a file:// path: recorded by checksum, downloaded by trove and by wandb', async () => {
      const dir = join(work, 'refs');
      mkdirSync(dir, { recursive: true });
      const target = join(dir, 'outside.bin');
      writeFileSync(target, 'referenced bytes\n');
      const r = await py('references.py', [`file://${target}`], env('refs'), dir);
      assert.equal(r.code, 0, r.stderr);
      const v = await trove(['show', `${project}/refs:v0`]);
      assert.equal(v.files.find((f: { path: string }) => f.path === 'local.bin')?.ref, `file://${target}`);
      const dl = join(dir, 'dl');
      await trove(['download', `${project}/refs:v0`, '--root', dl]);
      assert.equal(readFileSync(join(dl, 'local.bin'), 'utf8'), 'referenced bytes\n');
      const u = await py('use_and_download.py', ['refs:v0', join(dir, 'wdl')], env('refs-use'), dir);
      assert.equal(u.code, 0, u.stderr);
      assert.equal(readFileSync(join(dir, 'wdl', 'local.bin'), 'utf8'), 'referenced bytes\n');
    });

    test('add_reference to an s3:// object on Ceph: recorded by ETag, downloaded by wandb and by trove', { skip: !process.env.TROVE_TEST_S3_ENDPOINT && 'no S3 in this stage' }, async () => {
      const endpoint = process.env.TROVE_TEST_S3_ENDPOINT!;
      const s3 = makeS3Client(s3SettingsFromEnv(endpoint));
      const Bucket = uniqueName('wandb-refs').toLowerCase();
      await s3.send(new CreateBucketCommand({ Bucket }));
      const body = randomBytes(3000);
      await s3.send(new PutObjectCommand({ Bucket, Key: 'raw/train.bin', Body: body }));
      const dir = join(work, 's3refs');
      mkdirSync(dir, { recursive: true });
      const local = join(dir, 'local.bin');
      writeFileSync(local, 'local bytes\n');
      const s3env = { AWS_ENDPOINT_URL: endpoint, AWS_ENDPOINT_URL_S3: endpoint };
      const r = await py('references.py', [`file://${local}`, `s3://${Bucket}/raw/train.bin`], env('s3refs', s3env), dir);
      assert.equal(r.code, 0, r.stderr);
      const v = await trove(['show', `${project}/refs:latest`]);
      const remote = v.files.find((f: { path: string }) => f.path === 'remote.bin');
      assert.equal(remote.ref, `s3://${Bucket}/raw/train.bin`);
      assert.equal(remote.size, 3000);
      const u = await py('use_and_download.py', [`refs:v${v.version}`, join(dir, 'wdl')], env('s3refs-use', s3env), dir);
      assert.equal(u.code, 0, u.stderr);
      assert.deepEqual(readFileSync(join(dir, 'wdl', 'remote.bin')), body);
      const dl = join(dir, 'tdl');
      const t = await runCli(['--server', server.url, '--json', 'download', `${project}/refs:v${v.version}`, '--root', dl], { TROVE_TOKEN: '', AWS_ENDPOINT_URL_S3: endpoint });
      assert.equal(t.code, 0, t.stderr);
      assert.deepEqual(readFileSync(join(dl, 'remote.bin')), body);
      assert.equal(readFileSync(join(dl, 'local.bin'), 'utf8'), 'local bytes\n');
    });
  });
}

describe('W&B door keys (embedded, --require-auth)', () => {
  let server: ServeProcess;
  const work = tempDir('trove-wandb-keys-');
  const store = join(work, 'store');
  const keys: Record<string, string> = {};
  before(async () => {
    for (const [name, p, scope] of [['write', 'keys', 'write'], ['read', 'keys', 'read'], ['other', 'elsewhere', 'write']]) {
      keys[name] = execFileSync(process.execPath, [join(__dirname, '../../dist/cli.js'), 'token', 'create', '--store', store, '--project', p, '--scope', scope], { encoding: 'utf8' }).trim();
    }
    server = await startServe(['--store', store, '--require-auth']);
  });
  after(async () => {
    await server?.stop();
  });

  test('a Trove token is the API key; bad, read-only and wrong-project keys get the client error and commit nothing', async () => {
    const dir = join(work, 'w');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'my-dataset.txt'), 'guarded\n');
    const run = (key: string, name: string) => py('seed_dataset.py', [], wandbEnv(server.url, key, 'keys', join(work, 'home', name)), dir);
    const cases: [string, string, RegExp][] = [
      ['bad', 'z'.repeat(43), /Invalid API key: this Trove server knows no such key/],
      ['read', keys.read, /API key is read-only/],
      ['other', keys.other, /API key is for project "elsewhere" and cannot write project "keys"/],
    ];
    for (const [name, key, message] of cases) {
      const r = await run(key, name);
      assert.notEqual(r.code, 0, `${name} key must fail`);
      assert.match(r.stderr, message, `${name}: ${r.stderr.slice(-400)}`);
    }
    const listed = await runCli(['--store', store, '--json', 'ls']);
    assert.deepEqual(JSON.parse(listed.stdout), [], 'nothing committed by refused keys');
    const ok = await run(keys.write, 'write');
    assert.equal(ok.code, 0, ok.stderr);
    const after = await runCli(['--store', store, '--json', 'ls', 'keys']);
    assert.deepEqual(JSON.parse(after.stdout).map((a: { name: string }) => a.name), ['my-dataset']);
  });
});

describe('trove run -- python script.py (no server started by the user)', () => {
  test('the child gets a private W&B endpoint over the embedded store; the wandb run and the Trove run are one run', async () => {
    const work = tempDir('trove-wandb-run-');
    const store = join(work, 'store');
    const dir = join(work, 'proj');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'my-dataset.txt'), 'from trove run\n');
    // The user's environment: no WANDB_BASE_URL, no key; the venv's python first on PATH.
    const home = join(work, 'home');
    const userEnv: NodeJS.ProcessEnv = { ...wandbEnv('unused', 'unused', 'unused', home), PATH: `${join(PYTHON, '..')}:${process.env.PATH}` };
    delete userEnv.WANDB_BASE_URL;
    delete userEnv.WANDB_API_KEY;
    delete userEnv.WANDB_PROJECT;
    const r = await runProcess(process.execPath, [CLI, '--store', store, '--project', 'solo', '--json', 'run', '--', 'python', join(SCRIPTS, 'seed_dataset.py')], userEnv, dir);
    assert.equal(r.code, 0, r.stderr);
    const { runId } = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const shown = await runCli(['--store', store, '--json', 'show', 'solo/my-dataset:v0']);
    const v = JSON.parse(shown.stdout);
    assert.equal(v.createdBy.runId, runId, 'the version was logged by the trove run itself');
    assert.equal(v.createdBy.jobType, 'dataset-creation');
    assert.deepEqual(readdirSync(join(store, 'runs')), [runId], 'one run');
    const run = JSON.parse(readFileSync(join(store, 'runs', runId, 'run.json'), 'utf8'));
    assert.equal(run.status, 'finished');
    // The endpoint is gone with the child.
    const key = r.stderr.match(/trove_run_[0-9a-f]+/);
    assert.equal(key, null, 'the private key is never printed');
  });

  test('the Python snippet of Copy Usage Snippet runs unchanged: it downloads the version and the lineage says the run used it', async () => {
    const work = tempDir('trove-wandb-snippet-');
    const store = join(work, 'store');
    const data = join(work, 'data');
    mkdirSync(join(data, 'sub'), { recursive: true });
    writeFileSync(join(data, 'a.csv'), 'x,y\n1,2\n');
    writeFileSync(join(data, 'sub', 'b.txt'), 'snippet\n');
    const logged = await runCli(['--store', store, '--project', 'solo', '--json', 'log', data, '--name', 'snippet-data', '--type', 'dataset']);
    assert.equal(logged.code, 0, logged.stderr);
    const dir = join(work, 'proj');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'use_it.py'), usageSnippet('python', { project: 'solo', name: 'snippet-data', alias: 'v0', type: 'dataset' }));
    const home = join(work, 'home');
    const userEnv: NodeJS.ProcessEnv = { ...wandbEnv('unused', 'unused', 'unused', home), PATH: `${join(PYTHON, '..')}:${process.env.PATH}` };
    for (const k of ['WANDB_BASE_URL', 'WANDB_API_KEY', 'WANDB_PROJECT', 'WANDB_ARTIFACT_DIR']) delete userEnv[k];
    const r = await runProcess(process.execPath, [CLI, '--store', store, '--project', 'solo', '--json', 'run', '--', 'python', 'use_it.py'], userEnv, dir);
    assert.equal(r.code, 0, r.stderr);
    const printed = r.stdout.match(/^snippet-data:v0 is in (.+)$/m);
    assert.ok(printed, `the snippet says where the files are: ${r.stdout}`);
    const where = printed[1].startsWith('/') ? printed[1] : join(dir, printed[1]);
    assert.deepEqual(filesUnder(where), filesUnder(data), 'the files, byte for byte');
    const { runId } = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const lineage = await runCli(['--store', store, '--json', 'lineage', 'solo/snippet-data:v0', '--depth', '1']);
    const graph = JSON.parse(lineage.stdout) as { nodes: { id: string; kind: string }[]; edges: { from: string; to: string }[] };
    const runNode = graph.nodes.find((n) => n.kind === 'run' && n.id.includes(runId));
    assert.ok(runNode, `the trove run is in the lineage: ${lineage.stdout}`);
    assert.ok(graph.edges.some((e) => e.to === runNode.id), `and used the version: ${JSON.stringify(graph.edges)}`);
  });
});

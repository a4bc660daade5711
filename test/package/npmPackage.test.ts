/**
 * The npm package as a user gets it: `npm pack`, then `npm install -g` of the tarball into a
 * temporary prefix, and the installed `trove` run from outside the repository (--version, every
 * --help, a log and a download); then a new TypeScript project installs the tarball, type-checks
 * a small program against its declarations with `tsc --noEmit`, compiles and runs it.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir, writeTree } from '../helpers';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

function run(command: string, args: string[], options: SpawnSyncOptions = {}): { stdout: string; stderr: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', ...options });
  assert.equal(r.status, 0, `${command} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return { stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** npm, offline when its cache has the package (the repository's own `npm ci` filled it). */
const npm = (args: string[], cwd: string) => run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd });

describe('the npm package (npm pack)', () => {
  let t: ReturnType<typeof tempDir>;
  let tarball: string;
  let trove: (args: string[], cwd?: string) => { stdout: string; stderr: string };
  let env: NodeJS.ProcessEnv;

  before(() => {
    t = tempDir('trove-npm-');
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', t.dir], ROOT).stdout);
    tarball = join(t.dir, packed[0].filename);
    const prefix = join(t.dir, 'global');
    npm(['install', '-g', '--prefix', prefix, tarball], t.dir);
    // Outside the repository, with the prefix's bin first on PATH as after a global install.
    env = { ...process.env, PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`, TROVE_STORE: join(t.dir, 'store'), TROVE_RUN_ID: '', TROVE_SERVER: '' };
    trove = (args, cwd = t.dir) => run('trove', args, { cwd, env });
  });
  after(() => t.cleanup());

  test('the tarball holds the bundles, the type declarations, README, LICENSE and CHANGELOG only', () => {
    const listed = run('tar', ['tzf', tarball]).stdout.trim().split('\n').map((f) => f.replace(/^package\//, '')).sort();
    const expected = ['CHANGELOG.md', 'LICENSE', 'README.md', 'dist/cli.js', 'dist/sdk.js', 'dist/server.js', 'dist/trove-server.js', 'package.json'];
    assert.deepEqual(listed.filter((f) => !f.startsWith('dist/types/')), expected);
    assert.ok(listed.includes('dist/types/sdk/index.d.ts'));
    assert.deepEqual(listed.filter((f) => f.startsWith('dist/types/') && !f.endsWith('.d.ts')), []);
  });

  test('trove --version and trove --help work from the global install', () => {
    assert.equal(trove(['--version']).stdout, `trove ${pkg.version}\n`);
    assert.match(trove(['--help']).stdout, /^Usage: trove <command>/m);
    const which = run('sh', ['-c', 'command -v trove'], { env }).stdout.trim();
    assert.equal(which, join(t.dir, 'global', 'bin', 'trove'));
  });

  test('trove <command> --help shows every command of the overview, each with an example', () => {
    const commands = [...trove(['--help']).stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]);
    assert.ok(commands.length >= 12, commands.join(' '));
    for (const name of commands) {
      const help = trove([name, '--help']).stdout;
      assert.match(help, new RegExp(`^Usage: trove ${name}\\b`), name);
      assert.match(help, new RegExp(`^Examples?:\\n {2}trove ${name}\\b`, 'm'), name);
    }
  });

  test('the installed trove logs a folder and downloads it back, byte for byte', () => {
    const data = writeTree(join(t.dir, 'data'), { 'a.txt': 'alpha\n', 'sub/b.bin': Buffer.from([0, 1, 2, 255]) });
    const logged = JSON.parse(trove(['log', data, '--name', 'sample', '--type', 'dataset', '--project', 'npm-check', '--json']).stdout);
    assert.equal(logged.ref, 'npm-check/sample:v0');
    assert.equal(logged.created, true);
    const out = join(t.dir, 'out');
    trove(['download', 'npm-check/sample:latest', '--root', out]);
    for (const f of ['a.txt', 'sub/b.bin']) assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(data, f))), f);
    assert.match(trove(['verify', 'npm-check/sample:v0', '--root', out]).stdout, /^ok: 2 files/);
  });

  test("a new TypeScript project installs the tarball: `import { init, Artifact } from 'trove'` type-checks and runs", () => {
    const project = join(t.dir, 'consumer');
    writeTree(project, {
      'package.json': JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
      'tsconfig.json': JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, outDir: 'out', types: ['node'] }, include: ['main.ts'] }),
      'model/weights.bin': 'weights\n',
      'main.ts': `import { init, Artifact } from 'trove';

const run = await init({ project: 'ts-consumer', jobType: 'train' });
const model = new Artifact('tiny-model', 'model', { metadata: { epochs: 1 } });
model.addDir('model');
const logged = await run.logArtifact(model, { aliases: ['candidate'] });
const used = await run.useArtifact('tiny-model:candidate');
const fetched = await used.download({ root: 'fetched' });
const version: number = logged.version;
await run.finish();
console.log(JSON.stringify({ ref: logged.ref, version, files: fetched.files, used: used.ref }));

// Never called: the declarations must make this a type error (were they \`any\`, tsc would
// report the directive as unused).
export const misuse = () => {
  // @ts-expect-error addFile takes a path, not a number
  model.addFile(42);
};
`,
    });
    npm(['install', tarball, `typescript@${pkg.devDependencies.typescript}`, `@types/node@${pkg.devDependencies['@types/node']}`], project);
    const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc');
    run(process.execPath, [tsc, '--noEmit', '-p', '.'], { cwd: project });
    // Checked above; now only written out as JavaScript, and run.
    run(process.execPath, [tsc, '-p', '.', '--noCheck'], { cwd: project });
    const printed = JSON.parse(run(process.execPath, [join('out', 'main.js')], { cwd: project, env }).stdout);
    assert.deepEqual(printed, { ref: 'ts-consumer/tiny-model:v0', version: 0, files: 1, used: 'ts-consumer/tiny-model:v0' });
    assert.equal(readFileSync(join(project, 'fetched', 'weights.bin'), 'utf8'), 'weights\n');
    assert.ok(existsSync(join(t.dir, 'store')) && readdirSync(join(t.dir, 'store')).length > 0, 'the SDK wrote to TROVE_STORE');
  });
});

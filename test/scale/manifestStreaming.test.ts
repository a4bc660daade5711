/**
 * Manifests are streamed and paged, never held whole: a folder of 200,000 files (200 folders of
 * 1,000, distinct content each) is logged and downloaded through a real `trove serve` whose heap,
 * like the client's, is capped (--max-old-space-size: 32 MB for the server, 28 for the client) below
 * what the manifest as one JSON string would take (about 38 MB), let alone the string and its
 * parsed objects together. Before the manifest
 * was streamed, the same log failed at once ("Maximum call stack size exceeded"), and a whole
 * manifest body cannot fit in these heaps. Of its 32 MB, an idle `trove serve` already uses about
 * 13 MB (its bundle's source and compiled code), and an idle CLI about 6 MB of its 28: what a log,
 * a diff or a download adds must stay within the rest (measured after full collections: the
 * server at most ~22 MB live, the client ~17 MB; one loaded CI run saw the client's re-log at
 * 20 MB live after a mark-compact and past 24 MB before the next, which is why the client's cap
 * is 28 MB and not 24). A memo of every packed blob a commit named, or stat-cache lines kept alive by their
 * digests, was enough to make the server or the client die here (the connection reset).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI, ROOT, startServe, tempDir, type ServeProcess } from '../server/harness';

const FOLDERS = 200;
const PER_FOLDER = 1000;
const FILES = FOLDERS * PER_FOLDER;
/** Heaps of the server and the client, in MB (V8's old space; the young space adds a few MB). */
const SERVER_HEAP_MB = 32;
const CLIENT_HEAP_MB = 28;
/** What an idle `trove serve` holds on its heap (measured: 13 MB; an idle CLI about 6 MB). */
const IDLE_MB = 13;
const LONG = 40 * 60_000;

// Paths of about 100 characters, as nested data sets have them.
const folderName = (d: number) => `station-${String(d).padStart(4, '0')}-recordings-from-the-north-field-microphone-array`;
const fileName = (f: number) => `sample-${String(f).padStart(6, '0')}-channel-a-16khz-mono-pcm.wav`;
const content = (d: number, f: number) => `${d}/${f}\n`;

/** The CLI with a capped heap; resolves with its exit code and output. */
function cappedCli(args: string[], heapMb: number, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, CLI, ...args], { env: { ...process.env, ...env }, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

describe(`a ${FILES.toLocaleString('en')}-file manifest through trove serve with capped heaps`, () => {
  let dir: string;
  let data: string;
  let server: ServeProcess;
  // The client's stat cache in the test's folder (a server client keeps it in ~/.cache/trove otherwise).
  const env = () => ({ TROVE_SERVER: server.url, TROVE_PROJECT: 'scale', TROVE_CACHE_DIR: join(dir, 'client-cache') });

  // Minutes on two busy cores: above the stage's default per-test timeout.
  before(async () => {
    dir = tempDir('trove-scale-');
    data = join(dir, 'data');
    for (let d = 0; d < FOLDERS; d++) {
      const sub = join(data, folderName(d));
      mkdirSync(sub, { recursive: true });
      for (let f = 0; f < PER_FOLDER; f++) writeFileSync(join(sub, fileName(f)), content(d, f));
    }
    server = await startServe(['--store', join(dir, 'server-store')], { NODE_OPTIONS: `--max-old-space-size=${SERVER_HEAP_MB}` });
  }, { timeout: LONG });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the manifest as one JSON string would be larger than either heap', () => {
    // {"<path>":{"digest":"<64 hex>","size":N},… : what a server sending the whole version builds.
    const entryBytes = (d: number, f: number) => `"${folderName(d)}/${fileName(f)}":{"digest":"${'0'.repeat(64)}","size":${content(d, f).length}},`.length;
    let bytes = 0;
    for (let d = 0; d < FOLDERS; d++) for (let f = 0; f < PER_FOLDER; f++) bytes += entryBytes(d, f);
    const mb = bytes / (1 << 20);
    // The string alone is larger than either heap; with what an idle process already holds (IDLE_MB) it is far beyond.
    assert.ok(mb > Math.max(SERVER_HEAP_MB, CLIENT_HEAP_MB) && mb + IDLE_MB > 1.5 * Math.max(SERVER_HEAP_MB, CLIENT_HEAP_MB), `a ${mb.toFixed(0)} MB string against heaps of ${SERVER_HEAP_MB} and ${CLIENT_HEAP_MB} MB`);
  });

  test('log, log again with changes, diff, show and download stay within the heaps and get every file right', { timeout: LONG }, async () => {
    const logged = await cappedCli(['log', data, '--name', 'recordings', '--type', 'dataset', '--json'], CLIENT_HEAP_MB, env());
    assert.equal(logged.code, 0, logged.stderr);
    const result = JSON.parse(logged.stdout) as { ref: string; files: number; created: boolean; storedFiles: number };
    assert.deepEqual([result.ref, result.files, result.created, result.storedFiles], ['scale/recordings:v0', FILES, true, FILES]);

    // One file changed and one added: a new version, and a diff that names exactly those.
    writeFileSync(join(data, folderName(7), fileName(7)), 'changed\n');
    writeFileSync(join(data, folderName(199), 'zz-new.wav'), 'new\n');
    const changed = await cappedCli(['log', data, '--name', 'recordings', '--type', 'dataset', '--json'], CLIENT_HEAP_MB, env());
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(JSON.parse(changed.stdout).files, FILES + 1);
    const diff = await cappedCli(['diff', 'recordings:v0', 'recordings:v1', '--json'], CLIENT_HEAP_MB, env());
    assert.equal(diff.code, 0, diff.stderr);
    assert.deepEqual(JSON.parse(diff.stdout), { added: [`${folderName(199)}/zz-new.wav`], removed: [], modified: [`${folderName(7)}/${fileName(7)}`], renamed: [] });

    const show = await cappedCli(['show', 'recordings:v0'], CLIENT_HEAP_MB, env());
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, new RegExp(`in ${FILES} files`));
    assert.match(show.stdout, /… and 199800 more files/);

    const root = join(dir, 'download');
    const got = await cappedCli(['download', 'recordings:v0', '--root', root, '--json'], CLIENT_HEAP_MB, env());
    assert.equal(got.code, 0, got.stderr);
    assert.equal(JSON.parse(got.stdout).files, FILES);
    assert.equal(readdirSync(root).length, FOLDERS);
    for (const d of [0, 7, 123, 199]) {
      assert.equal(readdirSync(join(root, folderName(d))).length, PER_FOLDER);
      for (const f of [0, 7, 999]) assert.equal(readFileSync(join(root, folderName(d), fileName(f)), 'utf8'), content(d, f));
    }
    assert.equal(server.proc.exitCode, null, 'the server is still running');
  });
});

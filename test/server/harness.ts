/**
 * Starts real `trove serve` processes (the built CLI, dist/cli.js) on 127.0.0.1 with a free port,
 * against the PostgreSQL and Ceph RGW that test/stages/20-server.sh started. Nothing is mocked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';

export const ROOT = resolve(__dirname, '../..');
export const CLI = join(ROOT, 'dist/cli.js');

/** Service coordinates, from the stage script's environment. */
export function services(): { databaseUrl: string; s3Endpoint: string; env: NodeJS.ProcessEnv } {
  const databaseUrl = process.env.TROVE_TEST_DATABASE_URL;
  const s3Endpoint = process.env.TROVE_TEST_S3_ENDPOINT;
  if (!databaseUrl || !s3Endpoint || !process.env.AWS_ACCESS_KEY_ID) {
    throw new Error('PostgreSQL and S3 are not set up: run these tests through test/stages/20-server.sh (it starts both).');
  }
  return { databaseUrl, s3Endpoint, env: process.env };
}

export const uniqueName = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/** A fresh, empty database on the test PostgreSQL; returns its URL. */
export async function createDatabase(prefix = 'trove'): Promise<string> {
  const { databaseUrl } = services();
  const name = uniqueName(prefix).replace(/-/g, '_');
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query(`create database ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(databaseUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

export const tempDir = (prefix = 'trove-test-') => mkdtempSync(join(tmpdir(), prefix));

export interface ServeProcess {
  url: string;
  proc: ChildProcess;
  /** Access-log lines (JSON) and anything else the server printed. */
  stdout: string[];
  stderr: string[];
  stop(): Promise<void>;
}

/** Runs `node dist/cli.js serve --listen 127.0.0.1:0 …args` and waits until it listens. */
export async function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (node esbuild.js).`);
  const proc = spawn(process.execPath, [CLI, 'serve', '--listen', '127.0.0.1:0', ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`trove serve did not start in 30 s: ${stderr.join('\n')}`)), 30_000);
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      stdout.push(l);
      try {
        const e = JSON.parse(l) as { event?: string; url?: string };
        if (e.event === 'listening' && e.url) {
          clearTimeout(timer);
          resolveUrl(e.url);
        }
      } catch {
        // not JSON: kept in stdout
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`trove serve exited with ${code}: ${stderr.join('\n')}`));
    });
  });
  return {
    url, proc, stdout, stderr,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Arguments for a scale-out server on a fresh database and bucket. */
export async function scaleOutArgs(prefix = 'trove'): Promise<{ args: string[]; database: string; bucket: string }> {
  const { s3Endpoint } = services();
  const database = await createDatabase(prefix);
  const bucket = uniqueName(prefix).toLowerCase();
  return { args: ['--database', database, '--blobs', `s3://${bucket}`, '--s3-endpoint', s3Endpoint], database, bucket };
}

/** Runs the CLI to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('exit', (code) => resolveRun({ code: code ?? 1, stdout, stderr }));
  });
}

/**
 * Runs the real `wandb` client (the pinned one test/wandb/setup-venv.sh installed) against real
 * `trove serve` processes. Nothing reaches the internet: the client talks to the server under
 * test only, and any other HTTP(S) it might try goes to a closed loopback proxy port.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../server/harness';

export const PYTHON = join(ROOT, '.cache/wandb-venv/bin/python');
export const SCRIPTS = join(ROOT, 'test/wandb/scripts');

export interface PyResult {
  code: number;
  stdout: string;
  stderr: string;
  /** `KEY=value` lines the script printed. */
  values: Record<string, string>;
}

/** The environment a script needs to log into `url` with `key`, its files kept under `home`. */
export function wandbEnv(url: string, key: string, project: string, home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  for (const d of ['wandb', 'config', 'cache', 'data']) mkdirSync(join(home, d), { recursive: true });
  return {
    WANDB_BASE_URL: url, WANDB_API_KEY: key, WANDB_PROJECT: project, WANDB_ENTITY_NAME: 'trove',
    WANDB_DIR: join(home, 'wandb'), WANDB_CONFIG_DIR: join(home, 'config'), WANDB_CACHE_DIR: join(home, 'cache'),
    WANDB_DATA_DIR: join(home, 'data'), WANDB_ARTIFACT_DIR: join(home, 'artifacts'),
    WANDB_SILENT: 'true', WANDB_ERROR_REPORTING: 'false', WANDB_CONSOLE: 'off',
    HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1,localhost',
    https_proxy: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9', no_proxy: '127.0.0.1,localhost',
    ...extra,
  };
}

/** Runs `python script args…` (script from test/wandb/scripts unless absolute). */
export function py(script: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs = 120_000): Promise<PyResult> {
  const path = script.startsWith('/') ? script : join(SCRIPTS, script);
  return runProcess(PYTHON, [path, ...args], env, cwd, timeoutMs);
}

export function runProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs = 120_000): Promise<PyResult> {
  return new Promise((resolveRun) => {
    const base: NodeJS.ProcessEnv = {};
    // Only what a user's shell would have, plus the W&B settings: no test runner variables.
    for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) if (process.env[k]) base[k] = process.env[k];
    const proc = spawn(cmd, args, { env: { ...base, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      const values: Record<string, string> = {};
      for (const m of stdout.matchAll(/^([A-Z_]+)=(.*)$/gm)) values[m[1]] = m[2];
      resolveRun({ code: code ?? 1, stdout, stderr, values });
    });
  });
}

/** The door's counters (GET /wandb/stats). */
export async function doorStats(url: string, key: string): Promise<{ artifactBytesReceived: number; artifactFilesReceived: number; uploadUrlsIssued: number; uploadsSkipped: number; versionsCreated: number; dedupedArtifacts: number }> {
  const res = await fetch(`${url}/wandb/stats`, { headers: { authorization: `Basic ${Buffer.from(`api:${key}`).toString('base64')}` } });
  if (!res.ok) throw new Error(`GET /wandb/stats: ${res.status} ${await res.text()}`);
  return res.json() as never;
}

/** Operations the server refused as unsupported (its log's `wandb-unsupported` events). */
export function unsupported(stdout: string[]): string[] {
  return stdout.filter((l) => l.includes('"wandb-unsupported"') || l.includes('"wandb-error"'));
}

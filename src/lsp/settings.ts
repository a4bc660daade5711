import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { TroveSettings } from './protocol';

/** The keys of the `trove` section the language server reads; the extension's other settings stay on the client. */
export function pickTroveSettings(section: unknown): TroveSettings {
  const raw = (section && typeof section === 'object' ? section : {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const out: TroveSettings = {};
  for (const key of ['storePath', 'backend', 'project'] as const) {
    const value = text(raw[key]);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * Settings as the server uses them: trimmed, and a `storePath` that starts with `~` or is
 * relative (as people write in a workspace's settings.json) made absolute against the home
 * folder or the first workspace folder.
 */
export function normalizeSettings(section: unknown, workspaceFolder: string | undefined): TroveSettings {
  const picked = pickTroveSettings(section);
  const out: TroveSettings = {};
  const backend = picked.backend?.trim();
  const project = picked.project?.trim();
  let storePath = picked.storePath?.trim();
  if (storePath) {
    if (storePath === '~' || storePath.startsWith('~/')) storePath = join(homedir(), storePath.slice(1));
    else if (!isAbsolute(storePath)) storePath = resolve(workspaceFolder ?? process.cwd(), storePath);
    out.storePath = storePath;
  }
  if (backend) out.backend = backend;
  if (project) out.project = project;
  return out;
}

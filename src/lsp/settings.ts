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
 * The `trove` settings in what a client pushes without being asked: the `settings` of
 * `workspace/didChangeConfiguration` or of `initializationOptions`. Clients write them as
 * `{ trove: { storePath, … } }` (the section, as VS Code and Neovim's `settings` do) or as the keys
 * themselves; undefined when the value names none of them (VS Code's `{ settings: null }`, which
 * only means "ask again").
 */
export function pushedTroveSettings(value: unknown): TroveSettings | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const section = (value as Record<string, unknown>).trove;
  const picked = pickTroveSettings(section && typeof section === 'object' ? section : value);
  return Object.keys(picked).length || (section && typeof section === 'object') ? picked : undefined;
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

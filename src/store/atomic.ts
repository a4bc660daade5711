import { TroveError } from '../core/errors';
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';

const tmpName = (path: string) => `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;

/** Writes `data` next to `path` and renames it into place, so readers see the old or the new file, never half of one. */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = tmpName(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

export function writeFileAtomicSync(path: string, data: string | Buffer): void {
  const tmp = tmpName(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
}

/** A store file that is not the JSON it should be: one sentence naming it. */
export function damagedJson(path: string): TroveError {
  return new TroveError('io', `${path} is damaged (it is not valid JSON), so Trove cannot read it; restore it from a backup or move it out of the store.`);
}

function parseJson<T>(path: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw damagedJson(path);
  }
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parseJson<T>(path, text);
}

export function readJsonSync<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parseJson<T>(path, text);
}

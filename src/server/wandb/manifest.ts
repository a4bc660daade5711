import { createHash } from 'node:crypto';
import { invalid } from '../../core/errors';
import { byUtf8, validateManifestPath } from '../../core/manifest';

/** One entry of a W&B artifact manifest (`wandb_manifest.json`); unknown keys are ignored. */
export interface WandbEntry {
  digest: string;
  size?: number | null;
  ref?: string;
  birthArtifactID?: string;
  extra?: Record<string, unknown>;
}

export interface WandbManifest {
  version: 1;
  storagePolicy: string;
  storagePolicyConfig: Record<string, unknown>;
  contents: Record<string, WandbEntry>;
}

export const b64ToHex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');
export const hexToB64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

/** Base64 of 16 bytes, as the client writes an MD5. */
export function isB64Md5(s: unknown): s is string {
  return typeof s === 'string' && /^[A-Za-z0-9+/]{22}==$/.test(s);
}

/**
 * The client's artifact digest: hex MD5 of `wandb-artifact-manifest-v1\n` followed by
 * `{path}:{entry digest}\n` for every entry in path order.
 */
export function wandbDigest(contents: Record<string, WandbEntry>): string {
  const h = createHash('md5');
  h.update('wandb-artifact-manifest-v1\n');
  for (const path of Object.keys(contents).sort(byUtf8)) h.update(`${path}:${contents[path].digest}\n`);
  return h.digest('hex');
}

/** Checks a manifest a client uploaded: version 1, known storage policy, safe paths, sane entries. */
export function parseWandbManifest(body: Buffer): WandbManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('The artifact manifest is not valid JSON.');
  }
  const m = doc as WandbManifest;
  if (!m || typeof m !== 'object' || m.version !== 1) throw invalid('The artifact manifest must be a W&B manifest of version 1.');
  if (m.storagePolicy !== 'wandb-storage-policy-v1') throw invalid(`The storage policy "${String(m.storagePolicy).slice(0, 60)}" is not supported; this server takes wandb-storage-policy-v1.`);
  if (!m.contents || typeof m.contents !== 'object' || Array.isArray(m.contents)) throw invalid('The artifact manifest has no "contents" object.');
  for (const [path, e] of Object.entries(m.contents)) {
    validateManifestPath(path);
    if (!e || typeof e !== 'object' || typeof e.digest !== 'string' || !e.digest) throw invalid(`Manifest entry "${path}" has no digest.`);
    if (e.size !== undefined && e.size !== null && (!Number.isSafeInteger(e.size) || e.size < 0)) throw invalid(`Manifest entry "${path}" has an invalid size.`);
    if (e.ref !== undefined && typeof e.ref !== 'string') throw invalid(`Manifest entry "${path}" has an invalid reference.`);
    if (e.ref === undefined && !isB64Md5(e.digest)) throw invalid(`Manifest entry "${path}" needs a base64 MD5 digest.`);
  }
  return m;
}

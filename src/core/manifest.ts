import { createHash } from 'node:crypto';
import { invalid } from './errors';
import { validateAlias, validateName, validateProject, validateType } from './names';
import type { CommitRequest, Manifest, ManifestEntry, VersionDiff } from './types';

const DIGEST = /^[0-9a-f]{64}$/;
// C0, DEL and C1 control characters; a path must never smuggle them into a terminal or a listing.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Anything validateManifestPath might reject: a control character, a backslash, a leading "/" or drive letter, an empty, "." or ".." segment. */
const SUSPECT_PATH = /[\u0000-\u001f\u007f-\u009f\\]|^\/|^[A-Za-z]:|\/\/|\/$|(?:^|\/)\.\.?(?:\/|$)/;

/**
 * A manifest path is a relative POSIX path: no leading "/", no drive letter, no backslash,
 * no empty, "." or ".." segment, no control character. Anything else could escape the
 * download root, so it is rejected at log time, at the server and again at download time.
 */
export function validateManifestPath(path: string): string {
  // One test for the common, valid case; the checks below name what is wrong.
  if (typeof path === 'string' && path.length > 0 && path.length <= 4096 && !SUSPECT_PATH.test(path) && path !== '__proto__') return path;
  const bad = (why: string) => invalid(`Invalid file path "${path.replace(CONTROL, '?')}" in the artifact: ${why}.`);
  if (typeof path !== 'string' || path.length === 0) throw bad('it is empty');
  if (path.length > 4096) throw bad('it is longer than 4096 characters');
  if (CONTROL.test(path)) throw bad('it contains a control character');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) throw bad('it is absolute; paths must be relative to the artifact root');
  if (path.includes('\\')) throw bad('it contains a backslash; use "/" between folders');
  for (const segment of path.split('/')) {
    if (segment === '') throw bad('it has an empty segment');
    if (segment === '.' || segment === '..') throw bad('it contains "." or ".." and could escape the artifact root');
  }
  // As a key of a manifest object it would set the object's prototype instead of an entry.
  if (path === '__proto__') throw bad('"__proto__" cannot be a top-level file name; put the file in a folder');
  return path;
}

export function isDigest(s: unknown): s is string {
  return typeof s === 'string' && DIGEST.test(s);
}

/** Checks a manifest that came from a client or a file: paths, digests, sizes. */
export function validateManifest(manifest: unknown): Manifest {
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) throw invalid('The manifest must be an object of path -> {digest, size}.');
  const raw = manifest as Record<string, unknown>;
  const out: Manifest = {};
  for (const path of sortUtf8(Object.keys(raw))) {
    validateManifestPath(path);
    const e = raw[path] as ManifestEntry;
    if (!e || typeof e !== 'object') throw invalid(`Manifest entry "${path}" must be an object.`);
    if (!Number.isSafeInteger(e.size) || e.size < 0) throw invalid(`Manifest entry "${path}" has an invalid size.`);
    if (e.ref === undefined) {
      if (!isDigest(e.digest)) throw invalid(`Manifest entry "${path}" needs a SHA-256 digest (64 lowercase hex characters).`);
    } else {
      if (typeof e.ref !== 'string' || !/^(file|https?|s3):\/\//.test(e.ref)) throw invalid(`Manifest entry "${path}" has an unsupported reference URI.`);
      if (typeof e.digest !== 'string' || e.digest.length === 0 || e.digest.length > 200) throw invalid(`Manifest entry "${path}" needs a checksum.`);
    }
    out[path] = sortedEntry(e);
  }
  return out;
}

function sortedEntry(e: ManifestEntry): ManifestEntry {
  const out: ManifestEntry = { digest: e.digest, size: e.size };
  if (e.ref !== undefined) out.ref = e.ref;
  if (e.etag !== undefined) out.etag = e.etag;
  if (e.versionId !== undefined) out.versionId = e.versionId;
  return out;
}

/**
 * Orders strings by their UTF-8 bytes (= by code point) without encoding them: UTF-16 code units
 * agree with code point order except that surrogates (U+D800-DFFF) must sort after U+E000-FFFF.
 */
export function byUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x = x <= 0xdfff ? x + 0x2000 : x - 0x800;
    if (y >= 0xd800) y = y <= 0xdfff ? y + 0x2000 : y - 0x800;
    return x - y;
  }
  return a.length - b.length;
}

const SURROGATE = /[\ud800-\udfff]/;

/**
 * Sorts paths by their UTF-8 bytes, in place. Without surrogates (characters beyond U+FFFF) the
 * engine's own string order is that order already, and it is many times faster than calling
 * byUtf8 for each comparison.
 */
export function sortUtf8(paths: string[]): string[] {
  return paths.some((p) => SURROGATE.test(p)) ? paths.sort(byUtf8) : paths.sort();
}

/**
 * The same entries in an object without a prototype: a lookup by a name that comes from a
 * user or a file (`constructor`, `toString`) finds only what was stored under it.
 */
export function withoutPrototype<T>(record: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, record);
}

export function sortManifest(manifest: Manifest): Manifest {
  const out: Manifest = Object.create(null) as Manifest;
  for (const path of sortUtf8(Object.keys(manifest))) out[path] = manifest[path];
  return out;
}

/**
 * The artifact digest: SHA-256 (lowercase hex) of the UTF-8 text made of one line per entry,
 * sorted by the path's UTF-8 bytes:  `<path> TAB <digest> TAB <size in decimal> LF`.
 * Nothing else (metadata, description, aliases, reference URIs) takes part, so equal content
 * always yields an equal digest. Paths cannot hold TAB or LF (see validateManifestPath).
 */
export function artifactDigest(manifest: Manifest): string {
  const hash = createHash('sha256');
  // Hashed 64 KiB of text at a time: a million entries would make one string of 100 MB.
  let text = '';
  for (const path of sortUtf8(Object.keys(manifest))) {
    const e = manifest[path];
    text += `${path}\t${e.digest}\t${e.size}\n`;
    if (text.length >= 65536) {
      hash.update(text, 'utf8');
      text = '';
    }
  }
  return hash.update(text, 'utf8').digest('hex');
}

export function manifestSize(manifest: Manifest): number {
  let size = 0;
  for (const e of Object.values(manifest)) size += e.size;
  return size;
}

/**
 * Files added, removed, modified (same path, other digest) and renamed (a path gone from A
 * whose digest reappears under a new path in B).
 */
export function diffManifests(a: Manifest, b: Manifest): VersionDiff {
  const added: string[] = [];
  const removed: string[] = [];
  const modified: string[] = [];
  for (const [path, e] of Object.entries(b)) {
    const old = a[path];
    if (!old) added.push(path);
    else if (old.digest !== e.digest || old.size !== e.size) modified.push(path);
  }
  for (const path of Object.keys(a)) if (!b[path]) removed.push(path);
  const paired = pairRenames(removed.map((path) => ({ path, digest: a[path].digest })), added.map((path) => ({ path, digest: b[path].digest })));
  return {
    added: sortUtf8(paired.added.map((f) => f.path)),
    removed: sortUtf8(paired.removed.map((f) => f.path)),
    modified: sortUtf8(modified),
    renamed: paired.renamed.map((r) => ({ from: r.from.path, to: r.to.path })).sort((x, y) => byUtf8(x.from, y.from)),
  };
}

/**
 * The rename rule of every diff (two versions, a version and a folder): each removed file is
 * paired with an added file of the same digest, first come first served; what is paired is a
 * rename and leaves the added and removed lists.
 */
export function pairRenames<T extends { digest: string }>(removed: T[], added: T[]): { added: T[]; removed: T[]; renamed: { from: T; to: T }[] } {
  const addedByDigest = new Map<string, T[]>();
  for (const f of added) {
    const list = addedByDigest.get(f.digest);
    if (list) list.push(f);
    else addedByDigest.set(f.digest, [f]);
  }
  const renamed: { from: T; to: T }[] = [];
  const renamedTo = new Set<T>();
  const stillRemoved: T[] = [];
  for (const f of removed) {
    const to = addedByDigest.get(f.digest)?.shift();
    if (to) {
      renamed.push({ from: f, to });
      renamedTo.add(to);
    } else {
      stillRemoved.push(f);
    }
  }
  return { added: added.filter((f) => !renamedTo.has(f)), removed: stillRemoved, renamed };
}

/**
 * Checks a commit request as every backend must before writing anything: names, type, aliases
 * (`latest` dropped: the backend moves it), metadata and manifest. Returns the normalised parts
 * and the artifact digest.
 */
export function checkCommitRequest(req: CommitRequest): { aliases: string[]; metadata: Record<string, unknown>; manifest: Manifest; digest: string } {
  const { aliases, metadata } = checkCommitHeader(req);
  const manifest = validateManifest(req.manifest);
  return { aliases, metadata, manifest, digest: artifactDigest(manifest) };
}

/** checkCommitRequest without the manifest, for a commit whose manifest comes as a stream. */
export function checkCommitHeader(req: Omit<CommitRequest, 'manifest'>): { aliases: string[]; metadata: Record<string, unknown> } {
  validateProject(req.project);
  validateName(req.name);
  validateType(req.type);
  const aliases = [...new Set(req.aliases)].filter((a) => a !== 'latest');
  aliases.forEach((a) => validateAlias(a));
  const metadata = req.metadata ?? {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw invalid('Metadata must be a JSON object, for example {"epochs": 10}.');
  return { aliases, metadata };
}

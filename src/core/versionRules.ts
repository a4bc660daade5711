import { conflict, integrity, notFound, type TroveError } from './errors';
import { formatRef, parseVersionAlias } from './names';
import type { VersionKey } from './types';

/**
 * The rules of versions, written once for every backend (the embedded store and PostgreSQL):
 * how an alias resolves, the type fixed at the first version, `latest` moving by itself and
 * listed first, and the sentences a user reads when something is not there. Backends store and
 * fetch; they ask these functions what a request means and what to say when it fails.
 */

/** The alias every commit moves to the version it names. */
export const LATEST = 'latest';

/** The aliases a commit sets: the ones asked for, then `latest`. */
export function aliasesToMove(requested: readonly string[]): string[] {
  return [...requested, LATEST];
}

/** Orders a version's aliases as every listing shows them: `latest` first, then by name. */
export function sortAliases(list: string[]): string[] {
  return list.sort((a, b) => (a === LATEST ? -1 : b === LATEST ? 1 : a.localeCompare(b)));
}

/** alias -> version pairs turned into version -> its aliases (sorted as sortAliases does). */
export function aliasesByVersion(pairs: Iterable<readonly [string, number]>): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [alias, v] of pairs) out.set(v, [...(out.get(v) ?? []), alias]);
  for (const list of out.values()) sortAliases(list);
  return out;
}

/** What alias resolution needs to read about one artifact; each backend answers from its storage. */
export interface AliasLookup {
  hasVersion(version: number): boolean | Promise<boolean>;
  /** The version an alias names, or undefined. */
  aliasTarget(alias: string): number | undefined | Promise<number | undefined>;
  /** Every alias of the artifact, for the not-found message. */
  aliasNames(): string[] | Promise<string[]>;
}

/**
 * Resolves `vN` or an alias of `project/name` to a version number, or throws not-found naming
 * what the artifact has. `nextVersion`: the number its next version would get.
 */
export async function resolveAlias(artifact: { project: string; name: string; nextVersion: number }, alias: string, lookup: AliasLookup): Promise<number> {
  const { project, name } = artifact;
  const n = parseVersionAlias(alias);
  if (n !== undefined) {
    if (!(await lookup.hasVersion(n))) throw notFound(`Version v${n} of "${project}/${name}" does not exist; it has v0 to v${artifact.nextVersion - 1}.`);
    return n;
  }
  const v = await lookup.aliasTarget(alias);
  if (v === undefined) throw notFound(`Alias "${alias}" does not exist on "${project}/${name}"; its aliases are ${(await lookup.aliasNames()).join(', ')}.`);
  return v;
}

/** An artifact that is not there: says whether the project is missing too, and where to look. */
export function artifactNotFound(project: string, name: string, projectExists: boolean, location: string): TroveError {
  return notFound(projectExists
    ? `Artifact "${name}" does not exist in project "${project}"; run \`trove ls ${project}\` to see its artifacts.`
    : `Project "${project}" does not exist in ${location}; run \`trove ls\` to see the projects.`);
}

/** A version named by number (a run's input) that the artifact does not have. */
export function versionNotFound(k: VersionKey): TroveError {
  return notFound(`Version ${formatRef(k.project, k.name, k.version)} does not exist.`);
}

/** A version the artifact lists but whose record is gone: damage, not a user's mistake. */
export function versionRecordMissing(k: VersionKey, location: string): TroveError {
  return notFound(`Version ${formatRef(k.project, k.name, k.version)} is missing from ${location}.`);
}

/** Removing an alias the artifact does not have. */
export function aliasNotFound(project: string, name: string, alias: string): TroveError {
  return notFound(`Alias "${alias}" does not exist on "${project}/${name}".`);
}

/** An artifact's type is fixed by its first version; a commit of another type is refused. */
export function checkArtifactType(project: string, name: string, storedType: string, requestedType: string): void {
  if (storedType !== requestedType) {
    throw conflict(`Artifact "${project}/${name}" has type "${storedType}", not "${requestedType}"; log it with --type ${storedType} or choose another name.`);
  }
}

/** A commit whose manifest names blobs the store does not hold (digests of the missing ones). */
export function missingBlobsError(missing: readonly string[]): TroveError {
  return integrity(`${missing.length} file(s) of the manifest are not in the store (first: ${missing[0].slice(0, 12)}); upload them before committing.`);
}

/** The order of a run's inputs and outputs in the lineage: by `project~name~vK`, as the embedded store names them. */
export function compareVersionKeys(a: VersionKey, b: VersionKey): number {
  return `${a.project}~${a.name}~v${a.version}`.localeCompare(`${b.project}~${b.name}~v${b.version}`);
}

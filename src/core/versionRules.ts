import { conflict, integrity, invalid, notFound, type TroveError } from './errors';
import { formatRef, parseVersionAlias, validateAlias } from './names';
import type { DeletedVersion, VersionKey } from './types';

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
  /** When version `version` was deleted (ISO-8601), or undefined when it was not. */
  deletedAt?(version: number): string | undefined | Promise<string | undefined>;
}

/**
 * Resolves `vN` or an alias of `project/name` to a version number, or throws not-found naming
 * what the artifact has. `nextVersion`: the number its next version would get.
 */
export async function resolveAlias(artifact: { project: string; name: string; nextVersion: number }, alias: string, lookup: AliasLookup): Promise<number> {
  const { project, name } = artifact;
  const n = parseVersionAlias(alias);
  if (n !== undefined) {
    if (!(await lookup.hasVersion(n))) {
      const deleted = await lookup.deletedAt?.(n);
      if (deleted) throw versionDeleted({ project, name, version: n }, deleted);
      throw notFound(`Version v${n} of "${project}/${name}" does not exist; it has v0 to v${artifact.nextVersion - 1}.`);
    }
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
export function missingBlobsError(missing: readonly string[], total = missing.length): TroveError {
  return integrity(`${total} file(s) of the manifest are not in the store (first: ${missing[0].slice(0, 12)}); upload them before committing.`);
}

/** The order of a run's inputs and outputs in the lineage: by `project~name~vK`, as the embedded store names them. */
export function compareVersionKeys(a: VersionKey, b: VersionKey): number {
  return `${a.project}~${a.name}~v${a.version}`.localeCompare(`${b.project}~${b.name}~v${b.version}`);
}

// ---- deleting and restoring ---------------------------------------------------------------------

/**
 * Aliases that block deletion by default: the ones that usually mean "something depends on this
 * version". Faces read another list from TROVE_PROTECTED_ALIASES (or the `trove.protectedAliases`
 * setting), and `trove serve --protected-aliases` adds the server's own to every caller's.
 */
export const DEFAULT_PROTECTED_ALIASES: readonly string[] = ['production', 'staging'];

/**
 * A protected-alias list written by a person: names separated by commas or spaces; unset means
 * the default, empty means none. `source` names where it was written, for the error.
 */
export function parseProtectedAliases(text: string | undefined, source = 'The protected-alias list'): string[] {
  if (text === undefined) return [...DEFAULT_PROTECTED_ALIASES];
  const names = text.split(/[\s,]+/).filter(Boolean);
  for (const a of names) {
    try {
      validateAlias(a);
    } catch {
      throw invalid(`${source} holds "${a}", which is not an alias; list aliases separated by commas, for example production,staging.`);
    }
  }
  return [...new Set(names)];
}

/** The list the faces use: TROVE_PROTECTED_ALIASES when set, else the default. */
export function protectedAliasesFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return parseProtectedAliases(env.TROVE_PROTECTED_ALIASES, 'TROVE_PROTECTED_ALIASES');
}

/** What a deletion does to one artifact: the versions that go (with their aliases) and where `latest` lands. */
export interface DeletionPlan {
  deleted: DeletedVersion[];
  /** The version `latest` names afterwards; undefined when no version is left. */
  latest?: number;
}

/**
 * Plans the deletion of `targets` among an artifact's live versions (each with its aliases):
 * refused while a protected alias names one of them; their aliases go with them; `latest`, when
 * it named one of them, moves to the newest remaining version (as W&B does). Version numbers are
 * never given again, whatever goes.
 */
export function planDeletion(project: string, name: string, live: readonly { version: number; aliases: readonly string[] }[], targets: readonly number[], protectedAliases: readonly string[] = DEFAULT_PROTECTED_ALIASES): DeletionPlan {
  const going = new Set(targets);
  const deleted: DeletedVersion[] = [];
  for (const v of [...live].sort((a, b) => a.version - b.version)) {
    if (!going.has(v.version)) continue;
    const guarded = v.aliases.find((a) => protectedAliases.includes(a));
    if (guarded) throw protectedAliasRefusal(project, name, v.version, guarded);
    deleted.push({ version: v.version, aliases: sortAliases([...v.aliases]) });
  }
  const remaining = live.filter((v) => !going.has(v.version));
  const latestNow = remaining.find((v) => v.aliases.includes(LATEST));
  const latest = latestNow ? latestNow.version : remaining.reduce<number | undefined>((m, v) => (m === undefined || v.version > m ? v.version : m), undefined);
  return { deleted, ...(latest !== undefined ? { latest } : {}) };
}

/** A deletion refused because a protected alias names the version: which alias, and how to remove it. */
export function protectedAliasRefusal(project: string, name: string, version: number, alias: string): TroveError {
  return conflict(`${formatRef(project, name, version)} has the protected alias "${alias}", so it is not deleted; remove the alias first (trove alias rm ${project}/${name} ${alias}) and delete again.`);
}

/** The words every "was deleted" answer holds, so that faces can tell a deleted version from one that never existed. */
const DELETED_MARK = / was deleted on \d{4}-\d\d-\d\d/;

/** A version that was deleted (named by number, or the start of a lineage). */
export function versionDeleted(k: VersionKey, deletedAt: string): TroveError {
  return notFound(`Version ${formatRef(k.project, k.name, k.version)} was deleted on ${deletedAt.slice(0, 10)}; run \`trove ls ${k.project}/${k.name}\` to see the versions left.`);
}

/** An artifact whose every version was deleted. */
export function artifactDeleted(project: string, name: string, deletedAt: string): TroveError {
  return notFound(`Artifact "${name}" in project "${project}" was deleted on ${deletedAt.slice(0, 10)}; run \`trove ls ${project}\` to see its artifacts.`);
}

/** Whether an error says that what was asked for was deleted (it crosses HTTP as its message). */
export function isDeletedError(e: unknown): boolean {
  return !!e && typeof e === 'object' && (e as TroveError).code === 'not_found' && DELETED_MARK.test((e as TroveError).message ?? '');
}

/** What a tombstone keeps to undo its deletion. */
export interface Tombstone {
  version: number;
  deletedAt: string;
  /** The aliases the version had when it was deleted. */
  aliases: string[];
  /** Where the deletion moved `latest` (when it named this version), so that a restore can move it back. */
  latestAfter?: number;
}

/**
 * The aliases a restored version gets back: each custom alias that no other version took since,
 * and `latest` when it still names where the deletion moved it (nothing was logged since) or the
 * artifact has no version left.
 */
export function aliasesToRestore(t: Tombstone, currentTarget: (alias: string) => number | undefined): string[] {
  return t.aliases.filter((a) => {
    const now = currentTarget(a);
    if (a === LATEST) return now === undefined || now === t.latestAfter;
    return now === undefined;
  });
}

/** Restoring a version that is not deleted. */
export function notDeleted(k: VersionKey): TroveError {
  return conflict(`${formatRef(k.project, k.name, k.version)} is not deleted; there is nothing to restore.`);
}

/** Restoring a version whose content gc freed. */
export function contentFreed(k: VersionKey): TroveError {
  return conflict(`${formatRef(k.project, k.name, k.version)} cannot be restored: gc has freed its content; log its files again to make a new version.`);
}

/** Restoring a version whose content a later version holds now (an artifact holds each content once). */
export function sameContentLive(k: VersionKey, other: number): TroveError {
  return conflict(`${formatRef(k.project, k.name, k.version)} cannot be restored: ${formatRef(k.project, k.name, other)} holds the same content now; use that version.`);
}

import { formatSize } from './format';
import { formatRef, parseRef, type ArtifactRef } from './names';
import type { Registry } from './registry';
import type { DeleteOptions, DeleteResult, RestoreResult } from './types';
import { LATEST, planDeletion, type DeletionPlan } from './versionRules';

/**
 * What the faces (CLI, SDK, extension) show before a deletion and say after it: one home for the
 * sentences, so `trove rm` and the editor's confirmation name what goes in the same words. The
 * rules themselves are versionRules.ts's; the backend checks them again when it deletes.
 */

/** What `trove rm` and the editor delete: one version (`project/name:vN` or an alias), or the whole artifact (`project/name`). */
export interface DeletionTarget {
  project: string;
  name: string;
  /** `vN` or an alias naming the version; undefined for the whole artifact. */
  alias?: string;
}

/** `project/name:vN` (or `:alias`) is one version; `project/name` without a colon is the whole artifact. */
export function parseDeletionTarget(text: string, defaultProject?: string): DeletionTarget {
  const ref: ArtifactRef = parseRef(text, defaultProject);
  return { project: ref.project, name: ref.name, ...(text.includes(':') ? { alias: ref.alias } : {}) };
}

export interface DeletionPreview {
  target: DeletionTarget;
  /** The versions that would go (numbers), oldest first. */
  versions: number[];
  plan: DeletionPlan;
  /** Names what goes, for a confirmation: "demo/mnist:v1 (aliases latest, best; 3 files, 1.2 kB); latest moves to v0". */
  summary: string;
}

/**
 * Reads what a deletion would take and checks it against the protected aliases, without changing
 * anything: an unknown or deleted artifact or version, and a protected alias, throw the sentence
 * the deletion itself would.
 */
export async function previewDeletion(registry: Registry, target: DeletionTarget, options: DeleteOptions = {}): Promise<DeletionPreview> {
  const { project, name } = target;
  const live = await registry.listVersions(project, name);
  let versions: number[];
  let about: string;
  if (target.alias !== undefined) {
    const v = await registry.getVersion({ project, name, alias: target.alias });
    versions = [v.version];
    about = `${formatRef(project, name, v.version)} (${v.aliases.length ? `aliases ${v.aliases.join(', ')}; ` : ''}${v.files} file${v.files === 1 ? '' : 's'}, ${formatSize(v.size)})`;
  } else {
    versions = live.map((v) => v.version).sort((a, b) => a - b);
    const size = live.reduce((s, v) => s + v.size, 0);
    about = `${project}/${name} and ${versions.length === 1 ? 'its only version' : `all ${versions.length} of its versions`} (${versions.map((v) => `v${v}`).join(', ')}; ${formatSize(size)})`;
  }
  const plan = planDeletion(project, name, live, versions, options.protectedAliases);
  const movesLatest = plan.deleted.some((d) => d.aliases.includes(LATEST));
  const after = plan.latest === undefined
    ? (target.alias !== undefined ? '; it is the last version, so the artifact leaves the listings' : '')
    : movesLatest ? `; latest moves to v${plan.latest}` : '';
  return { target, versions, plan, summary: `${about}${after}` };
}

/** The sentence after a deletion: what went, where `latest` is now, and how to undo it. */
export function describeDeletion(r: DeleteResult): string {
  const refs = r.deleted.map((d) => formatRef(r.project, r.name, d.version));
  const what = refs.length === 1 ? refs[0] : `${r.project}/${r.name} (${r.deleted.map((d) => `v${d.version}`).join(', ')})`;
  const latest = r.latest === undefined ? '' : `; latest names v${r.latest}`;
  return `Deleted ${what}${latest}. Until \`trove gc\` frees its content, \`trove restore ${refs[refs.length - 1]}\` brings ${refs.length === 1 ? 'it' : 'a version'} back.`;
}

/** The sentence after a restore. */
export function describeRestore(r: RestoreResult): string {
  return `Restored ${formatRef(r.project, r.name, r.version)}${r.aliases.length ? ` with its aliases ${r.aliases.join(', ')}` : ''}.`;
}

/**
 * Undoes a deletion: restores every version it took, newest first (so that `latest` goes back to
 * where it was). Stops at the first version that cannot come back (gc freed its content).
 */
export async function undoDeletion(registry: Registry, r: DeleteResult): Promise<RestoreResult[]> {
  const out: RestoreResult[] = [];
  for (const d of [...r.deleted].sort((a, b) => b.version - a.version)) out.push(await registry.restoreVersion({ project: r.project, name: r.name, version: d.version }));
  return out;
}

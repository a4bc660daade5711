import { describeError, isTroveError } from '../core/errors';
import { parseRef, parseVersionAlias, validateName, validateProject, type ArtifactRef } from '../core/names';
import type { Registry } from '../core/registry';
import type { ArtifactSummary, RunRecord, VersionDetail, VersionSummary } from '../core/types';
import { isDeletedError } from '../core/versionRules';
import { nearestNames } from './nearest';
import type { ArtifactReference } from './references';

/** What a reference in a document names, as far as the backend knows. */
export type Resolution =
  | { kind: 'resolved'; ref: ArtifactRef; artifact: ArtifactSummary; version: VersionSummary }
  /** A `log` reference to an artifact that does not exist yet: logging creates v0. */
  | { kind: 'new-artifact'; ref: ArtifactRef }
  | { kind: 'invalid'; message: string }
  /** A name W&B accepts (a registry collection with spaces, say) that no Trove artifact can have: not checked. */
  | { kind: 'wandb-only'; message: string }
  | { kind: 'unknown-project'; ref: ArtifactRef; suggestions: string[] }
  | { kind: 'unknown-artifact'; ref: ArtifactRef; suggestions: string[] }
  | { kind: 'unknown-alias'; ref: ArtifactRef; artifact: ArtifactSummary; suggestions: string[] }
  | { kind: 'unknown-version'; ref: ArtifactRef; artifact: ArtifactSummary; suggestions: string[] }
  /** A version named by number (or, `whole`, an artifact) that was deleted: `message` says when. */
  | { kind: 'deleted'; ref: ArtifactRef; whole: boolean; message: string; suggestions: string[] }
  /** The type written beside the reference differs from the artifact's (fixed at its first version). */
  | { kind: 'type-mismatch'; ref: ArtifactRef; artifact: ArtifactSummary; written: string; role: ArtifactReference['role'] }
  | { kind: 'unavailable'; message: string };

/**
 * A cache of what the language server asks the backend: projects, artifact lists, version
 * lists, version details and runs. Entries are promises, so concurrent requests share one
 * fetch. Everything is dropped when the registry reports a change (`invalidate`), and also
 * after `maxAgeMs`, since a server backend does not report changes made by other clients.
 */
export class ArtifactCatalog {
  private projectList?: Promise<string[]>;
  private readonly artifactLists = new Map<string, Promise<Map<string, ArtifactSummary>>>();
  private readonly versionLists = new Map<string, Promise<VersionSummary[]>>();
  private readonly details = new Map<string, Promise<VersionDetail>>();
  private readonly runs = new Map<string, Promise<RunRecord | undefined>>();
  private readonly deletions = new Map<string, Promise<string | undefined>>();
  private readonly suggestionMemo = new Map<string, string[]>();
  private filledAt = 0;

  constructor(
    readonly registry: Registry,
    private readonly maxAgeMs = 30_000,
    private readonly onExpired: () => void = () => undefined,
  ) {}

  /** Forgets everything; the next question goes to the backend. */
  invalidate(): void {
    this.projectList = undefined;
    this.artifactLists.clear();
    this.versionLists.clear();
    this.details.clear();
    this.runs.clear();
    this.deletions.clear();
    this.suggestionMemo.clear();
    this.filledAt = 0;
  }

  private fresh(): void {
    const now = Date.now();
    if (this.filledAt && now - this.filledAt > this.maxAgeMs) {
      this.invalidate();
      this.onExpired();
    }
    if (!this.filledAt) this.filledAt = now;
  }

  /** Caches `load()` under `key`; a failed load is not cached, so the next call retries. */
  private cached<V>(map: Map<string, Promise<V>>, key: string, load: () => Promise<V>): Promise<V> {
    this.fresh();
    let p = map.get(key);
    if (!p) {
      p = load();
      map.set(key, p);
      p.catch(() => {
        if (map.get(key) === p) map.delete(key);
      });
    }
    return p;
  }

  projects(): Promise<string[]> {
    this.fresh();
    if (!this.projectList) {
      const p = this.registry.listProjects().then((list) => list.map((x) => x.name));
      this.projectList = p;
      p.catch(() => {
        if (this.projectList === p) this.projectList = undefined;
      });
    }
    return this.projectList;
  }

  /** The project's artifacts by name; empty for a project that does not exist. */
  artifacts(project: string): Promise<Map<string, ArtifactSummary>> {
    return this.cached(this.artifactLists, project, async () => {
      try {
        return new Map((await this.registry.listArtifacts(project)).map((a) => [a.name, a]));
      } catch (e) {
        if (isTroveError(e) && e.code === 'not_found') return new Map();
        throw e;
      }
    });
  }

  /** Versions of an artifact, newest first. */
  versions(project: string, name: string): Promise<VersionSummary[]> {
    return this.cached(this.versionLists, `${project}\n${name}`, () => this.registry.listVersions(project, name));
  }

  /** A version without its manifest (a version may hold a million files): page it with `registry.manifestPage`. */
  version(project: string, name: string, version: number): Promise<VersionDetail> {
    return this.cached(this.details, `${project}\n${name}\n${version}`, () => this.registry.getVersion({ project, name, alias: `v${version}` }, { manifest: false }));
  }

  /** The run, or undefined if the backend no longer has it. */
  run(runId: string): Promise<RunRecord | undefined> {
    return this.cached(this.runs, runId, async () => {
      try {
        return await this.registry.getRun(runId);
      } catch (e) {
        if (isTroveError(e) && e.code === 'not_found') return undefined;
        throw e;
      }
    });
  }

  /**
   * The backend's sentence saying that an artifact (or one of its versions) was deleted, or
   * undefined when it was not deleted (it never existed). Asked only for what is not listed.
   */
  deletion(project: string, name: string, version?: number): Promise<string | undefined> {
    return this.cached(this.deletions, `${project}\n${name}\n${version ?? ''}`, async () => {
      try {
        if (version === undefined) await this.registry.listVersions(project, name);
        else await this.registry.getVersion({ project, name, alias: `v${version}` }, { manifest: false });
        return undefined;
      } catch (e) {
        // A damaged record (the store leaves such an artifact out of its listing) is said as the
        // store says it, not as an unknown name: resolve reports it as unreadable.
        if (isTroveError(e) && e.code === 'io') throw e;
        // Anything else (it never existed) reads as not deleted: the reference is unknown.
        return isDeletedError(e) ? describeError(e) : undefined;
      }
    });
  }

  private suggest(key: string, target: string, candidates: () => Iterable<string>): string[] {
    let s = this.suggestionMemo.get(key);
    if (!s) {
      s = nearestNames(target, candidates());
      this.suggestionMemo.set(key, s);
    }
    return s;
  }

  /** Resolves a reference found in a document; never throws (backend errors become `unavailable`). */
  async resolve(reference: Pick<ArtifactReference, 'text' | 'role' | 'project' | 'type' | 'linkTarget'>, defaultProject: string): Promise<Resolution> {
    const parsed = interpretReference(reference, defaultProject);
    if ('message' in parsed) {
      return parsed.wandbOnly
        ? { kind: 'wandb-only', message: `W&B accepts "${reference.text.trim()}", but it is not a Trove reference (${parsed.message.replace(/\.$/, '')}), so it is not checked against ${this.registry.location}.` }
        : { kind: 'invalid', message: parsed.message };
    }
    const ref = parsed;
    try {
      const artifacts = await this.artifacts(ref.project);
      const artifact = artifacts.get(ref.name);
      if (!artifact) {
        if (reference.role === 'log') return { kind: 'new-artifact', ref };
        const gone = await this.deletion(ref.project, ref.name);
        if (gone) return { kind: 'deleted', ref, whole: true, message: gone, suggestions: [] };
        const projectWritten = !reference.project && reference.text.includes('/');
        if (projectWritten && artifacts.size === 0) {
          const projects = await this.projects();
          if (!projects.includes(ref.project)) {
            return { kind: 'unknown-project', ref, suggestions: this.suggest(`p\n${ref.project}`, ref.project, () => projects) };
          }
        }
        return { kind: 'unknown-artifact', ref, suggestions: this.suggest(`a\n${ref.project}\n${ref.name}`, ref.name, () => artifacts.keys()) };
      }
      if (reference.type && reference.type.text !== artifact.type) {
        return { kind: 'type-mismatch', ref, artifact, written: reference.type.text, role: reference.role };
      }
      const versions = await this.versions(ref.project, ref.name);
      const number = parseVersionAlias(ref.alias);
      const version = number !== undefined ? versions.find((v) => v.version === number) : versions.find((v) => v.aliases.includes(ref.alias));
      if (version) return { kind: 'resolved', ref, artifact, version };
      if (number !== undefined) {
        const suggestions = versions.slice(0, 3).map((v) => `v${v.version}`);
        const gone = await this.deletion(ref.project, ref.name, number);
        if (gone) return { kind: 'deleted', ref, whole: false, message: gone, suggestions };
        return { kind: 'unknown-version', ref, artifact, suggestions };
      }
      const aliases = versions.flatMap((v) => v.aliases);
      const near = nearestNames(ref.alias, aliases);
      // With no close match, the artifact's aliases are the useful hint.
      return { kind: 'unknown-alias', ref, artifact, suggestions: near.length ? near : aliases.slice(0, 3) };
    } catch (e) {
      return { kind: 'unavailable', message: `${this.registry.location} could not be read: ${describeError(e)}` };
    }
  }
}

/**
 * The artifact a reference's text names. `use` references follow Trove's grammar
 * (`[entity/][project/]name[:vN|:alias]`, default `:latest`); `log` references are the name
 * an artifact is logged under, in the project written beside it or the default project, or for a
 * link target (`link_artifact`) a path `[entity/][project/]collection`. Text Trove cannot read but
 * W&B accepts is marked `wandbOnly`.
 */
export function interpretReference(reference: Pick<ArtifactReference, 'text' | 'role' | 'project' | 'linkTarget'>, defaultProject: string): ArtifactRef | { message: string; wandbOnly?: boolean } {
  try {
    if (reference.role === 'log' && reference.linkTarget) {
      const parts = reference.text.trim().split('/');
      if (reference.text.includes(':') || parts.length > 3 || parts.some((p) => p === '')) {
        return { message: `"${reference.text}" is not a collection to link into: write [entity/][project/]collection, without ":alias".` };
      }
      const project = parts.length >= 2 ? parts[parts.length - 2] : reference.project ?? defaultProject;
      return { project: validateProject(project), name: validateName(parts[parts.length - 1]), alias: 'latest', ...(parts.length === 3 ? { entity: parts[0] } : {}) };
    }
    if (reference.role === 'log') {
      if (/[:/]/.test(reference.text)) {
        return { message: `"${reference.text}" is not an artifact name: the name an artifact is logged under has no "/" or ":".` };
      }
      return { project: reference.project ?? defaultProject, name: validateName(reference.text.trim()), alias: 'latest' };
    }
    return parseRef(reference.text, defaultProject);
  } catch (e) {
    return { message: describeError(e), ...(wandbAccepts(reference) ? { wandbOnly: true } : {}) };
  }
}

/** Characters W&B refuses in entity and project names (its `validate_project_name`). */
const WANDB_PROJECT_REFUSES = /[/\\#?%:\n]/;
/** W&B's artifact names, as `wandb.Artifact(name)` and `log_model(name=)` check them. */
const WANDB_ARTIFACT_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Whether W&B accepts the reference's text where it is written, by W&B's own rules: artifact names
 * of letters, digits, "_", "-" and "." (a leading "." included); in paths (`use_artifact`,
 * `link_artifact`) project and entity names without `/ \ # ? % :`, aliases without "/" or ":",
 * and names as artifact names, except that a registry's collections (`wandb-registry-<name>/…`)
 * may hold spaces and any character but "/" and ":".
 */
export function wandbAccepts(reference: Pick<ArtifactReference, 'text' | 'role' | 'linkTarget'>): boolean {
  const text = reference.text.trim();
  if (!text) return false;
  if (reference.role === 'log' && !reference.linkTarget) return WANDB_ARTIFACT_NAME.test(text);
  let path = text;
  if (!reference.linkTarget) {
    const colon = text.lastIndexOf(':');
    if (colon >= 0 && !text.slice(colon).includes('/')) {
      const alias = text.slice(colon + 1);
      if (!alias.trim() || /[/:]/.test(alias)) return false;
      path = text.slice(0, colon);
    }
  }
  const parts = path.split('/');
  if (parts.length > 3 || parts.some((p) => !p.trim() || p.length > 128)) return false;
  const name = parts[parts.length - 1];
  if (!parts.slice(0, -1).every((p) => !WANDB_PROJECT_REFUSES.test(p))) return false;
  // Only a registry's collections (project "wandb-registry-…") may have names beyond artifact names'.
  const registry = parts.length >= 2 && parts[parts.length - 2].startsWith('wandb-registry-');
  return registry ? !/[:\n]/.test(name) : WANDB_ARTIFACT_NAME.test(name);
}

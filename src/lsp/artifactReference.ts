// What the scanners find: its own file, so that references.ts (which calls the scanners) and the scanners share it without an import loop.

/**
 * How a reference is used. `use` consumes an existing version (`use_artifact`, `useArtifact`,
 * `Api().artifact`, `trove://`), so it must resolve. `log` names an artifact being logged
 * (`wandb.Artifact(name)`, `log_artifact(name=…)`, `new Artifact(name)`): it may not exist yet.
 */
export type ReferenceRole = 'use' | 'log';

/** A string in a document that names an artifact. */
export interface ArtifactReference {
  /** The reference as written, without quotes or `trove://`; may be incomplete while typing. */
  text: string;
  /** Offsets of `text` in the document. */
  start: number;
  end: number;
  role: ReferenceRole;
  /** The construct that made it a reference, for messages: `use_artifact`, `trove://`, … */
  via: string;
  /** A project named next to the reference (the SDK's `logArtifact(r, {project, name})`). */
  project?: string;
  /** The artifact type written next to the reference (`type="dataset"`, `new Artifact(n, 'model')`). */
  type?: TypeArgument;
  /** A `log` reference that is a path `[entity/][project/]collection` to link into (`link_artifact`). */
  linkTarget?: boolean;
}

/** A string literal giving an artifact type, with where its text sits (for a quick fix). */
export interface TypeArgument {
  text: string;
  start: number;
  end: number;
}

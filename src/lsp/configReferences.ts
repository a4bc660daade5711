import type { ArtifactReference } from './artifactReference';

export const TROVE_SCHEME = 'trove://';

/**
 * The reference part of a `trove://` URI runs up to whitespace, a quote or a delimiter that
 * YAML, JSON or TOML would put after a value. A bare `trove://` (being typed) is a reference too.
 */
const TROVE_URI = /trove:\/\/([^\s"'`,;()[\]{}<>#]*)/g;

/** `trove://[entity/][project/]name[:alias]` URIs anywhere in a YAML, JSON or TOML file. */
export function findConfigReferences(text: string): ArtifactReference[] {
  const out: ArtifactReference[] = [];
  for (const m of text.matchAll(TROVE_URI)) {
    const start = m.index! + TROVE_SCHEME.length;
    out.push({ text: m[1], start, end: start + m[1].length, role: 'use', via: TROVE_SCHEME });
  }
  return out;
}

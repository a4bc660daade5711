import type { ArtifactReference } from './artifactReference';
import { findConfigReferences } from './configReferences';
import { findPythonReferences } from './pythonReferences';
import { findScriptReferences } from './scriptReferences';

export type { ArtifactReference, ReferenceRole, TypeArgument } from './artifactReference';

export type ReferenceLanguage = 'python' | 'script' | 'config';

/** Maps an LSP language id to the scanner that understands it; undefined for other languages. */
export function referenceLanguage(languageId: string): ReferenceLanguage | undefined {
  switch (languageId) {
    case 'python':
      return 'python';
    case 'typescript':
    case 'typescriptreact':
    case 'javascript':
    case 'javascriptreact':
      return 'script';
    case 'yaml':
    case 'json':
    case 'jsonc':
    case 'toml':
      return 'config';
    default:
      return undefined;
  }
}

/**
 * Every artifact reference in `text`, in document order. `apiVariables` and `imports`: Python
 * names bound to `wandb.Api()` and by imports outside this text (in a notebook's other cells).
 */
export function findReferences(language: ReferenceLanguage, text: string, apiVariables?: Iterable<string>, imports?: ReadonlyMap<string, string>): ArtifactReference[] {
  switch (language) {
    case 'python':
      return findPythonReferences(text, apiVariables, imports);
    case 'script':
      return findScriptReferences(text);
    case 'config':
      return findConfigReferences(text);
  }
}

/** The reference whose text contains `offset` (its ends included, so a cursor just after the last character counts). */
export function referenceAt(references: ArtifactReference[], offset: number): ArtifactReference | undefined {
  let lo = 0;
  let hi = references.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = references[mid];
    if (offset < r.start) hi = mid - 1;
    else if (offset > r.end) lo = mid + 1;
    else return r;
  }
  return undefined;
}

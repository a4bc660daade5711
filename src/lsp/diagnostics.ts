import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ArtifactCatalog, Resolution } from './catalog';
import { problemMessage } from './hover';
import { DiagnosticCodes } from './protocol';
import type { ArtifactReference } from './references';

export const DIAGNOSTIC_SOURCE = 'trove';

/** A reference that does not resolve, with the part of its text a fix would replace. */
export interface ReferenceProblem {
  reference: ArtifactReference;
  resolution: Resolution;
  code: string;
  message: string;
  /** Offsets of the faulty part: the alias after `:`, the name, or the project. */
  start: number;
  end: number;
  suggestions: string[];
}

/** Resolves every reference of a document; problems in document order. */
export async function findProblems(catalog: ArtifactCatalog, references: ArtifactReference[], defaultProject: string): Promise<ReferenceProblem[]> {
  const resolutions = await Promise.all(references.map((r) => (r.text.trim() ? catalog.resolve(r, defaultProject) : undefined)));
  const problems: ReferenceProblem[] = [];
  let reportedUnavailable = false;
  references.forEach((reference, i) => {
    const resolution = resolutions[i];
    if (!resolution) return;
    const message = problemMessage(resolution);
    if (!message) return;
    if (resolution.kind === 'unavailable') {
      // One notice per document: every reference fails the same way when the backend is down.
      if (reportedUnavailable) return;
      reportedUnavailable = true;
    }
    problems.push({ reference, resolution, message, ...problemSpan(reference, resolution) });
  });
  return problems;
}

function problemSpan(reference: ArtifactReference, resolution: Resolution): Pick<ReferenceProblem, 'code' | 'start' | 'end' | 'suggestions'> {
  const whole = { start: reference.start, end: reference.end };
  const colon = reference.text.lastIndexOf(':');
  const pathEnd = reference.start + (colon >= 0 ? colon : reference.text.length);
  const slash = reference.text.slice(0, colon >= 0 ? colon : undefined).lastIndexOf('/');
  switch (resolution.kind) {
    case 'unknown-alias':
    case 'unknown-version':
      return {
        code: resolution.kind === 'unknown-alias' ? DiagnosticCodes.unknownAlias : DiagnosticCodes.unknownVersion,
        start: reference.start + colon + 1, end: reference.end, suggestions: resolution.suggestions,
      };
    case 'deleted':
      return resolution.whole
        ? { code: DiagnosticCodes.deleted, start: reference.start + slash + 1, end: pathEnd, suggestions: [] }
        : { code: DiagnosticCodes.deleted, start: reference.start + colon + 1, end: reference.end, suggestions: resolution.suggestions };
    case 'unknown-artifact':
      return { code: DiagnosticCodes.unknownArtifact, start: reference.start + slash + 1, end: pathEnd, suggestions: resolution.suggestions };
    case 'unknown-project': {
      const segments = reference.text.slice(0, slash).split('/');
      const projectStart = reference.start + slash - segments[segments.length - 1].length;
      return { code: DiagnosticCodes.unknownProject, start: projectStart, end: reference.start + slash, suggestions: resolution.suggestions };
    }
    case 'type-mismatch':
      return { code: DiagnosticCodes.typeMismatch, start: reference.type!.start, end: reference.type!.end, suggestions: [resolution.artifact.type] };
    case 'unavailable':
      return { code: DiagnosticCodes.backendUnavailable, ...whole, suggestions: [] };
    default:
      return { code: DiagnosticCodes.invalidReference, ...whole, suggestions: [] };
  }
}

/** Problems as LSP diagnostics: warnings, except an unreachable backend, which is information. */
export function toDiagnostics(document: TextDocument, problems: ReferenceProblem[]): Diagnostic[] {
  return problems.map((p) => ({
    range: { start: document.positionAt(p.start), end: document.positionAt(p.end) },
    severity: p.code === DiagnosticCodes.backendUnavailable ? DiagnosticSeverity.Information : DiagnosticSeverity.Warning,
    source: DIAGNOSTIC_SOURCE,
    code: p.code,
    message: p.message,
    ...(p.suggestions.length ? { data: { suggestions: p.suggestions } } : {}),
  }));
}

import { CodeActionKind, type CodeAction, type Diagnostic, type Range } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ArtifactCatalog } from './catalog';
import { DIAGNOSTIC_SOURCE, findProblems } from './diagnostics';
import { ClientCommands, DiagnosticCodes, versionCommandArg, type LogFolderArgs } from './protocol';
import type { ArtifactReference } from './references';

/**
 * Quick fixes for references in `range`: *Log a folder as "<name>"* where the artifact does not
 * exist, and *Change to "<suggestion>"* for each near name. Problems are recomputed from the
 * document rather than read from the diagnostics' `data`, so any client gets them.
 * `serverCommands` (clients without Trove's commands, which the server runs): a resolved reference
 * also gets *Download <ref>*, and a new artifact *Log a folder as "<name>"*, since such clients have
 * no hover links or lens buttons that every editor shows.
 */
export async function referenceCodeActions(
  catalog: ArtifactCatalog, document: TextDocument, references: ArtifactReference[], range: Range,
  defaultProject: string, contextDiagnostics: Diagnostic[], serverCommands = false,
): Promise<CodeAction[]> {
  const from = document.offsetAt(range.start);
  const to = document.offsetAt(range.end);
  const overlaps = (start: number, end: number) => end >= from && start <= to;
  const touched = references.filter((r) => overlaps(r.start, r.end) || (r.type && overlaps(r.type.start, r.type.end)));
  const actions: CodeAction[] = [];
  for (const p of await findProblems(catalog, touched, defaultProject)) {
    const problemRange = { start: document.positionAt(p.start), end: document.positionAt(p.end) };
    const diagnostic = contextDiagnostics.find((d) => d.source === DIAGNOSTIC_SOURCE && d.code === p.code && sameRange(d.range, problemRange));
    const diagnostics = diagnostic ? [diagnostic] : undefined;
    p.suggestions.forEach((s, i) => actions.push({
      title: `Change to "${s}"`,
      kind: CodeActionKind.QuickFix,
      ...(diagnostics ? { diagnostics } : {}),
      isPreferred: i === 0 && p.suggestions.length === 1,
      edit: { changes: { [document.uri]: [{ range: problemRange, newText: s }] } },
    }));
    if (p.code === DiagnosticCodes.unknownArtifact && p.resolution.kind === 'unknown-artifact') {
      const args: LogFolderArgs = { project: p.resolution.ref.project, name: p.resolution.ref.name, ...(p.reference.type ? { type: p.reference.type.text } : {}) };
      actions.push({
        title: `Log a folder as "${args.name}"`,
        kind: CodeActionKind.QuickFix,
        ...(diagnostics ? { diagnostics } : {}),
        command: { title: `Log a folder as "${args.name}"`, command: ClientCommands.logFolder, arguments: [args] },
      });
    }
  }
  if (serverCommands) {
    const resolutions = await Promise.all(touched.map((r) => (r.text.trim() ? catalog.resolve(r, defaultProject) : undefined)));
    touched.forEach((reference, i) => {
      const resolution = resolutions[i];
      if (resolution?.kind === 'resolved') {
        const ref = versionCommandArg({ project: resolution.ref.project, name: resolution.ref.name, version: resolution.version.version });
        actions.push({ title: `Download ${ref}`, command: { title: `Download ${ref}`, command: ClientCommands.downloadVersion, arguments: [ref] } });
      } else if (resolution?.kind === 'new-artifact') {
        const args: LogFolderArgs = { project: resolution.ref.project, name: resolution.ref.name, ...(reference.type ? { type: reference.type.text } : {}) };
        actions.push({ title: `Log a folder as "${args.name}"`, command: { title: `Log a folder as "${args.name}"`, command: ClientCommands.logFolder, arguments: [args] } });
      }
    });
  }
  return actions;
}

function sameRange(a: Range, b: Range): boolean {
  return a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;
}

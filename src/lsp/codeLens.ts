import type { CodeLens } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ArtifactCatalog } from './catalog';
import { versionLine } from './format';
import { ClientCommands, versionCommandArg, type LogFolderArgs } from './protocol';
import type { ArtifactReference } from './references';

/**
 * Lenses above each reference. A resolved one gets two, which VS Code renders as
 * `v3 · 12 files · 1.2 GB — Show Lineage | Download`; an artifact about to be logged for the
 * first time gets `new artifact — Log a Folder`. References that do not resolve get none: their
 * diagnostic says why. `serverCommands`: the client does not run Trove's commands, so a resolved
 * reference gets one lens, `vK · N files · size — Download`, which the server runs.
 */
export async function referenceLenses(catalog: ArtifactCatalog, document: TextDocument, references: ArtifactReference[], defaultProject: string, serverCommands = false): Promise<CodeLens[]> {
  const lenses: CodeLens[] = [];
  const resolutions = await Promise.all(references.map((r) => (r.text.trim() ? catalog.resolve(r, defaultProject) : undefined)));
  references.forEach((reference, i) => {
    const resolution = resolutions[i];
    const range = { start: document.positionAt(reference.start), end: document.positionAt(reference.end) };
    if (resolution?.kind === 'resolved') {
      const args = versionCommandArg({ project: resolution.ref.project, name: resolution.ref.name, version: resolution.version.version });
      if (serverCommands) {
        lenses.push({ range, command: { title: `${versionLine(resolution.version)} — Download`, command: ClientCommands.downloadVersion, arguments: [args] } });
        return;
      }
      lenses.push(
        { range, command: { title: `${versionLine(resolution.version)} — Show Lineage`, command: ClientCommands.showLineage, arguments: [args] } },
        { range, command: { title: 'Download', command: ClientCommands.downloadVersion, arguments: [args] } },
      );
    } else if (resolution?.kind === 'new-artifact') {
      const args: LogFolderArgs = { project: resolution.ref.project, name: resolution.ref.name, ...(reference.type ? { type: reference.type.text } : {}) };
      lenses.push({ range, command: { title: 'new artifact — Log a Folder', command: ClientCommands.logFolder, arguments: [args] } });
    }
  });
  return lenses;
}

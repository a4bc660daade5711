import { CompletionItemKind, type CompletionItem, type Range } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ArtifactCatalog } from './catalog';
import { formatDate, formatSize, plural, versionLine } from './format';
import type { ArtifactReference } from './references';

/** Characters after which a client should ask for completions inside a reference. */
export const COMPLETION_TRIGGERS = ['"', "'", '`', ':', '/'];

/**
 * Completions for the reference under the cursor: artifact names (and projects, as `project/`)
 * before a `:`, the artifact's aliases and `vK` versions after it. Each item replaces only the
 * segment being typed, so `proj/mn|ist:v2` keeps `proj/` and `:v2`.
 */
export async function completeReference(catalog: ArtifactCatalog, document: TextDocument, reference: ArtifactReference, offset: number, defaultProject: string): Promise<CompletionItem[]> {
  const before = reference.text.slice(0, offset - reference.start);
  const after = reference.text.slice(offset - reference.start);
  if (reference.role === 'log') {
    // Names an artifact being logged: offer the existing ones (logging a new version of them).
    const range = rangeOf(document, reference.start, reference.end);
    return artifactItems(catalog, reference.project ?? defaultProject, range);
  }
  const colon = before.lastIndexOf(':');
  if (colon >= 0) {
    const segments = before.slice(0, colon).split('/');
    const name = segments[segments.length - 1];
    const project = segments.length >= 2 ? segments[segments.length - 2] : defaultProject;
    const range = rangeOf(document, reference.start + colon + 1, reference.end);
    return aliasItems(catalog, project, name, range);
  }
  const segments = before.split('/');
  const segmentStart = reference.start + before.length - segments[segments.length - 1].length;
  const stop = after.search(/[:/]/);
  const range = rangeOf(document, segmentStart, stop < 0 ? reference.end : offset + stop);
  if (segments.length === 1) {
    const [names, projects] = await Promise.all([artifactItems(catalog, defaultProject, range), projectItems(catalog, range, defaultProject)]);
    return names.concat(projects);
  }
  // `project/…` or `entity/project/…`: the segment before the last one is the project.
  return artifactItems(catalog, segments[segments.length - 2], range);
}

function rangeOf(document: TextDocument, start: number, end: number): Range {
  return { start: document.positionAt(start), end: document.positionAt(end) };
}

async function artifactItems(catalog: ArtifactCatalog, project: string, range: Range): Promise<CompletionItem[]> {
  const artifacts = await catalog.artifacts(project);
  return [...artifacts.values()].map((a) => ({
    label: a.name,
    kind: CompletionItemKind.Module,
    detail: `${a.type} · v${a.latest}`,
    documentation: `${a.project}/${a.name}: ${plural(a.versions, 'version')}, updated ${formatDate(a.updatedAt)}`,
    sortText: `0${a.name}`,
    textEdit: { range, newText: a.name },
  }));
}

async function projectItems(catalog: ArtifactCatalog, range: Range, defaultProject: string): Promise<CompletionItem[]> {
  const projects = await catalog.projects();
  return projects.filter((p) => p !== defaultProject).map((p) => ({
    label: `${p}/`,
    kind: CompletionItemKind.Folder,
    detail: 'project',
    sortText: `1${p}`,
    textEdit: { range, newText: `${p}/` },
    // Go straight on to the project's artifact names.
    command: { title: 'Suggest artifacts', command: 'editor.action.triggerSuggest' },
  }));
}

async function aliasItems(catalog: ArtifactCatalog, project: string, name: string, range: Range): Promise<CompletionItem[]> {
  const artifacts = await catalog.artifacts(project);
  if (!artifacts.has(name)) return [];
  const versions = await catalog.versions(project, name);
  const items: CompletionItem[] = [];
  for (const v of versions) {
    for (const alias of v.aliases) {
      items.push({
        label: alias,
        kind: CompletionItemKind.Constant,
        detail: versionLine(v),
        sortText: `0${alias === 'latest' ? '' : alias}`,
        textEdit: { range, newText: alias },
      });
    }
  }
  // Newest first: sortText keeps the registry's order (versions arrive newest first).
  versions.forEach((v, i) => items.push({
    label: `v${v.version}`,
    kind: CompletionItemKind.Value,
    detail: `${v.aliases.length ? `${v.aliases.join(', ')} · ` : ''}${plural(v.files, 'file')} · ${formatSize(v.size)}`,
    documentation: `created ${formatDate(v.createdAt)}`,
    sortText: `1${String(i).padStart(6, '0')}`,
    textEdit: { range, newText: `v${v.version}` },
  }));
  return items;
}

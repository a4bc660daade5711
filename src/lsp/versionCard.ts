import { formatRef } from '../core/names';
import type { ArtifactCatalog } from './catalog';
import { code, escapeMarkdown, formatDate, formatSize, plural } from './format';
import type { VersionArgs } from './protocol';

/** How many files a card lists before "… and N more". */
const CARD_FILES = 500;

/**
 * The read-only Markdown document "Go to Definition" opens for a reference: everything about
 * one version (what the hover shows, plus the runs that used it, all metadata and the files).
 */
export async function versionCardMarkdown(catalog: ArtifactCatalog, args: VersionArgs): Promise<string> {
  const v = await catalog.version(args.project, args.name, args.version);
  const lines: string[] = [`# ${escapeMarkdown(formatRef(v.project, v.name, v.version))}`, ''];
  const row = (k: string, value: string) => lines.push(`| ${k} | ${value} |`);
  lines.push('| | |', '|---|---|');
  row('type', escapeMarkdown(v.type));
  row('aliases', v.aliases.map(code).join(' ') || '—');
  row('files', `${v.files}`);
  row('size', `${formatSize(v.size)} (${v.size} bytes)`);
  row('created', formatDate(v.createdAt));
  row('digest', code(v.digest));
  if (v.createdBy) {
    const run = await catalog.run(v.createdBy.runId);
    const git = run?.git ? `, commit ${code(run.git.commit)}${run.git.branch ? ` on ${code(run.git.branch)}` : ''}${run.git.dirty ? ' (uncommitted changes)' : ''}` : '';
    row('produced by', `run ${code(run?.name ?? v.createdBy.runId)} (job type ${code(v.createdBy.jobType)}${git})`);
  }
  if (v.usedBy.length) row('used by', v.usedBy.map((u) => `${code(u.runId)} (${escapeMarkdown(u.jobType)})`).join(', '));
  lines.push(`| store | ${escapeMarkdown(catalog.registry.location)} |`);
  if (v.description) lines.push('', v.description.split(/\r?\n/).map((l) => `> ${escapeMarkdown(l)}`).join('\n'));
  if (Object.keys(v.metadata).length) lines.push('', '## Metadata', '', '```json', JSON.stringify(v.metadata, null, 2), '```');
  // The first files in path order, one page of the manifest (never the whole of a million files).
  const page = v.files ? await catalog.registry.manifestPage({ project: v.project, name: v.name, version: v.version }, null, CARD_FILES) : { items: [] };
  lines.push('', `## Files (${plural(v.files, 'file')})`, '', '| path | size | digest |', '|---|---|---|');
  for (const e of page.items) {
    lines.push(`| ${escapeMarkdown(e.path)} | ${formatSize(e.size)} | ${e.ref ? escapeMarkdown(e.ref) : code(e.digest.slice(0, 12))} |`);
  }
  if (v.files > page.items.length) lines.push('', `… and ${v.files - page.items.length} more`);
  return lines.join('\n') + '\n';
}

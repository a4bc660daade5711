import { formatRef } from '../core/names';
import type { RunRecord, VersionDetail } from '../core/types';
import { ClientCommands } from './clientCommands';
import { code, commandLink, escapeMarkdown, formatDate, formatSize, plural, shortValue } from './format';

/** How many metadata keys the summary lists before "…". */
const METADATA_KEYS = 5;

/**
 * The summary of one version that the hover shows and the Trove tree's tooltip shows too (one
 * card, two places): reference, type, aliases, size, date, digest, the run that made it (name,
 * job type, git commit), description, the first metadata keys, and with `links` the command links.
 */
export function versionSummaryMarkdown(v: VersionDetail, run: RunRecord | undefined, options: { links: boolean; logging?: boolean }): string {
  const args = formatRef(v.project, v.name, v.version); // versionCommandArg, without protocol.ts's jsonrpc import
  const lines: string[] = [];
  const aliases = v.aliases.length ? ` · ${v.aliases.map(code).join(' ')}` : '';
  lines.push(`**${escapeMarkdown(formatRef(v.project, v.name, v.version))}** · ${escapeMarkdown(v.type)}${aliases}`);
  if (options.logging) lines.push('', `Latest version; logging here creates ${code(`v${v.version + 1}`)} unless the content is unchanged.`);
  lines.push('', `${plural(v.files, 'file')} · ${formatSize(v.size)} · created ${formatDate(v.createdAt)}  `);
  lines.push(`digest ${code(v.digest.slice(0, 12))}`);
  if (v.createdBy) {
    const git = run?.git ? ` at commit ${code(run.git.commit.slice(0, 10))}${run.git.branch ? ` on ${code(run.git.branch)}` : ''}${run.git.dirty ? ' (uncommitted changes)' : ''}` : '';
    lines.push('', `Produced by run ${code(run?.name ?? v.createdBy.runId)} · job type ${code(v.createdBy.jobType)}${git}`);
  }
  if (v.description) lines.push('', v.description.split(/\r?\n/).map((l) => `> ${escapeMarkdown(l)}`).join('\n'));
  const keys = Object.keys(v.metadata);
  if (keys.length) {
    const shown = keys.slice(0, METADATA_KEYS).map((k) => `${code(k)}: ${code(shortValue(v.metadata[k]))}`);
    lines.push('', `Metadata: ${shown.join(', ')}${keys.length > METADATA_KEYS ? `, … (${keys.length - METADATA_KEYS} more)` : ''}`);
  }
  if (!options.links) return lines.join('\n');
  lines.push('', [
    commandLink('Show Lineage', ClientCommands.showLineage, args),
    commandLink('Download', ClientCommands.downloadVersion, args),
    commandLink('Reveal in Tree', ClientCommands.revealVersion, args),
  ].join(' · '));
  return lines.join('\n');
}

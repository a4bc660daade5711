import { formatRef } from '../core/names';
import type { VersionDetail } from '../core/types';
import type { ArtifactCatalog, Resolution } from './catalog';
import { code, commandLink, escapeMarkdown, formatDate, formatSize, plural, shortValue } from './format';
import { ClientCommands, versionCommandArg, type LogFolderArgs } from './protocol';
import type { ArtifactReference } from './references';

/** How many metadata keys a hover lists before "…". */
const METADATA_KEYS = 5;

/**
 * The hover's Markdown for a reference: the resolved version, or why it does not resolve.
 * `links`: the client runs `command:` links (VS Code); other clients get none.
 */
export async function hoverMarkdown(catalog: ArtifactCatalog, reference: ArtifactReference, resolution: Resolution, links = true): Promise<string> {
  switch (resolution.kind) {
    case 'resolved':
      return versionMarkdown(catalog, await catalog.version(resolution.ref.project, resolution.ref.name, resolution.version.version), reference, links);
    case 'new-artifact': {
      const { project, name } = resolution.ref;
      const args: LogFolderArgs = { project, name, ...(reference.type ? { type: reference.type.text } : {}) };
      return [
        `**${escapeMarkdown(`${project}/${name}`)}** · not logged yet`,
        '',
        `Logging it creates ${code(`${name}:v0`)} in project ${code(project)} of ${escapeMarkdown(catalog.registry.location)}.`,
        ...(links ? ['', commandLink(`Log a Folder as "${name}"`, ClientCommands.logFolder, args)] : []),
      ].join('\n');
    }
    case 'wandb-only':
      return `**Trove** · ${escapeMarkdown(resolution.message)}`;
    default:
      return `**Trove** · ${escapeMarkdown(problemMessage(resolution) ?? '')}`;
  }
}

async function versionMarkdown(catalog: ArtifactCatalog, v: VersionDetail, reference: ArtifactReference, links: boolean): Promise<string> {
  const args = versionCommandArg(v);
  const lines: string[] = [];
  const aliases = v.aliases.length ? ` · ${v.aliases.map(code).join(' ')}` : '';
  lines.push(`**${escapeMarkdown(formatRef(v.project, v.name, v.version))}** · ${escapeMarkdown(v.type)}${aliases}`);
  if (reference.role === 'log') lines.push('', `Latest version; logging here creates ${code(`v${v.version + 1}`)} unless the content is unchanged.`);
  lines.push('', `${plural(v.files, 'file')} · ${formatSize(v.size)} · created ${formatDate(v.createdAt)}  `);
  lines.push(`digest ${code(v.digest.slice(0, 12))}`);
  if (v.createdBy) {
    const run = await catalog.run(v.createdBy.runId);
    const git = run?.git ? ` at commit ${code(run.git.commit.slice(0, 10))}${run.git.branch ? ` on ${code(run.git.branch)}` : ''}${run.git.dirty ? ' (uncommitted changes)' : ''}` : '';
    lines.push('', `Produced by run ${code(run?.name ?? v.createdBy.runId)} · job type ${code(v.createdBy.jobType)}${git}`);
  }
  if (v.description) lines.push('', v.description.split(/\r?\n/).map((l) => `> ${escapeMarkdown(l)}`).join('\n'));
  const keys = Object.keys(v.metadata);
  if (keys.length) {
    const shown = keys.slice(0, METADATA_KEYS).map((k) => `${code(k)}: ${code(shortValue(v.metadata[k]))}`);
    lines.push('', `Metadata: ${shown.join(', ')}${keys.length > METADATA_KEYS ? `, … (${keys.length - METADATA_KEYS} more)` : ''}`);
  }
  if (!links) return lines.join('\n');
  lines.push('', [
    commandLink('Show Lineage', ClientCommands.showLineage, args),
    commandLink('Download', ClientCommands.downloadVersion, args),
    commandLink('Reveal in Tree', ClientCommands.revealVersion, args),
  ].join(' · '));
  return lines.join('\n');
}

/** The one-sentence problem with a reference, or undefined when it resolves (or is a new artifact). */
export function problemMessage(resolution: Resolution): string | undefined {
  const didYouMean = (s: string[]) => (s.length ? ` Did you mean ${s.map((x) => `"${x}"`).join(', ')}?` : '');
  switch (resolution.kind) {
    case 'resolved':
    case 'new-artifact':
      return undefined;
    case 'invalid':
      return resolution.message;
    case 'wandb-only':
      // Not a problem: W&B accepts it. The hover says why it is not checked.
      return undefined;
    case 'unavailable':
      return resolution.message;
    case 'unknown-project':
      return `Project "${resolution.ref.project}" does not exist.${didYouMean(resolution.suggestions)}`;
    case 'unknown-artifact':
      return `Artifact "${resolution.ref.name}" does not exist in project "${resolution.ref.project}".${didYouMean(resolution.suggestions)}`;
    case 'unknown-alias':
      return `"${resolution.ref.name}" has no alias "${resolution.ref.alias}".${didYouMean(resolution.suggestions)}`;
    case 'type-mismatch':
      return resolution.role === 'log'
        ? `"${resolution.ref.name}" is a ${resolution.artifact.type} artifact; logging it as "${resolution.written}" fails. Use type "${resolution.artifact.type}" or another name.`
        : `"${resolution.ref.name}" is a ${resolution.artifact.type} artifact, not a ${resolution.written}.`;
    case 'unknown-version':
      return `"${resolution.ref.name}" has no version ${resolution.ref.alias}; it has ${plural(resolution.artifact.versions, 'version')}.${didYouMean(resolution.suggestions)}`;
  }
}

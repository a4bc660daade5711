import { DELETED_SUFFIX } from '../core/lineage';
import { formatRef } from '../core/names';
import type { VersionDetail } from '../core/types';
import type { ArtifactCatalog, Resolution } from './catalog';
import { code, commandLink, escapeMarkdown, plural } from './format';
import { ClientCommands, type LogFolderArgs } from './protocol';
import type { ArtifactReference } from './references';
import { versionSummaryMarkdown } from './versionSummary';

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
  const run = v.createdBy ? await catalog.run(v.createdBy.runId) : undefined;
  return versionSummaryMarkdown(v, run, { links, logging: reference.role === 'log' });
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
    case 'deleted':
      return `${resolution.whole ? resolution.ref.name : `${resolution.ref.name}:${resolution.ref.alias}`}${DELETED_SUFFIX}: ${resolution.message}`;
    case 'unknown-version':
      return `"${resolution.ref.name}" has no version ${resolution.ref.alias}; it has ${plural(resolution.artifact.versions, 'version')}.${didYouMean(resolution.suggestions)}`;
  }
}

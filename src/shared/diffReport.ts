/** The text of the *Compare Versions* document: what changed from one version to another. */
import type { Manifest, VersionDiff } from '../core/types';
import { formatSize } from '../core/format';

export function diffReport(refA: string, refB: string, a: Manifest, b: Manifest, diff: VersionDiff): string {
  const lines = [`Trove: ${refA} → ${refB}`, ''];
  const total = diff.added.length + diff.removed.length + diff.modified.length + diff.renamed.length;
  if (total === 0) {
    lines.push('No differences: both versions hold the same files with the same content.');
    return lines.join('\n') + '\n';
  }
  lines.push(`${diff.added.length} added, ${diff.removed.length} removed, ${diff.modified.length} modified, ${diff.renamed.length} renamed`, '');
  const section = (title: string, rows: string[]) => {
    if (!rows.length) return;
    lines.push(`${title} (${rows.length})`);
    for (const r of rows) lines.push(`  ${r}`); // one per changed file: too many to spread as arguments
    lines.push('');
  };
  section('Added', diff.added.map((p) => `+ ${p}  (${formatSize(b[p].size)})`));
  section('Removed', diff.removed.map((p) => `- ${p}  (${formatSize(a[p].size)})`));
  section('Modified', diff.modified.map((p) => `M ${p}  (${formatSize(a[p].size)} → ${formatSize(b[p].size)})`));
  section('Renamed', diff.renamed.map((r) => `R ${r.from} → ${r.to}`));
  return lines.join('\n');
}

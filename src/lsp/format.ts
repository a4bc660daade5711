/** Text shown by the language server: sizes, dates, Markdown and command links. */

import { formatDate, formatSize } from '../core/format';

export { formatDate, formatSize };

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The one-line summary used by code lenses: `v3 · 12 files · 1.2 GB`. */
export function versionLine(v: { version: number; files: number; size: number }): string {
  return `v${v.version} · ${plural(v.files, 'file')} · ${formatSize(v.size)}`;
}

/**
 * Escapes the characters that change inline Markdown (emphasis, code, links, HTML, tables), so
 * descriptions and names show literally. Block syntax cannot start mid-line, so `#`, `-` and `.`
 * stay as they are and names like `mnist-raw.v2` read naturally in the source too.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|~]/g, '\\$&');
}

/** Inline code that survives backticks in the text. */
export function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  return `${fence}${text.includes('`') ? ` ${text} ` : text}${fence}`;
}

/** A Markdown link that runs a client command with one JSON argument. */
export function commandLink(title: string, command: string, arg: unknown): string {
  return `[${title}](command:${command}?${encodeURIComponent(JSON.stringify([arg]))} "${title}")`;
}

/** A metadata value, shortened for a hover. */
export function shortValue(value: unknown, max = 40): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

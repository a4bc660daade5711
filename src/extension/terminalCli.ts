/**
 * The `trove` command that the extension puts on PATH in VS Code's integrated terminals: a small
 * launcher that runs the extension's bundled CLI (dist/cli.js) on the editor's own Node, so that
 * a user with no Node installed has the CLI. No `vscode` import: the unit tests run it as is.
 */
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface TerminalCliOptions {
  /** The program that runs the CLI: the editor's Electron (with ELECTRON_RUN_AS_NODE) or Node. */
  execPath: string;
  /** The bundled CLI, `<extension>/dist/cli.js`. */
  cliPath: string;
  version: string;
  platform?: NodeJS.Platform;
}

/** `'…'` for sh: single quotes, each `'` inside written as `'\''`. */
const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The launcher's file name and text for the platform. */
export function terminalCliScript(o: TerminalCliOptions): { file: string; text: string } {
  if ((o.platform ?? process.platform) === 'win32') {
    return {
      file: 'trove.cmd',
      text: [
        '@echo off',
        `rem trove ${o.version}, from the Trove VS Code extension: its bundled CLI on the editor's own Node.`,
        'setlocal',
        'set ELECTRON_RUN_AS_NODE=1',
        `"${o.execPath}" "${o.cliPath}" %*`,
        '',
      ].join('\r\n'),
    };
  }
  return {
    file: 'trove',
    text: [
      '#!/bin/sh',
      `# trove ${o.version}, from the Trove VS Code extension: its bundled CLI on the editor's own Node.`,
      `ELECTRON_RUN_AS_NODE=1 exec ${shQuote(o.execPath)} ${shQuote(o.cliPath)} "$@"`,
      '',
    ].join('\n'),
  };
}

/**
 * Writes the launcher into `binDir` (created when missing), replacing an older one in one rename
 * so that a terminal never runs half a file while two windows start at once. Returns its path.
 */
export async function writeTerminalCli(binDir: string, o: TerminalCliOptions): Promise<string> {
  const { file, text } = terminalCliScript(o);
  await mkdir(binDir, { recursive: true });
  const target = join(binDir, file);
  const tmp = `${target}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o755 });
  await chmod(tmp, 0o755);
  await rename(tmp, target);
  return target;
}

/** What a terminal's environment gets from the settings: never a token. */
export function terminalVariables(settings: { server?: string; store?: string; project?: string; protectedAliases?: string[] | null }): Record<'TROVE_STORE' | 'TROVE_PROJECT' | 'TROVE_SERVER' | 'TROVE_PROTECTED_ALIASES', string | undefined> {
  return {
    // A server wins over a store in the CLI, so an embedded backend also clears a TROVE_SERVER
    // that the user's shell may set: the terminal then writes where the tree reads.
    TROVE_SERVER: settings.server ?? '',
    TROVE_STORE: settings.server ? undefined : settings.store,
    TROVE_PROJECT: settings.project,
    // `trove rm` in a terminal refuses what Delete Version refuses (unset: the CLI's own default).
    TROVE_PROTECTED_ALIASES: Array.isArray(settings.protectedAliases) ? settings.protectedAliases.join(',') : undefined,
  };
}

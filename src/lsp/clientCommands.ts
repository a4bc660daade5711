/**
 * The commands a language client must register, as the server puts them in hovers, code lenses
 * and code actions; each takes one JSON argument. Part of the contract in protocol.ts, in a file
 * of its own so that the extension's command table (src/extension/commandIds.ts) reuses the ids
 * without bundling vscode-jsonrpc into the activation bundle.
 */
export const ClientCommands = {
  /** arg: `project/name:vK` (versionCommandArg). Opens the lineage view on that version. */
  showLineage: 'trove.showLineage',
  /** arg: `project/name:vK`. Downloads that version into the workspace. */
  downloadVersion: 'trove.downloadVersion',
  /** arg: `project/name:vK`. Reveals and selects that version in the Trove tree. */
  revealVersion: 'trove.revealVersion',
  /** arg: LogFolderArgs. Asks for a folder and logs it under the given name. */
  logFolder: 'trove.logFolder',
} as const;

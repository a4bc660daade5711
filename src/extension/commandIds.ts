import { ClientCommands } from '../lsp/clientCommands';

/**
 * Every command id of the extension, in one place (package.json contributes the same ids); the
 * ones the language server puts in hovers and lenses come from its protocol.
 */
export const Commands = {
  ...ClientCommands,
  addAlias: 'trove.addAlias',
  removeAlias: 'trove.removeAlias',
  deleteVersion: 'trove.deleteVersion',
  deleteArtifact: 'trove.deleteArtifact',
  compareWithPrevious: 'trove.compareWithPrevious',
  compareVersions: 'trove.compareVersions',
  compareWithFolder: 'trove.compareWithFolder',
  compareWithFile: 'trove.compareWithFile',
  openFile: 'trove.openFile',
  openFileToSide: 'trove.openFileToSide',
  copyFilePath: 'trove.copyFilePath',
  saveFileAs: 'trove.saveFileAs',
  copyUsageSnippet: 'trove.copyUsageSnippet',
  copyReference: 'trove.copyReference',
  openDetails: 'trove.openDetails',
  refresh: 'trove.refresh',
  selectBackend: 'trove.selectBackend',
  showOutput: 'trove.showOutput',
  loadMore: 'trove.loadMore',
  signIn: 'trove.signIn',
  signOut: 'trove.signOut',
  runPythonFile: 'trove.runPythonFile',
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];

export const ARTIFACTS_VIEW = 'trove.artifacts';

/** A command's entry: what it does (the words of its error message) and its body. */
export type CommandEntry = readonly [what: string, body: (...args: never[]) => Promise<unknown>];

/** The commands one feature registers, by id (commands.ts registers them all; a feature writes `{ … } satisfies CommandTable` so that its ids stay known). */
export type CommandTable = Partial<Record<CommandId, CommandEntry>>;

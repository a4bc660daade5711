/**
 * The contract between the Trove language server and its clients, declared once and imported by
 * both sides (src/lsp/server.ts and src/extension/languageClient.ts). Everything beyond standard
 * LSP is here: start-up options, the settings section, the one custom notification, and the
 * client commands the server puts in hovers, code lenses and code actions.
 */
import { NotificationType } from 'vscode-jsonrpc';

/** The `workspace/configuration` section the server asks for. Keys match the extension's settings. */
export const SETTINGS_SECTION = 'trove';

/** `trove.*` settings as the server reads them; every field may be missing or empty. */
export interface TroveSettings {
  /** Embedded store folder; empty means TROVE_STORE, else ~/.trove. */
  storePath?: string;
  /** `embedded` (or empty) for the embedded store, or the URL of a `trove serve` server. */
  backend?: string;
  /** Project for references that name none; empty means the workspace folder's git top folder name. */
  project?: string;
}

/**
 * `initializationOptions` of the `initialize` request. The token comes from the extension's
 * SecretStorage and never travels through settings; `settings` is for clients that cannot
 * answer `workspace/configuration`.
 */
export interface TroveInitializationOptions {
  token?: string;
  settings?: TroveSettings;
}

/** Identifies one version in command arguments and notifications. */
export interface VersionArgs {
  project: string;
  name: string;
  version: number;
}

/** Argument of `trove.logFolder`: the artifact name (and project) a reference asked for. */
export interface LogFolderArgs {
  name: string;
  project: string;
}

/** Client commands used in hovers, code lenses and code actions; each takes one JSON argument. */
export const ClientCommands = {
  /** arg: VersionArgs. Opens the lineage view on that version. */
  showLineage: 'trove.showLineage',
  /** arg: VersionArgs. Downloads that version into the workspace. */
  downloadVersion: 'trove.downloadVersion',
  /** arg: VersionArgs. Reveals and selects that version in the Trove tree. */
  revealVersion: 'trove.revealVersion',
  /** arg: LogFolderArgs. Asks for a folder and logs it under the given name. */
  logFolder: 'trove.logFolder',
} as const;

/**
 * Sent by the server when "Go to Definition" lands on a reference that resolves: the client
 * reveals the version in its tree. The definition request itself answers with the reference's
 * own range, so editors navigate nowhere and show no "no definition found" message.
 */
export namespace RevealVersionNotification {
  export const method = 'trove/revealVersion';
  export const type = new NotificationType<VersionArgs & { ref: string }>(method);
}

/** Sent by the client when the user signs in or out after start-up. */
export namespace DidChangeTokenNotification {
  export const method = 'trove/didChangeToken';
  export const type = new NotificationType<{ token?: string }>(method);
}

/** Diagnostic codes the server publishes (also the `code` of their code actions). */
export const DiagnosticCodes = {
  unknownProject: 'unknown-project',
  unknownArtifact: 'unknown-artifact',
  unknownAlias: 'unknown-alias',
  unknownVersion: 'unknown-version',
  typeMismatch: 'type-mismatch',
  invalidReference: 'invalid-reference',
  backendUnavailable: 'backend-unavailable',
} as const;

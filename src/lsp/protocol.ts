/**
 * The contract between the Trove language server and its clients, declared once and imported by
 * both sides (src/lsp/server.ts and src/extension/languageClient.ts). Everything beyond standard
 * LSP is here: start-up options, the settings section, the one custom notification, and the
 * client commands the server puts in hovers, code lenses and code actions.
 */
import { NotificationType, RequestType } from 'vscode-jsonrpc';

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
  /**
   * The client shows `trove-version:` documents (see `VersionDocumentRequest`): "Go to
   * Definition" then answers with the version's card instead of notifying `trove/revealVersion`.
   */
  versionDocuments?: boolean;
  /**
   * The client runs the `ClientCommands` itself (the VS Code extension). Otherwise the server
   * advertises the ones it can run (`trove.downloadVersion`, `trove.logFolder`) as
   * `executeCommandProvider` and runs them on `workspace/executeCommand`; its code lenses and code
   * actions then use only those, and hovers carry no `command:` links.
   */
  clientCommands?: boolean;
}

/** Identifies one version in notifications and requests. */
export interface VersionArgs {
  project: string;
  name: string;
  version: number;
}

/**
 * The argument of the version commands: the canonical reference `project/name:vK`, which the
 * extension's commands accept as they accept a tree item.
 */
export function versionCommandArg(v: VersionArgs): string {
  return `${v.project}/${v.name}:v${v.version}`;
}

/**
 * Argument of `trove.logFolder`: the artifact a reference asked for. `type` is present when
 * written beside the reference (`wandb.Artifact(name, type="model")`); without it the
 * extension asks for the type.
 */
export interface LogFolderArgs {
  name: string;
  project: string;
  type?: string;
  /**
   * The folder to log (absolute, or relative to the workspace folder); only the server reads it.
   * Without it the server asks with `window/showMessageRequest` among the workspace's folders.
   */
  folder?: string;
  aliases?: string[];
  description?: string;
}

/** Client commands used in hovers, code lenses and code actions (in their own file: see there). */
export { ClientCommands } from './clientCommands';

/**
 * "Go to Definition" on a reference that resolves, for clients that cannot show
 * `trove-version:` documents: the server sends this so the client reveals the version in its
 * tree, and answers the definition request with the reference's own range.
 */
export namespace RevealVersionNotification {
  export const method = 'trove/revealVersion';
  export const type = new NotificationType<VersionArgs & { ref: string }>(method);
}

/**
 * "Go to Definition" for clients that set `versionDocuments`: the definition of a reference is
 * a read-only Markdown card of the version, `trove-version:/<project>/<name>/v<K>.md`, whose
 * text the client fetches with this request. The VS Code client reveals the version in the
 * Trove tree when such a card becomes the active editor (so Ctrl+hover previews have no effect).
 */
export namespace VersionDocumentRequest {
  export const method = 'trove/versionDocument';
  export const type = new RequestType<VersionArgs, { markdown: string }, void>(method);
}

/** `trove-version:` card URIs (in their own file: the extension's activation bundle uses them without jsonrpc). */
export { parseVersionDocumentPath, VERSION_DOCUMENT_SCHEME, versionDocumentUri } from './versionDocuments';

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
  /** A reference to a deleted version or artifact (its tombstone is all that is left). */
  deleted: 'deleted',
  typeMismatch: 'type-mismatch',
  invalidReference: 'invalid-reference',
  backendUnavailable: 'backend-unavailable',
} as const;

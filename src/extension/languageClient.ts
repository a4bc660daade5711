import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type DocumentSelector, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import {
  ClientCommands, DidChangeTokenNotification, parseVersionDocumentPath, RevealVersionNotification, SETTINGS_SECTION,
  VERSION_DOCUMENT_SCHEME, versionCommandArg, VersionDocumentRequest, type TroveInitializationOptions, type VersionArgs,
} from '../lsp/protocol';
import { pickTroveSettings } from '../lsp/settings';

/**
 * Where the language server looks for artifact references: Python files and the Python cells of
 * any notebook (synchronised with LSP notebook sync), TypeScript/JavaScript, and YAML/JSON/TOML
 * configs with `trove://` URIs.
 */
export const REFERENCE_DOCUMENTS: DocumentSelector = [
  ...['python', 'typescript', 'typescriptreact', 'javascript', 'javascriptreact', 'yaml', 'json', 'jsonc', 'toml'].flatMap((language) => [
    { scheme: 'file', language },
    { scheme: 'untitled', language },
  ]),
  { notebook: '*', language: 'python' },
];

/**
 * Starts the Trove language server (`dist/server.js`, over node IPC) and its client.
 *
 * - The token from SecretStorage goes to the server once, in `initializationOptions`, and again
 *   (`trove/didChangeToken`) whenever the extension's secrets change.
 * - Settings travel by `workspace/configuration`; the middleware hands over only `storePath`,
 *   `backend` and `project` of the `trove` section.
 * - Command links in hovers are trusted for the Trove commands only.
 * - "Go to Definition" on a reference opens the version's read-only card (`trove-version:`
 *   documents, text from the server) and reveals the version in the Trove tree once the card is
 *   the active editor, so Ctrl+hover previews of the card reveal nothing.
 *
 * The extension registers the commands in `ClientCommands` (src/lsp/protocol.ts), each taking
 * one JSON argument: the reference `project/name:vK` (`trove.showLineage`,
 * `trove.downloadVersion`, `trove.revealVersion`) or `LogFolderArgs` {name, project, type?}
 * (`trove.logFolder`).
 */
/** Opens the Markdown preview of a card and closes the card's text tab it replaces. */
async function showRendered(uri: vscode.Uri): Promise<void> {
  await vscode.commands.executeCommand('markdown.showPreview', uri);
  const source = vscode.window.tabGroups.all.flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === uri.toString());
  if (source.length) await vscode.window.tabGroups.close(source);
}

/** The editor features the language server feeds, each with a setting to turn it off. */
function editorFeature(feature: 'hover' | 'codeLens' | 'diagnostics'): boolean {
  return vscode.workspace.getConfiguration('trove').get<boolean>(`${feature}.enabled`, true);
}

/** The diagnostics the server published last, per document. */
const published = new Map<string, { uri: vscode.Uri; diagnostics: vscode.Diagnostic[] }>();

/**
 * Whether a hover only says what a Trove squiggle under the cursor says: VS Code shows the
 * diagnostic's message in the same hover, so the message would stand there twice. Where no
 * squiggle is shown (diagnostics turned off, or the cursor beside the underlined part), the hover
 * keeps it.
 */
function repeatsDiagnostic(uri: vscode.Uri, position: vscode.Position, hover: vscode.Hover): boolean {
  if (!editorFeature('diagnostics')) return false;
  const here = published.get(uri.toString())?.diagnostics.filter((d) => d.range.contains(position)) ?? [];
  if (!here.length) return false;
  const text = hover.contents.map((c) => (typeof c === 'string' ? c : c.value)).join('\n')
    .replace(/\\(.)/g, '$1').replace(/^\*\*Trove\*\* · /, '').trim();
  return here.some((d) => d.message === text);
}

export async function startLanguageClient(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  getToken: () => Promise<string | undefined>,
): Promise<vscode.Disposable> {
  const module = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  let token = await getToken();
  // The extension runs Trove's commands itself: the server must not advertise them (vscode-languageclient
  // would register them a second time) and keeps its command links and lenses.
  const initializationOptions: TroveInitializationOptions = { versionDocuments: true, clientCommands: true, ...(token ? { token } : {}) };
  const clientOptions: LanguageClientOptions = {
    documentSelector: REFERENCE_DOCUMENTS,
    outputChannel: log,
    initializationOptions,
    markdown: { isTrusted: { enabledCommands: Object.values(ClientCommands) } },
    middleware: {
      // trove.hover.enabled, trove.codeLens.enabled, trove.diagnostics.enabled: the client drops what is turned off.
      provideHover: async (document, position, cancel, next) => {
        if (!editorFeature('hover')) return null;
        const hover = await next(document, position, cancel);
        return hover && repeatsDiagnostic(document.uri, position, hover) ? null : hover;
      },
      provideCodeLenses: (document, cancel, next) => (editorFeature('codeLens') ? next(document, cancel) : []),
      handleDiagnostics: (uri, diagnostics, next) => {
        published.set(uri.toString(), { uri, diagnostics });
        next(uri, editorFeature('diagnostics') ? diagnostics : []);
      },
      workspace: {
        configuration: async (params, cancel, next) => {
          const answer = await next(params, cancel);
          if (!Array.isArray(answer)) return answer;
          return answer.map((value, i) => (params.items[i]?.section === SETTINGS_SECTION ? pickTroveSettings(value) : value));
        },
      },
    },
  };
  const client = new LanguageClient('trove', 'Trove Language Server', serverOptions, clientOptions);
  const subscriptions: vscode.Disposable[] = [];
  // Turning diagnostics off and on again shows the last ones the server published.
  subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
    if (!e.affectsConfiguration('trove.diagnostics.enabled')) return;
    for (const { uri, diagnostics } of published.values()) client.diagnostics?.set(uri, editorFeature('diagnostics') ? diagnostics : []);
  }));
  const reveal = (args: VersionArgs) => {
    const ref = versionCommandArg(args);
    vscode.commands.executeCommand(ClientCommands.revealVersion, ref).then(undefined, (e: unknown) => {
      log.error(`Revealing ${ref} in the Trove tree failed: ${e instanceof Error ? e.message : String(e)}`);
    });
  };
  subscriptions.push(client.onNotification(RevealVersionNotification.type, (p) => reveal({ project: p.project, name: p.name, version: p.version })));
  subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(VERSION_DOCUMENT_SCHEME, {
    async provideTextDocumentContent(uri, cancel) {
      const args = parseVersionDocumentPath(uri.path);
      if (!args) return `Not a Trove version: ${uri.toString()}`;
      try {
        return (await client.sendRequest(VersionDocumentRequest.type, args, cancel)).markdown;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        log.error(`Reading ${args.project}/${args.name}:v${args.version} failed: ${message}`);
        return `# ${args.project}/${args.name}:v${args.version}\n\nThis version could not be read: ${message}\n`;
      }
    },
  }));
  subscriptions.push(vscode.window.onDidChangeActiveTextEditor((editor) => {
    const args = editor?.document.uri.scheme === VERSION_DOCUMENT_SCHEME ? parseVersionDocumentPath(editor.document.uri.path) : undefined;
    if (!args || !editor) return;
    reveal(args);
    // The card is read rendered: the Markdown preview takes the place of its source.
    showRendered(editor.document.uri).catch((e: unknown) => log.error(`Showing the card of ${versionCommandArg(args)} failed: ${e instanceof Error ? e.message : String(e)}`));
  }));
  subscriptions.push(context.secrets.onDidChange(async () => {
    try {
      const next = await getToken();
      if (next === token) return;
      token = next;
      await client.sendNotification(DidChangeTokenNotification.type, { token: next });
    } catch (e) {
      log.error(`Passing the new Trove token to the language server failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }));
  try {
    await client.start();
  } catch (e) {
    subscriptions.forEach((s) => s.dispose());
    throw e;
  }
  log.info('Trove language server started');
  return new vscode.Disposable(() => {
    subscriptions.forEach((s) => s.dispose());
    client.stop().catch((e: unknown) => log.error(`Stopping the Trove language server failed: ${e instanceof Error ? e.message : String(e)}`));
  });
}

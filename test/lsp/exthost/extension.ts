/**
 * A minimal extension for the language client's end-to-end test: it starts the client exactly
 * as the Trove extension does (`startLanguageClient`) and registers the client commands the
 * server links to, recording their arguments instead of acting on them.
 */
import * as vscode from 'vscode';
import { startLanguageClient } from '../../../src/extension/languageClient';
import { ClientCommands } from '../../../src/lsp/protocol';

export interface LspTestApi {
  recorded: { command: string; args: unknown }[];
}

export async function activate(context: vscode.ExtensionContext): Promise<LspTestApi> {
  const recorded: LspTestApi['recorded'] = [];
  const log = vscode.window.createOutputChannel('Trove Language Server (test)', { log: true });
  context.subscriptions.push(log);
  for (const command of Object.values(ClientCommands)) {
    context.subscriptions.push(vscode.commands.registerCommand(command, (args: unknown) => {
      recorded.push({ command, args });
    }));
  }
  context.subscriptions.push(await startLanguageClient(context, log, async () => undefined));
  return { recorded };
}

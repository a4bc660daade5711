/**
 * The Trove language server process: `node dist/server.js --stdio` (or `--node-ipc`, as
 * vscode-languageclient starts it). Settings come from the client through
 * `workspace/configuration`; see src/lsp/protocol.ts for everything beyond standard LSP.
 */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startTroveServer } from './server';

startTroveServer(createConnection(ProposedFeatures.all));

import * as vscode from 'vscode';
import { invalid } from '../core/errors';
import type { ArtifactsTreeProvider } from './artifactsTree';
import type { Backend } from './backend';
import { Commands, type CommandTable } from './commandIds';
import { isServerUrl, TOKEN_SECRET } from './config';
import type { TroveLog } from './log';

/** Which backend the extension uses (an embedded store or a server), and signing in to a server. */
export class BackendCommands {
  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly backend: Backend,
    private readonly tree: ArtifactsTreeProvider,
    private readonly log: TroveLog,
  ) {}

  commands() {
    return {
      [Commands.refresh]: ['Refresh', () => this.refresh()],
      [Commands.selectBackend]: ['Select Backend', (choice?: { backend?: string; storePath?: string }) => this.selectBackend(choice)],
      [Commands.signIn]: ['Sign In', (a?: { server?: string; token?: string }) => this.signIn(a)],
      [Commands.signOut]: ['Sign Out', () => this.signOut()],
    } satisfies CommandTable;
  }

  async refresh(): Promise<void> {
    await this.backend.checkHealth();
    this.tree.refresh();
  }

  /**
   * Stores a server token in VS Code's SecretStorage (never in settings or logs), after checking
   * that the server accepts it, and makes that server the backend.
   */
  async signIn(given?: { server?: string; token?: string }): Promise<string | undefined> {
    const current = isServerUrl(this.backend.config.backend) ? this.backend.config.backend : 'http://127.0.0.1:8080';
    const server = given?.server ?? (await vscode.window.showInputBox({
      title: 'Sign in to a Trove server (1/2)', prompt: 'Server URL', value: current, ignoreFocusOut: true,
      validateInput: (v) => (validServerUrl(v.trim()) ? undefined : 'Enter an http:// or https:// URL without a user name or password, for example http://127.0.0.1:8080.'),
    }))?.trim();
    if (server === undefined) return undefined;
    if (!validServerUrl(server)) throw invalid(`"${server}" is not a server URL: use http(s)://host:port without credentials.`);
    const token = given?.token ?? (await vscode.window.showInputBox({
      title: 'Sign in to a Trove server (2/2)', prompt: 'API token (printed by "trove token create")', password: true, ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : 'Paste the token printed by "trove token create".'),
    }))?.trim();
    if (!token) return undefined;
    const { openRegistry } = await import('../backends/openRegistry');
    const probe = openRegistry({ server, token }).registry;
    try {
      await probe.listProjects();
    } finally {
      await probe.close();
    }
    await this.context.secrets.store(TOKEN_SECRET, token);
    await this.selectBackend({ backend: server });
    this.log.info(`Signed in to ${server}`);
    void vscode.window.showInformationMessage(`Signed in to ${server}.`);
    return server;
  }

  async signOut(): Promise<void> {
    await this.context.secrets.delete(TOKEN_SECRET);
    await this.backend.open();
    this.tree.refresh();
    void vscode.window.showInformationMessage('Signed out: the server token was removed from VS Code\'s secret storage.');
  }

  async selectBackend(choice?: { backend?: string; storePath?: string; target?: 'user' | 'workspace' }): Promise<string | undefined> {
    let backend = choice?.backend;
    let storePath = choice?.storePath;
    let target = choice?.target;
    if (!choice) {
      type Item = vscode.QuickPickItem & { action: 'keep' | 'folder' | 'server' | 'default' };
      const items: Item[] = [
        { label: '$(database) Embedded store', description: this.backend.isEmbedded ? 'current' : '', detail: this.backend.storeRoot, action: 'keep' },
        { label: '$(folder-opened) Embedded store in another folder…', action: 'folder' },
        { label: '$(home) Default embedded store', detail: 'TROVE_STORE, else ~/.trove', action: 'default' },
        { label: '$(server) Server…', description: isServerUrl(this.backend.config.backend) ? `current: ${this.backend.config.backend}` : '', detail: 'A "trove serve" URL such as http://127.0.0.1:8080', action: 'server' },
      ];
      const picked = await vscode.window.showQuickPick(items, { title: 'Select the Trove backend' });
      if (!picked) return undefined;
      if (picked.action === 'keep') backend = 'embedded';
      if (picked.action === 'default') [backend, storePath] = ['embedded', ''];
      if (picked.action === 'folder') {
        const folder = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use as Trove store' });
        if (!folder?.[0]) return undefined;
        [backend, storePath] = ['embedded', folder[0].fsPath];
      }
      if (picked.action === 'server') {
        const url = await vscode.window.showInputBox({
          title: 'Trove server URL', value: isServerUrl(this.backend.config.backend) ? this.backend.config.backend : 'http://127.0.0.1:8080',
          validateInput: (v) => (validServerUrl(v.trim()) ? undefined : 'Enter an http:// or https:// URL without a user name or password, for example http://127.0.0.1:8080.'),
        });
        if (url === undefined) return undefined;
        backend = url.trim();
      }
      // Workspace settings are often tracked by git: the user chooses where the choice is kept.
      if (vscode.workspace.workspaceFolders?.length) {
        const where = await vscode.window.showQuickPick([
          { label: '$(account) User settings', detail: 'For every workspace on this machine; nothing is written into the project', target: 'user' as const },
          { label: '$(folder) Workspace settings', detail: '.vscode/settings.json of this workspace, which git may track and share', target: 'workspace' as const },
        ], { title: 'Save the Trove backend in…' });
        if (!where) return undefined;
        target = where.target;
      }
    }
    if (backend !== undefined && backend !== 'embedded' && !validServerUrl(backend)) {
      throw invalid(`"${backend}" is not a backend: use "embedded" or an http(s) URL without credentials (sign in for the token).`);
    }
    const config = vscode.workspace.getConfiguration('trove');
    // Callers that pass a backend without a target keep the earlier rule: the workspace when there is one.
    const where = target === 'user' || !vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Global : vscode.ConfigurationTarget.Workspace;
    if (storePath !== undefined) await config.update('storePath', storePath, where);
    if (backend !== undefined) await config.update('backend', backend, where);
    await this.backend.open();
    this.tree.refresh();
    return this.backend.location;
  }
}

function validServerUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password;
  } catch {
    return false;
  }
}

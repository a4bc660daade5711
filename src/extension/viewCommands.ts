import * as vscode from 'vscode';
import { formatRef } from '../core/names';
import { invalid } from '../core/errors';
import type { TreeElement } from '../shared/artifactTree';
import { usageSnippet, type SnippetLanguage } from '../shared/usageSnippets';
import { versionDocumentUri } from '../lsp/versionDocuments';
import type { ArtifactsTreeProvider } from './artifactsTree';
import { ARTIFACTS_VIEW, Commands, type CommandTable } from './commandIds';
import type { CommandPickers } from './commandPickers';
import type { LineagePanels } from './lineagePanel';
import type { TroveLog } from './log';

/** Looking at a version: its lineage, its card, its place in the tree, its reference and usage on the clipboard. */
export class ViewCommands {
  constructor(
    private readonly pickers: CommandPickers,
    private readonly tree: ArtifactsTreeProvider,
    private readonly lineage: LineagePanels,
    private readonly log: TroveLog,
  ) {}

  commands() {
    return {
      [Commands.showLineage]: ['Show Lineage', (t?: unknown) => this.showLineage(t)],
      [Commands.revealVersion]: ['Reveal Version', (t?: unknown) => this.revealVersion(t)],
      [Commands.openDetails]: ['Open Details', (t?: unknown) => this.openDetails(t)],
      [Commands.copyUsageSnippet]: ['Copy Usage Snippet', (t?: unknown, lang?: SnippetLanguage) => this.copyUsageSnippet(t, lang)],
      [Commands.copyReference]: ['Copy Reference', (t?: unknown) => this.copyReference(t)],
      [Commands.loadMore]: ['Load More', async (t?: TreeElement) => t && this.tree.loadMore(t)],
      [Commands.showOutput]: ['Show Output', async () => this.log.channel.show(true)],
    } satisfies CommandTable;
  }

  async showLineage(target?: unknown): Promise<string | undefined> {
    const t = await this.pickers.versionTarget(target, 'Show Lineage');
    if (!t) return undefined;
    const ref = formatRef(t.project, t.name, t.version);
    this.lineage.show(ref);
    return ref;
  }

  /** Selects a version in the Artifacts tree (from the language server's links and definitions). */
  async revealVersion(target?: unknown): Promise<void> {
    const t = await this.pickers.versionTarget(target, 'Reveal Version');
    if (!t) return;
    await vscode.commands.executeCommand(`${ARTIFACTS_VIEW}.focus`);
    await this.pickers.reveal(t);
  }

  /**
   * Opens a version's card rendered in VS Code's Markdown preview: the same card as Go to
   * Definition (`trove-version:` documents, written by the language server).
   */
  async openDetails(target?: unknown): Promise<vscode.Uri | undefined> {
    const t = await this.pickers.versionTarget(target, 'Open Details');
    if (!t) return undefined;
    const uri = vscode.Uri.parse(versionDocumentUri(t));
    await vscode.commands.executeCommand('markdown.showPreview', uri);
    return uri;
  }

  async copyUsageSnippet(target?: unknown, languageArg?: SnippetLanguage): Promise<string | undefined> {
    const t = await this.pickers.versionTarget(target, 'Copy Usage Snippet');
    if (!t) return undefined;
    const language = languageArg ?? (await vscode.window.showQuickPick(
      [{ label: 'Python', language: 'python' as const }, { label: 'TypeScript', language: 'typescript' as const }],
      { title: `Usage snippet for ${t.name}:v${t.version}`, placeHolder: 'Language' }))?.language;
    if (!language) return undefined;
    if (language !== 'python' && language !== 'typescript') throw invalid(`Snippets exist for python and typescript, not "${language}".`);
    const snippet = usageSnippet(language, { project: t.project, name: t.name, alias: `v${t.version}`, type: t.type });
    await vscode.env.clipboard.writeText(snippet);
    void vscode.window.showInformationMessage(`Copied the ${language === 'python' ? 'Python' : 'TypeScript'} snippet for ${t.name}:v${t.version}.`);
    return snippet;
  }

  async copyReference(target?: unknown): Promise<string | undefined> {
    const t = await this.pickers.versionTarget(target, 'Copy Reference');
    if (!t) return undefined;
    const ref = formatRef(t.project, t.name, t.version);
    await vscode.env.clipboard.writeText(ref);
    void vscode.window.showInformationMessage(`Copied ${ref}.`);
    return ref;
  }
}

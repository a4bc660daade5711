import * as vscode from 'vscode';
import { defaultStorePath } from '../core/config';
import { describeError, TroveError } from '../core/errors';
import { openChosen } from '../backends/openRegistry';
import { backendFromSettings } from '../core/backendChoice';
import type { Registry } from '../core/registry';
import { storeCacheDir, storeExists } from '../store/layout';
import { isServerUrl, readConfig, TOKEN_SECRET, type TroveConfig } from './config';
import type { TroveLog } from './log';

/** `empty`: reachable, no artifacts yet; `unreachable`: opening or listing failed. */
export type BackendState = 'ok' | 'empty' | 'unreachable';


/**
 * Owns the Registry the settings name: opens it, checks its health, reopens it when the settings
 * change, and turns its change notifications (including those of a CLI run in a terminal, which
 * the embedded store reports through a file watch) into one debounced event.
 */
export class Backend implements vscode.Disposable {
  private current?: { registry: Registry; cacheDir: string };
  private unsubscribe?: () => void;
  private storeWaiter?: ReturnType<typeof setInterval>;
  private debounce?: ReturnType<typeof setTimeout>;
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly stateChanged = new vscode.EventEmitter<BackendState>();
  /** Fires after the backend's content changed (debounced) or the backend was switched. */
  readonly onDidChange = this.changed.event;
  readonly onDidChangeState = this.stateChanged.event;
  state: BackendState | undefined;
  error: string | undefined;
  config: TroveConfig = readConfig();

  constructor(private readonly log: TroveLog, private readonly secrets: vscode.SecretStorage) {}

  /** A short name for the status bar: `embedded ~/.trove` or the server's host. */
  get label(): string {
    if (isServerUrl(this.config.backend)) {
      try {
        return new URL(this.config.backend).host;
      } catch {
        return this.config.backend;
      }
    }
    return `embedded ${this.storeRoot.replace(process.env.HOME ?? '\0', '~')}`;
  }

  get location(): string {
    return this.current?.registry.location ?? (isServerUrl(this.config.backend) ? `server ${this.config.backend}` : `embedded store ${this.storeRoot}`);
  }

  get storeRoot(): string {
    return defaultStorePath(this.config.storePath);
  }

  get isEmbedded(): boolean {
    return !isServerUrl(this.config.backend);
  }

  /** The open Registry; throws the reason when the backend could not be opened. */
  get registry(): Registry {
    if (!this.current) throw new TroveError('unavailable', this.error ?? 'The Trove backend is not open yet; try again in a moment.');
    return this.current.registry;
  }

  get cacheDir(): string {
    return this.current?.cacheDir ?? storeCacheDir(this.storeRoot);
  }

  /** How many times the backend was opened (Select Backend writes two settings, each of which asks for an open). */
  opens = 0;
  private opening?: Promise<void>;
  private openAgain = false;

  /**
   * (Re)opens the backend from the settings, then checks its health. Calls made while an open is
   * under way (a settings change, Select Backend, Sign In all ask for one) share it, and it is
   * followed by one more open that reads the settings as they are then: one at a time, never two
   * registries half-open.
   */
  open(): Promise<void> {
    if (this.opening) {
      this.openAgain = true;
      return this.opening;
    }
    this.opening = (async () => {
      try {
        do {
          this.openAgain = false;
          await this.openNow();
        } while (this.openAgain);
      } finally {
        this.opening = undefined;
      }
    })();
    return this.opening;
  }

  private async openNow(): Promise<void> {
    this.opens++;
    await this.closeCurrent();
    this.config = readConfig();
    try {
      const token = this.isEmbedded ? undefined : await this.secrets.get(TOKEN_SECRET);
      const choice = backendFromSettings(this.config, token);
      const opened = openChosen(choice);
      const host = choice.kind === 'server' ? new URL(choice.url).host : '';
      if (host) this.log.info(`Backend: server ${host}${token ? ' (signed in)' : ' (no token; Trove: Sign In if the server asks for one)'}`);
      this.current = opened;
      this.subscribe();
      this.log.info(`Backend: ${opened.registry.location}`);
    } catch (e) {
      this.setState('unreachable', describeError(e));
      return;
    }
    await this.checkHealth();
  }

  /** Lists projects to learn whether the backend answers and whether it holds anything. */
  async checkHealth(): Promise<BackendState> {
    if (!this.current) {
      this.setState('unreachable', this.error ?? 'The backend is not open.');
      return 'unreachable';
    }
    try {
      const projects = await this.current.registry.listProjects();
      this.setState(projects.length ? 'ok' : 'empty');
    } catch (e) {
      this.setState('unreachable', describeError(e));
    }
    return this.state!;
  }

  private setState(state: BackendState, error?: string): void {
    const changed = state !== this.state || error !== this.error;
    this.state = state;
    this.error = error;
    if (error) this.log.channel.warn(`Backend ${this.location} unreachable: ${error}`);
    void vscode.commands.executeCommand('setContext', 'trove.backendState', state);
    // Sign In / Sign Out are offered only while a server is the backend.
    void vscode.commands.executeCommand('setContext', 'trove.backendIsServer', !this.isEmbedded);
    if (changed) this.stateChanged.fire(state);
  }

  private subscribe(): void {
    const registry = this.current!.registry;
    // The embedded store's watcher needs the folder; until a first log creates it, look for it.
    if (this.isEmbedded && !storeExists(this.storeRoot)) {
      this.storeWaiter = setInterval(() => {
        if (!storeExists(this.storeRoot)) return;
        clearInterval(this.storeWaiter);
        this.storeWaiter = undefined;
        this.unsubscribe?.();
        this.unsubscribe = registry.onDidChange(() => this.scheduleChange());
        this.scheduleChange();
      }, 2000);
    }
    this.unsubscribe = registry.onDidChange(() => this.scheduleChange());
  }

  /** Many writes (a log touches several files) become one refresh. */
  private scheduleChange(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      void this.checkHealth().then(() => this.changed.fire());
    }, 250);
  }

  private async closeCurrent(): Promise<void> {
    clearInterval(this.storeWaiter);
    this.storeWaiter = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    const old = this.current;
    this.current = undefined;
    await old?.registry.close();
  }

  dispose(): void {
    clearTimeout(this.debounce);
    void this.closeCurrent();
    this.changed.dispose();
    this.stateChanged.dispose();
  }
}

import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { describeError } from '../core/errors';
import { parseVersionPath } from '../shared/versionUri';
import type { Backend } from './backend';
import type { VersionCache } from './versionCache';

/** Files above this size are not opened in an editor. */
const MAX_OPEN_BYTES = 256 * 1024 * 1024;
/** Content kept in memory for re-opened files and diffs. */
const CACHE_BYTES = 64 * 1024 * 1024;

/**
 * The read-only `trove:` file system: `trove:/<project>/<name>/v<K>/<path>` is a file of a
 * version. Versions are immutable, so there is nothing to watch and every write is refused.
 */
export class VersionFileSystem implements vscode.FileSystemProvider {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changeEmitter.event;
  private readonly content = new Map<string, Uint8Array>();
  private cachedBytes = 0;

  constructor(private readonly backend: Backend, private readonly versions: VersionCache) {}

  private async resolve(uri: vscode.Uri) {
    let p;
    try {
      p = parseVersionPath(uri.path);
    } catch {
      throw vscode.FileSystemError.FileNotFound(uri);
    }
    try {
      return { p, version: await this.versions.get(p.project, p.name, p.version) };
    } catch (e) {
      throw vscode.FileSystemError.Unavailable(describeError(e));
    }
  }

  /** The file's manifest entry: read from the pages its folder's files are on, not from the whole manifest. */
  private async entry(uri: vscode.Uri) {
    const { p, version } = await this.resolve(uri);
    try {
      return { p, version, entry: p.path ? await version.folders.entry(p.path) : undefined };
    } catch (e) {
      throw vscode.FileSystemError.Unavailable(describeError(e));
    }
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const { p, version, entry } = await this.entry(uri);
    const mtime = Date.parse(version.detail.createdAt) || 0;
    if (entry) return { type: vscode.FileType.File, ctime: mtime, mtime, size: entry.size, permissions: vscode.FilePermission.Readonly };
    if (version.folders.isFolder(p.path)) return { type: vscode.FileType.Directory, ctime: mtime, mtime, size: 0, permissions: vscode.FilePermission.Readonly };
    throw vscode.FileSystemError.FileNotFound(uri);
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    const { p, version } = await this.resolve(uri);
    let listing;
    try {
      listing = await version.folders.list(p.path);
    } catch (e) {
      throw vscode.FileSystemError.Unavailable(describeError(e));
    }
    if (!listing) throw vscode.FileSystemError.FileNotADirectory(uri);
    const out: [string, vscode.FileType][] = listing.folders.map((f) => [f, vscode.FileType.Directory]);
    for (const f of listing.files) out.push([f.path.slice(f.path.lastIndexOf('/') + 1), vscode.FileType.File]);
    return out;
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const { p, entry } = await this.entry(uri);
    if (!entry) throw vscode.FileSystemError.FileNotFound(uri);
    if (entry.ref) throw vscode.FileSystemError.Unavailable(`${p.path} is a reference to ${entry.ref}; Trove records its checksum but does not store it. Download the version to fetch it.`);
    if (entry.size > MAX_OPEN_BYTES) throw vscode.FileSystemError.Unavailable(`${p.path} is too large to open in an editor (${entry.size} bytes); download the version instead.`);
    const cached = this.content.get(entry.digest);
    if (cached) return cached;
    const tmp = join(tmpdir(), `trove-open-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await this.backend.registry.fetchBlob(entry.digest, tmp);
      const data = new Uint8Array(await readFile(tmp));
      this.remember(entry.digest, data);
      return data;
    } catch (e) {
      throw vscode.FileSystemError.Unavailable(describeError(e));
    } finally {
      await rm(tmp, { force: true });
    }
  }

  private remember(digest: string, data: Uint8Array): void {
    if (data.length > CACHE_BYTES / 4) return;
    while (this.cachedBytes + data.length > CACHE_BYTES && this.content.size) {
      const [oldest, old] = this.content.entries().next().value!;
      this.content.delete(oldest);
      this.cachedBytes -= old.length;
    }
    this.content.set(digest, data);
    this.cachedBytes += data.length;
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined); // versions never change
  }

  private readOnly(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(`${uri.path} belongs to a Trove version, which is read-only; log a new version instead.`);
  }

  writeFile(uri: vscode.Uri): void {
    this.readOnly(uri);
  }

  createDirectory(uri: vscode.Uri): void {
    this.readOnly(uri);
  }

  delete(uri: vscode.Uri): void {
    this.readOnly(uri);
  }

  rename(uri: vscode.Uri): void {
    this.readOnly(uri);
  }
}

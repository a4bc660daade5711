/**
 * A version's folders, read a page of its manifest at a time (`Registry.manifestPage`) so that a
 * version of a million files is never held whole: the index keeps, for each folder, its
 * subfolders, how many files it holds directly, and where in the pages those files are (runs of
 * consecutive entries). Listing a folder's files then reads only the pages they are on.
 * No `vscode` import: unit-tested under Node against a real store.
 */
import { byUtf8 } from '../core/manifest';
import type { ManifestFile, ManifestPage, VersionKey } from '../core/types';

export interface ManifestPages {
  manifestPage(key: VersionKey, cursor: string | null, limit?: number): Promise<ManifestPage>;
}

/** Consecutive direct files of one folder: `count` entries from entry `offset` of page `page`. */
interface Run {
  page: number;
  offset: number;
  count: number;
}

interface Folder {
  folders: Set<string>;
  files: number;
  runs: Run[];
}

/** A folder's children: its subfolders (names, in path order) and up to `limit` of its files. */
export interface FolderListing {
  folders: string[];
  files: ManifestFile[];
  /** Direct files of the folder, all of them (`files` may hold fewer). */
  totalFiles: number;
}

const parentOf = (path: string): string => {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
};

export class FolderIndex {
  private constructor(
    private readonly source: ManifestPages,
    readonly key: VersionKey,
    /** The cursor each page was read with (null for the first). */
    private readonly cursors: (string | null)[],
    private readonly folders: Map<string, Folder>,
    /** A few pages kept for the next listing or lookup (a folder's files are usually on one or two). */
    private readonly pages: Map<number, ManifestFile[]>,
  ) {}

  /** Reads every page of the version once and keeps only its folder structure. */
  static async build(source: ManifestPages, key: VersionKey, signal?: AbortSignal): Promise<FolderIndex> {
    const folders = new Map<string, Folder>([['', { folders: new Set(), files: 0, runs: [] }]]);
    const cursors: (string | null)[] = [];
    const pages = new Map<number, ManifestFile[]>();
    let cursor: string | null = null;
    let lastDir: string | undefined;
    let run: Run | undefined;
    const folderOf = (dir: string): Folder => {
      let f = folders.get(dir);
      if (f) return f;
      f = { folders: new Set(), files: 0, runs: [] };
      folders.set(dir, f);
      const parent = parentOf(dir);
      folderOf(parent).folders.add(parent ? dir.slice(parent.length + 1) : dir);
      return f;
    };
    do {
      signal?.throwIfAborted();
      const page: ManifestPage = await source.manifestPage(key, cursor);
      const index = cursors.length;
      cursors.push(cursor);
      let current = lastDir === undefined ? undefined : folders.get(lastDir);
      for (let i = 0; i < page.items.length; i++) {
        const dir = parentOf(page.items[i].path);
        if (dir !== lastDir || !current || !run) {
          current = folderOf(dir);
          lastDir = dir;
          run = { page: index, offset: i, count: 0 };
          current.runs.push(run);
        } else if (run.page !== index) {
          // The same folder's files go on into the next page: a run never spans pages.
          run = { page: index, offset: i, count: 0 };
          current.runs.push(run);
        }
        run.count++;
        current.files++;
      }
      if (index === 0 && !page.nextCursor) pages.set(0, page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return new FolderIndex(source, key, cursors, folders, pages);
  }

  get fileCount(): number {
    let n = 0;
    for (const f of this.folders.values()) n += f.files;
    return n;
  }

  isFolder(dir: string): boolean {
    return this.folders.has(dir);
  }

  /** The folder's subfolders and its files `from` to `from + limit` (in path order); undefined when it is no folder of the version. */
  async list(dir: string, from = 0, limit = Infinity): Promise<FolderListing | undefined> {
    const f = this.folders.get(dir);
    if (!f) return undefined;
    const folders = [...f.folders];
    const files: ManifestFile[] = [];
    let skip = from;
    for (const r of f.runs) {
      if (files.length >= limit) break;
      if (skip >= r.count) {
        skip -= r.count;
        continue;
      }
      const page = await this.page(r.page);
      const end = r.offset + r.count;
      for (let i = r.offset + skip; i < end && files.length < limit; i++) files.push(page[i]);
      skip = 0;
    }
    return { folders, files, totalFiles: f.files };
  }

  /** One file of the version, or undefined. */
  async entry(path: string): Promise<ManifestFile | undefined> {
    const f = this.folders.get(parentOf(path));
    if (!f) return undefined;
    for (const r of f.runs) {
      const page = await this.page(r.page);
      // Entries are in path order: a run that ends before the path does not hold it, the first one that does not end before it does or nothing does.
      if (byUtf8(page[r.offset + r.count - 1].path, path) < 0) continue;
      for (let i = r.offset; i < r.offset + r.count; i++) if (page[i].path === path) return page[i];
      return undefined;
    }
    return undefined;
  }

  private async page(index: number): Promise<ManifestFile[]> {
    const kept = this.pages.get(index);
    if (kept) {
      // Most recently used last.
      this.pages.delete(index);
      this.pages.set(index, kept);
      return kept;
    }
    const page = await this.source.manifestPage(this.key, this.cursors[index]);
    this.pages.set(index, page.items);
    if (this.pages.size > KEPT_PAGES) this.pages.delete(this.pages.keys().next().value!);
    return page.items;
  }
}

/** Pages of 5,000 entries (about 1.3 MB each) kept per version (the extension keeps up to 16 versions). */
const KEPT_PAGES = 2;

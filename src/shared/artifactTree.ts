/**
 * The elements of the Artifacts tree as plain data, with their stable ids, their parents and the
 * paging rule. The extension turns them into TreeItems; this file has no `vscode` import so the
 * id grammar and paging are unit-tested under Node.
 */

export interface VersionRefData {
  project: string;
  name: string;
  type: string;
  version: number;
}

export type TreeElement =
  | { kind: 'project'; project: string; artifacts: number }
  | { kind: 'typeGroup'; project: string; type: string; artifacts: number }
  | { kind: 'artifact'; project: string; name: string; type: string; versions: number; latest: number; updatedAt: string }
  | (VersionRefData & { kind: 'version'; aliases: string[]; size: number; files: number; createdAt: string; digest: string; hasPrevious: boolean })
  | (VersionRefData & { kind: 'folder'; path: string })
  | (VersionRefData & { kind: 'file'; path: string; size: number; external: boolean })
  | { kind: 'loadMore'; parentId: string; shown: number; total: number };

/** Children shown per parent before a "Load more" item. */
export const PAGE_SIZE = 200;

export function elementId(e: TreeElement): string {
  switch (e.kind) {
    case 'project': return `project:${e.project}`;
    case 'typeGroup': return `type:${e.project}/${e.type}`;
    case 'artifact': return `artifact:${e.project}/${e.name}`;
    case 'version': return `version:${e.project}/${e.name}:v${e.version}`;
    case 'folder': return `folder:${e.project}/${e.name}:v${e.version}/${e.path}`;
    case 'file': return `file:${e.project}/${e.name}:v${e.version}/${e.path}`;
    case 'loadMore': return `more:${e.parentId}`;
    default: return assertNever(e);
  }
}

/**
 * The parent of an element, rebuilt from the element's own data (so `reveal` works on an element
 * made from a log result). Counts that only a listing knows are left at 0; ids do not use them.
 */
export function parentOf(e: TreeElement): TreeElement | undefined {
  switch (e.kind) {
    case 'project':
    case 'loadMore':
      return undefined;
    case 'typeGroup':
      return { kind: 'project', project: e.project, artifacts: 0 };
    case 'artifact':
      return { kind: 'typeGroup', project: e.project, type: e.type, artifacts: 0 };
    case 'version':
      return { kind: 'artifact', project: e.project, name: e.name, type: e.type, versions: 0, latest: 0, updatedAt: '' };
    case 'folder':
    case 'file': {
      const slash = e.path.lastIndexOf('/');
      const base = { project: e.project, name: e.name, type: e.type, version: e.version };
      if (slash < 0) return { kind: 'version', ...base, aliases: [], size: 0, files: 0, createdAt: '', digest: '', hasPrevious: false };
      return { kind: 'folder', ...base, path: e.path.slice(0, slash) };
    }
    default:
      return assertNever(e);
  }
}

/**
 * The first `limit` children, then a "Load more" element when there are more. `limit` grows by
 * PAGE_SIZE each time the user picks "Load more". `total`: how many children there are, when
 * `children` holds only the first ones (a folder of a large version is read a page at a time).
 */
export function page(parentId: string, children: TreeElement[], limit: number = PAGE_SIZE, total = children.length): TreeElement[] {
  if (total <= limit) return children;
  return [...children.slice(0, limit), { kind: 'loadMore', parentId, shown: limit, total }];
}

/**
 * `contextValue` grammar matched by the menus in package.json: the kind first, then flags,
 * for example `version latest hasPrevious customAlias`.
 */
export function contextValue(e: TreeElement): string {
  switch (e.kind) {
    case 'version': {
      const flags = ['version'];
      if (e.aliases.includes('latest')) flags.push('latest');
      if (e.hasPrevious) flags.push('hasPrevious');
      if (e.aliases.some((a) => a !== 'latest')) flags.push('customAlias');
      return flags.join(' ');
    }
    case 'artifact': return `artifact ${e.type}`;
    case 'file': return e.external ? 'file external' : 'file';
    default: return e.kind;
  }
}

function assertNever(x: never): never {
  throw new Error(`Unexpected tree element ${JSON.stringify(x)}`);
}

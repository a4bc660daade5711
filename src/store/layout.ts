import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The few paths of the embedded store (FORMAT.md) that code outside src/store/ needs, so that
 * only src/store/ spells the store's layout.
 */

/** `format.json`: written when the store is created; a folder without it is not a store yet. */
export function storeExists(root: string): boolean {
  return existsSync(join(root, 'format.json'));
}

/** `cache/`: per-machine caches of clients using this store (stat caches, the record of checked blobs); never needed for reading. */
export function storeCacheDir(root: string): string {
  return join(root, 'cache');
}

/** `server/tokens.json`: the API tokens of a `trove serve` on this store (hashes only). */
export function serverTokensFile(root: string): string {
  return join(root, 'server', 'tokens.json');
}

/** `server/uploads/<project>`: digests a `trove serve` on this store saw a token of the project upload, one a line. */
export function serverUploadsFile(root: string, project: string): string {
  return join(root, 'server', 'uploads', project);
}

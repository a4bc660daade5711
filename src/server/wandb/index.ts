import { join } from 'node:path';
import type { ServerBackend } from '../backend';
import type { LocalBlobStore, S3BlobStore } from '../blobStore';
import type { PgStore } from '../pgStore';
import { WandbDoor, type WandbPrincipal } from './door';
import { LocalWandbFiles, S3WandbFiles } from './files';
import { PgWandbState } from './pgState';
import { UrlSigner } from './signing';
import { FileWandbState } from './state';

export { WandbDoor, type WandbPrincipal } from './door';

export interface OpenWandbDoorOptions {
  requireAuth: boolean;
  extraKeys?: Map<string, WandbPrincipal>;
  claimRun?: string;
  log?: (entry: Record<string, unknown>) => void;
  protectedAliases?: readonly string[];
}

/**
 * The W&B door over a server backend: its bookkeeping and file URLs live where the backend keeps
 * its data (the embedded store's folder; PostgreSQL and the bucket).
 */
export async function openWandbDoor(backend: ServerBackend, opts: OpenWandbDoorOptions): Promise<WandbDoor> {
  if (backend.mode === 'embedded') {
    const blobs = backend.blobs as LocalBlobStore;
    const signer = new UrlSigner();
    const files = new LocalWandbFiles(blobs, signer, join(blobs.root, 'wandb', 'run-files'));
    return new WandbDoor({ backend, state: new FileWandbState(blobs.root), files, ...opts });
  }
  // Every replica signs with the key kept in the database, so any of them serves any URL.
  const state = new PgWandbState((backend.meta as PgStore).pool);
  const signer = new UrlSigner(await state.init());
  return new WandbDoor({ backend, state, files: new S3WandbFiles(backend.blobs as S3BlobStore, signer), ...opts });
}

import { join } from 'node:path';
import type { ServerBackend } from '../backend';
import type { LocalBlobStore } from '../blobStore';
import { WandbDoor, type WandbPrincipal } from './door';
import { LocalWandbFiles } from './files';
import { UrlSigner } from './signing';
import { FileWandbState } from './state';

export { WandbDoor, type WandbPrincipal } from './door';

export interface OpenWandbDoorOptions {
  requireAuth: boolean;
  extraKeys?: Map<string, WandbPrincipal>;
  claimRun?: string;
  log?: (entry: Record<string, unknown>) => void;
}

/**
 * The W&B door over a server backend: its bookkeeping and file URLs live where the backend keeps
 * its data. Undefined where the door does not open yet (the scale-out backend).
 */
export async function openWandbDoor(backend: ServerBackend, opts: OpenWandbDoorOptions): Promise<WandbDoor | undefined> {
  const signer = new UrlSigner();
  if (backend.mode !== 'embedded') return undefined;
  const blobs = backend.blobs as LocalBlobStore;
  const state = new FileWandbState(blobs.root);
  const files = new LocalWandbFiles(blobs, signer, join(blobs.root, 'wandb', 'run-files'));
  return new WandbDoor({ backend, state, files, signer, ...opts });
}

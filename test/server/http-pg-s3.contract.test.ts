import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { HttpRegistry } from '../../src/client/httpRegistry';
import { registryContract } from '../integration/registryContract';
import { scaleOutArgs, startServe, tempDir } from './harness';

// The unchanged Registry contract, through HttpRegistry to `trove serve` with metadata in a fresh
// PostgreSQL database and blobs in a fresh bucket of Ceph RGW.
registryContract('HttpRegistry -> trove serve (PostgreSQL + S3)', async () => {
  const dir = tempDir('trove-http-pg-');
  const { args } = await scaleOutArgs('contract');
  const server = await startServe(args);
  const registry = new HttpRegistry({ url: server.url });
  return {
    registry,
    cacheDir: join(dir, 'client-cache'),
    close: async () => {
      await registry.close();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { HttpRegistry } from '../../src/client/httpRegistry';
import { registryContract } from '../integration/registryContract';
import { startServe, tempDir } from './harness';

// The unchanged Registry contract, through HttpRegistry to a real `trove serve --store` process.
registryContract('HttpRegistry -> trove serve --store', async () => {
  const dir = tempDir('trove-http-local-');
  const server = await startServe(['--store', join(dir, 'server-store')]);
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

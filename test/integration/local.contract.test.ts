import { join } from 'node:path';
import { LocalRegistry } from '../../src/store/localRegistry';
import { tempDir } from '../helpers';
import { registryContract } from './registryContract';

registryContract('embedded store (in-process)', async () => {
  const t = tempDir('trove-store-');
  const registry = new LocalRegistry(join(t.dir, 'store'));
  return { registry, cacheDir: join(t.dir, 'store', 'cache'), close: async () => { await registry.close(); await t.cleanup(); } };
});

import { createHash } from 'node:crypto';
import { integrity } from './errors';

/**
 * Whole packs read recently, least recently used dropped first once more than `maxBytes` are
 * held. A pack is named by the SHA-256 of its bytes, which `get` checks after every load.
 * Used by the server (reading packs from S3) and by the HTTP client (fetching them).
 */
export class PackCache {
  private readonly packs = new Map<string, Promise<Buffer>>();
  private bytes = 0;

  constructor(private readonly maxBytes: number, private readonly where: string) {}

  get(pack: string, load: () => Promise<Buffer>): Promise<Buffer> {
    const hit = this.packs.get(pack);
    if (hit) {
      this.packs.delete(pack);
      this.packs.set(pack, hit); // most recently used last
      return hit;
    }
    const loading = (async () => {
      const data = await load();
      if (createHash('sha256').update(data).digest('hex') !== pack) throw integrity(`Pack ${pack.slice(0, 12)} from ${this.where} does not match its digest.`);
      this.bytes += data.length;
      for (const [key, value] of this.packs) {
        if (this.bytes <= this.maxBytes || key === pack) break;
        this.packs.delete(key);
        this.bytes -= (await value.catch(() => Buffer.alloc(0))).length;
      }
      return data;
    })();
    this.packs.set(pack, loading);
    loading.catch(() => this.packs.delete(pack));
    return loading;
  }
}

/**
 * Where each packed blob lives (pack number, offset, size), keyed by its SHA-256, in typed arrays
 * rather than a Map of hex strings: a million blobs take about 50 MB instead of about 150 MB, and
 * none of it is on the JavaScript heap. Open addressing with linear probing; SHA-256 digests are
 * uniformly distributed, so their first 32 bits are the hash.
 */
export class BlobIndex {
  private capacity = 0;
  private count = 0;
  private keys = Buffer.alloc(0);
  private used = new Uint8Array(0);
  private packs = new Uint32Array(0);
  private offsets = new Float64Array(0);
  private sizes = new Float64Array(0);
  private readonly scratch = Buffer.alloc(32);

  constructor(initialCapacity = 1024) {
    this.allocate(initialCapacity);
  }

  get size(): number {
    return this.count;
  }

  private allocate(capacity: number): void {
    this.capacity = capacity;
    this.keys = Buffer.alloc(capacity * 32);
    this.used = new Uint8Array(capacity);
    this.packs = new Uint32Array(capacity);
    this.offsets = new Float64Array(capacity);
    this.sizes = new Float64Array(capacity);
    this.count = 0;
  }

  /** The slot holding the digest in `scratch`, or the empty slot where it would go. */
  private slot(): number {
    const mask = this.capacity - 1;
    let i = this.scratch.readUInt32BE(0) & mask;
    while (this.used[i] && this.keys.compare(this.scratch, 0, 32, i * 32, i * 32 + 32) !== 0) i = (i + 1) & mask;
    return i;
  }

  set(digest: string, pack: number, offset: number, size: number): void {
    if ((this.count + 1) * 4 > this.capacity * 3) this.grow(this.capacity * 2);
    this.scratch.write(digest, 'hex');
    const i = this.slot();
    if (!this.used[i]) {
      this.used[i] = 1;
      this.scratch.copy(this.keys, i * 32);
      this.count++;
    }
    this.packs[i] = pack;
    this.offsets[i] = offset;
    this.sizes[i] = size;
  }

  get(digest: string): { pack: number; offset: number; size: number } | undefined {
    if (digest.length !== 64) return undefined;
    this.scratch.write(digest, 'hex');
    const i = this.slot();
    return this.used[i] ? { pack: this.packs[i], offset: this.offsets[i], size: this.sizes[i] } : undefined;
  }

  /** Drops every blob of the given packs (a pack removed by gc). */
  removePacks(gone: Set<number>): void {
    this.rebuild(this.capacity, (i) => !gone.has(this.packs[i]));
  }

  private grow(capacity: number): void {
    this.rebuild(capacity, () => true);
  }

  private rebuild(capacity: number, keep: (i: number) => boolean): void {
    const old = { capacity: this.capacity, keys: this.keys, used: this.used, packs: this.packs, offsets: this.offsets, sizes: this.sizes };
    // The slots kept, in a typed array too: a JavaScript array of a million numbers is 8 MB of heap.
    const kept = new Uint32Array(this.count);
    let n = 0;
    for (let i = 0; i < old.capacity; i++) if (old.used[i] && keep(i)) kept[n++] = i;
    this.allocate(capacity);
    for (const i of kept.subarray(0, n)) {
      old.keys.copy(this.scratch, 0, i * 32, i * 32 + 32);
      const j = this.slot();
      this.used[j] = 1;
      this.scratch.copy(this.keys, j * 32);
      this.packs[j] = old.packs[i];
      this.offsets[j] = old.offsets[i];
      this.sizes[j] = old.sizes[i];
      this.count++;
    }
  }
}

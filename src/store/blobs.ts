import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { constants, copyFile, link, mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { integrity, invalid, throwIfAborted, TroveError } from '../core/errors';
import { digestMismatch, forEachLimit, hashFile, SMALL_FILE, sha256 } from '../core/hash';
import { isDigest } from '../core/manifest';
import type { LocalFile, Manifest, StoredFile, TransferOptions } from '../core/types';
import { CheckedBlobs } from './checkedBlobs';
import { copyAndHash } from './directCopy';
import { storeCacheDir } from './layout';
import { type PackedFileJob, writePackedFiles } from './packedFiles';
import { PackSet } from './packs';


/**
 * The embedded store's content (FORMAT.md: `blobs/`, `packs/`, `tmp/`): small blobs in pack
 * files, large ones as loose files named by their SHA-256. The one owner of those folders:
 * LocalRegistry ingests and fetches through it, `trove serve` receives and opens through it, and
 * gc sweeps through it. Whatever it stores under a digest is the bytes of that digest.
 */
/** Blobs an instance remembers as present, at most (a memo: past it, it starts again). */
const PRESENT_MAX = 50_000;

export class LocalBlobs {
  /**
   * `digest:size` of blobs this instance has seen complete. A hint only: gc may remove an unused
   * blob at any time, so a commit looks again (missingNow) under the commit gate.
   */
  private readonly present = new Set<string>();
  /** Digests of large blobs being moved into the store by this instance right now. */
  private readonly ingesting = new Set<string>();
  private readonly packs: PackSet;
  private readonly blobsDir: string;
  private readonly tmpDir: string;
  /** The states in which loose blobs were last hashed: those are not hashed again when handed out. */
  private readonly checked: CheckedBlobs;

  /**
   * `location`: the store, for messages. `layOut`: makes the store exist (its format file and
   * folders) before the first write; it is cheap once done.
   */
  constructor(root: string, private readonly location: string, private readonly layOut: () => void) {
    this.blobsDir = join(root, 'blobs');
    this.tmpDir = join(root, 'tmp');
    this.packs = new PackSet(join(root, 'packs'), this.tmpDir);
    this.checked = new CheckedBlobs(join(storeCacheDir(root), 'checked'));
  }

  /** Creates the folders blobs live in (the 256 fan-out folders, packs/, tmp/); safe to repeat. */
  createFolders(): void {
    for (const d of [this.blobsDir, join(this.blobsDir, '..', 'packs'), this.tmpDir]) mkdirSync(d, { recursive: true });
    for (let i = 0; i < 256; i++) mkdirSync(join(this.blobsDir, i.toString(16).padStart(2, '0')), { recursive: true });
  }

  /** Where a loose blob lives (it may not exist). */
  blobPath(digest: string): string {
    return join(this.blobsDir, digest.slice(0, 2), digest.slice(2));
  }

  /** A fresh name in tmp/ for a file on its way into the store. */
  private tmpPath(what = ''): string {
    return join(this.tmpDir, `${what}${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  /**
   * Removes files in tmp/ whose writer no longer runs on this host (its pid is in the name:
   * `<pid>-<hex>`, `upload-<pid>-<hex>`, `<time>-<pid>-<hex>.pack`) and that nobody has written
   * to for a minute: what logs killed mid-way leave. Logs and gc call it, so killed logs do not
   * pile up temporary files until gc's minimum age passes.
   */
  async removeDeadTemporaries(): Promise<void> {
    const names = await readdir(this.tmpDir).catch(() => [] as string[]);
    const quietSince = Date.now() - 60_000;
    for (const name of names) {
      const m = /^(?:upload-)?(\d+)-[0-9a-f]{12}$/.exec(name) ?? /^[0-9a-z]+-(\d+)-[0-9a-f]{8}\.pack$/.exec(name);
      if (!m || Number(m[1]) === process.pid || !processGone(Number(m[1]))) continue;
      const p = join(this.tmpDir, name);
      const st = await stat(p).catch(() => undefined);
      if (st && st.mtimeMs < quietSince) await rm(p, { force: true });
    }
  }

  /** Puts local files' content in the store (see Registry.storeFiles): small files in one new pack, large ones as loose blobs. */
  /**
   * `created` receives the ids of the packs and the digests of the loose blobs this call wrote,
   * so that a caller can remove them when the log fails.
   */
  async ingest(files: LocalFile[], options: TransferOptions = {}, created: { packs: string[]; loose: string[] } = { packs: [], loose: [] }): Promise<StoredFile[]> {
    this.layOut();
    await this.removeDeadTemporaries();
    const out: StoredFile[] = new Array(files.length);
    let doneFiles = 0;
    let doneBytes = 0;
    const progress = options.progress;
    progress?.report({ totalFiles: files.length, totalBytes: files.reduce((s, f) => s + f.size, 0), phase: 'storing' });
    /** Records file i; `counted` bytes of it were already reported while it was copied. */
    const finish = (i: number, digest: string, stored: boolean, counted = 0) => {
      out[i] = { path: files[i].path, digest, size: files[i].size, stored };
      progress?.report({ files: ++doneFiles, bytes: (doneBytes += files[i].size - counted) });
    };
    // Small files: synchronous reads and writes in short batches. On these disks one async fs call
    // costs more than the work itself; the batches keep the event loop (and cancellation) responsive.
    const large: number[] = [];
    const pack = this.packs.writer();
    const loose = files.length > 256 ? this.looseNames() : undefined;
    try {
      for (let i = 0; i < files.length; i++) {
        const f = files[i];
        if (f.size > SMALL_FILE) {
          large.push(i);
          continue;
        }
        if (f.digest && this.has(f.digest, f.size, loose)) {
          finish(i, f.digest, false);
        } else {
          const data = readFileSync(f.absPath);
          if (data.length !== f.size) throw changedWhileLogged(f, data.length);
          const digest = sha256(data);
          const stored = !pack.has(digest) && !this.has(digest, data.length, loose);
          if (stored) pack.add(digest, data);
          finish(i, digest, stored);
        }
        if (i % 256 === 255) {
          throwIfAborted(options.signal);
          await new Promise((r) => setImmediate(r));
        }
      }
      pack.finish();
    } catch (e) {
      pack.abort();
      throw e;
    } finally {
      for (const id of pack.finished) created.packs.push(id);
    }
    await forEachLimit(large, 2, async (i) => {
      const f = files[i];
      if (f.digest && this.has(f.digest, f.size)) return finish(i, f.digest, false);
      let counted = 0;
      const onBytes = progress && ((n: number) => {
        counted += n;
        progress.report({ bytes: (doneBytes += n) });
      });
      const { digest, stored } = await this.ingestLarge(f, options.signal, onBytes);
      if (stored) created.loose.push(digest);
      finish(i, digest, stored, counted);
    }, options.signal);
    return out;
  }

  /**
   * A blob is present when a pack's index lists it or its loose file exists with the expected
   * size (a loose write cut short is shorter).
   */
  has(digest: string, size: number, loose?: Set<string>): boolean {
    const key = `${digest}:${size}`;
    if (this.present.has(key)) return true;
    if (this.packs.lookup(digest, size, false)) return true; // the pack index answers without a memo
    const found = ((!loose || loose.has(digest)) && statSync(this.blobPath(digest), { throwIfNoEntry: false })?.size === size)
      || this.packs.lookup(digest, size, true);
    if (found === true) this.remember(key); // a loose blob: remembered, so it is not looked up on disk again
    return !!found;
  }

  /**
   * Remembers a loose blob as present. Only loose blobs: the pack index already answers for
   * packed ones from typed arrays, and a memo of every packed blob of a 200,000-file commit would
   * hold tens of MB of strings on the heap of a server.
   */
  private remember(key: string): void {
    if (this.present.size >= PRESENT_MAX) this.present.clear(); // a memo, bounded: a server sees millions of blobs
    this.present.add(key);
  }

  /**
   * The manifest's blobs that are not stored now, looked up afresh (not from what this instance
   * saw before: gc in another process may have removed them). Called under the commit gate.
   */
  missingNow(manifest: Manifest): string[] {
    return this.missingNowChecker()(Object.values(manifest));
  }

  /**
   * missingNow for a manifest read in batches (a streamed commit): the packs are looked at again
   * once, and the loose blobs listed once, for all the batches given to the answer.
   */
  missingNowChecker(): (entries: Iterable<{ digest: string; size: number; ref?: string }>) => string[] {
    this.packs.refresh(true);
    let loose: Set<string> | undefined;
    let seen = 0;
    return (entries) => {
      const missing: string[] = [];
      for (const e of entries) {
        if (e.ref) continue;
        if (!loose && ++seen > 256) loose = this.looseNames();
        const key = `${e.digest}:${e.size}`;
        if (this.packs.lookup(e.digest, e.size, false)) continue;
        if ((!loose || loose.has(e.digest)) && statSync(this.blobPath(e.digest), { throwIfNoEntry: false })?.size === e.size) {
          this.remember(key);
        } else {
          this.present.delete(key);
          missing.push(e.digest);
        }
      }
      return missing;
    };
  }

  /** Removes the given packs (when no blob of theirs is in `used`) and loose blobs not in `used`. Under the gc gate. */
  async removeUnless(created: { packs: string[]; loose: string[] }, used: Set<string>): Promise<void> {
    for (const id of created.packs) {
      const index = this.packs.packs().find((p) => p.id === id);
      if (index && !Object.keys(index.blobs).some((d) => used.has(d))) this.packs.remove(id);
    }
    for (const digest of created.loose) {
      if (used.has(digest)) continue;
      await unlink(this.blobPath(digest)).catch(() => undefined);
      await this.checked.forget(digest);
    }
    this.present.clear();
  }

  /**
   * Names of the loose blobs, for checking many digests at once: 256 directory reads instead of
   * a stat per digest. Loose blobs are mostly large files, so the list stays short.
   */
  private looseNames(): Set<string> {
    const out = new Set<string>();
    for (let i = 0; i < 256; i++) {
      const fan = i.toString(16).padStart(2, '0');
      let names: string[] = [];
      try {
        names = readdirSync(join(this.blobsDir, fan));
      } catch {
        // a fan-out folder removed by hand: no loose blobs there
      }
      for (const rest of names) out.add(fan + rest);
    }
    return out;
  }

  /**
   * Copies a large file into the store and hashes it. Where the filesystem can reflink, the clone
   * is instant and the source is hashed beside it; if the source's size or mtime moved meanwhile,
   * the clone may not be what was hashed, so the clone itself is hashed instead. Elsewhere the
   * source is read once, hashed and written in the same pass (copyAndHash). Either way what is
   * stored under a digest is always the bytes of that digest.
   */
  private async ingestLarge(file: LocalFile, signal?: AbortSignal, onBytes?: (n: number) => void): Promise<{ digest: string; stored: boolean }> {
    const absPath = file.absPath;
    const tmp = this.tmpPath();
    try {
      const before = await stat(absPath, { bigint: true });
      let hashed: { digest: string; size: number };
      // Whether the bytes stored were themselves hashed (not only the source they were cloned from).
      let storedBytesHashed = true;
      if (await copyFile(absPath, tmp, constants.COPYFILE_FICLONE_FORCE).then(() => true, () => false)) {
        const fromSource = await hashFile(absPath, signal, onBytes);
        const after = await stat(absPath, { bigint: true });
        const steady = before.size === after.size && before.mtimeNs === after.mtimeNs && before.ctimeNs === after.ctimeNs && before.ino === after.ino && BigInt(fromSource.size) === after.size;
        storedBytesHashed = !steady;
        hashed = steady ? fromSource : await hashFile(tmp, signal);
      } else {
        hashed = await copyAndHash(absPath, tmp, { signal, onBytes });
      }
      const { digest, size } = hashed;
      // The manifest records the size the scan saw: content of another size is not that file.
      if (size !== file.size) throw changedWhileLogged(file, size);
      // Two equal large files of one log are copied at the same time: the second to finish
      // hashing sees the first being moved in (checked and marked with no await between).
      if (this.has(digest, size) || this.ingesting.has(digest)) {
        await unlink(tmp);
        return { digest, stored: false };
      }
      this.ingesting.add(digest);
      try {
        await rename(tmp, this.blobPath(digest));
      } finally {
        this.ingesting.delete(digest);
      }
      this.present.add(`${digest}:${size}`);
      // A clone of a source that was hashed is not recorded: the first copy out hashes it.
      if (storedBytesHashed) await this.recordChecked(digest);
      return { digest, stored: true };
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  /** Writes many blobs to new files (see Registry.fetchBlobs): packed ones from two threads, loose ones four at a time. */
  async fetchMany(items: { digest: string; size: number; destPath: string }[], options: TransferOptions & { link?: 'copy' | 'hardlink'; onDone?: (files: number, bytes: number) => void } = {}): Promise<void> {
    const packed: PackedFileJob[] = [];
    const loose: typeof items = [];
    for (const item of items) {
      if (!isDigest(item.digest)) throw invalid(`Invalid blob digest "${item.digest}".`);
      const where = this.packs.lookup(item.digest, item.size, true);
      if (where) packed.push({ dest: item.destPath, pack: this.packs.packPath(where.pack), offset: where.offset, size: where.size, digest: item.digest });
      else loose.push(item);
    }
    try {
      await writePackedFiles(packed, { signal: options.signal, onDone: options.onDone });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (!(err.code === 'ENOENT' && err.path?.endsWith('.pack'))) throw e;
      // gc may have rewritten the pack meanwhile: the blobs it kept are in a new pack. A pack
      // whose index is still there is damage, and a retry would fail the same way.
      this.packs.refresh(true);
      if (this.packs.indexed(basename(err.path).slice(0, -'.pack'.length))) throw missingPack(err.path, this.location);
      const again: PackedFileJob[] = [];
      for (const job of packed) {
        if (existsSync(job.dest)) continue;
        const where = this.packs.lookup(job.digest, job.size, false);
        if (where) again.push({ ...job, pack: this.packs.packPath(where.pack), offset: where.offset });
        else loose.push({ digest: job.digest, size: job.size, destPath: job.dest });
      }
      await writePackedFiles(again, { signal: options.signal, onDone: options.onDone }).catch((e2: NodeJS.ErrnoException) => {
        throw e2.code === 'ENOENT' && e2.path?.endsWith('.pack') ? missingPack(e2.path, this.location) : e2;
      });
    }
    await forEachLimit(loose, 4, async (item) => {
      await this.fetch(item.digest, item.destPath, options);
      options.onDone?.(1, item.size);
    }, options.signal);
  }

  /** Writes one blob to `destPath`, which must not exist yet: a copy checked against the digest, or a hard link. */
  async fetch(digest: string, destPath: string, options: TransferOptions & { link?: 'copy' | 'hardlink' } = {}): Promise<void> {
    if (!isDigest(digest)) throw invalid(`Invalid blob digest "${digest}".`);
    const packed = this.packs.lookup(digest, undefined, true);
    if (packed) {
      // Packed blobs are small: one read, checked, one write. They cannot be hard-linked, so they are copied.
      const data = this.packs.read(digest, packed);
      if (sha256(data) !== digest) throw damagedBlob(digest, this.location);
      writeFileSync(destPath, data, { flag: 'wx' });
      return;
    }
    const src = this.blobPath(digest);
    try {
      if (options.link === 'hardlink') {
        await this.checkLoose(digest, src, options.signal);
        await link(src, destPath);
      } else {
        await this.copyOut(digest, src, destPath, options.signal);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(src)) {
        throw integrity(`Blob ${digest.slice(0, 12)} is missing from ${this.location}; the store is damaged (run \`trove verify\`).`);
      }
      throw e;
    }
  }

  /**
   * A loose blob to a new file: a reflink where the filesystem can, otherwise a copy. A blob is
   * hashed before it is handed out unless it is still in the state in which its bytes were last
   * found to match its digest (checkedBlobs.ts); then the kernel copies it (copy_file_range).
   * Otherwise one pass copies, bypasses the page cache and checks the digest on the way, so that
   * a blob damaged in the store is never handed out as good.
   */
  private async copyOut(digest: string, src: string, destPath: string, signal?: AbortSignal): Promise<void> {
    let cloned = false;
    try {
      // On failure libuv removes a destination it created; one that existed is left alone (EEXIST).
      await copyFile(src, destPath, constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL);
      cloned = true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EEXIST') throw e;
    }
    if (cloned) {
      // The clone shares the blob's extents, so checking the blob checks the clone.
      try {
        return await this.checkLoose(digest, src, signal);
      } catch (e) {
        await unlink(destPath).catch(() => undefined);
        throw e;
      }
    }
    const state = await this.checked.stateOf(src);
    if (await this.checked.isChecked(digest, state)) {
      await copyUnlessAborted(src, destPath, signal);
      // Unchanged during the copy: the copy is of the bytes recorded. Changed (a write into a
      // hard-linked download of it, say): the copy itself is checked.
      if ((await this.checked.stateOf(src)) === state) return;
      if ((await hashFile(destPath, signal).catch(() => undefined))?.digest === digest) return;
      throw await this.refuseDamaged(digest, destPath);
    }
    const copied = await copyAndHash(src, destPath, { signal });
    if (copied.digest !== digest) throw await this.refuseDamaged(digest, destPath);
    await this.recordChecked(digest, state);
  }

  /**
   * Hashes a loose blob before it is handed out by reflink or hard link (which copy no byte, so
   * nothing is checked on the way), unless it is still in the state in which it was last hashed.
   */
  private async checkLoose(digest: string, src: string, signal?: AbortSignal): Promise<void> {
    const state = await this.checked.stateOf(src);
    if (await this.checked.isChecked(digest, state)) return;
    if ((await hashFile(src, signal)).digest !== digest) throw await this.refuseDamaged(digest);
    await this.recordChecked(digest, state);
  }

  /** A loose blob found damaged: what was copied of it (`copy`) and its record go; returns the error to throw. */
  private async refuseDamaged(digest: string, copy?: string): Promise<TroveError> {
    if (copy) await unlink(copy).catch(() => undefined);
    await this.checked.forget(digest);
    return damagedBlob(digest, this.location);
  }

  /**
   * Records that a loose blob's bytes matched its digest: in `before`, the state it had before
   * they were read, if it still has it (else nothing is recorded); without `before`, in its state
   * now (a blob this instance has just written and hashed).
   */
  private async recordChecked(digest: string, before?: string): Promise<void> {
    const now = await this.checked.stateOf(this.blobPath(digest));
    if (before === undefined || now === before) await this.checked.record(digest, now);
  }

  /**
   * Stores blobs whose bytes the caller has already checked against their digests (a pack that
   * `trove serve` received), all in one pack. Returns how many were new.
   */
  storeVerified(blobs: { digest: string; data: Buffer }[]): number {
    this.layOut();
    const pack = this.packs.writer();
    let stored = 0;
    try {
      for (const b of blobs) {
        if (pack.has(b.digest) || this.has(b.digest, b.data.length)) continue;
        pack.add(b.digest, b.data);
        stored++;
      }
      pack.finish();
    } catch (e) {
      pack.abort();
      throw e;
    }
    return stored;
  }

  /** A stored blob's bytes as a stream (for `trove serve`), or undefined when it is not stored. */
  open(digest: string): { stream: Readable; size: number } | undefined {
    if (!isDigest(digest)) throw invalid(`Invalid blob digest "${digest}".`);
    const packed = this.packs.lookup(digest, undefined, true);
    if (packed) {
      const data = this.packs.read(digest, packed);
      if (sha256(data) !== digest) throw damagedBlob(digest, this.location);
      return { stream: Readable.from([data]), size: packed.size };
    }
    const st = statSync(this.blobPath(digest), { throwIfNoEntry: false });
    return st ? { stream: createReadStream(this.blobPath(digest), { highWaterMark: 1 << 20 }), size: st.size } : undefined;
  }

  /** Checks a stored blob's bytes against its digest; false when damaged or missing. */
  async verify(digest: string): Promise<boolean> {
    if (!isDigest(digest)) return false;
    const packed = this.packs.lookup(digest, undefined, true);
    if (packed) {
      try {
        return sha256(this.packs.read(digest, packed)) === digest;
      } catch {
        return false;
      }
    }
    const state = await this.checked.stateOf(this.blobPath(digest));
    const good = state !== undefined && (await hashFile(this.blobPath(digest)).then((h) => h.digest === digest, () => false));
    if (good) await this.recordChecked(digest, state);
    else await this.checked.forget(digest);
    return good;
  }

  /**
   * Takes one blob's bytes from a stream (an upload to `trove serve`), hashing on the way; the
   * blob is stored only when the bytes match its digest and size.
   */
  async receive(blob: { digest: string; size: number }, body: Readable): Promise<void> {
    if (!isDigest(blob.digest)) throw invalid(`Invalid blob digest "${blob.digest}".`);
    this.layOut();
    const dest = this.blobPath(blob.digest);
    await mkdir(join(dest, '..'), { recursive: true });
    await mkdir(this.tmpDir, { recursive: true });
    const tmp = this.tmpPath('upload-');
    const hash = createHash('sha256');
    let size = 0;
    try {
      await pipeline(body, async function* (source) {
        for await (const chunk of source) {
          hash.update(chunk as Buffer);
          size += (chunk as Buffer).length;
          yield chunk;
        }
      }, createWriteStream(tmp));
      const digest = hash.digest('hex');
      if (digest !== blob.digest || size !== blob.size) throw digestMismatch(blob, digest, size);
      await rename(tmp, dest);
      this.present.add(`${digest}:${size}`);
      await this.recordChecked(digest);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /**
   * Takes bytes whose SHA-256 is not known in advance (the W&B door: its client names files by
   * MD5), hashing with both on the way. Nothing is stored unless the MD5 is `expectMd5` (hex);
   * the blob is then stored under its SHA-256, unless the store already has it.
   */
  async receiveByMd5(body: Readable, expectMd5: string): Promise<{ sha256: string; md5: string; size: number; stored: boolean }> {
    this.layOut();
    await mkdir(this.tmpDir, { recursive: true });
    const tmp = this.tmpPath('upload-');
    const sha = createHash('sha256');
    const md5 = createHash('md5');
    let size = 0;
    try {
      await pipeline(body, async function* (source) {
        for await (const chunk of source) {
          sha.update(chunk as Buffer);
          md5.update(chunk as Buffer);
          size += (chunk as Buffer).length;
          yield chunk;
        }
      }, createWriteStream(tmp));
      const got = { sha256: sha.digest('hex'), md5: md5.digest('hex'), size };
      if (got.md5 !== expectMd5) throw integrity(`The uploaded bytes have MD5 ${got.md5}, not the ${expectMd5} they were announced with; nothing was stored.`);
      if (this.has(got.sha256, size)) return { ...got, stored: false };
      const dest = this.blobPath(got.sha256);
      await mkdir(join(dest, '..'), { recursive: true });
      await rename(tmp, dest);
      this.present.add(`${got.sha256}:${size}`);
      await this.recordChecked(got.sha256);
      return { ...got, stored: true };
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /**
   * Removes blobs not in `used` and older than the grace period: loose blobs, packs no version
   * uses (packs partly used are rewritten with the used blobs only), orphaned packs and the
   * leftovers of killed processes in tmp/. Counts what it removes (or would, with `dryRun`).
   */
  async sweep(used: Set<string>, dryRun: boolean, minAgeMs: number): Promise<{ blobs: number; bytes: number }> {
    let blobs = 0;
    let bytes = 0;
    const cutoff = Date.now() - minAgeMs;
    for (const fan of await readdir(this.blobsDir).catch(() => [] as string[])) {
      for (const rest of await readdir(join(this.blobsDir, fan))) {
        const digest = fan + rest;
        if (used.has(digest)) continue;
        const path = join(this.blobsDir, fan, rest);
        const st = await stat(path);
        // Young blobs may belong to a log that has not committed yet.
        if (st.mtimeMs > cutoff) continue;
        blobs++;
        bytes += st.size;
        if (dryRun) continue;
        await unlink(path);
        await this.checked.forget(digest);
      }
    }
    // Packs: drop those no version uses, rewrite those partly used (with only the used blobs).
    for (const pack of this.packs.packs()) {
      if (pack.mtimeMs > cutoff) continue;
      const entries = Object.entries(pack.blobs);
      const kept = entries.filter(([digest]) => used.has(digest));
      if (kept.length === entries.length) continue;
      for (const [, [, size]] of entries.filter(([digest]) => !used.has(digest))) {
        blobs++;
        bytes += size;
      }
      if (dryRun) continue;
      if (kept.length) {
        const writer = this.packs.writer();
        try {
          for (const [digest, [offset, size]] of kept) writer.add(digest, this.packs.read(digest, { pack: pack.id, offset, size }));
          writer.finish();
        } catch (e) {
          writer.abort();
          throw e;
        }
      }
      this.packs.remove(pack.id);
    }
    if (!dryRun) {
      // Blobs this instance saw complete may be gone now: look again (a server keeps one instance across gcs).
      this.present.clear();
      await this.checked.prune((digest) => isDigest(digest) && existsSync(this.blobPath(digest)), cutoff);
      for (const orphan of this.packs.orphans()) if (orphan.mtimeMs < cutoff) this.packs.remove(orphan.id);
      // Leftovers of killed processes: at once when their writer is gone, else once old.
      await this.removeDeadTemporaries();
      for (const t of await readdir(this.tmpDir).catch(() => [] as string[])) {
        const p = join(this.tmpDir, t);
        const st = await stat(p).catch(() => undefined);
        if (st && st.mtimeMs < cutoff) await rm(p, { force: true, recursive: true });
      }
    }
    return { blobs, bytes };
  }


  close(): void {
    this.packs.close();
  }
}

/**
 * Copies `src` to a new file `dest` in the kernel (copy_file_range), which cannot be stopped
 * half-way: a cancellation answers at once, and the copy is removed as soon as it ends.
 */
async function copyUnlessAborted(src: string, dest: string, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  // On failure libuv removes a destination it created; one that existed is left alone (EEXIST).
  // After a cancellation the caller's clean-up may run before the copy has created `dest`; the
  // late unlink below removes it then.
  const copy = copyFile(src, dest, constants.COPYFILE_EXCL);
  if (!signal) return copy;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new TroveError('cancelled', 'Cancelled.'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([copy, aborted]);
  } catch (e) {
    copy.then(() => unlink(dest), () => undefined).catch(() => undefined);
    throw e;
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}

function damagedBlob(digest: string, location: string): TroveError {
  return integrity(`Blob ${digest.slice(0, 12)} in ${location} is damaged (its content no longer matches its digest); run \`trove verify\` and log the files again.`);
}

function changedWhileLogged(file: LocalFile, size: number): TroveError {
  return new TroveError('conflict', `${file.absPath} changed while it was being logged (${file.size} bytes when the folder was read, ${size} bytes now); log again once nothing writes to it.`);
}

function missingPack(path: string, location: string): TroveError {
  return integrity(`The pack file ${path} is missing from ${location} although its index lists it: the store is damaged; run \`trove verify\` on the versions you need and log their files again.`);
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

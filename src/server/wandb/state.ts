import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid } from '../../core/errors';
import { writeFileAtomic } from '../../store/atomic';

/** What the MD5 index knows of one blob: the client names it by MD5, Trove by SHA-256. */
export interface Md5Entry {
  md5: string;
  sha256: string;
  size: number;
}

/** A version being logged through the door, between CreateArtifact and CommitArtifact. */
export interface PendingArtifact {
  id: string;
  project: string;
  entity: string;
  name: string;
  type: string;
  /** The client's artifact digest (hex MD5 over its manifest lines). */
  digest: string;
  aliases: string[];
  description?: string;
  metadata?: Record<string, unknown>;
  /** The Trove run that logs it, when the client named its run. */
  runId?: string;
  createdAt: string;
  /** The client's manifest, once uploaded. */
  manifest?: unknown;
  /** Once committed: the version it became (the client keeps asking by this id). */
  version?: number;
}

/**
 * The door's own bookkeeping beside the registry: the MD5 index of blobs, which Trove run each
 * wandb run is, which version each client artifact digest made, and artifacts being logged.
 * Nothing here is needed to read a version through Trove's own door.
 */
export interface WandbState {
  md5Lookup(md5s: string[]): Promise<Map<string, Md5Entry>>;
  md5OfSha256(sha256s: string[]): Promise<Map<string, Md5Entry>>;
  md5Record(entries: Md5Entry[]): Promise<void>;
  runFor(project: string, wandbRunId: string): Promise<string | undefined>;
  bindRun(project: string, wandbRunId: string, troveRunId: string): Promise<void>;
  versionForDigest(project: string, name: string, digest: string): Promise<number | undefined>;
  recordDigest(project: string, name: string, digest: string, version: number): Promise<void>;
  putPending(p: PendingArtifact): Promise<void>;
  getPending(id: string): Promise<PendingArtifact | undefined>;
  close(): Promise<void>;
}

export const newPendingId = () => randomBytes(12).toString('hex');

/**
 * An append-only file of tab-separated lines, read into memory and followed by its tail: lines
 * written by another process on the same store are seen on the next miss. Each line is written
 * with one write(2) on an O_APPEND descriptor, so concurrent writers never interleave.
 */
class LineLog {
  private offset = 0;
  private fd?: number;

  constructor(private readonly file: string, private readonly onLine: (fields: string[]) => void) {}

  /** Reads lines added since the last call. */
  catchUp(): void {
    if (!existsSync(this.file)) return;
    const fd = openSync(this.file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      readSync(fd, buf, 0, buf.length, this.offset);
      const end = buf.lastIndexOf(10);
      if (end < 0) return;
      for (const line of buf.subarray(0, end).toString('utf8').split('\n')) if (line) this.onLine(line.split('\t'));
      this.offset += end + 1;
    } finally {
      closeSync(fd);
    }
  }

  append(lines: string[][]): void {
    if (!lines.length) return;
    for (const l of lines) for (const f of l) if (/[\t\n]/.test(f)) throw invalid('A tab or newline cannot be stored in the W&B index.');
    this.fd ??= openSync(this.file, 'a');
    writeSync(this.fd, lines.map((l) => l.join('\t') + '\n').join(''));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** The embedded store's door state, in `<store>/wandb/` (see src/store/FORMAT.md). */
export class FileWandbState implements WandbState {
  private readonly byMd5 = new Map<string, Md5Entry>();
  private readonly bySha = new Map<string, Md5Entry>();
  private readonly runs = new Map<string, string>();
  private readonly digests = new Map<string, number>();
  private readonly md5Log: LineLog;
  private readonly runLog: LineLog;
  private readonly digestLog: LineLog;
  private readonly pendingDir: string;

  constructor(root: string) {
    const dir = join(root, 'wandb');
    this.pendingDir = join(dir, 'pending');
    mkdirSync(this.pendingDir, { recursive: true });
    this.md5Log = new LineLog(join(dir, 'md5.tsv'), ([md5, sha256, size]) => {
      const e = { md5, sha256, size: Number(size) };
      this.byMd5.set(md5, e);
      this.bySha.set(sha256, e);
    });
    this.runLog = new LineLog(join(dir, 'runs.tsv'), ([project, wandbId, runId]) => this.runs.set(`${project}\t${wandbId}`, runId));
    this.digestLog = new LineLog(join(dir, 'digests.tsv'), ([project, name, digest, version]) => this.digests.set(`${project}\t${name}\t${digest}`, Number(version)));
    this.md5Log.catchUp();
    this.runLog.catchUp();
    this.digestLog.catchUp();
  }

  async md5Lookup(md5s: string[]): Promise<Map<string, Md5Entry>> {
    return this.md5Entries(md5s, this.byMd5);
  }

  async md5OfSha256(shas: string[]): Promise<Map<string, Md5Entry>> {
    return this.md5Entries(shas, this.bySha);
  }

  /** The entries of `keys` that `index` knows, after reading what other processes appended when one is missing. */
  private md5Entries(keys: string[], index: Map<string, Md5Entry>): Map<string, Md5Entry> {
    if (keys.some((k) => !index.has(k))) this.md5Log.catchUp();
    const out = new Map<string, Md5Entry>();
    for (const k of keys) {
      const e = index.get(k);
      if (e) out.set(k, e);
    }
    return out;
  }

  async md5Record(entries: Md5Entry[]): Promise<void> {
    const fresh = entries.filter((e) => this.byMd5.get(e.md5)?.sha256 !== e.sha256);
    this.md5Log.append(fresh.map((e) => [e.md5, e.sha256, String(e.size)]));
    for (const e of fresh) {
      this.byMd5.set(e.md5, e);
      this.bySha.set(e.sha256, e);
    }
  }

  async runFor(project: string, wandbRunId: string): Promise<string | undefined> {
    const key = `${project}\t${wandbRunId}`;
    if (!this.runs.has(key)) this.runLog.catchUp();
    return this.runs.get(key);
  }

  async bindRun(project: string, wandbRunId: string, troveRunId: string): Promise<void> {
    this.runLog.append([[project, wandbRunId, troveRunId]]);
    this.runs.set(`${project}\t${wandbRunId}`, troveRunId);
  }

  async versionForDigest(project: string, name: string, digest: string): Promise<number | undefined> {
    const key = `${project}\t${name}\t${digest}`;
    if (!this.digests.has(key)) this.digestLog.catchUp();
    return this.digests.get(key);
  }

  async recordDigest(project: string, name: string, digest: string, version: number): Promise<void> {
    if (this.digests.get(`${project}\t${name}\t${digest}`) === version) return;
    this.digestLog.append([[project, name, digest, String(version)]]);
    this.digests.set(`${project}\t${name}\t${digest}`, version);
  }

  private pendingFile(id: string): string {
    if (!/^[0-9a-f]{24}$/.test(id)) throw invalid(`"${id.slice(0, 40)}" is not an artifact id of this server.`);
    return join(this.pendingDir, `${id}.json`);
  }

  async putPending(p: PendingArtifact): Promise<void> {
    await writeFileAtomic(this.pendingFile(p.id), JSON.stringify(p));
  }

  async getPending(id: string): Promise<PendingArtifact | undefined> {
    try {
      return JSON.parse(await readFile(this.pendingFile(id), 'utf8')) as PendingArtifact;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async close(): Promise<void> {
    this.md5Log.close();
    this.runLog.close();
    this.digestLog.close();
  }
}

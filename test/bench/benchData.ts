import { randomFillSync } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The data both benchmarks use: `files` random files of 4 KiB in folders of 500 under
 * `dir/files`, and one random file of `bigBytes` at `dir/big/model.bin`.
 */
export function makeBenchData(dir: string, files: number, bigBytes: number): { folder: string; bigDir: string; bigFile: string } {
  const folder = join(dir, 'files');
  const buf = Buffer.alloc(4096);
  for (let i = 0; i < files; i++) {
    const sub = join(folder, `d${Math.floor(i / 500)}`);
    if (i % 500 === 0) mkdirSync(sub, { recursive: true });
    randomFillSync(buf);
    const fd = openSync(join(sub, `f${i}.bin`), 'w');
    writeSync(fd, buf);
    closeSync(fd);
  }
  const bigDir = join(dir, 'big');
  mkdirSync(bigDir);
  const bigFile = join(bigDir, 'model.bin');
  const chunk = Buffer.alloc(16 << 20);
  const fd = openSync(bigFile, 'w');
  for (let done = 0; done < bigBytes; done += chunk.length) writeSync(fd, randomFillSync(chunk), 0, Math.min(chunk.length, bigBytes - done));
  closeSync(fd);
  return { folder, bigDir, bigFile };
}

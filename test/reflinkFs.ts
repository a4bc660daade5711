/**
 * A real filesystem with reflinks (XFS on a loop device) for tests of the download paths that
 * clone instead of copying. Needs root, mkfs.xfs and a free loop device; where any is missing
 * the caller skips with the reason this returns.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function mountReflinkFs(sizeMb = 300): { dir: string; cleanup: () => void } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'mounting an XFS image needs root' };
  if (spawnSync('sh', ['-c', 'command -v mkfs.xfs']).status !== 0) return { skip: 'mkfs.xfs (xfsprogs) is not installed' };
  const base = mkdtempSync(join(tmpdir(), 'trove-xfs-'));
  const image = join(base, 'fs.img');
  const dir = join(base, 'mnt');
  const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  const made = sh(`truncate -s ${sizeMb}M '${image}' && mkfs.xfs -q -m reflink=1 '${image}' && mkdir '${dir}' && mount -o loop '${image}' '${dir}'`);
  if (made.status !== 0) {
    rmSync(base, { recursive: true, force: true });
    return { skip: `cannot mount an XFS image here: ${made.stderr.trim().split('\n')[0]}` };
  }
  return {
    dir,
    cleanup: () => {
      sh(`umount '${dir}'`);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

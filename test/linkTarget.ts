/** A download into a target holding symbolic links, the same check for every backend (item 7 of issue 11). */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parseRef } from '../src/core/names';
import type { Registry } from '../src/core/registry';
import { writeTree } from './helpers';

/**
 * A download into a target holding links never writes outside it: a folder link on a file's way
 * refuses the download (with or without --force), a file link is replaced only with --force.
 */
export async function checkLinksInTarget(registry: Registry, work: string, ref: string, download: (root: string, force: boolean) => Promise<{ code: number; stderr: string }>): Promise<void> {
  const outside = writeTree(join(work, 'outside'), { 'victim.txt': 'outside, must not change' });
  const v = await registry.getVersion(parseRef(ref));
  assert.deepEqual(Object.keys(v.manifest).sort(), ['sub/a.txt', 'top.txt']);
  // sub -> outside folder
  const t1 = join(work, 'target-dirlink');
  mkdirSync(t1);
  symlinkSync(outside, join(t1, 'sub'));
  for (const force of [false, true]) {
    const r = await download(t1, force);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /sub is a symbolic link, and Trove never writes through a link inside the download root/);
    oneLine(r.stderr);
  }
  assert.deepEqual(readdirSync(outside), ['victim.txt'], 'nothing created outside the root');
  // top.txt -> a file outside: --force replaces the link itself, the file outside stays.
  const t2 = join(work, 'target-filelink');
  mkdirSync(t2);
  symlinkSync(join(outside, 'victim.txt'), join(t2, 'top.txt'));
  const refused = await download(t2, false);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /differ from .*first: top\.txt.*--force/);
  const forced = await download(t2, true);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(readFileSync(join(outside, 'victim.txt'), 'utf8'), 'outside, must not change');
  assert.equal(readFileSync(join(t2, 'top.txt'), 'utf8'), 'top');
  assert.equal(readFileSync(join(t2, 'sub', 'a.txt'), 'utf8'), 'a in sub');
}


function oneLine(stderr: string): void {
  assert.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at |Unexpected error/);
}

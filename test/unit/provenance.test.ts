import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultProject, sanitizeProject } from '../../src/core/config';
import { gitProvenance, stripCredentials } from '../../src/core/provenance';
import { tempDir } from '../helpers';

test('remote URLs lose their credentials', () => {
  assert.equal(stripCredentials('https://user:s3cret@github.com/org/repo.git'), 'https://github.com/org/repo.git');
  assert.equal(stripCredentials('https://ghp_token@github.com/org/repo.git'), 'https://github.com/org/repo.git');
  assert.equal(stripCredentials('git@github.com:org/repo.git'), 'git@github.com:org/repo.git');
});

test('git provenance from a real work tree: commit, branch, clean remote, dirty flag', async () => {
  const t = tempDir();
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: t.dir, encoding: 'utf8' }).trim();
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 't@example.com');
    git('config', 'user.name', 'T');
    git('remote', 'add', 'origin', 'https://alice:hunter2@example.com/team/data.git');
    writeFileSync(join(t.dir, 'train.py'), 'print(1)\n');
    git('add', '.');
    git('commit', '-qm', 'first');
    const clean = await gitProvenance(t.dir);
    assert.equal(clean?.commit, git('rev-parse', 'HEAD'));
    assert.equal(clean?.branch, 'main');
    assert.equal(clean?.remote, 'https://example.com/team/data.git');
    assert.equal(clean?.dirty, false);
    writeFileSync(join(t.dir, 'train.py'), 'print(2)\n');
    assert.equal((await gitProvenance(t.dir))?.dirty, true);
    assert.equal(defaultProject(join(t.dir), undefined, {}), sanitizeProject(t.dir.split('/').pop()!));
  } finally {
    await t.cleanup();
  }
});

test('outside a work tree there is no provenance, and the project is the folder name', async () => {
  const t = tempDir('plain folder-');
  try {
    assert.equal(await gitProvenance(t.dir), undefined);
    assert.match(defaultProject(t.dir, undefined, {}), /^plain-folder-/);
    assert.equal(defaultProject(t.dir, undefined, { TROVE_PROJECT: 'envproj' }), 'envproj');
    assert.equal(defaultProject(t.dir, 'flag', { TROVE_PROJECT: 'envproj' }), 'flag');
  } finally {
    await t.cleanup();
  }
});

test('a repository without commits has no provenance; a detached HEAD has no branch', async () => {
  const t = tempDir();
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: t.dir, encoding: 'utf8' }).trim();
    git('init', '-q', '-b', 'main');
    assert.equal(await gitProvenance(t.dir), undefined);
    git('-c', 'user.email=t@example.com', '-c', 'user.name=T', 'commit', '-q', '--allow-empty', '-m', 'first');
    git('checkout', '-q', '--detach');
    const info = await gitProvenance(t.dir);
    assert.equal(info?.commit, git('rev-parse', 'HEAD'));
    assert.equal(info?.branch, undefined);
    assert.equal(info?.dirty, false);
  } finally {
    await t.cleanup();
  }
});

import { findGitTop } from './config';
import type { GitInfo } from './types';

/** Removes `user:password@` (or a token) from a remote URL; scp-style `git@host:path` stays as is. */
export function stripCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * Git provenance of the work tree holding `dir`: commit, branch, remote URL without credentials,
 * dirty flag. Undefined outside a work tree or when git is unavailable (provenance is optional).
 */
export async function gitProvenance(dir: string): Promise<GitInfo | undefined> {
  const top = findGitTop(dir);
  if (!top) return undefined;
  try {
    const { simpleGit } = await import('simple-git'); // loaded only inside a work tree
    const git = simpleGit({ baseDir: top, maxConcurrentProcesses: 2 });
    // Two git processes: `status --porcelain=v2 --branch` gives the commit, the branch and the
    // changed tracked files at once; the remote comes from the configuration.
    const [status, remotes] = await Promise.all([
      git.raw(['status', '--porcelain=v2', '--branch', '--untracked-files=no']),
      git.getRemotes(true).catch(() => []),
    ]);
    const header = (key: string) => status.split('\n').find((l) => l.startsWith(`# branch.${key} `))?.slice(`# branch.${key} `.length).trim();
    const commit = header('oid');
    if (!commit || commit === '(initial)') return undefined; // no commit yet
    const branch = header('head');
    const dirty = status.split('\n').some((l) => l !== '' && !l.startsWith('#'));
    const origin = remotes.find((r) => r.name === 'origin') ?? remotes[0];
    const info: GitInfo = { commit, dirty };
    if (branch && branch !== '(detached)') info.branch = branch;
    if (origin?.refs.fetch) info.remote = stripCredentials(origin.refs.fetch);
    return info;
  } catch {
    return undefined; // no commit yet, or git missing: the run is recorded without provenance
  }
}

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
    const git = simpleGit({ baseDir: top, maxConcurrentProcesses: 4 });
    const [commit, branch, remotes, status] = await Promise.all([
      git.revparse(['HEAD']),
      git.revparse(['--abbrev-ref', 'HEAD']).catch(() => undefined),
      git.getRemotes(true).catch(() => []),
      git.status(['--porcelain', '--untracked-files=no']),
    ]);
    const origin = remotes.find((r) => r.name === 'origin') ?? remotes[0];
    const info: GitInfo = { commit: commit.trim(), dirty: !status.isClean() };
    if (branch && branch.trim() !== 'HEAD') info.branch = branch.trim();
    if (origin?.refs.fetch) info.remote = stripCredentials(origin.refs.fetch);
    return info;
  } catch {
    return undefined; // no commit yet, or git missing: the run is recorded without provenance
  }
}

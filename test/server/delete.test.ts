/**
 * Deleting through `trove serve` (issue 14, item 8), on both backends: only a write token of the
 * artifact's project deletes or restores; the server's protected aliases (--protected-aliases)
 * refuse a deletion whatever the client asks; the answers are the one-sentence errors.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HttpRegistry } from '../../src/client/httpRegistry';
import { logArtifact } from '../../src/core/operations';
import { parseRef } from '../../src/core/names';
import { runCli, scaleOutArgs, startServe, tempDir, type ServeProcess } from './harness';

for (const backend of ['embedded', 'postgres+s3'] as const) {
  describe(`deleting through trove serve (${backend})`, () => {
    let server: ServeProcess;
    const tokens: Record<'aR' | 'aW' | 'bW', string> = { aR: '', aW: '', bW: '' };
    const client = (who: keyof typeof tokens) => new HttpRegistry({ url: server.url, token: tokens[who] });

    before(async () => {
      const s = backend === 'embedded' ? { args: ['--store', tempDir('trove-del-store-')], tokenArgs: [] as string[] } : await scaleOutArgs('del').then((x) => ({ args: x.args, tokenArgs: ['--database', x.database] }));
      const tokenArgs = backend === 'embedded' ? ['--store', s.args[1]] : s.tokenArgs;
      const make = async (project: string, scope: string) => {
        const r = await runCli(['token', 'create', ...tokenArgs, '--project', project, '--scope', scope]);
        assert.equal(r.code, 0, r.stderr);
        return r.stdout.trim();
      };
      [tokens.aR, tokens.aW, tokens.bW] = await Promise.all([make('a', 'read'), make('a', 'write'), make('b', 'write')]);
      server = await startServe([...s.args, '--require-auth', '--protected-aliases', 'gold']);
      const a = client('aW');
      const dir = tempDir('trove-del-data-');
      for (const [i, aliases] of [[0, ['gold']], [1, ['production']], [2, []]] as const) {
        writeFileSync(join(dir, 'f.txt'), `content ${i}`);
        await logArtifact(a, { project: 'a', name: 'm', type: 'model', aliases: [...aliases], content: { dirs: [{ absPath: dir }], files: [], references: [] }, cacheDir: tempDir() });
      }
      await a.close();
    });
    after(async () => {
      await server?.stop();
    });

    test('a read-only token, and a token of another project, delete and restore nothing', async () => {
      const read = client('aR');
      await assert.rejects(read.deleteVersion(parseRef('a/m:v2')), (e: Error) => (e as { code?: string }).code === 'forbidden' && /read-only/.test(e.message));
      await assert.rejects(read.deleteArtifact('a', 'm'), /read-only/);
      await assert.rejects(read.restoreVersion({ project: 'a', name: 'm', version: 2 }), /read-only/);
      const other = client('bW');
      await assert.rejects(other.deleteVersion(parseRef('a/m:v2')), /This token is for project "b" and cannot write project "a"/);
      await assert.rejects(other.deleteArtifact('a', 'm'), /cannot write project "a"/);
      assert.deepEqual((await read.listVersions('a', 'm')).map((v) => v.version), [2, 1, 0], 'nothing was deleted');
      await read.close();
      await other.close();
    });

    test("the server's protected aliases refuse a deletion whatever the client lists; the client's list counts too", async () => {
      const a = client('aW');
      await assert.rejects(a.deleteVersion(parseRef('a/m:v0'), { protectedAliases: [] }), /a\/m:v0 has the protected alias "gold"/);
      await assert.rejects(a.deleteArtifact('a', 'm', { protectedAliases: [] }), /protected alias "gold"/);
      await assert.rejects(a.deleteVersion(parseRef('a/m:v1'), { protectedAliases: ['production'] }), /protected alias "production"/);
      // --protected-aliases gold replaced the server's default: production is protected only when the client says so.
      assert.deepEqual((await a.deleteVersion(parseRef('a/m:production'), { protectedAliases: [] })).deleted, [{ version: 1, aliases: ['production'] }]);
      const res = await fetch(`${server.url}/api/v1/projects/a/artifacts/m/versions/v2?protected=not%20ok!`, { method: 'DELETE', headers: { authorization: `Bearer ${tokens.aW}` } });
      assert.equal(res.status, 400);
      assert.match((await res.json() as { error: { message: string } }).error.message, /^The "protected" parameter holds "ok!", which is not an alias/);
      const r = await a.deleteVersion(parseRef('a/m:v2'), { protectedAliases: [] });
      assert.deepEqual(r, { project: 'a', name: 'm', deleted: [{ version: 2, aliases: ['latest'] }], latest: 0 });
      assert.deepEqual(await a.restoreVersion({ project: 'a', name: 'm', version: 2 }), { project: 'a', name: 'm', version: 2, aliases: ['latest'] });
      const bad = await fetch(`${server.url}/api/v1/projects/a/artifacts/m/versions/latest/restore`, { method: 'POST', headers: { authorization: `Bearer ${tokens.aW}`, 'content-type': 'application/json' }, body: '{}' });
      assert.equal(bad.status, 400);
      await a.close();
    });
  });
}

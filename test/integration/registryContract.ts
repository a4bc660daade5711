/**
 * The Registry contract: every backend (embedded store, HTTP over the embedded store, HTTP over
 * PostgreSQL + S3) must pass these tests unchanged. They use only the Registry interface and the
 * shared operations in src/core/operations.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { sha256, SMALL_FILE } from '../../src/core/hash';
import { parseRef } from '../../src/core/names';
import { downloadVersion, logArtifact, type ArtifactContent } from '../../src/core/operations';
import type { Registry } from '../../src/core/registry';
import { scanFolder } from '../../src/core/scan';
import type { CommitRequest, ManifestFile, StreamCommitRequest } from '../../src/core/types';
import { isDeletedError } from '../../src/core/versionRules';
import { tempDir, writeTree } from '../helpers';

export interface ContractBackend {
  registry: Registry;
  cacheDir: string;
  close(): Promise<void>;
}

export function registryContract(label: string, open: () => Promise<ContractBackend>): void {
  describe(`Registry contract: ${label}`, () => {
    let backend: ContractBackend;
    let registry: Registry;
    let work: { dir: string; cleanup: () => Promise<void> };
    let n = 0;
    // Each test uses its own project so tests do not see each other's artifacts.
    const project = () => `p${++n}-${Date.now().toString(36)}`;
    const dirContent = (absPath: string): ArtifactContent => ({ dirs: [{ absPath }], files: [], references: [] });
    const log = (p: string, name: string, type: string, folder: string, extra: { aliases?: string[]; runId?: string; description?: string; metadata?: Record<string, unknown> } = {}) =>
      logArtifact(registry, { project: p, name, type, content: dirContent(folder), cacheDir: backend.cacheDir, ...extra });

    before(async () => {
      backend = await open();
      registry = backend.registry;
      work = tempDir();
    });
    after(async () => {
      await backend.close();
      await work.cleanup();
    });

    test('first log creates v0 with the manifest, size, digest and stored files', async () => {
      const p = project();
      const folder = writeTree(join(work.dir, 'a1'), { 'x.txt': 'hello', 'sub/y.bin': Buffer.alloc(3000, 7) });
      const r = await log(p, 'ds', 'dataset', folder, { description: 'first', metadata: { rows: 2 } });
      assert.equal(r.version, 0);
      assert.equal(r.created, true);
      assert.equal(r.files, 2);
      assert.equal(r.size, 3005);
      assert.equal(r.storedFiles, 2);
      assert.equal(r.ref, `${p}/ds:v0`);
      const v = await registry.getVersion(parseRef(`${p}/ds`));
      assert.equal(v.version, 0);
      assert.equal(v.type, 'dataset');
      assert.equal(v.description, 'first');
      assert.deepEqual(v.metadata, { rows: 2 });
      assert.deepEqual(v.aliases, ['latest']);
      assert.deepEqual(Object.keys(v.manifest), ['sub/y.bin', 'x.txt']);
      assert.equal(v.manifest['x.txt'].digest, sha256('hello'));
      assert.equal(v.digest, r.digest);
    });

    test('equal content creates no new version and stores nothing; changed content gets the next number', async () => {
      const p = project();
      const folder = writeTree(join(work.dir, 'a2'), { 'a.txt': 'one', 'b.txt': 'two' });
      const first = await log(p, 'ds', 'dataset', folder);
      const again = await log(p, 'ds', 'dataset', folder);
      assert.equal(again.created, false);
      assert.equal(again.version, 0);
      assert.equal(again.storedFiles, 0);
      assert.equal(again.digest, first.digest);
      writeFileSync(join(folder, 'b.txt'), 'two, edited');
      const next = await log(p, 'ds', 'dataset', folder);
      assert.equal(next.version, 1);
      assert.equal(next.created, true);
      assert.equal(next.storedFiles, 1, 'only the edited file is new content');
      const versions = await registry.listVersions(p, 'ds');
      assert.deepEqual(versions.map((v) => v.version), [1, 0]);
    });

    test('latest moves to the version logged last, including a re-logged old one; custom aliases are unique', async () => {
      const p = project();
      const folder = writeTree(join(work.dir, 'a3'), { 'f.txt': 'A' });
      await log(p, 'm', 'model', folder, { aliases: ['best'] });
      writeFileSync(join(folder, 'f.txt'), 'B');
      await log(p, 'm', 'model', folder, { aliases: ['best'] });
      let versions = await registry.listVersions(p, 'm');
      assert.deepEqual(versions.find((v) => v.version === 1)!.aliases, ['latest', 'best']);
      assert.deepEqual(versions.find((v) => v.version === 0)!.aliases, []);
      writeFileSync(join(folder, 'f.txt'), 'A');
      const back = await log(p, 'm', 'model', folder);
      assert.equal(back.version, 0);
      assert.equal(back.created, false);
      assert.equal((await registry.getVersion(parseRef(`${p}/m:latest`))).version, 0);
      await registry.addAlias(parseRef(`${p}/m:v1`), 'production');
      await registry.addAlias(parseRef(`${p}/m:v0`), 'production');
      versions = await registry.listVersions(p, 'm');
      assert.deepEqual(versions.find((v) => v.version === 0)!.aliases, ['latest', 'production']);
      assert.deepEqual(versions.find((v) => v.version === 1)!.aliases, ['best']);
      await registry.removeAlias(p, 'm', 'production');
      await assert.rejects(registry.getVersion(parseRef(`${p}/m:production`)), /Alias "production" does not exist/);
      await assert.rejects(registry.addAlias(parseRef(`${p}/m:v0`), 'v7'), /reserved/);
      await assert.rejects(registry.addAlias(parseRef(`${p}/m:v0`), 'latest'), /latest/);
    });

    test('type is fixed at the first log', async () => {
      const p = project();
      const folder = writeTree(join(work.dir, 'a4'), { 'f.txt': 'x' });
      await log(p, 'thing', 'dataset', folder);
      writeFileSync(join(folder, 'f.txt'), 'y');
      await assert.rejects(log(p, 'thing', 'model', folder), /has type "dataset", not "model"/);
      assert.equal((await registry.listVersions(p, 'thing')).length, 1, 'nothing was committed');
    });

    test('unknown project, artifact, alias and version give clear not-found errors', async () => {
      const p = project();
      const folder = writeTree(join(work.dir, 'a5'), { 'f.txt': 'x' });
      await log(p, 'known', 'dataset', folder);
      await assert.rejects(registry.getVersion(parseRef(`${p}-nope/known`)), (e: Error) => /does not exist/.test(e.message));
      await assert.rejects(registry.getVersion(parseRef(`${p}/unknown`)), /Artifact "unknown" does not exist/);
      await assert.rejects(registry.getVersion(parseRef(`${p}/known:v9`)), /Version v9 .* does not exist/);
      await assert.rejects(registry.getVersion(parseRef(`${p}/known:gold`)), /Alias "gold" does not exist/);
    });

    test('listing: projects, artifacts with type, versions and latest', async () => {
      const p = project();
      const folder = writeTree(join(work.dir, 'a6'), { 'f.txt': 'x' });
      await log(p, 'raw', 'dataset', folder);
      writeFileSync(join(folder, 'f.txt'), 'xx');
      await log(p, 'raw', 'dataset', folder);
      await log(p, 'net', 'model', folder);
      const projects = await registry.listProjects();
      assert.ok(projects.some((x) => x.name === p && x.artifacts === 2));
      const arts = await registry.listArtifacts(p);
      assert.deepEqual(arts.map((a) => [a.name, a.type, a.versions, a.latest]), [['net', 'model', 1, 0], ['raw', 'dataset', 2, 1]]);
    });

    test('download writes identical files, filters by path prefix and never escapes its root', async () => {
      const p = project();
      const files = { 'a.txt': 'alpha', 'deep/er/b.txt': 'beta', 'deep/c.bin': Buffer.alloc(2 << 20, 3) };
      const folder = writeTree(join(work.dir, 'a7'), files);
      await log(p, 'ds', 'dataset', folder);
      const v = await registry.getVersion(parseRef(`${p}/ds`));
      const root = join(work.dir, 'dl7');
      const out = await downloadVersion(registry, v, { root });
      assert.equal(out.files, 3);
      for (const [path, content] of Object.entries(files)) assert.deepEqual(readFileSync(join(root, path)), Buffer.from(content));
      const partial = await downloadVersion(registry, v, { root: join(work.dir, 'dl7b'), pathPrefix: 'deep/' });
      assert.equal(partial.files, 2);
      assert.equal(existsSync(join(work.dir, 'dl7b', 'a.txt')), false);
      // Re-downloading over an unchanged folder rewrites nothing; a changed file is refused without overwrite.
      assert.equal((await downloadVersion(registry, v, { root })).unchanged, 3);
      writeFileSync(join(root, 'a.txt'), 'local edit');
      await assert.rejects(downloadVersion(registry, v, { root }), /differ from/);
      assert.equal(readFileSync(join(root, 'a.txt'), 'utf8'), 'local edit');
      await downloadVersion(registry, v, { root, overwrite: true });
      assert.equal(readFileSync(join(root, 'a.txt'), 'utf8'), 'alpha');
      const evil = { ...v, manifest: { '../escape.txt': v.manifest['a.txt'] } };
      await assert.rejects(downloadVersion(registry, evil, { root: join(work.dir, 'dl7c') }), /could escape|outside/);
      assert.equal(existsSync(join(work.dir, 'escape.txt')), false);
    });

    test('manifests with unsafe paths or unknown blobs are rejected at commit', async () => {
      const p = project();
      const digest = sha256('never stored ' + p);
      for (const bad of ['../x', '/abs', 'a//b', 'a/./b', 'tab\there']) {
        await assert.rejects(registry.commitVersion({ project: p, name: 'bad', type: 'dataset', aliases: [], manifest: { [bad]: { digest, size: 1 } } }), /Invalid file path/);
      }
      await assert.rejects(registry.commitVersion({ project: p, name: 'bad', type: 'dataset', aliases: [], manifest: { 'ok.txt': { digest, size: 1 } } }), /not in the store|missing/i);
      await assert.rejects(registry.getVersion(parseRef(`${p}/bad`)), /does not exist/);
    });

    test('invalid names, types and aliases are rejected before anything is written', async () => {
      const p = project();
      const folder = writeTree(join(work.dir, 'a9'), { 'f.txt': 'x' });
      await assert.rejects(log(p, 'bad name', 'dataset', folder), /Invalid artifact name/);
      await assert.rejects(log(p, 'ok', 'data set', folder), /Invalid artifact type/);
      await assert.rejects(log(p, 'ok', 'dataset', folder, { aliases: ['v3'] }), /reserved/);
      assert.equal((await registry.listArtifacts(p)).length, 0);
    });

    test('runs record inputs and outputs; lineage walks N hops up and down', async () => {
      const p = project();
      const raw = writeTree(join(work.dir, 'l-raw'), { 'r.csv': '1,2,3' });
      const prep = await registry.createRun({ project: p, jobType: 'ingest' });
      await log(p, 'raw', 'dataset', raw, { runId: prep.id });
      await registry.finishRun(prep.id, 'finished');
      const train = await registry.createRun({ project: p, jobType: 'train', name: 'train-1', git: { commit: 'abc123', dirty: false } });
      const rawV = await registry.getVersion(parseRef(`${p}/raw`));
      await registry.recordUse(train.id, { project: p, name: 'raw', version: rawV.version });
      const model = writeTree(join(work.dir, 'l-model'), { 'w.bin': 'weights' });
      await log(p, 'net', 'model', model, { runId: train.id });
      await registry.finishRun(train.id, 'finished');
      const evalRun = await registry.createRun({ project: p, jobType: 'evaluate' });
      await registry.recordUse(evalRun.id, { project: p, name: 'net', version: 0 });

      const run = await registry.getRun(train.id);
      assert.equal(run.status, 'finished');
      assert.equal(run.git?.commit, 'abc123');
      const netV = await registry.getVersion(parseRef(`${p}/net:v0`));
      assert.deepEqual(netV.createdBy, { runId: train.id, jobType: 'train' });
      assert.deepEqual(netV.usedBy, [{ runId: evalRun.id, jobType: 'evaluate' }]);
      assert.deepEqual((await registry.getVersion(parseRef(`${p}/raw`))).usedBy, [{ runId: train.id, jobType: 'train' }]);

      const full = await registry.lineage(parseRef(`${p}/net:v0`), 3);
      const ids = full.nodes.map((x) => x.id).sort();
      assert.deepEqual(ids, [`run:${evalRun.id}`, `run:${prep.id}`, `run:${train.id}`, `version:${p}/net:v0`, `version:${p}/raw:v0`].sort());
      const edges = full.edges.map((e) => `${e.from}>${e.to}`).sort();
      assert.deepEqual(edges, [
        `run:${prep.id}>version:${p}/raw:v0`,
        `version:${p}/raw:v0>run:${train.id}`,
        `run:${train.id}>version:${p}/net:v0`,
        `version:${p}/net:v0>run:${evalRun.id}`,
      ].sort());
      assert.equal(full.nodes.find((x) => x.id === `version:${p}/net:v0`)!.label, 'net:v0');
      assert.match(full.nodes.find((x) => x.id === `run:${train.id}`)!.label, /train/);
      const oneHop = await registry.lineage(parseRef(`${p}/net:v0`), 1);
      assert.deepEqual(oneHop.nodes.map((x) => x.id).sort(), [`run:${evalRun.id}`, `run:${train.id}`, `version:${p}/net:v0`].sort());

      // connected: every node walked both ways, so a sibling output of the same run is reached, and
      // a download that made nothing is marked view-only; runs are labelled by their name.
      const report = writeTree(join(work.dir, 'l-report'), { 'r.txt': 'report' });
      const sibling = await registry.createRun({ project: p, jobType: 'train', name: 'train-2' });
      await registry.recordUse(sibling.id, { project: p, name: 'raw', version: rawV.version });
      await log(p, 'net2', 'model', model, { runId: sibling.id });
      await log(p, 'report', 'report', report, { runId: sibling.id });
      const looked = await registry.createRun({ project: p, jobType: 'download' });
      await registry.recordUse(looked.id, { project: p, name: 'report', version: 0 });
      const flow = await registry.lineage(parseRef(`${p}/net2:v0`), 50);
      assert.ok(!flow.nodes.some((x) => x.id === `version:${p}/report:v0`), 'following the flow, a sibling is not reached');
      const whole = await registry.lineage(parseRef(`${p}/net2:v0`), 50, { connected: true });
      const wholeIds = whole.nodes.map((x) => x.id);
      for (const id of [`version:${p}/report:v0`, `version:${p}/net:v0`, `run:${evalRun.id}`, `run:${prep.id}`, `run:${looked.id}`]) assert.ok(wholeIds.includes(id), `${id} in the whole pipeline`);
      assert.equal(whole.nodes.find((x) => x.id === `run:${looked.id}`)!.viewOnly, true);
      assert.equal(whole.nodes.find((x) => x.id === `run:${sibling.id}`)!.viewOnly, undefined);
      assert.equal(whole.nodes.find((x) => x.id === `run:${sibling.id}`)!.label, 'train-2');
    });

    test('storeFiles writes only missing content and gc keeps what versions use', async () => {
      const p = project();
      const folder = writeTree(join(work.dir, 'a11'), { 'same1.txt': `dup ${p}`, 'same2.txt': `dup ${p}`, 'other.txt': `o ${p}` });
      const r = await log(p, 'ds', 'dataset', folder);
      assert.equal(r.files, 3);
      const stored = await registry.storeFiles([{ path: 'again.txt', absPath: join(folder, 'other.txt'), size: Buffer.byteLength(`o ${p}`) }]);
      assert.equal(stored[0].stored, false, 'content already in the store is not written again');
      const gc = await registry.gc(true);
      assert.equal(gc.dryRun, true);
      const v = await registry.getVersion(parseRef(`${p}/ds`));
      for (const e of Object.values(v.manifest)) assert.equal(await registry.verifyBlob(e.digest), true);
    });

    test('deleting a version: its aliases go with it, latest moves to the newest remaining, numbers are never given again', async () => {
      const p = project();
      const folder = writeTree(join(work.dir, 'del1'), { 'f.txt': 'zero' });
      await log(p, 'm', 'model', folder);
      writeFileSync(join(folder, 'f.txt'), 'one');
      await log(p, 'm', 'model', folder, { aliases: ['best'] });
      writeFileSync(join(folder, 'f.txt'), 'two');
      await log(p, 'm', 'model', folder);
      const gone = await registry.deleteVersion(parseRef(`${p}/m:v2`));
      assert.deepEqual(gone, { project: p, name: 'm', deleted: [{ version: 2, aliases: ['latest'] }], latest: 1 });
      assert.deepEqual((await registry.listVersions(p, 'm')).map((v) => [v.version, v.aliases]), [[1, ['latest', 'best']], [0, []]]);
      assert.equal((await registry.getVersion(parseRef(`${p}/m`))).version, 1);
      await assert.rejects(registry.getVersion(parseRef(`${p}/m:v2`)), (e: Error) => isDeletedError(e) && /m:v2 was deleted on \d{4}-/.test(e.message));
      await assert.rejects(registry.deleteVersion(parseRef(`${p}/m:v2`)), /was deleted/);
      await assert.rejects(registry.deleteVersion(parseRef(`${p}/m:v9`)), (e: Error) => !isDeletedError(e) && /does not exist/.test(e.message));
      // The next version is v3: v2 is never given again.
      writeFileSync(join(folder, 'f.txt'), 'three');
      assert.equal((await log(p, 'm', 'model', folder)).version, 3);
      // By alias: `best` names v1; the alias goes, latest (on v3) stays.
      const byAlias = await registry.deleteVersion(parseRef(`${p}/m:best`));
      assert.deepEqual(byAlias.deleted, [{ version: 1, aliases: ['best'] }]);
      assert.equal(byAlias.latest, 3);
      assert.deepEqual((await registry.listVersions(p, 'm')).map((v) => v.version), [3, 0]);
      assert.deepEqual((await registry.listArtifacts(p)).map((a) => [a.name, a.versions, a.latest]), [['m', 2, 3]]);
      // Content equal to a deleted version makes a new version.
      writeFileSync(join(folder, 'f.txt'), 'two');
      assert.deepEqual([(await log(p, 'm', 'model', folder)).version], [4]);
    });

    test('deleting a whole artifact takes every version out of the listings; its numbers stay used', async () => {
      const p = project();
      const folder = writeTree(join(work.dir, 'del2'), { 'f.txt': 'a' });
      await log(p, 'gone', 'dataset', folder);
      writeFileSync(join(folder, 'f.txt'), 'b');
      await log(p, 'gone', 'dataset', folder, { aliases: ['candidate'] });
      await log(p, 'kept', 'dataset', folder);
      const r = await registry.deleteArtifact(p, 'gone');
      assert.deepEqual(r, { project: p, name: 'gone', deleted: [{ version: 0, aliases: [] }, { version: 1, aliases: ['latest', 'candidate'] }] });
      assert.deepEqual((await registry.listArtifacts(p)).map((a) => a.name), ['kept']);
      assert.ok((await registry.listProjects()).some((x) => x.name === p && x.artifacts === 1));
      await assert.rejects(registry.listVersions(p, 'gone'), (e: Error) => isDeletedError(e) && /Artifact "gone" in project ".*" was deleted/.test(e.message));
      await assert.rejects(registry.getVersion(parseRef(`${p}/gone`)), /was deleted/);
      await assert.rejects(registry.deleteArtifact(p, 'gone'), /was deleted/);
      await assert.rejects(registry.deleteArtifact(p, 'never'), /Artifact "never" does not exist/);
      // Logging the name again continues its numbering.
      writeFileSync(join(folder, 'f.txt'), 'c');
      assert.equal((await log(p, 'gone', 'dataset', folder)).version, 2);
      assert.deepEqual((await registry.listVersions(p, 'gone')).map((v) => [v.version, v.aliases]), [[2, ['latest']]]);
      await registry.deleteArtifact(p, 'kept');
      await registry.deleteArtifact(p, 'gone');
      assert.ok(!(await registry.listProjects()).some((x) => x.name === p), 'a project with nothing left is not listed');
    });

    test('a protected alias refuses the deletion, says how to remove it, and deletes nothing', async () => {
      const p = project();
      const folder = writeTree(join(work.dir, 'del3'), { 'f.txt': 'a' });
      await log(p, 'm', 'model', folder, { aliases: ['production'] });
      writeFileSync(join(folder, 'f.txt'), 'b');
      await log(p, 'm', 'model', folder, { aliases: ['gold'] });
      const before = await registry.listVersions(p, 'm');
      await assert.rejects(registry.deleteVersion(parseRef(`${p}/m:v0`)), (e: Error) =>
        (e as { code?: string }).code === 'conflict' && e.message.includes(`${p}/m:v0 has the protected alias "production"`) && e.message.includes(`trove alias rm ${p}/m production`));
      await assert.rejects(registry.deleteVersion(parseRef(`${p}/m:production`)), /protected alias "production"/);
      await assert.rejects(registry.deleteArtifact(p, 'm'), /protected alias "production"/);
      // A list of one's own protects other aliases too.
      await assert.rejects(registry.deleteVersion(parseRef(`${p}/m:v1`), { protectedAliases: ['gold'] }), /protected alias "gold"/);
      assert.deepEqual(await registry.listVersions(p, 'm'), before, 'nothing was deleted');
      await registry.removeAlias(p, 'm', 'production');
      assert.deepEqual((await registry.deleteVersion(parseRef(`${p}/m:v0`))).deleted, [{ version: 0, aliases: [] }]);
    });

    test('lineage keeps a tombstone: a run that used or made a deleted version still says which', async () => {
      const p = project();
      const prep = await registry.createRun({ project: p, jobType: 'ingest' });
      await log(p, 'raw', 'dataset', writeTree(join(work.dir, 'del4-raw'), { 'r.csv': `1,2 ${p}` }), { runId: prep.id });
      const train = await registry.createRun({ project: p, jobType: 'train', name: 'train-x' });
      await registry.recordUse(train.id, { project: p, name: 'raw', version: 0 });
      await log(p, 'net', 'model', writeTree(join(work.dir, 'del4-net'), { 'w.bin': `w ${p}` }), { runId: train.id });
      await registry.deleteArtifact(p, 'raw');
      const g = await registry.lineage(parseRef(`${p}/net:v0`), 3);
      const tomb = g.nodes.find((x) => x.id === `version:${p}/raw:v0`);
      assert.ok(tomb, 'the deleted input is still in the lineage');
      assert.equal(tomb.label, 'raw:v0 (deleted)');
      assert.equal(tomb.deleted, true);
      assert.equal(g.nodes.find((x) => x.id === `version:${p}/net:v0`)!.deleted, undefined);
      assert.deepEqual(g.edges.map((e) => `${e.from}>${e.to}`).sort(), [
        `run:${prep.id}>version:${p}/raw:v0`, `run:${train.id}>version:${p}/net:v0`, `version:${p}/raw:v0>run:${train.id}`,
      ].sort());
      // Its own lineage, asked by number, still answers.
      const own = await registry.lineage(parseRef(`${p}/raw:v0`), 1);
      assert.equal(own.nodes.find((x) => x.id === `version:${p}/raw:v0`)!.label, 'raw:v0 (deleted)');
      await assert.rejects(registry.recordUse(train.id, { project: p, name: 'raw', version: 0 }), /does not exist|was deleted/);
    });

    test('gc frees content only deleted versions used; a restore before gc gives the version and its aliases back', async () => {
      const p = project();
      // The shared file is large (a blob of its own): small files share their log's pack, and a
      // pack on S3 goes only once none of its blobs is used.
      const shared = randomBytes(SMALL_FILE + 100);
      const folder = writeTree(join(work.dir, 'del5'), { 'shared.bin': shared, 'only0.txt': `only in v0 ${p}`, 'big0.bin': randomBytes(SMALL_FILE + 4096) });
      await log(p, 'ds', 'dataset', folder, { aliases: ['first'] });
      const v0 = await registry.getVersion(parseRef(`${p}/ds:v0`));
      const v1Folder = writeTree(join(work.dir, 'del5b'), { 'shared.bin': shared, 'only1.txt': `only in v1 ${p}` });
      await log(p, 'ds', 'dataset', v1Folder);
      // Undo: latest moved to v0 when v1 went, and comes back with it.
      assert.equal((await registry.deleteVersion(parseRef(`${p}/ds:v1`))).latest, 0);
      assert.deepEqual(await registry.restoreVersion({ project: p, name: 'ds', version: 1 }), { project: p, name: 'ds', version: 1, aliases: ['latest'] });
      assert.equal((await registry.getVersion(parseRef(`${p}/ds`))).version, 1);
      await assert.rejects(registry.restoreVersion({ project: p, name: 'ds', version: 1 }), /is not deleted/);
      await assert.rejects(registry.restoreVersion({ project: p, name: 'ds', version: 7 }), /does not exist/);
      // v0 goes; gc frees what only v0 named, and keeps what v1 still uses.
      await registry.deleteVersion(parseRef(`${p}/ds:v0`));
      const dry = await registry.gc(true, { minAgeSeconds: 0 });
      assert.ok(dry.blobs >= 2, `a dry run counts v0's own blobs (${dry.blobs})`);
      assert.equal(await registry.verifyBlob(v0.manifest['only0.txt'].digest), true, 'a dry run frees nothing');
      const freed = await registry.gc(false, { minAgeSeconds: 0 });
      assert.ok(freed.blobs >= 2 && freed.bytes >= SMALL_FILE, `gc freed v0's own content (${freed.blobs} blobs, ${freed.bytes} bytes)`);
      assert.equal(await registry.verifyBlob(v0.manifest['only0.txt'].digest), false);
      assert.equal(await registry.verifyBlob(v0.manifest['big0.bin'].digest), false);
      assert.equal(await registry.verifyBlob(v0.manifest['shared.bin'].digest), true, 'content v1 uses stays');
      await assert.rejects(registry.restoreVersion({ project: p, name: 'ds', version: 0 }), /gc has freed its content/);
      const out = join(work.dir, 'del5-out');
      await downloadVersion(registry, await registry.getVersion(parseRef(`${p}/ds`)), { root: out });
      assert.deepEqual(readFileSync(join(out, 'shared.bin')), shared);
    });

    test('gc frees the content of a deleted version of more than 10,000 files (kept apart from its record in stores that page large manifests)', async () => {
      const p = project();
      const files: Record<string, string> = {};
      for (let i = 0; i <= 10_000; i++) files[`d${Math.floor(i / 1000)}/f${i}.txt`] = `big version file ${i} ${p}`;
      const folder = writeTree(join(work.dir, 'del-big'), files);
      const big = await log(p, 'many', 'dataset', folder);
      assert.equal(big.files, 10_001);
      // Other content (on S3 a pack goes only once none of its blobs is used).
      const small = writeTree(join(work.dir, 'del-big-small'), { 'kept.txt': `kept ${p}` });
      await log(p, 'many', 'dataset', small);
      await registry.deleteVersion(parseRef(`${p}/many:v0`));
      const freed = await registry.gc(false, { minAgeSeconds: 0 });
      assert.ok(freed.blobs >= 10_000, `gc freed the deleted version's blobs (${freed.blobs})`);
      for (const i of [0, 5_000, 10_000]) assert.equal(await registry.verifyBlob(sha256(files[`d${Math.floor(i / 1000)}/f${i}.txt`])), false, `file ${i} is freed`);
      assert.equal(await registry.verifyBlob(sha256(`kept ${p}`)), true, 'content the remaining version uses stays');
      await assert.rejects(registry.restoreVersion({ project: p, name: 'many', version: 0 }), /gc has freed its content/);
    });

    test('gc between a log storing its files and its commit leaves no version without its content', async () => {
      // A log that failed before its commit left these blobs stored and unused; the next log of
      // the same content finds them stored, and gc (of everything unused, whatever its age)
      // removes them before the commit. The commit must notice, and the log store them again.
      const p = project();
      const folder = writeTree(join(work.dir, 'gc-race'), { 'small.txt': `small ${p}`, 'big.bin': randomBytes(SMALL_FILE + 4096) });
      await registry.storeFiles(await scanFolder(folder));
      let gcRuns = 0;
      const racing = new Proxy(registry, {
        get(target, prop) {
          if (prop === 'commitVersion') {
            return async (req: CommitRequest) => {
              if (!gcRuns++) await target.gc(false, { minAgeSeconds: 0 });
              return target.commitVersion(req);
            };
          }
          if (prop === 'commitVersionStream') {
            // A log streams its manifest while it stores: gc runs once every file is stored and
            // listed, before the commit that the end of the stream starts.
            return (req: StreamCommitRequest, files: AsyncIterable<ManifestFile[]>) => target.commitVersionStream(req, (async function* () {
              for await (const batch of files) yield batch;
              if (!gcRuns++) await target.gc(false, { minAgeSeconds: 0 });
            })());
          }
          const value = Reflect.get(target, prop);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const r = await logArtifact(racing, { project: p, name: 'raced', type: 'dataset', content: dirContent(folder), cacheDir: join(work.dir, 'gc-race-cache') });
      assert.equal(gcRuns >= 1, true, 'gc ran between storing and committing');
      assert.equal(r.created, true);
      const v = await registry.getVersion(parseRef(`${p}/raced:v0`));
      for (const [path, e] of Object.entries(v.manifest)) assert.equal(await registry.verifyBlob(e.digest), true, `${path} is stored and intact`);
      const out = join(work.dir, 'gc-race-out');
      await downloadVersion(registry, v, { root: out });
      for (const name of ['small.txt', 'big.bin']) assert.deepEqual(readFileSync(join(out, name)), readFileSync(join(folder, name)));
    });
  });
}

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HttpRegistry } from '../../src/client/httpRegistry';
import { downloadVersion, logArtifact } from '../../src/core/operations';
import { scaleOutArgs, startServe, tempDir, type ServeProcess } from './harness';

const CLIENTS = 8;
const LOGS = 20;
const shared = Buffer.alloc(64 * 1024, 7);

let servers: ServeProcess[] = [];

before(async () => {
  const { args } = await scaleOutArgs('conc');
  // Two server processes on one database and one bucket, started at the same moment (the schema
  // is created once under an advisory lock).
  servers = await Promise.all([startServe(args), startServe(args)]);
});

after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

test(`${CLIENTS} clients x ${LOGS} logs of one artifact through 2 servers on one PostgreSQL`, { timeout: 300_000 }, async () => {
  const work = tempDir('trove-conc-');
  const clients = Array.from({ length: CLIENTS }, (_, k) => new HttpRegistry({ url: servers[k % 2].url }));
  const log = (k: number, dir: string, aliases: string[]) =>
    logArtifact(clients[k], { project: 'team', name: 'shared-ds', type: 'dataset', content: { dirs: [{ absPath: dir }], files: [], references: [] }, aliases, cacheDir: join(work, `cache-${k}`) });

  // Round 0: every client logs equal content at the same moment: one version, created once.
  const same = join(work, 'same');
  mkdirSync(same, { recursive: true });
  writeFileSync(join(same, 'shared.bin'), shared);
  const first = await Promise.all(clients.map((_, k) => log(k, same, [])));
  assert.equal(new Set(first.map((r) => r.version)).size, 1, 'equal content gets one version');
  assert.equal(first.filter((r) => r.created).length, 1, 'created exactly once');
  const sameVersion = first[0].version;

  // Then 20 distinct logs per client, all clients at once; each moves its own alias every time.
  const expected = new Map<number, string>();
  const lastOf = new Map<number, number>();
  await Promise.all(clients.map(async (_, k) => {
    for (let j = 0; j < LOGS; j++) {
      const dir = join(work, `c${k}-l${j}`);
      mkdirSync(join(dir, 'sub'), { recursive: true });
      const id = `client ${k} log ${j}\n`;
      writeFileSync(join(dir, 'id.txt'), id);
      writeFileSync(join(dir, 'sub', 'shared.bin'), shared);
      const r = await log(k, dir, [`client-${k}`]);
      assert.equal(r.created, true);
      assert.ok(!expected.has(r.version), `version ${r.version} handed out twice`);
      expected.set(r.version, id);
      lastOf.set(k, r.version);
    }
  }));

  const reader = new HttpRegistry({ url: servers[0].url });
  const versions = await reader.listVersions('team', 'shared-ds');
  const numbers = versions.map((v) => v.version).sort((a, b) => a - b);
  const total = CLIENTS * LOGS + 1;
  assert.equal(numbers.length, total);
  assert.deepEqual(numbers, Array.from({ length: total }, (_, i) => i), 'version numbers are contiguous and unique');
  assert.equal(sameVersion, 0);

  // No lost alias update: each client's alias names the last version that client logged.
  for (let k = 0; k < CLIENTS; k++) {
    const v = await reader.getVersion({ project: 'team', name: 'shared-ds', alias: `client-${k}` });
    assert.equal(v.version, lastOf.get(k), `alias client-${k}`);
  }
  const latest = await reader.getVersion({ project: 'team', name: 'shared-ds', alias: 'latest' });
  assert.equal(latest.version, total - 1, 'latest names the version committed last');

  // Every committed version downloads, verified, through either server.
  await Promise.all(numbers.map(async (n) => {
    const client = clients[n % CLIENTS];
    const detail = await client.getVersion({ project: 'team', name: 'shared-ds', alias: `v${n}` });
    const root = join(work, 'dl', `v${n}`);
    await downloadVersion(client, detail, { root });
    if (n === sameVersion) {
      assert.deepEqual(readFileSync(join(root, 'shared.bin')), shared);
    } else {
      assert.equal(readFileSync(join(root, 'id.txt'), 'utf8'), expected.get(n));
      assert.deepEqual(readFileSync(join(root, 'sub', 'shared.bin')), shared);
    }
  }));
  await Promise.all([...clients, reader].map((c) => c.close()));
  // Both servers took part.
  for (const s of servers) assert.ok(s.stdout.some((l) => l.includes('"method":"POST"') && l.includes('/versions')), 'each server committed versions');
});

/**
 * Language server latency in a project of 10,000 artifacts of 10 versions each (100,000 versions
 * in an embedded store, built through the Registry API by test/fixtures/manyArtifacts.ts on
 * tmpfs when there is one), measured through a real LSP client connection (JSON-RPC over
 * in-memory streams, as in test/lsp, and over stdio to dist/server.js):
 *   hover (median, warm)                      target <= 20 ms
 *   completion of artifact names (median)     target <= 30 ms  (with nothing typed, and with a prefix)
 *   diagnostics of a 5,000-line Python file   target <= 100 ms (open -> publishDiagnostics, warm)
 * Usage: node --import tsx test/bench/lsp-bench.ts   (exit code 1 when a target is missed)
 * LSP_BENCH_ARTIFACTS and LSP_BENCH_VERSIONS size the project (defaults 10000 and 10).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CompletionList, Hover } from 'vscode-languageserver-protocol';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver-protocol/node';
import { MAX_NAME_ITEMS } from '../../src/lsp/completion';
import { buildManyArtifacts, MANY_PROJECT, manyName as name } from '../fixtures/manyArtifacts';
import { tempRoot, TestClient } from '../lsp/harness';

const ARTIFACTS = Number(process.env.LSP_BENCH_ARTIFACTS ?? 10_000);
const VERSIONS = Number(process.env.LSP_BENCH_VERSIONS ?? 10);
const PROJECT = MANY_PROJECT;
const TARGETS = { hover: 20, completion: 30, diagnostics: 100 };

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (n: number) => `${n.toFixed(2)} ms`;

/**
 * Checks a completion answer for names: with nothing typed, all names or the first MAX_NAME_ITEMS
 * marked incomplete; with a prefix, every name that starts with it, first.
 */
function checkNames(list: CompletionList, typed: string, where: string): void {
  const labels = list.items.filter((i) => i.detail !== 'project').map((i) => String(i.label));
  const expected: string[] = [];
  for (let i = 0; i < ARTIFACTS; i++) if (name(i).startsWith(typed)) expected.push(name(i));
  const shown = Math.min(expected.length, MAX_NAME_ITEMS);
  const ok = labels.length >= shown && labels.length <= MAX_NAME_ITEMS && expected.slice(0, shown).every((n, k) => labels[k] === n) && list.isIncomplete === labels.length < ARTIFACTS;
  if (!ok) throw new Error(`${where}: completion of "${typed}" gave ${labels.length} names (isIncomplete ${list.isIncomplete}), starting ${labels.slice(0, 3).join(', ')}; expected the ${shown} names that start with it first`);
}
/** 5,000 lines of Python with a reference every 10 lines: valid ones, unknown aliases, versions and names. */
function bigPython(): string {
  const lines: string[] = ['import wandb', 'run = wandb.init(project="scale", job_type="train")'];
  for (let i = 0; lines.length < 5000; i++) {
    const n = (i * 37) % ARTIFACTS;
    const kind = i % 10;
    const ref = kind === 7 ? `${name(n)}:no-such-alias` : kind === 8 ? `${name(n)}:v99` : kind === 9 ? `artifcat-${n}` : `${name(n)}:latest`;
    lines.push(`data_${i} = run.use_artifact("${ref}")  # reference ${i}`);
    for (let k = 0; k < 9 && lines.length < 5000; k++) lines.push(`x_${i}_${k} = transform(data_${i}, step=${k}, label="step ${k}")`);
  }
  return lines.join('\n') + '\n';
}

async function time<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { ms: performance.now() - t0, value };
}

/** The same hover and completion against the bundled server in its own process, over stdio, as an editor runs it. */
async function measureOverStdio(store: string, root: string): Promise<void> {
  const server = resolve(__dirname, '../../dist/server.js');
  if (!existsSync(server)) {
    console.log('stdio: dist/server.js not built (node esbuild.js); skipped');
    return;
  }
  const child = spawn(process.execPath, [server, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  connection.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => ({ storePath: store, project: PROJECT })));
  connection.listen();
  await connection.sendRequest('initialize', { processId: process.pid, rootUri: pathToFileURL(root).href, workspaceFolders: null, capabilities: { workspace: { configuration: true } } });
  await connection.sendNotification('initialized', {});
  const uri = pathToFileURL(join(root, 'stdio.py')).href;
  const published = new Promise<void>((r) => connection.onNotification('textDocument/publishDiagnostics', () => r()));
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text: Array.from({ length: 40 }, (_, i) => `d${i} = run.use_artifact("${name(i * 23)}:latest")`).join('\n') } });
  await published;
  const hovers: number[] = [];
  for (let round = 0; round < 4; round++) {
    for (let line = 0; line < 40; line++) hovers.push((await time(() => connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line, character: 28 } }))).ms);
  }
  const completions: number[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await time(() => connection.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line: 0, character: 'd0 = run.use_artifact("'.length } }) as Promise<CompletionList>);
    checkNames(r.value, '', 'stdio');
    completions.push(r.ms);
  }
  console.log(`stdio (node dist/server.js --stdio): hover median ${ms(median(hovers.slice(40)))} warm, ${ms(median(hovers.slice(0, 40)))} first; completion with nothing typed (${ARTIFACTS} names) median ${ms(median(completions))}`);
  await connection.sendRequest('shutdown');
  await connection.sendNotification('exit');
  await new Promise((r) => (child.exitCode !== null ? r(null) : child.on('exit', r)));
  connection.dispose();
}

async function main(): Promise<number> {
  const { root, cleanup } = tempRoot('trove-lsp-bench-');
  // The store on tmpfs when there is one: 100,000 commits take minutes on a slow disk.
  const storeRoot = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/trove-lsp-bench-') : mkdtempSync(join(tmpdir(), 'trove-lsp-bench-store-'));
  try {
    // LSP_BENCH_STORE: a store manyArtifacts.ts already built with these sizes (to measure again without building).
    const store = process.env.LSP_BENCH_STORE ?? join(storeRoot, 'store');
    if (!process.env.LSP_BENCH_STORE) {
      const built = await buildManyArtifacts(store, { count: ARTIFACTS, versions: VERSIONS });
      console.log(`store: ${ARTIFACTS} artifacts x ${VERSIONS} versions built in ${(built.ms / 1000).toFixed(1)} s`);
    }
    const client = new TestClient({ settings: { storePath: store, project: PROJECT }, serverOptions: { diagnosticsDelayMs: 0 } });
    await client.start();

    // Diagnostics: a fresh URI each time, so each run is an open -> publish of the whole file.
    const text = bigPython();
    const refsInFile = (text.match(/use_artifact/g) ?? []).length;
    const openAndWait = async (i: number) => {
      const uri = pathToFileURL(join(root, `big-${i}.py`)).href;
      return time(async () => {
        await client.open(uri, 'python', text);
        // The first (cold) one reads every artifact of the project: not a target, so waited for longer.
        return client.diagnosticsFor(uri, 1, i === 0 ? 120_000 : undefined);
      });
    };
    const cold = await openAndWait(0);
    const diagRuns: number[] = [];
    for (let i = 1; i <= 10; i++) diagRuns.push((await openAndWait(i)).ms);
    const diagnostics = median(diagRuns);
    console.log(`diagnostics: 5,000-line file, ${refsInFile} references, ${cold.value.length} warnings: cold ${ms(cold.ms)}, warm median ${ms(diagnostics)} (target <= ${TARGETS.diagnostics} ms)`);

    // Hover: 40 references; first hover of each (artifact list cached by diagnostics, details not), then warm.
    const hoverUri = pathToFileURL(join(root, 'hover.py')).href;
    const hoverLines = Array.from({ length: 40 }, (_, i) => `d${i} = run.use_artifact("${name(i * 23)}:latest")`);
    await client.open(hoverUri, 'python', hoverLines.join('\n'));
    await client.diagnosticsFor(hoverUri, 1);
    const hoverOnce = (line: number) => time(() => client.connection.sendRequest('textDocument/hover', { textDocument: { uri: hoverUri }, position: { line, character: 28 } }) as Promise<Hover | null>);
    const first: number[] = [];
    for (let l = 0; l < 40; l++) {
      const r = await hoverOnce(l);
      const md = (r.value?.contents as { value?: string } | undefined)?.value ?? '';
      // Measure real answers only: each hover must name the resolved version.
      if (!md.includes(`${PROJECT}/${name(l * 23)}:v`)) throw new Error(`unexpected hover on line ${l}: ${md.slice(0, 200)}`);
      first.push(r.ms);
    }
    const warm: number[] = [];
    for (let round = 0; round < 3; round++) for (let l = 0; l < 40; l++) warm.push((await hoverOnce(l)).ms);
    const hover = median(warm);
    console.log(`hover: first per reference median ${ms(median(first))}, warm median ${ms(hover)} (target <= ${TARGETS.hover} ms)`);

    // Completion of artifact names: with nothing typed (the first MAX_NAME_ITEMS of 10,000, marked
    // incomplete), with a prefix (the names that start with it first), and of aliases after ":".
    const compUri = pathToFileURL(join(root, 'complete.py')).href;
    const prefix = name(1234).slice(0, -2);
    await client.open(compUri, 'python', `a = run.use_artifact("")\nb = run.use_artifact("${prefix}")\nc = run.use_artifact("${name(10)}:")\n`);
    const complete = (line: number, character: number) => time(() => client.connection.sendRequest('textDocument/completion', { textDocument: { uri: compUri }, position: { line, character } }) as Promise<CompletionList>);
    const nameAt = 'a = run.use_artifact("'.length;
    checkNames((await complete(0, nameAt)).value, '', 'in-process');
    checkNames((await complete(1, nameAt + prefix.length)).value, prefix, 'in-process');
    const emptyRuns: number[] = [];
    const prefixRuns: number[] = [];
    for (let i = 0; i < 30; i++) {
      emptyRuns.push((await complete(0, nameAt)).ms);
      prefixRuns.push((await complete(1, nameAt + prefix.length)).ms);
    }
    const completion = Math.max(median(emptyRuns), median(prefixRuns));
    const aliasRuns: number[] = [];
    const aliasAt = nameAt + name(10).length + 1;
    if ((await complete(2, aliasAt)).value.items.length !== VERSIONS + 2) throw new Error(`expected ${VERSIONS} versions, latest and production after "${name(10)}:"`);
    for (let i = 0; i < 30; i++) aliasRuns.push((await complete(2, aliasAt)).ms);
    console.log(`completion of ${ARTIFACTS} names: nothing typed median ${ms(median(emptyRuns))}, "${prefix}" median ${ms(median(prefixRuns))} (target <= ${TARGETS.completion} ms); aliases median ${ms(median(aliasRuns))}`);

    await client.stop();
    await measureOverStdio(store, root);
    const results = { hover, completion, diagnostics };
    console.log(`LSP-BENCH ${JSON.stringify({ artifacts: ARTIFACTS, hoverMs: +hover.toFixed(2), completionMs: +completion.toFixed(2), diagnosticsMs: +diagnostics.toFixed(2), diagnosticsColdMs: +cold.ms.toFixed(2) })}`);
    const missed = (Object.keys(TARGETS) as (keyof typeof TARGETS)[]).filter((k) => results[k] > TARGETS[k]);
    for (const k of missed) console.log(`MISSED ${k}: ${ms(results[k])} > ${TARGETS[k]} ms`);
    return missed.length ? 1 : 0;
  } finally {
    cleanup();
    rmSync(storeRoot, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(2);
});

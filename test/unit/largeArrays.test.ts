/**
 * Arrays that grow with the number of files must never be spread into a call's arguments:
 * `out.push(...files)`, `Math.max(...sizes)`, `String.fromCharCode(...bytes)` or `f.apply(x, list)`
 * put every element on the stack, and past roughly 120,000 elements Node throws "Maximum call
 * stack size exceeded" (`trove log` of 200,000 files failed that way). Spreads into array
 * literals (`[...a, ...b]`) copy on the heap and are fine.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { diffManifests } from '../../src/core/manifest';
import type { Manifest } from '../../src/core/types';
import { diffReport } from '../../src/shared/diffReport';

const ROOT = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.(ts|mts|js|mjs)$/.test(e.name) ? [p] : [];
  });
}

/** Calls whose arguments hold a spread at the call's own level (not inside a nested [] or {}). */
export function spreadArgumentCalls(text: string): string[] {
  const found: string[] = [];
  const callee = /\b(push|unshift|splice|concat|max|min|fromCharCode|fromCodePoint)\(|\.apply\(/g;
  for (let m = callee.exec(text); m; m = callee.exec(text)) {
    const start = m.index + m[0].length;
    if (m[0] === '.apply(') {
      found.push(text.slice(m.index, text.indexOf(')', start) + 1));
      continue;
    }
    let depth = 0;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (c === '(' || c === '[' || c === '{') depth++;
      else if (c === ')' || c === ']' || c === '}') {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && text.startsWith('...', i)) {
        found.push(text.slice(m.index, text.indexOf('\n', start)).trim());
        break;
      }
    }
  }
  return found;
}

describe('arrays that grow with the number of files', () => {
  test('the check finds spread arguments and leaves array literals alone', () => {
    assert.deepEqual(spreadArgumentCalls('a.push(...b);\nx = [...a, ...b];\nMath.max(0, ...xs.map((x) => x.n));\nf.apply(null, list);\nout.push([...a]);\n').length, 3);
  });

  test('no source file spreads an array into push, Math.max, fromCharCode or apply', () => {
    const offenders = ['src', 'webview'].flatMap(sources).flatMap((f) => spreadArgumentCalls(readFileSync(join(ROOT, f), 'utf8')).map((c) => `${f}: ${c}`));
    assert.deepEqual(offenders, []);
  });

  test('a diff of 130,000 added files and its report', () => {
    const a: Manifest = {};
    const b: Manifest = {};
    for (let i = 0; i < 130_000; i++) b[`d${Math.floor(i / 1000)}/f${i}.bin`] = { digest: i.toString(16).padStart(64, '0'), size: 1024 };
    const diff = diffManifests(a, b);
    assert.equal(diff.added.length, 130_000);
    const report = diffReport('p/x:v0', 'p/x:v1', a, b, diff);
    assert.match(report, /^Added \(130000\)$/m);
    assert.equal(report.split('\n').filter((l) => l.startsWith('  + ')).length, 130_000);
  });
});

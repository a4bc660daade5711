/**
 * Completion of artifact names in a project larger than one answer (MAX_NAME_ITEMS): the names
 * that match what is typed, those that start with it first, never one the editor's fuzzy filter
 * would show left out for one it would not. The latency at 10,000 artifacts is measured by
 * test/bench/lsp-bench.ts (stage 15).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bestMatches, MAX_NAME_ITEMS } from '../../src/lsp/completion';

const names = (xs: { name: string }[]) => xs.map((x) => x.name);
const project = Array.from({ length: 10_000 }, (_, i) => ({ name: `artifact-${String(i).padStart(5, '0')}` }));

test('with nothing typed: the first names in order, up to the limit', () => {
  const got = bestMatches(project, '', MAX_NAME_ITEMS);
  assert.equal(got.length, MAX_NAME_ITEMS);
  assert.deepEqual(names(got), names(project.slice(0, MAX_NAME_ITEMS)));
});

test('names that start with the typed text come first, then those that contain it, then those with its letters in order', () => {
  const list = [{ name: 'mnist-cnn' }, { name: 'cnn-features' }, { name: 'resnet-cnn' }, { name: 'c-n-n' }, { name: 'raw-data' }, { name: 'CNN-big' }];
  assert.deepEqual(names(bestMatches(list, 'cnn', 10)), ['CNN-big', 'cnn-features', 'mnist-cnn', 'resnet-cnn', 'c-n-n']);
  assert.deepEqual(names(bestMatches(list, 'cnn', 3)), ['CNN-big', 'cnn-features', 'mnist-cnn']);
  assert.deepEqual(names(bestMatches(list, 'zzz', 10)), []);
});

test('every name with the typed prefix is offered when they fit in one answer', () => {
  const got = names(bestMatches(project, 'artifact-012', MAX_NAME_ITEMS));
  const want = names(project).filter((n) => n.startsWith('artifact-012'));
  assert.equal(want.length, 100);
  assert.deepEqual(got.slice(0, 100), want);
  // The rest are fuzzy matches (a-r-t-…-0-1-2 in order), still within the limit.
  assert.ok(got.length <= MAX_NAME_ITEMS);
  for (const n of got.slice(100)) assert.match(n, /0.*1.*2/);
});

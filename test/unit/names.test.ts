import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatRef, parseRef, validateAlias, validateName, validateType } from '../../src/core/names';

test('references: [entity/][project/]name[:vN|:alias], default :latest', () => {
  assert.deepEqual(parseRef('mnist', 'proj'), { project: 'proj', name: 'mnist', alias: 'latest' });
  assert.deepEqual(parseRef('other/mnist:v12', 'proj'), { project: 'other', name: 'mnist', alias: 'v12' });
  assert.deepEqual(parseRef('team/other/mnist:best'), { entity: 'team', project: 'other', name: 'mnist', alias: 'best' });
  assert.equal(formatRef('p', 'n', 3), 'p/n:v3');
  assert.equal(formatRef('p', 'n', 'best'), 'p/n:best');
});

test('references: malformed ones are rejected with the expected form', () => {
  for (const bad of ['', 'a/b/c/d', 'p//n', 'n:', ':v1', 'bad name', 'p/n:bad alias']) {
    assert.throws(() => parseRef(bad, 'proj'), /Invalid/, bad);
  }
  assert.throws(() => parseRef('mnist'), /names no project/);
});

test('names, types and aliases', () => {
  for (const ok of ['mnist', 'MNIST_v2', 'a.b-c', '_x', '9']) assert.equal(validateName(ok), ok);
  for (const bad of ['', '.hidden', '-x', 'a/b', 'a b', 'x'.repeat(129), '..']) assert.throws(() => validateName(bad), /Invalid artifact name/, bad);
  assert.equal(validateType('dataset'), 'dataset');
  assert.throws(() => validateType('data set'), /Invalid artifact type/);
  assert.throws(() => validateType('a.b'), /Invalid artifact type/);
  assert.equal(validateAlias('production'), 'production');
  assert.throws(() => validateAlias('v0'), /reserved/);
  assert.throws(() => validateAlias('latest'), /latest/);
  assert.equal(validateAlias('latest', { allowLatest: true }), 'latest');
});

test('Trove errors are recognised across bundles, and subclasses keep their own instanceof', async () => {
  const { TroveError } = await import('../../src/core/errors');
  const foreign = Object.assign(new Error('from another bundle'), { code: 'invalid' });
  (foreign as unknown as Record<symbol, boolean>)[Symbol.for('trove.TroveError')] = true;
  assert.ok(foreign instanceof TroveError);
  class Sub extends TroveError {}
  assert.equal(new TroveError('invalid', 'x') instanceof Sub, false);
  assert.ok(new Sub('invalid', 'x') instanceof Sub);
  assert.equal(new Error('plain') instanceof TroveError, false);
});

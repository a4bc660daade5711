import assert from 'node:assert/strict';
import { test } from 'node:test';
import { presignS3 } from '../../src/server/presign';
import { isLoopback, parseListen } from '../../src/server/serve';
import { parseS3Url } from '../../src/core/s3';
import { hashToken, newToken } from '../../src/server/tokens';

test('presignS3 reproduces the SigV4 presigned-URL example of the Amazon S3 documentation', () => {
  // "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)", example GET.
  const { url, headers } = presignS3({
    method: 'GET', endpoint: 'https://examplebucket.s3.amazonaws.com', bucket: '', key: 'test.txt', region: 'us-east-1',
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', expiresSeconds: 86400,
    now: new Date('2013-05-24T00:00:00Z'),
  });
  assert.deepEqual(headers, {});
  assert.equal(new URL(url).searchParams.get('X-Amz-Signature'), 'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404');
});

test('presignS3 signs the payload SHA-256 into PUT URLs as a header the client must send', () => {
  const digest = 'a'.repeat(64);
  const { url, headers } = presignS3({
    method: 'PUT', endpoint: 'http://127.0.0.1:7480', bucket: 'b', key: 'blobs/x y', region: 'us-east-1',
    accessKeyId: 'k', secretAccessKey: 's', expiresSeconds: 60, payloadSha256: digest, now: new Date('2026-01-01T00:00:00Z'),
  });
  assert.deepEqual(headers, { 'x-amz-content-sha256': digest });
  const u = new URL(url);
  assert.equal(u.pathname, '/b/blobs/x%20y');
  assert.equal(u.searchParams.get('X-Amz-SignedHeaders'), 'host;x-amz-content-sha256');
  const other = presignS3({
    method: 'PUT', endpoint: 'http://127.0.0.1:7480', bucket: 'b', key: 'blobs/x y', region: 'us-east-1',
    accessKeyId: 'k', secretAccessKey: 's', expiresSeconds: 60, payloadSha256: 'b'.repeat(64), now: new Date('2026-01-01T00:00:00Z'),
  });
  assert.notEqual(new URL(other.url).searchParams.get('X-Amz-Signature'), u.searchParams.get('X-Amz-Signature'), 'the digest is part of the signature');
});

test('--listen parsing and the loopback rule', () => {
  assert.deepEqual(parseListen('127.0.0.1:8470'), { host: '127.0.0.1', port: 8470 });
  assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  for (const bad of ['8470', '127.0.0.1', 'host:99999', ':80', '[::1]']) assert.throws(() => parseListen(bad), /--listen must be HOST:PORT/, bad);
  for (const h of ['127.0.0.1', '127.8.9.10', '::1', 'localhost']) assert.equal(isLoopback(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', '128.0.0.1']) assert.equal(isLoopback(h), false, h);
});

test('s3:// URLs', () => {
  assert.deepEqual(parseS3Url('s3://my-bucket'), { bucket: 'my-bucket', key: '' });
  assert.deepEqual(parseS3Url('s3://my.bucket/a/b c.csv'), { bucket: 'my.bucket', key: 'a/b c.csv' });
  for (const bad of ['s3://', 's3://UPPER/x', 'http://bucket/x', 's3://a/x']) assert.throws(() => parseS3Url(bad), /not an s3:\/\/bucket/, bad);
});

test('tokens are random, recognisable, and stored only as their SHA-256', () => {
  const a = newToken('p', 'read');
  const b = newToken('p', 'read');
  assert.notEqual(a.token, b.token);
  assert.match(a.token, /^trove_[A-Za-z0-9_-]{43}$/);
  assert.equal(a.record.hash, hashToken(a.token));
  assert.ok(!JSON.stringify(a.record).includes(a.token));
  assert.equal(a.record.id, a.record.hash.slice(0, 12));
});

import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature V4 query-string presigning for S3, written out because the SDK's presigner
 * always signs `UNSIGNED-PAYLOAD`. Here the caller may sign the payload's SHA-256 into the URL
 * (`x-amz-content-sha256` as a signed header): the object store then refuses any body whose
 * SHA-256 differs, so a presigned upload URL for blob D can only ever store the bytes of D.
 */
export interface PresignInput {
  method: 'GET' | 'PUT' | 'HEAD';
  /** http(s)://host[:port] of the S3 endpoint (path-style addressing). */
  endpoint: string;
  /** Bucket name, or '' when `endpoint` is the bucket's own virtual host. */
  bucket: string;
  key: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiresSeconds: number;
  /** Lowercase hex SHA-256 of the body the URL may carry (PUT only). */
  payloadSha256?: string;
  /** Base64 MD5 of the body (PUT only): signed as the Content-MD5 header, which the object store checks. */
  contentMd5?: string;
  now?: Date;
}

export interface PresignedRequest {
  url: string;
  /** Headers the request must carry exactly as given (they are part of the signature). */
  headers: Record<string, string>;
}

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters. */
function encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
const hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');

export function presignS3(input: PresignInput): PresignedRequest {
  const base = new URL(input.endpoint);
  const host = base.host;
  const basePath = base.pathname.replace(/\/+$/, '');
  // Path-style (`/bucket/key`); an empty bucket means the endpoint already names it (virtual host).
  const canonicalUri = `${basePath}${input.bucket ? `/${encode(input.bucket)}` : ''}/${input.key.split('/').map(encode).join('/')}`;
  const now = input.now ?? new Date();
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${input.region}/s3/aws4_request`;
  const headers: Record<string, string> = {};
  if (input.payloadSha256) headers['x-amz-content-sha256'] = input.payloadSha256;
  if (input.contentMd5) headers['content-md5'] = input.contentMd5;
  const signedHeaderNames = ['host', ...Object.keys(headers)].sort();
  const query: Record<string, string> = {
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${input.accessKeyId}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': String(input.expiresSeconds),
    'X-Amz-SignedHeaders': signedHeaderNames.join(';'),
  };
  if (input.sessionToken) query['X-Amz-Security-Token'] = input.sessionToken;
  const canonicalQuery = Object.keys(query).sort().map((k) => `${encode(k)}=${encode(query[k])}`).join('&');
  const allHeaders: Record<string, string> = { host, ...headers };
  const canonicalHeaders = signedHeaderNames.map((h) => `${h}:${allHeaders[h].trim()}\n`).join('');
  const payloadHash = input.payloadSha256 ?? 'UNSIGNED-PAYLOAD';
  const canonicalRequest = [input.method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaderNames.join(';'), payloadHash].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, hex(canonicalRequest)].join('\n');
  const kDate = hmac(`AWS4${input.secretAccessKey}`, day);
  const kRegion = hmac(kDate, input.region);
  const kService = hmac(kRegion, 's3');
  const kSigning = hmac(kService, 'aws4_request');
  const signature = createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest('hex');
  return { url: `${base.protocol}//${host}${canonicalUri}?${canonicalQuery}&X-Amz-Signature=${signature}`, headers };
}

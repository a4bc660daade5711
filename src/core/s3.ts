import { S3Client } from '@aws-sdk/client-s3';
import { invalid, TroveError } from './errors';

/** An S3-compatible endpoint and the credentials to reach it (from the usual AWS variables). */
export interface S3Settings {
  endpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * Settings from the environment: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN),
 * AWS_REGION (default us-east-1), and the endpoint from `explicitEndpoint`, AWS_ENDPOINT_URL_S3
 * or AWS_ENDPOINT_URL (none means AWS itself).
 */
export function s3SettingsFromEnv(explicitEndpoint?: string, env: NodeJS.ProcessEnv = process.env): S3Settings {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw invalid('S3 needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment.');
  }
  const endpoint = explicitEndpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  if (endpoint && !/^https?:\/\/[^/]+/.test(endpoint)) throw invalid(`The S3 endpoint "${endpoint}" must be an http(s):// URL, for example http://127.0.0.1:7480.`);
  return {
    endpoint: endpoint?.replace(/\/+$/, ''),
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    accessKeyId,
    secretAccessKey,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}

/** The endpoint URL the settings point at (AWS's regional endpoint when none is set). */
export function s3EndpointUrl(s: S3Settings): string {
  return s.endpoint ?? `https://s3.${s.region}.amazonaws.com`;
}

export function makeS3Client(s: S3Settings): S3Client {
  // The SDK warns on every Node 20 process; the warning is about its own future releases.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: s.region,
    endpoint: s3EndpointUrl(s),
    forcePathStyle: true,
    credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, ...(s.sessionToken ? { sessionToken: s.sessionToken } : {}) },
    // Ceph RGW rejects the SDK's default streaming checksum trailers (HTTP 411).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 4,
  });
}

/** `s3://bucket[/key or prefix]` */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw invalid(`"${url}" is not an s3://bucket[/key] URL (bucket names are 3-63 lowercase letters, digits, "." or "-").`);
  return { bucket: m[1], key: m[2] ?? '' };
}

/** The SDK's errors carry an HTTP status and a name; turn them into one sentence. */
export function s3Failure(what: string, e: unknown): TroveError {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err?.$metadata?.httpStatusCode;
  const detail = `${err?.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}${err?.message && err.message !== err.name ? `: ${err.message}` : ''}`;
  return new TroveError('unavailable', `S3 ${what} failed: ${detail}.`);
}

export function s3Status(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

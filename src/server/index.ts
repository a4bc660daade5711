/**
 * What the CLI needs of the server side and of S3. esbuild bundles it apart (dist/trove-server.js),
 * so the PostgreSQL and S3 clients are neither parsed nor loaded by the everyday commands.
 */
export { startServer } from './serve';
export { openTokenStore } from './backend';
export { hashToken } from './tokens';
export { describeS3Reference, fetchS3Reference } from '../core/s3ref';

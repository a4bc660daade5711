/** The SDK's way to the backend: the choice and opening live in core/backendChoice.ts and backends/openRegistry.ts. */
export { defaultCacheDir, openRegistry, type BackendOptions } from '../backends/openRegistry';

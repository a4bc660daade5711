/**
 * The read-only version cards of "Go to Definition" and *Open Details*:
 * `trove-version:/<project>/<name>/v<K>.md`, Markdown from the `trove/versionDocument` request.
 * No imports: the extension's activation bundle uses these without the protocol's jsonrpc.
 */
export interface VersionDocumentArgs {
  project: string;
  name: string;
  version: number;
}

export const VERSION_DOCUMENT_SCHEME = 'trove-version';

export function versionDocumentUri(v: VersionDocumentArgs): string {
  return `${VERSION_DOCUMENT_SCHEME}:/${encodeURIComponent(v.project)}/${encodeURIComponent(v.name)}/v${v.version}.md`;
}

/** The version a `trove-version:` URI names (given as a string or as its path), or undefined. */
export function parseVersionDocumentPath(path: string): VersionDocumentArgs | undefined {
  const m = /^(?:trove-version:)?\/([^/]+)\/([^/]+)\/v(\d+)\.md$/.exec(path);
  return m ? { project: decodeURIComponent(m[1]), name: decodeURIComponent(m[2]), version: Number(m[3]) } : undefined;
}

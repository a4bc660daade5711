import type { Registry } from '../core/registry';
import type { RunUpdate } from '../core/types';

/** What the server needs from a metadata backend: the Registry's bookkeeping, without blob transfer. */
export type MetadataStore = Pick<Registry,
  | 'location' | 'listProjects' | 'listArtifacts' | 'listVersions' | 'getVersion' | 'createRun' | 'getRun' | 'finishRun'
  | 'recordUse' | 'commitVersion' | 'addAlias' | 'removeAlias' | 'lineage' | 'deleteVersion' | 'deleteArtifact' | 'restoreVersion' | 'manifestPage'> & {
  /** Changes a running run's details (job type, configuration, summary, provenance). */
  updateRun(id: string, update: RunUpdate): Promise<void>;
  /** Changes whenever something visible changes; clients poll it to refresh. */
  changeToken(): Promise<string>;
  close(): Promise<void>;
};

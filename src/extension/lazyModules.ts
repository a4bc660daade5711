/**
 * The log/download machinery pulls in node-fetch (external references) and simple-git, and a
 * comparison with a folder hashes files: loaded on first use so that activation stays fast.
 */
export const operations = () => import('../core/operations');
export const provenance = () => import('../core/provenance');
export const folderDiff = () => import('../core/folderDiff');

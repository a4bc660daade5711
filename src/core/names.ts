import { invalid } from './errors';

/** Project, artifact names: a letter, digit or underscore, then letters, digits, `.`, `_`, `-`. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const TYPE = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;
const VERSION_ALIAS = /^v(0|[1-9][0-9]{0,8})$/;

export function validateName(name: string, what = 'artifact name'): string {
  if (!NAME.test(name)) {
    throw invalid(
      `Invalid ${what} "${name}": use 1-128 letters, digits, ".", "_" or "-", starting with a letter, digit or "_".`,
    );
  }
  return name;
}

export function validateProject(project: string): string {
  return validateName(project, 'project name');
}

export function validateType(type: string): string {
  if (!TYPE.test(type)) {
    throw invalid(`Invalid artifact type "${type}": use one word of letters, digits, "_" or "-" (for example dataset or model).`);
  }
  return type;
}

/** Custom aliases; `vN` is reserved for version numbers and `latest` is moved by Trove itself. */
export function validateAlias(alias: string, { allowLatest = false } = {}): string {
  if (!NAME.test(alias)) {
    throw invalid(`Invalid alias "${alias}": use letters, digits, ".", "_" or "-", starting with a letter, digit or "_".`);
  }
  if (VERSION_ALIAS.test(alias)) throw invalid(`Alias "${alias}" is reserved for version numbers; pick another name.`);
  if (alias === 'latest' && !allowLatest) throw invalid('The alias "latest" always names the version logged last; Trove moves it itself.');
  return alias;
}

export function parseVersionAlias(alias: string): number | undefined {
  const m = VERSION_ALIAS.exec(alias);
  return m ? Number(m[1]) : undefined;
}

/** `[entity/][project/]name[:vN|:alias]`; no suffix means `:latest`. */
export interface ArtifactRef {
  project: string;
  name: string;
  /** `latest`, a custom alias, or `vN`. */
  alias: string;
  entity?: string;
}

export function parseRef(text: string, defaultProject?: string): ArtifactRef {
  const trimmed = text.trim();
  const colon = trimmed.lastIndexOf(':');
  const slashAfter = trimmed.indexOf('/', colon);
  const hasAlias = colon >= 0 && slashAfter < 0;
  const path = hasAlias ? trimmed.slice(0, colon) : trimmed;
  const alias = hasAlias ? trimmed.slice(colon + 1) : 'latest';
  const parts = path.split('/');
  if (parts.length > 3 || parts.some((p) => p === '') || alias === '') {
    throw invalid(`Invalid reference "${text}": write [project/]name[:vN|:alias], for example my-project/mnist:v2.`);
  }
  const name = parts[parts.length - 1];
  const project = parts.length >= 2 ? parts[parts.length - 2] : defaultProject;
  if (!project) throw invalid(`Reference "${text}" names no project; write project/name or pass --project.`);
  validateName(name);
  validateProject(project);
  if (parseVersionAlias(alias) === undefined) validateAlias(alias, { allowLatest: true });
  return { project, name, alias, ...(parts.length === 3 ? { entity: parts[0] } : {}) };
}

export function formatRef(project: string, name: string, alias: string | number): string {
  return `${project}/${name}:${typeof alias === 'number' ? `v${alias}` : alias}`;
}

/**
 * Code that uses a version, for *Copy Usage Snippet*. TypeScript goes through the Trove SDK;
 * Python is plain `wandb` code (`run.use_artifact`, `artifact.download()`), which Trove's W&B door
 * answers (under `trove run`, or against `trove serve`).
 */
export type SnippetLanguage = 'python' | 'typescript';

export interface SnippetTarget {
  project: string;
  name: string;
  /** `vK`, `latest` or a custom alias. */
  alias: string;
  type: string;
}

const ref = (t: SnippetTarget) => `${t.project}/${t.name}:${t.alias}`;
const identifier = (name: string) => {
  const id = name.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : '')).replace(/^[^A-Za-z_]+/, '');
  return id ? id.charAt(0).toLowerCase() + id.slice(1) : 'artifact';
};
/** The run that uses a model evaluates it; one that uses anything else trains on it. */
const jobType = (t: SnippetTarget) => (t.type === 'model' ? 'evaluate' : 'train');

export function usageSnippet(language: SnippetLanguage, target: SnippetTarget): string {
  const r = ref(target);
  const dir = `artifacts/${target.name}-${target.alias}`;
  if (language === 'typescript') {
    const v = identifier(target.name);
    return [
      "import { init } from 'trove';",
      '',
      `const run = await init({ project: ${JSON.stringify(target.project)}, jobType: ${JSON.stringify(jobType(target))} });`,
      `const ${v} = await run.useArtifact(${JSON.stringify(r)});`,
      `const { root } = await ${v}.download({ root: ${JSON.stringify(dir)} });`,
      `console.log(\`\${${v}.ref} is in \${root}\`);`,
      'await run.finish();',
      '',
    ].join('\n');
  }
  return [
    'import wandb',
    '',
    `# Uses ${r} in a run and downloads its files. Run it with "trove run -- python FILE" (or with`,
    '# WANDB_BASE_URL set to a trove serve URL): the wandb client then talks to Trove.',
    `run = wandb.init(project=${JSON.stringify(target.project)}, job_type=${JSON.stringify(jobType(target))})`,
    `artifact = run.use_artifact(${JSON.stringify(r)})`,
    'path = artifact.download()',
    'print(f"{artifact.name} is in {path}")',
    'run.finish()',
    '',
  ].join('\n');
}

/**
 * Code that uses a version, for *Copy Usage Snippet*. TypeScript goes through the Trove SDK;
 * Python calls the `trove` CLI (its JSON output is a stable contract) until a Python SDK exists.
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
const snake = (name: string) => name.replace(/[^A-Za-z0-9]+/g, '_').replace(/^[^A-Za-z_]+/, '').toLowerCase() || 'artifact';

export function usageSnippet(language: SnippetLanguage, target: SnippetTarget): string {
  const r = ref(target);
  const dir = `artifacts/${target.name}-${target.alias}`;
  if (language === 'typescript') {
    const v = identifier(target.name);
    return [
      "import { init } from 'trove';",
      '',
      `const run = await init({ project: ${JSON.stringify(target.project)}, jobType: ${JSON.stringify(target.type === 'model' ? 'evaluate' : 'train')} });`,
      `const ${v} = await run.useArtifact(${JSON.stringify(r)});`,
      `const { root } = await ${v}.download({ root: ${JSON.stringify(dir)} });`,
      `console.log(\`\${${v}.ref} is in \${root}\`);`,
      'await run.finish();',
      '',
    ].join('\n');
  }
  const v = snake(target.name);
  return [
    'import json',
    'import subprocess',
    '',
    `# Downloads ${r} and records that this run used it (inside \`trove run\`, it joins that run).`,
    `${v} = json.loads(subprocess.check_output(`,
    `    ["trove", "download", ${JSON.stringify(r)}, "--root", ${JSON.stringify(dir)}, "--json"], text=True))`,
    `print(f"{${v}['ref']} is in {${v}['root']}")`,
    '',
  ].join('\n');
}

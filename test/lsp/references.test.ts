/** The reference finders, suggestions and formatting of the language server, without a connection. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { interpretReference } from '../../src/lsp/catalog';
import { formatSize, versionLine } from '../../src/lsp/format';
import { nearestNames } from '../../src/lsp/nearest';
import { findReferences, referenceAt, referenceLanguage } from '../../src/lsp/references';

const refs = (language: 'python' | 'script' | 'config', text: string) =>
  findReferences(language, text).map((r) => {
    assert.equal(text.slice(r.start, r.end), r.text, 'offsets point at the text');
    return `${r.role} ${r.via} ${r.text}${r.project ? ` @${r.project}` : ''}`;
  });

describe('Python references', () => {
  test('use_artifact, Api().artifact, wandb.Artifact and log_artifact, positional and keyword', () => {
    assert.deepEqual(refs('python', [
      'a = run.use_artifact("x:v1")',
      "b = run.use_artifact(artifact_or_name='p/y:best', type='dataset')",
      'c = wandb.Api().artifact("e/p/z:latest")',
      'd = wandb.Artifact(name="m", type="model")',
      'run.log_artifact(art, name="n", aliases=["best"])',
      'e = Api(overrides={}).artifact(name="q")',
    ].join('\n')), [
      'use use_artifact x:v1', 'use use_artifact p/y:best', 'use Api().artifact e/p/z:latest', 'log wandb.Artifact m', 'log log_artifact n', 'use Api().artifact q',
    ]);
  });

  test('calls spread over lines, nested calls, and prefixed strings', () => {
    const text = 'x = run.use_artifact(\n    r"raw:v2",  # the raw data\n    type=str("dataset"),\n)\ny = f(run.use_artifact(u"inner"))';
    assert.deepEqual(refs('python', text), ['use use_artifact raw:v2', 'use use_artifact inner']);
  });

  test('comments, docstrings, f-strings with fields, non-literal and concatenated arguments are not references', () => {
    const text = [
      '# run.use_artifact("in-comment")',
      '"""run.use_artifact("in-docstring")"""',
      "s = 'use_artifact(\"in-string\")'",
      'a = run.use_artifact(f"x:{alias}")',
      'b = run.use_artifact(name_var)',
      'c = run.use_artifact("a" + suffix)',
      'd = other.artifact("not-api")',
      'e = run.log_artifact("path/only")',
    ].join('\n');
    assert.deepEqual(refs('python', text), []);
  });

  test('an f-string without fields and escaped quotes are fine; a string being typed is still found', () => {
    assert.deepEqual(refs('python', 'a = run.use_artifact(f"plain")\nb = "it\\"s"\nc = run.use_artifact("mni'), ['use use_artifact plain', 'use use_artifact mni']);
  });

  test('a variable is an Api only when assigned from Api()', () => {
    const text = 'api = wandb.Api()\nother = something()\napi.artifact("yes")\nother.artifact("no")';
    assert.deepEqual(refs('python', text), ['use Api().artifact yes']);
  });
});

describe('Python references: whose call it is, and the names W&B accepts (issue 11, item 20)', () => {
  test("another library's Artifact, log_model or Api is not W&B's: the callee's import decides", () => {
    assert.deepEqual(refs('python', [
      'import comet_ml, mlflow.pytorch',
      'import wandb as wb',
      'from wandb import Artifact',
      'from clearml import Task as T',
      'a = comet_ml.Artifact("comet-data", artifact_type="dataset")',
      'b = mlflow.pytorch.log_model(model, name="mlflow-model")',
      'c = wb.Artifact("wb-data", type="dataset")',
      'd = Artifact("bare-wandb")',
      'e = run.use_artifact("x:v1")',
      'f = wandb.init().use_artifact("y")',
      'g = T.use_artifact("clearml-not-wandb")',
    ].join('\n')), ['log wandb.Artifact wb-data', 'log wandb.Artifact bare-wandb', 'use use_artifact x:v1', 'use use_artifact y']);
    assert.deepEqual(refs('python', 'from comet_ml import Artifact\nx = Artifact("comet")\nfrom wandb.sdk.artifacts.artifact import Artifact as WA\ny = WA("w")'), ['log wandb.Artifact w']);
    assert.deepEqual(refs('python', 'import clearml\napi = clearml.Api()\napi.artifact("no")\nw = wandb.Api()\nw.artifact("yes")'), ['use Api().artifact yes']);
    // A notebook's other cells: their imports count in this one.
    assert.deepEqual(findReferences('python', 'x = Artifact("n")\ny = cm.Artifact("m")', [], new Map([['Artifact', 'comet_ml.Artifact'], ['cm', 'comet_ml']])), []);
    assert.deepEqual(findReferences('python', 'x = Artifact("n")', [], new Map([['Artifact', 'wandb.Artifact']])).map((r) => r.text), ['n']);
  });

  test('use_artifact(artifact=…) and (name=…), run.use_model and wandb.use_model, log_model(name=…), link_artifact', () => {
    assert.deepEqual(refs('python', [
      'import wandb',
      'run.use_artifact(artifact="a1:v0")',
      'run.use_artifact(name="a2")',
      'run.use_model("m1:v1")',
      'wandb.use_model(name="m2")',
      'run.log_model(path="./m", name="m3")',
      'run.log_model("./m", "m4")',
      'run.link_artifact(art, "wandb-registry-model/My Model")',
      'run.link_artifact(artifact=art, target_path="proj/coll")',
    ].join('\n')), [
      'use use_artifact a1:v0', 'use use_artifact a2', 'use use_model m1:v1', 'use use_model m2', 'log log_model m3', 'log log_model m4',
      'log link_artifact wandb-registry-model/My Model', 'log link_artifact proj/coll',
    ]);
    // Names other libraries use as well count only where wandb is imported (here: ZenML, MLflow, a test's own class).
    assert.deepEqual(refs('python', [
      'model_version.link_artifact(my_artifact, name="new_artifact")',
      'mgr.link_artifact(inc.incident_id, "ART-1")',
      'info = mlflow_flavor.log_model(model, "model")',
      'client.use_model("m")',
      'run.use_artifact("still-wandb")',
    ].join('\n')), ['use use_artifact still-wandb']);
  });

  test('names W&B accepts but Trove cannot hold are told apart from invalid ones', () => {
    const wandbOnly = (text: string, role: 'use' | 'log', linkTarget?: boolean) => (interpretReference({ text, role, ...(linkTarget ? { linkTarget } : {}) }, 'd') as { wandbOnly?: boolean }).wandbOnly === true;
    assert.ok(wandbOnly('wandb-registry-model/My Model Collection:v0', 'use'));
    assert.ok(wandbOnly('acme/wandb-registry-model/My Collection:production', 'use'));
    assert.ok(wandbOnly('wandb-registry-model/My Model', 'log', true));
    assert.ok(wandbOnly('.hidden', 'log'));
    assert.ok(!wandbOnly('a b', 'log'), 'W&B refuses spaces in artifact names');
    assert.ok(!wandbOnly('proj/a b:v0', 'use'), 'outside a registry too');
    assert.ok(!wandbOnly('a/b/c/d', 'use'));
    assert.ok(!wandbOnly('p?/x:v1', 'use'));
    assert.ok(!wandbOnly('x:', 'use'));
    assert.deepEqual(interpretReference({ text: 'proj/coll', role: 'log', linkTarget: true }, 'd'), { project: 'proj', name: 'coll', alias: 'latest' });
    assert.deepEqual(interpretReference({ text: 'coll', role: 'log', linkTarget: true }, 'd'), { project: 'd', name: 'coll', alias: 'latest' });
    assert.match((interpretReference({ text: 'proj/coll:v1', role: 'log', linkTarget: true }, 'd') as { message: string }).message, /without ":alias"/);
  });
});

describe('TypeScript / JavaScript references', () => {
  test('useArtifact, new Artifact and logArtifact({project, name})', () => {
    const text = [
      "const a = await run.useArtifact('x:v1');",
      'const b = await run.useArtifact(`plain-template`);',
      "const c = new Artifact('m', 'model');",
      "const d = new sdk.Artifact(\"n\", 'dataset');",
      "await logArtifact(registry, { project: 'p', name: 'q', type: 'dataset' });",
      "await logArtifact(registry, { name: 'only-name', type: 'x' });",
    ].join('\n');
    assert.deepEqual(refs('script', text), [
      'use useArtifact x:v1', 'use useArtifact plain-template', 'log new Artifact m', 'log new Artifact n', 'log logArtifact q @p', 'log logArtifact only-name',
    ]);
  });

  test('comments, regexes, interpolated templates, divisions and calls without new are handled', () => {
    const text = [
      "// run.useArtifact('line-comment')",
      "/* run.useArtifact('block-comment') */",
      "const re = /useArtifact\\('in-regex'\\)/g;",
      'const t = run.useArtifact(`x:${alias}`);',
      "const ratio = a / b; const r2 = run.useArtifact('after-division');",
      "const notNew = Artifact('not-constructed');",
      "await logArtifact(registry, { name: 'computed' + suffix });",
    ].join('\n');
    assert.deepEqual(refs('script', text), ['use useArtifact after-division']);
  });
});

describe('types written beside references', () => {
  test('Python type=, wandb.Artifact positional type, TS new Artifact and logArtifact type', () => {
    const py = 'a = run.use_artifact("x", type="dataset")\nb = wandb.Artifact("m", "model")\nrun.log_artifact(p, name="n", type="eval")\nc = run.use_artifact("y")';
    assert.deepEqual(findReferences('python', py).map((r) => [r.text, r.type && py.slice(r.type.start, r.type.end)]), [['x', 'dataset'], ['m', 'model'], ['n', 'eval'], ['y', undefined]]);
    const ts = "new Artifact('m', 'model'); logArtifact(r, { name: 'n', type: 'dataset' }); new Artifact('k', kind);";
    assert.deepEqual(findReferences('script', ts).map((r) => [r.text, r.type?.text]), [['m', 'model'], ['n', 'dataset'], ['k', undefined]]);
  });
});

describe('trove:// references in configs', () => {
  test('YAML, JSON and TOML', () => {
    assert.deepEqual(refs('config', 'a: trove://p/x:v1\nb: "trove://p/y"\n'), ['use trove:// p/x:v1', 'use trove:// p/y']);
    assert.deepEqual(refs('config', '{"input": "trove://e/p/z:best", "n": ["trove://p/w"]}'), ['use trove:// e/p/z:best', 'use trove:// p/w']);
    assert.deepEqual(refs('config', "[data]\ntrain = 'trove://p/t:latest' # comment\nempty = \"trove://\"\n"), ['use trove:// p/t:latest', 'use trove:// ']);
  });
});

describe('helpers', () => {
  test('languages the server understands', () => {
    assert.deepEqual(['python', 'typescriptreact', 'javascript', 'yaml', 'jsonc', 'toml', 'markdown'].map(referenceLanguage), ['python', 'script', 'script', 'config', 'config', 'config', undefined]);
  });

  test('referenceAt includes both ends of a reference', () => {
    const found = findReferences('python', 'a = use_artifact("abc")\nb = use_artifact("de")');
    const firstStart = found[0].start;
    assert.equal(referenceAt(found, firstStart)?.text, 'abc');
    assert.equal(referenceAt(found, firstStart + 3)?.text, 'abc');
    assert.equal(referenceAt(found, firstStart - 1), undefined);
    assert.equal(referenceAt(found, found[1].start + 1)?.text, 'de');
  });

  test('nearest names: transpositions, substrings, nothing far away', () => {
    const names = ['mnist-raw', 'mnist-cnn', 'cifar10', 'imagenet-subset'];
    assert.deepEqual(nearestNames('mnist-rwa', names), ['mnist-raw']);
    assert.deepEqual(nearestNames('imagenet', names), ['imagenet-subset']);
    assert.deepEqual(nearestNames('CIFAR10', names), ['cifar10']);
    assert.deepEqual(nearestNames('totally-different', names), []);
  });

  test('interpreting references: grammar for use, bare names for log', () => {
    assert.deepEqual(interpretReference({ text: 'x', role: 'use' }, 'd'), { project: 'd', name: 'x', alias: 'latest' });
    assert.deepEqual(interpretReference({ text: 'e/p/x:v3', role: 'use' }, 'd'), { project: 'p', name: 'x', alias: 'v3', entity: 'e' });
    assert.match((interpretReference({ text: 'a/b/c/d', role: 'use' }, 'd') as { message: string }).message, /Invalid reference "a\/b\/c\/d"/);
    assert.deepEqual(interpretReference({ text: 'm', role: 'log', project: 'p' }, 'd'), { project: 'p', name: 'm', alias: 'latest' });
    assert.match((interpretReference({ text: 'm:v1', role: 'log' }, 'd') as { message: string }).message, /has no "\/" or ":"/);
  });

  test('sizes and version lines', () => {
    assert.deepEqual([0, 999, 1000, 1_234_567, 1.2e9].map(formatSize), ['0 B', '999 B', '1.0 KB', '1.2 MB', '1.2 GB']);
    assert.equal(versionLine({ version: 3, files: 12, size: 1.2e9 }), 'v3 · 12 files · 1.2 GB');
    assert.equal(versionLine({ version: 0, files: 1, size: 5 }), 'v0 · 1 file · 5 B');
  });
});

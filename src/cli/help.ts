/**
 * What `trove --help` and `trove <command> --help` print. One entry per command, each with at
 * least one example; a unit test checks that every command the CLI dispatches has one.
 */
import { version } from '../../package.json';

export const TROVE_VERSION: string = version;

export interface CommandHelp {
  /** The arguments after `trove <command>`. */
  usage: string;
  /** A shorter form of `usage` for the overview, when `usage` is long. */
  brief?: string;
  /** One line for the overview. */
  summary: string;
  /** More about the command, shown by `trove <command> --help`. */
  details?: string;
  options?: Array<[flag: string, meaning: string]>;
  examples: string[];
}

export const COMMAND_HELP: Record<string, CommandHelp> = {
  log: {
    usage: '<path|uri> --name N --type T [--alias A]... [--description D] [--metadata JSON] [--reference URI[=NAME]]...',
    brief: '<path|uri> --name N --type T [options]',
    summary: 'log a file or folder as the next version of an artifact',
    details: 'Only files whose content changed are hashed again and only content the store lacks is written. '
      + 'Content equal to an existing version creates no version: that version becomes latest. '
      + 'file:// and http(s):// URIs are recorded by checksum, not copied.',
    options: [
      ['--name N', 'artifact name (letters, digits, - _ .)'],
      ['--type T', 'artifact type, fixed at the first version (dataset, model, …)'],
      ['--alias A', 'custom alias for the version (repeatable); latest moves by itself'],
      ['--description D', 'a description of the version'],
      ['--metadata JSON', 'a JSON object kept with the version'],
      ['--reference URI[=NAME]', 'record a file:// or http(s):// object by checksum (repeatable)'],
    ],
    examples: [
      'trove log data/ --name mnist --type dataset --alias raw',
      'trove log out/model.pt --name mnist-cnn --type model --metadata \'{"epochs": 10}\'',
    ],
  },
  download: {
    usage: '<ref> [--root DIR] [--path PREFIX] [--link copy|hardlink] [--force]',
    brief: '<ref> [--root DIR] [options]',
    summary: "write a version's files (default root artifacts/<name>-v<K>)",
    details: 'Each file is checked against its digest. Files already up to date are left alone; other existing files are refused unless --force.',
    options: [
      ['--root DIR', 'folder to write into (default artifacts/<name>-v<K>)'],
      ['--path PREFIX', 'only the files under this path prefix'],
      ['--link copy|hardlink', 'hardlink from the embedded store if you promise not to edit the files (default copy)'],
      ['--force', 'overwrite files that differ'],
    ],
    examples: ['trove download mnist:latest', 'trove download my-project/mnist:v3 --root data/mnist --path train/'],
  },
  ls: {
    usage: '[PROJECT[/NAME]]',
    summary: 'list projects, artifacts of a project, or versions of an artifact',
    examples: ['trove ls', 'trove ls my-project', 'trove ls my-project/mnist --json'],
  },
  show: {
    usage: '<ref>',
    summary: "a version's details and files",
    examples: ['trove show mnist:raw', 'trove show my-project/mnist:v1 --json'],
  },
  alias: {
    usage: 'add|rm <ref> <alias>',
    summary: 'move a custom alias to a version, or remove it',
    details: 'Custom aliases are unique within an artifact: adding one moves it from the version that had it.',
    examples: ['trove alias add mnist:v1 best', 'trove alias rm mnist:v1 best'],
  },
  diff: {
    usage: '<refA> <refB>',
    summary: 'files added, removed, modified and renamed between two versions',
    examples: ['trove diff mnist:v0 mnist:v1'],
  },
  lineage: {
    usage: '<ref> [--depth N] [--connected]',
    summary: 'runs and versions around a version (default depth 2)',
    options: [
      ['--depth N', 'hops to follow up and down, 0 to 50 (default 2)'],
      ['--connected', 'walk every node both ways: everything connected to the version within N hops (its whole pipeline)'],
    ],
    examples: ['trove lineage mnist-cnn:v3 --depth 1', 'trove lineage mnist-cnn:v3 --depth 50 --connected'],
  },
  verify: {
    usage: '<ref> [--root DIR]',
    summary: "check the store's copy of a version (or a downloaded folder)",
    options: [['--root DIR', 'check the files of a downloaded folder instead of the store']],
    examples: ['trove verify mnist:v1', 'trove verify mnist:v1 --root artifacts/mnist-v1'],
  },
  rm: {
    usage: '<[project/]name:vN | [project/]name> [--yes]',
    summary: 'delete a version (name:vN or name:alias), or a whole artifact (name alone)',
    details: 'Says what goes and asks first; --yes skips the question, which is required when stdin is not a terminal. '
      + 'The aliases of a deleted version go with it, and latest moves to the newest remaining version; version numbers are never given again. '
      + 'A version named by a protected alias is not deleted until the alias is removed (trove alias rm): TROVE_PROTECTED_ALIASES lists them, '
      + 'comma-separated (default production,staging; empty for none), and a server adds its own (trove serve --protected-aliases). '
      + 'Runs that used or made a deleted version keep it in their lineage, marked (deleted). '
      + 'Its content stays until trove gc frees what no remaining version uses; until then trove restore brings the version back.',
    options: [['--yes, -y', 'delete without asking']],
    examples: ['trove rm mnist-cnn:v1', 'trove rm my-project/scratch --yes'],
  },
  restore: {
    usage: '<[project/]name:vN>',
    summary: 'undo a deletion: bring a deleted version back, until gc frees its content',
    details: 'The version gets back the aliases that no other version took meanwhile, and latest when nothing was logged since the deletion. '
      + 'After a whole artifact was deleted, restore its versions newest first.',
    examples: ['trove restore mnist-cnn:v1'],
  },
  gc: {
    usage: '[--dry-run] [--min-age S]',
    summary: 'remove stored content that no version uses',
    details: 'Content only deleted versions used is removed too (they cannot be restored afterwards). '
      + 'Safe beside running logs: commits and gc exclude each other, and a log whose unused content gc removed stores it again.',
    options: [['--dry-run', 'only say what would be removed'], ['--min-age S', 'leave content stored less than S seconds ago (default 3600)']],
    examples: ['trove gc --dry-run', 'trove gc --min-age 0'],
  },
  run: {
    usage: '[--job-type T] [--name N] -- <command...>',
    summary: 'run a command as one run; trove, SDK and wandb calls inside attach to it',
    details: 'The command gets TROVE_RUN_ID, TROVE_PROJECT and the backend in its environment, and WANDB_BASE_URL, WANDB_API_KEY and WANDB_PROJECT for a wandb client: over the embedded store a private W&B endpoint on a free loopback port, with a key valid only there, stopped when the command exits; the first wandb run is this run. The run is finished (or failed) with its exit code.',
    options: [['--job-type T', 'the kind of run: train, eval, preprocess, … (default run; a wandb script\'s job_type replaces it)'], ['--name N', 'a name for the run']],
    examples: ['trove run --job-type train -- python train.py --epochs 10', 'trove run -- python train.py   # a wandb script, unchanged'],
  },
  serve: {
    usage: '[--listen HOST:PORT] [--store DIR | --database postgres://… --blobs s3://BUCKET[/PREFIX] [--s3-endpoint URL] [--s3-presign-max-bytes N]] [--require-auth] [--body-timeout SECONDS] [--protected-aliases LIST]',
    brief: '[--listen HOST:PORT] [--store DIR | --database URL --blobs s3://BUCKET] [options]',
    summary: 'serve a registry to a team over HTTP (default 127.0.0.1:8470, embedded store)',
    details: 'Metadata in the embedded store, or in PostgreSQL with blobs in S3-compatible storage (credentials from the AWS_* variables). '
      + 'Listening beyond loopback requires --require-auth; without it only loopback Host names are answered and browsers may not write from other origins. Ctrl+C stops it.',
    options: [
      ['--listen HOST:PORT', 'address to listen on (default 127.0.0.1:8470)'],
      ['--database URL', 'PostgreSQL for metadata (with --blobs)'],
      ['--blobs s3://BUCKET[/PREFIX]', 'S3 bucket for content (with --database)'],
      ['--s3-endpoint URL', 'S3-compatible endpoint (MinIO, Ceph RGW)'],
      ['--s3-presign-max-bytes N', 'largest transfer sent straight to S3 by presigned URL (0: all through the server)'],
      ['--require-auth', 'every request needs a token (see trove token)'],
      ['--body-timeout SECONDS', 'cut off a request body that sends nothing for this long (default 30)'],
      ['--protected-aliases LIST', 'aliases that block deletion, comma-separated, added to each client\'s (default production,staging; empty for none)'],
    ],
    examples: [
      'trove serve --store /srv/trove',
      'trove serve --listen 0.0.0.0:8470 --require-auth --database postgres://trove@db/trove --blobs s3://trove-blobs --s3-endpoint http://minio:9000',
    ],
  },
  token: {
    usage: "create --project P|'*' --scope read|write [--store DIR | --database URL]  |  ls  |  revoke ID",
    brief: 'create|ls|revoke …',
    summary: 'create an API token for a server (printed once), list tokens, or revoke one',
    details: 'Tokens are stored hashed; clients pass one in TROVE_TOKEN.',
    options: [
      ['--project P', "the project the token may reach ('*' for every project)"],
      ['--scope read|write', 'read only, or read and write'],
      ['--database URL', "the server's PostgreSQL (default: the embedded store)"],
    ],
    examples: ["trove token create --project mnist --scope write --store /srv/trove", 'trove token ls --store /srv/trove', 'trove token revoke 3f2a9c41d07e --store /srv/trove'],
  },
};

const GLOBAL_OPTIONS = `References: [project/]name[:vN|:alias], default :latest.
Global options: --store DIR (TROVE_STORE, default ~/.trove), --server URL (TROVE_SERVER, with
the token in TROVE_TOKEN; wins over TROVE_STORE), --project P (TROVE_PROJECT, default: the git
repository's folder name, else the current folder's), --json, --help, --version.`;

/** `trove --help`: every command with its usage and one line. */
export function overviewHelp(): string {
  const commands = Object.entries(COMMAND_HELP).map(([name, h]) => {
    const head = `  ${name} ${h.brief ?? h.usage}`;
    return head.length <= 34 ? `${head.padEnd(34)}${h.summary}` : `${head}\n${' '.repeat(34)}${h.summary}`;
  });
  return `trove ${TROVE_VERSION}: version datasets and models

Usage: trove <command> [options]     (trove <command> --help for one command, with examples)

Commands:
${commands.join('\n')}

${GLOBAL_OPTIONS}
`;
}

/** `trove <command> --help`: usage, what it does, its options and examples. */
export function commandHelp(name: string): string {
  const h = COMMAND_HELP[name];
  let lines = [`Usage: trove ${name} ${h.usage}`, '', `${h.summary[0].toUpperCase()}${h.summary.slice(1)}.`];
  if (h.details) lines = lines.concat(wrap(h.details, 96));
  if (h.options?.length) {
    const width = h.options.reduce((w, [flag]) => Math.max(w, flag.length), 0) + 2;
    lines = lines.concat('', 'Options:', h.options.map(([flag, meaning]) => `  ${flag.padEnd(width)}${meaning}`));
  }
  lines = lines.concat('', h.examples.length > 1 ? 'Examples:' : 'Example:', h.examples.map((e) => `  ${e}`), '', GLOBAL_OPTIONS);
  return lines.join('\n') + '\n';
}

/** Breaks a paragraph into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

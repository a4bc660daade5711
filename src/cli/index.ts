#!/usr/bin/env node
import { main } from './main';

// Set by the launcher the VS Code extension puts in terminals (the editor's Electron runs as
// Node); commands that `trove run` starts must not inherit it.
delete process.env.ELECTRON_RUN_AS_NODE;

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`trove: unexpected error: ${(e as Error)?.message ?? e}\n`);
    process.exitCode = 1;
  },
);

#!/usr/bin/env node
// The `coffer` command: `coffer <noun> <verb>`. Every command but `server` (and the few that
// say so) talks to a running server over REST, reading COFFER_ADDR and COFFER_TOKEN.

import { serverCommand } from './commands/server.js';

const HELP = `Usage: coffer <command> [options]

Commands:
  server     run the HSM server (--dev for development)

Run 'coffer <command> --help' for a command's options.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server':
      return serverCommand(rest);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`coffer: unknown command '${command}'\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`coffer: ${(e as Error)?.message ?? String(e)}\n`);
    process.exit(1);
  },
);

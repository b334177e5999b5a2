#!/usr/bin/env node
// The `coffer` command: `coffer <noun> <verb>`. Every command but `server` talks to a running
// server over REST (never importing the boundary), reading --addr/--token, COFFER_ADDR/
// COFFER_TOKEN or the saved login. Exit codes are a contract (exit-codes.ts, docs/cli.md).

import { optionHelp, optString, parseArgs, UsageError } from './args.js';
import { type CommandDef, type Context, GLOBAL_OPTIONS, type OutputFormat } from './command.js';
import { AUDIT_COMMANDS } from './commands/audit.js';
import { BACKUP_COMMANDS } from './commands/backup.js';
import { CEREMONY_COMMANDS } from './commands/ceremony.js';
import { KEY_CRYPTO_COMMANDS } from './commands/key-crypto.js';
import { KEY_COMMANDS } from './commands/keys.js';
import { KMS_COMMANDS } from './commands/kms.js';
import { PARTITION_COMMANDS } from './commands/partitions.js';
import { PAYMENT_COMMANDS } from './commands/payment.js';
import { QUORUM_COMMANDS } from './commands/quorum.js';
import { SELF_PROTECTION_COMMANDS } from './commands/self-protection.js';
import { SESSION_COMMANDS } from './commands/session.js';
import { USER_COMMANDS } from './commands/users.js';
import { CliError, EXIT, EXIT_CODE_HELP } from './exit-codes.js';
import { RestClient } from './rest-client.js';
import { resolveEndpoint } from './token-file.js';

const COMMANDS: readonly CommandDef[] = [...SESSION_COMMANDS, ...PARTITION_COMMANDS, ...USER_COMMANDS, ...KEY_COMMANDS, ...KEY_CRYPTO_COMMANDS, ...AUDIT_COMMANDS, ...CEREMONY_COMMANDS, ...QUORUM_COMMANDS, ...BACKUP_COMMANDS, ...SELF_PROTECTION_COMMANDS, ...KMS_COMMANDS, ...PAYMENT_COMMANDS];

const nameOf = (c: CommandDef): string => (c.verb ? `${c.noun} ${c.verb}` : c.noun);

function topHelp(): string {
  const rows: [string, string][] = [['server', 'run the HSM server (--dev for development)'], ...COMMANDS.map((c): [string, string] => [nameOf(c), c.summary])];
  const width = Math.max(...rows.map(([n]) => n.length)) + 2;
  return `Usage: coffer <noun> <verb> [options]

Commands:
${rows.map(([n, s]) => `  ${n.padEnd(width)}${s}`).join('\n')}

Global options (every command):
${optionHelp(GLOBAL_OPTIONS)}

Environment:
  COFFER_ADDR    server address (default http://127.0.0.1:7700)
  COFFER_TOKEN   bearer token (the dev server prints one; 'coffer login' saves one)

${EXIT_CODE_HELP}

Quick start:
  coffer server --dev                      # in another terminal; paste the export line it prints
  coffer key create --type ec --label demo --output json
  coffer key sign --key <private uid> -i file -o file.sig

Run 'coffer <noun> --help' or 'coffer <noun> <verb> --help' for details.
`;
}

function nounHelp(noun: string, cmds: readonly CommandDef[]): string {
  const width = Math.max(...cmds.map((c) => nameOf(c).length)) + 2;
  return `Usage: coffer ${noun} <verb> [options]

Verbs:
${cmds.map((c) => `  ${nameOf(c).padEnd(width)}${c.summary}`).join('\n')}

Run 'coffer ${noun} <verb> --help' for a verb's options.
`;
}

function commandHelp(c: CommandDef): string {
  const parts = [`Usage: coffer ${nameOf(c)}${c.synopsis ? ` ${c.synopsis}` : ''}`, '', `${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.`];
  if (c.details) parts.push('', c.details);
  if (c.options.length > 0) parts.push('', 'Options:', optionHelp(c.options));
  parts.push('', 'Global options:', optionHelp(GLOBAL_OPTIONS));
  if (c.examples?.length) parts.push('', 'Examples:', ...c.examples.map((e) => `  ${e}`));
  return `${parts.join('\n')}\n`;
}

const isHelp = (a: string | undefined): boolean => a === '--help' || a === '-h' || a === 'help';

/** Global options given before the noun (`coffer --output json key list`) move after it. */
function hoistGlobals(argv: string[]): { rest: string[]; globals: string[] } {
  const globals: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    const name = a.startsWith('--') ? a.slice(2).split('=')[0] : undefined;
    const spec = GLOBAL_OPTIONS.find((o) => o.name === name && o.kind !== 'boolean');
    if (!spec) break;
    if (a.includes('=')) {
      globals.push(a);
      i += 1;
    } else {
      globals.push(a, ...(argv[i + 1] !== undefined ? [argv[i + 1]!] : []));
      i += 2;
    }
  }
  return { rest: argv.slice(i), globals };
}

function findCommand(argv: string[]): { cmd: CommandDef; rest: string[] } | { help: string; exit: number } {
  const [noun, ...after] = argv;
  const cmds = COMMANDS.filter((c) => c.noun === noun);
  if (cmds.length === 0) throw new UsageError(`unknown command ${JSON.stringify(String(noun).slice(0, 40))}`);
  if (cmds.length === 1 && cmds[0]!.verb === undefined) return { cmd: cmds[0]!, rest: after };
  const [v1, v2] = after;
  const two = cmds.find((c) => c.verb === `${v1} ${v2}`);
  if (two) return { cmd: two, rest: after.slice(2) };
  const one = cmds.find((c) => c.verb === v1);
  if (one) return { cmd: one, rest: after.slice(1) };
  if (v1 === undefined || isHelp(v1)) return { help: nounHelp(noun!, cmds), exit: v1 === undefined ? EXIT.USAGE : EXIT.OK };
  // `coffer key alias` alone: show the verbs that start with it.
  const prefixed = cmds.filter((c) => c.verb?.startsWith(`${v1} `));
  if (prefixed.length > 0) return { help: nounHelp(`${noun} ${v1}`, prefixed), exit: isHelp(v2) ? EXIT.OK : EXIT.USAGE };
  throw new UsageError(`unknown verb ${JSON.stringify(v1.slice(0, 40))} for ${noun}; see 'coffer ${noun} --help'`);
}

async function runCommand(cmd: CommandDef, argv: string[]): Promise<number> {
  const parsed = parseArgs(argv, [...cmd.options, ...GLOBAL_OPTIONS]);
  if (parsed.options.help === true) {
    process.stdout.write(commandHelp(cmd));
    return EXIT.OK;
  }
  const [min, max] = cmd.positionals ?? [0, 0];
  if (parsed.positionals.length < min) throw new UsageError('missing argument');
  if (parsed.positionals.length > max) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[max]!.slice(0, 40))}`);
  const output = (optString(parsed, 'output') ?? process.env.COFFER_OUTPUT ?? 'table') as OutputFormat;
  if (output !== 'table' && output !== 'json') throw new UsageError('--output must be table or json');
  const flags: { addr?: string; token?: string } = {};
  const addr = optString(parsed, 'addr');
  const token = optString(parsed, 'token');
  if (addr !== undefined) flags.addr = addr;
  if (token !== undefined) flags.token = token;
  const ctx: Context = {
    args: parsed,
    output,
    client: new RestClient(resolveEndpoint(flags)),
    print(data, table) {
      process.stdout.write(output === 'json' ? `${JSON.stringify(data, null, 2)}\n` : table === '' ? '' : `${table}\n`);
    },
    info(line) {
      if (process.stderr.isTTY) process.stderr.write(`${line}\n`);
    },
  };
  return cmd.run(ctx);
}

let current: CommandDef | undefined;

async function main(argv: string[]): Promise<number> {
  // Loaded only for `server`: the client commands must not pay for (or touch) the boundary.
  if (argv[0] === 'server') return (await import('./commands/server.js')).serverCommand(argv.slice(1));
  const { rest, globals } = hoistGlobals(argv);
  if (rest.length === 0 || isHelp(rest[0])) {
    // Help asked for goes to stdout; help instead of a command is a usage error, on stderr.
    (rest.length === 0 ? process.stderr : process.stdout).write(topHelp());
    return rest.length === 0 ? EXIT.USAGE : EXIT.OK;
  }
  const found = findCommand(rest);
  if ('help' in found) {
    (found.exit === EXIT.OK ? process.stdout : process.stderr).write(found.help);
    return found.exit;
  }
  current = found.cmd;
  return runCommand(found.cmd, [...found.rest, ...globals]);
}

function report(e: unknown): number {
  if (e instanceof UsageError) {
    const help = current ? `coffer ${nameOf(current)} --help` : 'coffer --help';
    process.stderr.write(`coffer: ${e.message} (USAGE)\nhint: see '${help}'\n`);
    return EXIT.USAGE;
  }
  if (e instanceof CliError) {
    process.stderr.write(`coffer: ${e.message}${e.code ? ` (${e.code})` : ''}\n${e.hint ? `hint: ${e.hint}\n` : ''}`);
    return e.exit;
  }
  process.stderr.write(`coffer: internal error: ${(e as Error)?.message ?? String(e)} (INTERNAL)\nhint: this is a bug in the coffer CLI; please report it\n`);
  return EXIT.INTERNAL;
}

// A reader that stops early (`| head`) is not an error of ours.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(EXIT.OK);
});

/** Exits once stdout has drained (idle keep-alive sockets and stdin would hold the process open). */
function exit(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

main(process.argv.slice(2)).then(exit, (e: unknown) => exit(report(e)));

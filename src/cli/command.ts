// A CLI command is a row: noun, verb, options table, help text and a handler (STYLE §8, §15).
// main.ts dispatches on the table and builds help from it, so every noun and verb has --help.

import type { OptionSpec, ParsedArgs } from './args.js';
import type { RestClient } from './rest-client.js';

export type OutputFormat = 'table' | 'json';

export interface Context {
  args: ParsedArgs;
  output: OutputFormat;
  /** The REST client for --addr/--token, COFFER_ADDR/COFFER_TOKEN or the saved login. */
  client: RestClient;
  /** Writes a result: JSON of `data` for --output json, else the table text. */
  print(data: unknown, table: string): void;
  /** A progress or status line on stderr (kept off stdout, which may be a pipe of data). */
  info(line: string): void;
}

export interface CommandDef {
  noun: string;
  verb?: string;
  summary: string;
  /** Arguments after `coffer noun verb`, e.g. '--key K [-i FILE] [-o FILE]'. */
  synopsis: string;
  options: OptionSpec[];
  /** Positional arguments allowed: [min, max]. */
  positionals?: readonly [number, number];
  details?: string;
  examples?: string[];
  run(ctx: Context): Promise<number>;
}

export const GLOBAL_OPTIONS: OptionSpec[] = [
  { name: 'addr', kind: 'string', value: 'URL', help: 'server address (default $COFFER_ADDR, the saved login, or http://127.0.0.1:7700)' },
  { name: 'token', kind: 'string', value: 'TOKEN', help: 'bearer token (default $COFFER_TOKEN or the saved login)' },
  { name: 'output', kind: 'string', value: 'table|json', help: 'result format: table for people (default), json for scripts' },
  { name: 'help', short: 'h', kind: 'boolean', help: 'show this help' },
];

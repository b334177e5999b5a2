// Input and output files of the CLI: `-i FILE` / `-o FILE`, where `-` or no option means stdin /
// stdout so commands pipe. Outputs go to a temporary name first and are renamed into place, so
// a failed command never leaves a half-written signature or plaintext behind.

import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CliError, EXIT } from './exit-codes.js';

/** The most one request carries (the server's 2 MiB body holds 1 MiB as base64). */
export const MAX_INPUT = 1024 * 1024;

async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) process.stderr.write('coffer: reading input from the terminal; end it with Ctrl-D (or give -i FILE)\n');
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > MAX_INPUT) throw new CliError(`input is larger than ${MAX_INPUT} bytes`, EXIT.USAGE, 'INPUT_TOO_LARGE', 'one request carries at most 1 MiB; hash or split the data first');
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

export async function readInput(path: string | undefined, what = 'input'): Promise<Buffer> {
  if (path === undefined || path === '-') return readStdin();
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new CliError(`cannot read ${what} ${JSON.stringify(path)}${code ? ` (${code})` : ''}`, EXIT.USAGE, 'FILE_UNREADABLE', 'check the path');
  }
  if (data.length > MAX_INPUT) throw new CliError(`${what} is larger than ${MAX_INPUT} bytes`, EXIT.USAGE, 'INPUT_TOO_LARGE', 'one request carries at most 1 MiB; hash or split the data first');
  return data;
}

export async function writeOutput(path: string | undefined, data: Uint8Array | string, mode = 0o644): Promise<void> {
  if (path === undefined || path === '-') {
    await new Promise<void>((resolve, reject) => process.stdout.write(data, (e) => (e ? reject(e) : resolve())));
    return;
  }
  const tmp = join(dirname(path), `.coffer-${process.pid}-${Date.now()}.tmp`);
  try {
    await writeFile(tmp, data, { mode });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    const code = (e as { code?: string }).code;
    throw new CliError(`cannot write ${JSON.stringify(path)}${code ? ` (${code})` : ''}`, EXIT.USAGE, 'FILE_UNWRITABLE', 'check the directory exists and is writable');
  }
}

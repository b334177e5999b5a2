// Reading a password: from stdin with --password-stdin (for scripts), or typed at a terminal with
// echo off. Never from a flag: argv is visible to every user through ps and shell history.

import { CliError, EXIT } from './exit-codes.js';

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is the terminator of `echo pw |`, not part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Prompts on stderr and reads one line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    process.stderr.write(prompt);
    let typed = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          done();
          return;
        }
        if (ch === '\u0003') {
          done(new CliError('interrupted', EXIT.USAGE, 'INTERRUPTED'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}

export async function readPassword(fromStdin: boolean, prompt = 'Password: '): Promise<string> {
  let pw: string;
  if (fromStdin) pw = await readAllStdin();
  else if (process.stdin.isTTY) pw = await promptHidden(prompt);
  else throw new CliError('no terminal to ask for the password on', EXIT.USAGE, 'NO_TTY', 'pipe it in with --password-stdin');
  if (pw === '') throw new CliError('empty password', EXIT.USAGE, 'PASSWORD_EMPTY');
  return pw;
}

/** Reads a visible line from the terminal (the user name when --user is not given). */
export async function promptLine(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) throw new CliError('no terminal to ask on', EXIT.USAGE, 'NO_TTY', 'give --user');
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(prompt)).trim();
  } finally {
    rl.close();
  }
}

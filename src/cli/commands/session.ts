// `coffer login`, `coffer logout`, `coffer status`: getting a token, giving it back, and asking
// the server how it is. Passwords come from a hidden prompt or --password-stdin, never a flag.

import { optBool, optString } from '../args.js';
import type { CommandDef, Context } from '../command.js';
import { CliError, EXIT } from '../exit-codes.js';
import { promptLine, readPassword } from '../password-prompt.js';
import { renderRecord } from '../table.js';
import { readTokenFile, removeTokenFile, tokenFilePath, writeTokenFile } from '../token-file.js';

interface LoginReply {
  token: string;
  expiresAt: string;
  role: string;
  partition?: string;
}

interface Status {
  state: string;
  error?: string;
  selfTests?: { passed: number; failed: string[] };
  sessions?: number;
  cachedKeys?: number;
}

export const SESSION_COMMANDS: CommandDef[] = [
  {
    noun: 'login',
    summary: 'log in and save a token for the next commands',
    synopsis: '[--user NAME] [--password-stdin]',
    options: [
      { name: 'user', short: 'u', kind: 'string', value: 'NAME', help: 'account name (asked for when not given)' },
      { name: 'password-stdin', kind: 'boolean', help: 'read the password from stdin instead of prompting' },
    ],
    details: `Saves {addr, token, expiresAt} to ${'$XDG_CONFIG_HOME/coffer/token'} (or ~/.config/coffer/token), mode 0600.\nThe password is never accepted as an option value: options are visible to other users in ps.`,
    examples: ['coffer login --user dev', "printf '%s' \"$PW\" | coffer login --user dev --password-stdin"],
    async run(ctx: Context) {
      const fromStdin = optBool(ctx.args, 'password-stdin');
      const user = optString(ctx.args, 'user') ?? (await promptLine('User: '));
      if (user === '') throw new CliError('no user name', EXIT.USAGE, 'USAGE', 'give --user NAME');
      const password = await readPassword(fromStdin);
      const { body } = await ctx.client.request<LoginReply>('POST', '/v1/auth/login', { anonymous: true, body: { user, password } });
      const path = writeTokenFile({ addr: ctx.client.addr, token: body.token, expiresAt: body.expiresAt });
      const result = { addr: ctx.client.addr, user, role: body.role, partition: body.partition, expiresAt: body.expiresAt, tokenFile: path };
      ctx.print(result, `Logged in to ${ctx.client.addr} as ${user} (${body.role}${body.partition ? `, partition ${body.partition}` : ''}).\nToken saved to ${path}; it expires at ${body.expiresAt}.`);
      return EXIT.OK;
    },
  },
  {
    noun: 'logout',
    summary: 'revoke the saved token and forget it',
    synopsis: '',
    options: [],
    examples: ['coffer logout'],
    async run(ctx: Context) {
      let revoked = true;
      try {
        await ctx.client.request('POST', '/v1/auth/logout', { body: {} });
      } catch (e) {
        // An expired or unknown token is logged out already; forget it all the same.
        if (!(e instanceof CliError) || e.exit !== EXIT.AUTH) throw e;
        revoked = false;
      }
      const saved = readTokenFile();
      const removed = saved !== undefined && saved.addr === ctx.client.addr ? removeTokenFile() : false;
      ctx.print({ revoked, tokenFileRemoved: removed }, `${revoked ? 'Logged out.' : 'The token was no longer valid.'}${removed ? ` Removed ${tokenFilePath()}.` : ''}`);
      return EXIT.OK;
    },
  },
  {
    noun: 'status',
    summary: "the server's state (sealed, unsealed, error), self-tests and who you are",
    synopsis: '',
    options: [],
    details: 'Exit status 0 when the server is unsealed and ready, 7 when it is sealed, uninitialised or in the error state.',
    examples: ['coffer status', 'coffer status --output json'],
    async run(ctx: Context) {
      const health = await ctx.client.request<Status>('GET', '/v1/sys/health', { anonymous: true, accept: [500, 501, 503] });
      const out: Record<string, unknown> = { addr: ctx.client.addr, state: health.body.state };
      if (health.body.error) out.error = health.body.error;
      if (health.body.state === 'unsealed') {
        try {
          const status = (await ctx.client.request<Status>('GET', '/v1/sys/status')).body;
          const who = (await ctx.client.request<{ user: string; role: string; partition?: string }>('GET', '/v1/auth/whoami')).body;
          if (status.selfTests) out.selfTestsPassed = status.selfTests.passed;
          if (status.selfTests) out.selfTestsFailed = status.selfTests.failed;
          out.sessions = status.sessions;
          out.cachedKeys = status.cachedKeys;
          out.user = who.user;
          out.role = who.role;
          if (who.partition) out.partition = who.partition;
        } catch (e) {
          // Health needs no token; the rest does. Say so rather than fail the whole status.
          if (!(e instanceof CliError) || e.exit !== EXIT.AUTH) throw e;
          out.user = "(not logged in: run 'coffer login')";
        }
      }
      ctx.print(out, renderRecord(out, ['addr', 'state', 'user', 'role', 'partition']));
      return health.body.state === 'unsealed' ? EXIT.OK : EXIT.SERVER;
    },
  },
];

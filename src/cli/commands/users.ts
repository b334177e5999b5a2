// `coffer user list|create|delete|role|unlock|passwd`: accounts. Passwords are typed at a hidden
// prompt (twice, to catch typos) or piped with --password-stdin; never given as an option.

import { optBool, optString, requireString, UsageError } from '../args.js';
import type { CommandDef, Context } from '../command.js';
import { CliError, EXIT } from '../exit-codes.js';
import { readPassword } from '../password-prompt.js';
import { renderTable } from '../table.js';

const PASSWORD_STDIN = { name: 'password-stdin', kind: 'boolean', help: 'read the new password from stdin instead of prompting' } as const;

async function newPassword(ctx: Context): Promise<string> {
  const fromStdin = optBool(ctx.args, 'password-stdin');
  const pw = await readPassword(fromStdin, 'New password: ');
  if (!fromStdin && (await readPassword(false, 'Again: ')) !== pw) throw new CliError('the passwords differ', EXIT.USAGE, 'PASSWORD_MISMATCH', 'run the command again');
  return pw;
}

function nameArg(ctx: Context): string {
  const name = ctx.args.positionals[0];
  if (!name) throw new UsageError('give the account name');
  return name;
}

const ROLES = ['admin', 'auditor', 'officer', 'user'];

export const USER_COMMANDS: CommandDef[] = [
  {
    noun: 'user',
    verb: 'list',
    summary: 'list accounts (admin: all; officer: its partition)',
    synopsis: '',
    options: [],
    examples: ['coffer user list'],
    async run(ctx) {
      const { body } = await ctx.client.request<{ users: Record<string, unknown>[] }>('GET', '/v1/users');
      ctx.print(body, renderTable(body.users, ['name', 'role', 'partition', 'locked', 'failedLogins', 'createdAt']));
      return EXIT.OK;
    },
  },
  {
    noun: 'user',
    verb: 'create',
    summary: 'create an account',
    synopsis: '--name NAME --role admin|auditor|officer|user [--partition P] [--password-stdin]',
    options: [
      { name: 'name', kind: 'string', value: 'NAME', help: 'account name' },
      { name: 'role', kind: 'string', value: 'ROLE', help: 'admin, auditor, officer or user' },
      { name: 'partition', kind: 'string', value: 'P', help: 'the partition (officer and user accounts)' },
      PASSWORD_STDIN,
    ],
    examples: ['coffer user create --name alice --role user --partition default', "printf '%s' \"$PW\" | coffer user create --name ci --role user --partition default --password-stdin"],
    async run(ctx) {
      const name = requireString(ctx.args, 'name');
      const role = requireString(ctx.args, 'role');
      if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      const body: Record<string, unknown> = { name, role, password: await newPassword(ctx) };
      const partition = optString(ctx.args, 'partition');
      if (partition !== undefined) body.partition = partition;
      const res = await ctx.client.request<{ user: Record<string, unknown> }>('POST', '/v1/users', { body });
      ctx.print(res.body, `Created ${role} account ${name}${partition ? ` in partition ${partition}` : ''}.`);
      return EXIT.OK;
    },
  },
  {
    noun: 'user',
    verb: 'delete',
    summary: 'delete an account and end its sessions',
    synopsis: '<name>',
    options: [],
    positionals: [1, 1],
    examples: ['coffer user delete alice'],
    async run(ctx) {
      const name = nameArg(ctx);
      await ctx.client.request('DELETE', `/v1/users/${encodeURIComponent(name)}`);
      ctx.print({ deleted: name }, `Deleted account ${name}.`);
      return EXIT.OK;
    },
  },
  {
    noun: 'user',
    verb: 'unlock',
    summary: 'unlock an account locked after failed logins',
    synopsis: '<name>',
    options: [],
    positionals: [1, 1],
    examples: ['coffer user unlock alice'],
    async run(ctx) {
      const name = nameArg(ctx);
      await ctx.client.request('POST', `/v1/users/${encodeURIComponent(name)}/unlock`, { body: {} });
      ctx.print({ unlocked: name }, `Unlocked account ${name}.`);
      return EXIT.OK;
    },
  },
  {
    noun: 'user',
    verb: 'role',
    summary: "change an account's role (admin; its sessions end; may need quorum approval)",
    synopsis: '<name> --role admin|auditor|officer|user [--partition P]',
    options: [
      { name: 'role', kind: 'string', value: 'ROLE', help: 'admin, auditor, officer or user' },
      { name: 'partition', kind: 'string', value: 'P', help: 'for officer/user: the partition (default: the current one)' },
    ],
    positionals: [1, 1],
    examples: ['coffer user role alice --role officer'],
    async run(ctx) {
      const name = nameArg(ctx);
      const body: Record<string, unknown> = { role: requireString(ctx.args, 'role') };
      const partition = optString(ctx.args, 'partition');
      if (partition !== undefined) body.partition = partition;
      await ctx.client.request('PUT', `/v1/users/${encodeURIComponent(name)}/role`, { body });
      ctx.print({ name, role: body.role }, `Account ${name} is now ${String(body.role)}; its sessions have ended.`);
      return EXIT.OK;
    },
  },
  {
    noun: 'user',
    verb: 'passwd',
    summary: "change a password (your own by default; others' as their admin or officer)",
    synopsis: '[name] [--password-stdin]',
    options: [PASSWORD_STDIN],
    positionals: [0, 1],
    details: "Changing a password ends the account's other sessions.",
    examples: ['coffer user passwd', 'coffer user passwd alice'],
    async run(ctx) {
      const name = ctx.args.positionals[0] ?? (await ctx.client.request<{ user: string }>('GET', '/v1/auth/whoami')).body.user;
      const password = await newPassword(ctx);
      await ctx.client.request('PUT', `/v1/users/${encodeURIComponent(name)}/password`, { body: { password } });
      ctx.print({ changed: name }, `Changed the password of ${name}.`);
      return EXIT.OK;
    },
  },
];

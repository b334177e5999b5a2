// Where the CLI finds its server and bearer token: --addr/--token flags, then COFFER_ADDR/
// COFFER_TOKEN, then the token file `coffer login` wrote ($XDG_CONFIG_HOME/coffer/token or
// ~/.config/coffer/token, mode 0600, JSON {addr, token, expiresAt}). A token is a bearer
// credential, not a password: it expires, and logout revokes it.

import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export const DEFAULT_ADDR = 'http://127.0.0.1:7700';

export interface TokenFile {
  addr: string;
  token: string;
  expiresAt: string;
}

export function tokenFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(base, 'coffer', 'token');
}

/** The saved login, or undefined when absent or unreadable (a broken file is not an error: log in again). */
export function readTokenFile(env: NodeJS.ProcessEnv = process.env): TokenFile | undefined {
  const path = tokenFilePath(env);
  if (!existsSync(path)) return undefined;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<TokenFile>;
    if (typeof v.addr === 'string' && typeof v.token === 'string' && typeof v.expiresAt === 'string') return { addr: v.addr, token: v.token, expiresAt: v.expiresAt };
  } catch {
    // fall through
  }
  return undefined;
}

export function writeTokenFile(t: TokenFile, env: NodeJS.ProcessEnv = process.env): string {
  const path = tokenFilePath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(t)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600); // writeFileSync keeps an existing file's mode
  return path;
}

export function removeTokenFile(env: NodeJS.ProcessEnv = process.env): boolean {
  const path = tokenFilePath(env);
  if (!existsSync(path)) return false;
  rmSync(path, { force: true });
  return true;
}

export interface Endpoint {
  addr: string;
  token?: string;
  /** Where the token came from, for error hints. */
  tokenSource?: 'flag' | 'env' | 'file';
  /** The saved token had expired (so none is used). */
  expired?: boolean;
}

export function resolveEndpoint(flags: { addr?: string; token?: string }, env: NodeJS.ProcessEnv = process.env, now = Date.now()): Endpoint {
  const saved = readTokenFile(env);
  const addr = (flags.addr ?? (env.COFFER_ADDR || undefined) ?? saved?.addr ?? DEFAULT_ADDR).replace(/\/+$/, '');
  if (flags.token) return { addr, token: flags.token, tokenSource: 'flag' };
  if (env.COFFER_TOKEN) return { addr, token: env.COFFER_TOKEN, tokenSource: 'env' };
  // A saved token belongs to the server it was issued by; never send it elsewhere.
  if (saved && saved.addr.replace(/\/+$/, '') === addr) {
    if (Date.parse(saved.expiresAt) <= now) return { addr, expired: true };
    return { addr, token: saved.token, tokenSource: 'file' };
  }
  return { addr };
}

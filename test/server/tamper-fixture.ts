// Test support for the server-level tamper and self-test tests: a dev server in a temp directory
// with the given [tamper] settings, and logins for its dev accounts over REST.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG, type ServerConfig } from '../../src/server/config.js';
import { type RunningServer, startServer } from '../../src/server/server.js';

export interface TamperServer {
  running: RunningServer;
  dir: string;
  db: string;
  call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  login(role: 'admin' | 'user' | 'auditor' | 'officer'): Promise<string>;
  close(): Promise<void>;
}

export async function tamperServer(tamper: Partial<ServerConfig['tamper']> = {}, forceSelfTestFailure?: string): Promise<TamperServer> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-tamper-srv-'));
  const config = structuredClone(DEFAULT_CONFIG);
  config.listen.port = 0;
  config.storage.dataDir = join(dir, 'data');
  config.log.level = 'silent';
  config.tamper = { ...config.tamper, ...tamper };
  const running = await startServer({ config, dev: true, print: () => {}, ...(forceSelfTestFailure ? { forceSelfTestFailure } : {}) });
  const call = async (method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(`${running.address}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const login = async (role: string): Promise<string> => {
    const a = running.dev?.credentials.accounts.find((x) => x.role === role);
    if (!a) throw new Error(`no dev ${role}`);
    const r = await call('POST', '/v1/auth/login', undefined, { user: a.name, password: a.password });
    if (r.status !== 200) throw new Error(`login ${role}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.token as string;
  };
  return {
    running,
    dir,
    db: join(dir, 'data', 'coffer.db'),
    call,
    login,
    close: async () => {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `fn` until it returns true or `ms` pass. */
export async function eventually(fn: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met within ${ms} ms`);
}

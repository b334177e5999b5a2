// Test support for the CLI: runs `node dist/src/cli/main.js` as a child process (asynchronously:
// the server under test may live in this very process) and starts a dev server in-process.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG } from '../../src/server/config.js';
import { type RunningServer, startServer } from '../../src/server/server.js';

/** dist/test/cli/ → dist/src/cli/main.js */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export function runCli(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: Uint8Array | string; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: opts.env ?? {}, cwd: opts.cwd ?? tmpdir(), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs a shell pipeline (sh -c), for `a | b` exactly as a user types it. */
export function runShell(script: string, env: NodeJS.ProcessEnv, cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script], { env: { PATH: process.env.PATH, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/** A port nobody listens on right now (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface TestServer {
  running: RunningServer;
  addr: string;
  /** A bearer token for the dev partition user. */
  token: string;
  dir: string;
  /** Env for the CLI: COFFER_ADDR, COFFER_TOKEN, an empty config dir. */
  env: NodeJS.ProcessEnv;
  password(role: string): string;
  close(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-cli-'));
  const running = await startServer({
    config: { ...DEFAULT_CONFIG, listen: { address: '127.0.0.1', port: 0 }, storage: { backend: 'sqlite', dataDir: join(dir, 'data') }, log: { level: 'silent' } },
    dev: true,
    print: () => {},
  });
  if (!running.dev) {
    // A server that came up in the error state (e.g. a stale build manifest) must not be left listening.
    await running.close();
    throw new Error(`the dev server did not set up: ${running.hsm.status().error ?? running.hsm.status().state}`);
  }
  const token = running.tokens.issue(running.dev.userSession).token;
  const env = { COFFER_ADDR: running.address, COFFER_TOKEN: token, XDG_CONFIG_HOME: join(dir, 'config') };
  return {
    running,
    addr: running.address,
    token,
    dir,
    env,
    password(role) {
      const a = running.dev!.credentials.accounts.find((x) => x.role === role);
      if (!a) throw new Error(`no ${role} account`);
      return a.password;
    },
    async close() {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

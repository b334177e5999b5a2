// Test fixture: an in-memory Coffer with partition p1 (user alice, officer officer) served
// over the PKCS#11 socket in a fresh temporary directory, and the paths of the real clients.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPkcs11Server, type Pkcs11Server } from '../../src/frontends/pkcs11/server.js';
import { PASSWORD, type TestHsm, testHsm } from '../support/hsm.js';

export { PASSWORD };
export const USER_PIN = `alice:${PASSWORD}`;
export const SO_PIN = `officer:${PASSWORD}`;

export interface P11Fixture {
  t: TestHsm;
  server: Pkcs11Server;
  dir: string;
  socket: string;
  close(): Promise<void>;
}

export async function p11Fixture(): Promise<P11Fixture> {
  const t = await testHsm();
  const dir = mkdtempSync(join(tmpdir(), 'coffer-p11-'));
  const socket = join(dir, 'pkcs11.sock');
  const server = await startPkcs11Server({ hsm: t.hsm, socketPath: socket, partitions: ['p1'], defaultAccounts: { user: 'alice', officer: 'officer' } });
  return {
    t,
    server,
    dir,
    socket,
    async close() {
      await server.close();
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const P11_KIT_CLIENT = '/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so';

/**
 * Whether a real client is installed. Under CI a missing tool is a failure, never a skip;
 * elsewhere the test skips with a loud message naming the Debian package.
 */
export function requireTool(path: string, pkg: string, skip: (why: string) => void): boolean {
  if (existsSync(path)) return true;
  const why = `${path} missing: apt-get install ${pkg}`;
  if (process.env.CI === 'true') throw new Error(why);
  console.warn(`SKIPPED: ${why}`);
  skip(why);
  return false;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a client against the fixture's socket; never rejects (the exit code is part of the result). */
export function run(f: P11Fixture, cmd: string, args: string[], input?: Uint8Array): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: { ...process.env, P11_KIT_SERVER_ADDRESS: `unix:path=${f.socket}` }, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input) child.stdin?.end(Buffer.from(input));
  });
}

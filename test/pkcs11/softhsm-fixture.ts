// SoftHSM2 behind `p11-kit server`, for the differential test and the PKCS#11 benchmark: a token
// in a fresh temporary directory (its own SOFTHSM2_CONF), served on a unix socket that the same
// p11-kit-client.so connects to. Missing softhsm2 or p11-kit is an error, never a skip.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
export const SOFTHSM_PIN = '1234';
export const SOFTHSM_SO_PIN = '5678';

export interface SoftHsmServer {
  dir: string;
  /** `unix:path=…`, for P11_KIT_SERVER_ADDRESS. */
  address: string;
  /** The `p11-kit server` process (it forks one child per client connection). */
  server: ChildProcess;
  close(): Promise<void>;
}

export async function softHsmServer(label = 'coffer-diff'): Promise<SoftHsmServer> {
  if (!existsSync(SOFTHSM_MODULE)) throw new Error(`${SOFTHSM_MODULE} missing: apt-get install softhsm2`);
  const dir = mkdtempSync(join(tmpdir(), 'coffer-softhsm-'));
  mkdirSync(join(dir, 'tokens'));
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', SOFTHSM_PIN, '--so-pin', SOFTHSM_SO_PIN], { env, stdio: 'pipe' });
  const socket = join(dir, 'p11.sock');
  const server = spawn('p11-kit', ['server', '-f', '-n', socket, '--provider', SOFTHSM_MODULE, `pkcs11:token=${label}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  // `-f` prints `P11_KIT_SERVER_ADDRESS=unix:path=…; export …` once the socket listens.
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`p11-kit server did not start: ${err}`)), 15_000);
    server.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    server.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /P11_KIT_SERVER_ADDRESS=([^;\n]+);/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    server.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`p11-kit server exited (${code}): ${err}`));
    });
  });
  return {
    dir,
    address,
    server,
    async close() {
      if (server.exitCode === null) {
        const gone = new Promise((res) => server.once('exit', res));
        server.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

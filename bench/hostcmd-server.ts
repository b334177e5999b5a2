// The host-command benchmark's server, run as a child process (bench/hostcmd.ts forks it): the real
// `startServer` in dev mode, as `coffer server --dev` runs it, with the host-command port on a free
// port, an in-memory store, logging silent, the PKCS#11 socket off. It makes two ZPKs as the dev
// user, reports the port and their references over IPC, then answers its parent
// (bench/server-child.ts: stats, CPU profile) until told to close.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG, type ServerConfig } from '../src/server/config.js';
import { startServer } from '../src/server/server.js';
import { type ChildMessage, ZPK_A, ZPK_B } from './hostcmd-messages.js';
import { answerParent } from './server-child.js';

async function main(): Promise<void> {
  if (!process.send) throw new Error('bench/hostcmd-server must be started by bench/hostcmd.ts');
  const send = (m: ChildMessage): void => {
    process.send?.(m);
  };
  const dataDir = mkdtempSync(join(tmpdir(), 'coffer-bench-hostcmd-'));
  const config: ServerConfig = {
    ...structuredClone(DEFAULT_CONFIG),
    listen: { address: '127.0.0.1', port: 0 },
    storage: { backend: 'memory', dataDir },
    log: { level: 'silent' },
  };
  config.pkcs11 = { ...DEFAULT_CONFIG.pkcs11, enabled: false };
  config.hostcmd = { ...DEFAULT_CONFIG.hostcmd, enabled: true, port: 0 };
  const server = await startServer({ config, dev: true, print: () => {} });
  if (!server.dev || !server.hostcmd) throw new Error('dev mode did not start the host-command port');
  const session = server.dev.userSession;
  const make = (hex: string) => server.hsm.createObject(session, { class: 'secret-key', keyType: 'des2', value: Buffer.from(hex, 'hex'), token: true, keyUsage: 'P0' });
  send({ kind: 'ready', port: server.hostcmd.port, zpkA: await make(ZPK_A), zpkB: await make(ZPK_B) });
  answerParent(() => server.close(), dataDir, send);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

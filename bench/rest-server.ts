// The REST benchmark's server, run as a child process (bench/rest.ts forks it) so the load
// generator and the server do not share an event loop. It is the real `startServer` in dev mode
// on an in-memory store in a temp directory, logging silent, the rate limit off; it reports its
// address and a user token over IPC, then answers its parent (bench/server-child.ts) until told
// to close.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG, type ServerConfig } from '../src/server/config.js';
import { startServer } from '../src/server/server.js';
import { answerParent, type ControlReply } from './server-child.js';

export type { ParentMessage, ServerStats } from './server-child.js';

/** What the child sends its parent. */
export type ServerMessage = { kind: 'ready'; address: string; token: string } | ControlReply;

async function main(): Promise<void> {
  const send = (m: ServerMessage): void => {
    process.send?.(m);
  };
  if (!process.send) throw new Error('bench/rest-server must be started by bench/rest.ts (fork with an IPC channel)');
  const dataDir = mkdtempSync(join(tmpdir(), 'coffer-bench-rest-'));
  const config: ServerConfig = {
    ...structuredClone(DEFAULT_CONFIG),
    listen: { address: '127.0.0.1', port: 0 },
    storage: { backend: 'memory', dataDir },
    // The default 1000/s per client would measure the limiter, not the server.
    limits: { ...DEFAULT_CONFIG.limits, ratePerSecond: 0 },
    log: { level: 'silent' },
  };
  config.pkcs11 = { ...DEFAULT_CONFIG.pkcs11, enabled: false };
  const banner: string[] = []; // the dev banner (passwords, token): kept out of the output
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({ config, dev: true, print: (l) => banner.push(l) });
    if (!server.dev) throw new Error(`dev mode gave no user session: ${banner.filter((l) => l.startsWith('ERROR')).join('; ') || 'no reason printed'}`);
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const { token } = server.tokens.issue(server.dev.userSession);
  send({ kind: 'ready', address: server.address, token });
  answerParent(() => server.close(), dataDir, send);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

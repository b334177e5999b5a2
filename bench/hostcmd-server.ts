// The host-command benchmark's server, run as a child process (bench/hostcmd.ts forks it): the real
// `startServer` in dev mode, as `coffer server --dev` runs it, with the host-command port on a free
// port, an in-memory store, logging silent, the PKCS#11 socket off. It makes two ZPKs as the dev
// user, reports the port and their references over IPC, answers RSS queries, and runs V8's CPU
// profiler over a window the parent chooses, until told to close.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_CONFIG, type ServerConfig } from '../src/server/config.js';
import { startServer } from '../src/server/server.js';
import { type ChildMessage, type ParentMessage, ZPK_A, ZPK_B } from './hostcmd-messages.js';

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
  let elu = performance.eventLoopUtilization();
  let cpu = process.cpuUsage();
  let at = performance.now();
  const profiler = new Session();
  const failed = (err: unknown): void => {
    console.error(err);
    process.exit(1);
  };
  process.on('message', (m: ParentMessage) => {
    if (m.kind === 'stats') {
      const now = performance.now();
      const c = process.cpuUsage(cpu);
      send({ kind: 'stats', rssBytes: process.memoryUsage().rss, eventLoopUtilization: performance.eventLoopUtilization(elu).utilization, cpu: (c.user + c.system) / 1000 / (now - at) });
      elu = performance.eventLoopUtilization();
      cpu = process.cpuUsage();
      at = now;
    } else if (m.kind === 'profile-start') {
      profiler.connect();
      profiler
        .post('Profiler.enable')
        .then(() => profiler.post('Profiler.start'))
        .then(() => send({ kind: 'profiling' }), failed);
    } else if (m.kind === 'profile-stop') {
      profiler.post('Profiler.stop').then(({ profile }) => {
        writeFileSync(m.path, JSON.stringify(profile));
        profiler.disconnect();
        send({ kind: 'profiled' });
      }, failed);
    } else if (m.kind === 'close') {
      server
        .close()
        .finally(() => rmSync(dataDir, { recursive: true, force: true }))
        .then(() => {
          send({ kind: 'closed' });
          process.disconnect();
        }, failed);
    }
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

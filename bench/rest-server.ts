// The REST benchmark's server, run as a child process (bench/rest.ts forks it) so the load
// generator and the server do not share an event loop. It is the real `startServer` in dev mode
// on an in-memory store in a temp directory, logging silent, the rate limit off; it reports its
// address and a user token over IPC, then answers stats queries (RSS, and since the previous
// query its event-loop utilisation and CPU time) and runs V8's CPU profiler over a window the
// parent chooses (the same profiler as `node --cpu-prof`, without start-up in the samples) until
// told to close.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_CONFIG, type ServerConfig } from '../src/server/config.js';
import { startServer } from '../src/server/server.js';
import { mainThreadSeconds } from './thread-cpu.js';

/** What the child sends its parent. */
export type ServerMessage = { kind: 'ready'; address: string; token: string } | ({ kind: 'stats' } & ServerStats) | { kind: 'profiling' }
  | { kind: 'profiled' }
  | { kind: 'closed' };
/** What the parent sends the child; `profile-stop` writes the profile to `path` (.cpuprofile JSON). */
export type ParentMessage = { kind: 'stats' } | { kind: 'profile-start' } | { kind: 'profile-stop'; path: string } | { kind: 'close' };

export interface ServerStats {
  rssBytes: number;
  /** Share of wall time the event loop was busy since the previous query (0–1). */
  eventLoopUtilization: number;
  /** CPU seconds (main thread plus libuv's pool) per wall second since the previous query. */
  cpu: number;
  /** The same for the main thread alone (Linux /proc; NaN elsewhere). */
  mainThreadCpu: number;
}

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
  let elu = performance.eventLoopUtilization();
  let cpu = process.cpuUsage();
  let main = mainThreadSeconds();
  let at = performance.now();
  const stats = (): ServerStats => {
    const now = performance.now();
    const out: ServerStats = {
      rssBytes: process.memoryUsage().rss,
      eventLoopUtilization: performance.eventLoopUtilization(elu).utilization,
      cpu: ((c) => (c.user + c.system) / 1000 / (now - at))(process.cpuUsage(cpu)),
      mainThreadCpu: ((mainThreadSeconds() - main) * 1000) / (now - at),
    };
    elu = performance.eventLoopUtilization();
    cpu = process.cpuUsage();
    main = mainThreadSeconds();
    at = now;
    return out;
  };
  send({ kind: 'ready', address: server.address, token });
  const profiler = new Session();
  const failed = (err: unknown): void => {
    console.error(err);
    process.exit(1);
  };
  process.on('message', (m: ParentMessage) => {
    if (m.kind === 'stats') send({ kind: 'stats', ...stats() });
    else if (m.kind === 'profile-start') {
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
        .then(
          () => {
            send({ kind: 'closed' });
            process.disconnect();
          },
          failed,
        );
    }
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

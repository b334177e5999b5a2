// The control side of a benchmark server child (bench/rest-server.ts, bench/hostcmd-server.ts):
// after it reports ready, it answers its parent's stats queries (RSS, and since the previous query
// its event-loop utilisation and CPU time), runs V8's CPU profiler over a window the parent
// chooses (the same profiler as `node --cpu-prof`, without start-up in the samples), and closes.

import { rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { mainThreadSeconds } from './thread-cpu.js';

export interface ServerStats {
  rssBytes: number;
  /** Share of wall time the event loop was busy since the previous query (0–1). */
  eventLoopUtilization: number;
  /** CPU seconds (main thread plus libuv's pool) per wall second since the previous query. */
  cpu: number;
  /** The same for the main thread alone (Linux /proc; NaN elsewhere). */
  mainThreadCpu: number;
}

/** What the parent sends the child; `profile-stop` writes the profile to `path` (.cpuprofile JSON). */
export type ParentMessage = { kind: 'stats' } | { kind: 'profile-start' } | { kind: 'profile-stop'; path: string } | { kind: 'close' };

/** The child's answers to those messages. */
export type ControlReply = ({ kind: 'stats' } & ServerStats) | { kind: 'profiling' } | { kind: 'profiled' } | { kind: 'closed' };

/** Answers the parent until it says close; then closes the server, removes `dataDir` and disconnects. */
export function answerParent(closeServer: () => Promise<void>, dataDir: string, send: (m: ControlReply) => void): void {
  let elu = performance.eventLoopUtilization();
  let cpu = process.cpuUsage();
  let main = mainThreadSeconds();
  let at = performance.now();
  const stats = (): ServerStats => {
    const now = performance.now();
    const c = process.cpuUsage(cpu);
    const out: ServerStats = {
      rssBytes: process.memoryUsage().rss,
      eventLoopUtilization: performance.eventLoopUtilization(elu).utilization,
      cpu: (c.user + c.system) / 1000 / (now - at),
      mainThreadCpu: ((mainThreadSeconds() - main) * 1000) / (now - at),
    };
    elu = performance.eventLoopUtilization();
    cpu = process.cpuUsage();
    main = mainThreadSeconds();
    at = now;
    return out;
  };
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
      closeServer()
        .finally(() => rmSync(dataDir, { recursive: true, force: true }))
        .then(() => {
          send({ kind: 'closed' });
          process.disconnect();
        }, failed);
    }
  });
}

// The parent's handle on the REST benchmark's server child (bench/rest-server.ts): forks it with
// an IPC channel, waits for its address and token, asks for its stats, starts and stops its CPU
// profiler, and closes it, waiting for the process to exit.

import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ParentMessage, ServerMessage, ServerStats } from './rest-server.js';

const ENTRY = fileURLToPath(new URL('./rest-server.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const CLOSE_TIMEOUT_MS = 15_000;

export interface ServerChild {
  address: string;
  token: string;
  pid: number;
  stats(): Promise<ServerStats>;
  startProfile(): Promise<void>;
  /** Stops the profiler and writes the .cpuprofile JSON to `path`. */
  stopProfile(path: string): Promise<void>;
  close(): Promise<void>;
}

export async function startServerChild(): Promise<ServerChild> {
  const child = fork(ENTRY, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await next(child, 'ready', START_TIMEOUT_MS);
  if (child.pid === undefined) throw new Error('REST benchmark server has no pid');
  return {
    address: ready.address,
    token: ready.token,
    pid: child.pid,
    async stats() {
      const reply = next(child, 'stats', START_TIMEOUT_MS);
      send(child, { kind: 'stats' });
      const { kind: _kind, ...s } = await reply;
      return s;
    },
    async startProfile() {
      const reply = next(child, 'profiling', START_TIMEOUT_MS);
      send(child, { kind: 'profile-start' });
      await reply;
    },
    async stopProfile(path) {
      const reply = next(child, 'profiled', START_TIMEOUT_MS);
      send(child, { kind: 'profile-stop', path });
      await reply;
    },
    async close() {
      send(child, { kind: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`REST benchmark server exited with code ${code}`);
    },
  };
}

function send(child: ChildProcess, m: ParentMessage): void {
  child.send(m);
}

/** The child's next message of one kind; rejects if it exits or stays silent too long. */
function next<K extends ServerMessage['kind']>(child: ChildProcess, kind: K, timeoutMs: number): Promise<Extract<ServerMessage, { kind: K }>> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m: ServerMessage): void => {
      if (m.kind !== kind) return;
      done();
      resolve(m as Extract<ServerMessage, { kind: K }>);
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`REST benchmark server exited (code ${code}) before sending '${kind}'`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`REST benchmark server sent no '${kind}' within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

// `npm run bench:hostcmd`: zone-to-zone PIN translations (CC) per second over the host-command port,
// with 1, 8 and 32 connections, against the real server in dev mode in a child process
// (bench/hostcmd-server.ts). Each connection works as a switch's HSM link usually does: one request
// outstanding, the next sent when the answer arrives (request/response); a last row keeps 4 requests
// in flight per connection (pipelined, which the port allows). Reports rate, p50/p99 latency and the
// server's RSS. `--quick` shortens each run; `--profile` writes a CPU profile of the 32-connection run.

import { type ChildProcess, fork } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type ChildMessage, type ParentMessage, ZPK_A } from './hostcmd-messages.js';

const quick = process.argv.includes('--quick');
const profile = process.argv.includes('--profile');
const SECONDS = quick ? 1 : 5;
/** The target: 10,000 translations/s with 32 connections on this machine (a payShield 10K is licensed up to 2,500/s). */
export const TARGET_32 = 10_000;
const ACCOUNT = '400000123456';
const HEADER = '0000';

interface Row {
  connections: number;
  inFlight: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  rssMiB: number;
  serverCpu: number;
}

function iso0Block(): string {
  const clear = Buffer.from('041234FFFFFFFFFF', 'hex').map((x, i) => x ^ (Buffer.from(`0000${ACCOUNT}`, 'hex')[i] ?? 0));
  const c = createCipheriv('des-ede-ecb', Buffer.from(ZPK_A, 'hex'), null).setAutoPadding(false);
  return Buffer.concat([c.update(clear), c.final()]).toString('hex').toUpperCase();
}

const ref = (uid: string): string => `R${String(uid.length).padStart(2, '0')}${uid}`;

function frameOf(body: string): Buffer {
  const b = Buffer.from(body, 'latin1');
  const out = Buffer.alloc(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

/** One switch link: sends `frame`, keeps `inFlight` outstanding, records each answer's latency until `until`. */
function link(port: number, frame: Buffer, inFlight: number, until: number, latencies: number[], counts: { ok: number; errors: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    const sentAt: number[] = [];
    let buf: Buffer = Buffer.alloc(0);
    const fire = (): void => {
      sentAt.push(performance.now());
      socket.write(frame);
    };
    socket.once('connect', () => {
      for (let i = 0; i < inFlight; i++) fire();
    });
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const now = performance.now();
        latencies.push(now - (sentAt.shift() ?? now));
        // header(4) + CD + error code
        if (buf[2 + 6] === 0x30 && buf[2 + 7] === 0x30) counts.ok++;
        else counts.errors++;
        buf = buf.subarray(2 + len);
        if (now < until) fire();
        else if (sentAt.length === 0) {
          socket.end();
          resolve();
        }
      }
    });
    socket.on('error', reject);
  });
}

async function run(child: ChildProcess, port: number, frame: Buffer, connections: number, inFlight: number, seconds: number): Promise<Row> {
  await ask(child, { kind: 'stats' }, 'stats'); // reset the server's CPU window
  const latencies: number[] = [];
  const counts = { ok: 0, errors: 0 };
  const start = performance.now();
  const until = start + seconds * 1000;
  await Promise.all(Array.from({ length: connections }, () => link(port, frame, inFlight, until, latencies, counts)));
  const elapsed = (performance.now() - start) / 1000;
  const stats = (await ask(child, { kind: 'stats' }, 'stats')) as Extract<ChildMessage, { kind: 'stats' }>;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
  return { connections, inFlight, perSecond: counts.ok / elapsed, p50: pct(0.5), p99: pct(0.99), errors: counts.errors, rssMiB: stats.rssBytes / 2 ** 20, serverCpu: stats.cpu };
}

function ask(child: ChildProcess, m: ParentMessage, kind: ChildMessage['kind']): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (r: ChildMessage): void => {
      if (r.kind !== kind) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(r);
    };
    const onExit = (code: number | null): void => reject(new Error(`host-command benchmark server exited (${code}) before '${kind}'`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send(m);
  });
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(new URL('./hostcmd-server.js', import.meta.url)), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = (await new Promise<ChildMessage>((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`host-command benchmark server exited (${code}) before it was ready`)));
  })) as Extract<ChildMessage, { kind: 'ready' }>;
  const frame = frameOf(`${HEADER}CC${ref(ready.zpkA)}${ref(ready.zpkB)}12${iso0Block()}0101${ACCOUNT}`);
  await run(child, ready.port, frame, 8, 1, quick ? 0.5 : 2); // warm-up: JIT, key cache
  const rows: Row[] = [];
  for (const [connections, inFlight] of [
    [1, 1],
    [8, 1],
    [32, 1],
    [32, 4],
  ] as const) {
    const profiling = profile && connections === 32 && inFlight === 1;
    if (profiling) await ask(child, { kind: 'profile-start' }, 'profiling');
    rows.push(await run(child, ready.port, frame, connections, inFlight, SECONDS));
    if (profiling) {
      const path = `/tmp/coffer-hostcmd-32.cpuprofile`;
      await ask(child, { kind: 'profile-stop', path }, 'profiled');
      process.stdout.write(`CPU profile of the 32-connection run: ${path}\n`);
    }
  }
  await ask(child, { kind: 'close' }, 'closed');
  process.stdout.write(`\nHost-command CC (ZPK→ZPK PIN translation, ISO 0 → ISO 0), ${SECONDS} s per row, load average ${loadavg()[0]?.toFixed(2)}\n\n`);
  process.stdout.write('| connections | in flight each | translations/s | p50 ms | p99 ms | errors | server RSS MiB | server CPU (cores) |\n|---|---|---|---|---|---|---|---|\n');
  for (const r of rows) {
    process.stdout.write(`| ${r.connections} | ${r.inFlight} | ${Math.round(r.perSecond).toLocaleString('en')} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} | ${r.rssMiB.toFixed(0)} | ${r.serverCpu.toFixed(2)} |\n`);
  }
  const r32 = rows.find((r) => r.connections === 32 && r.inFlight === 1);
  if (r32) process.stdout.write(`\n32 connections: ${Math.round(r32.perSecond).toLocaleString('en')}/s against the target ${TARGET_32.toLocaleString('en')}/s: ${r32.perSecond >= TARGET_32 ? 'met' : 'SHORT'}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

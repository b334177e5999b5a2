// `npm run bench:pkcs11`: sign operations per second over PKCS#11, Coffer against SoftHSM2, with
// the same client (pkcs11js + p11-kit-client.so 0.24.1) in the same run. Each row runs 1 or 4
// client processes, each with its own session in a tight C_SignInit + C_Sign loop, against
// Coffer's PKCS#11 server (its own process) and then SoftHSM2 behind `p11-kit server`; the
// servers' resident memory is sampled mid-run and their CPU time per signature is measured.
// `--seconds N` sets the length of each run.

import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SOFTHSM_PIN, softHsmServer } from '../test/pkcs11/softhsm-fixture.js';

const argSeconds = process.argv.indexOf('--seconds');
const SECONDS = argSeconds > 0 ? Number(process.argv[argSeconds + 1]) : 10;
const CLIENT = fileURLToPath(new URL('./pkcs11-client.js', import.meta.url));
const COFFER = fileURLToPath(new URL('./pkcs11-coffer-server.js', import.meta.url));
const COFFER_PIN = 'alice:correct horse battery staple';
const TARGET = 1.5;

interface Target {
  name: string;
  address: string;
  pin: string;
  /** Resident set of the server side now (kB): the process and every process it forked. */
  rssKb(): number;
  /** CPU seconds the server side has used so far, its reaped children included. */
  cpuSeconds(): number;
}

const TICK = 100; // USER_HZ: /proc/<pid>/stat counts clock ticks of 1/100 s on Linux

/** utime + stime (+ cutime + cstime: children the process has reaped) from /proc/<pid>/stat, in seconds. */
function cpuOf(pid: number, children: boolean): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number); // f[0] is field 3 (state)
  const ticks = f[11]! + f[12]! + (children ? f[13]! + f[14]! : 0); // fields 14–17
  return ticks / TICK;
}

function client(t: Target, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLIENT, ...args], { env: { ...process.env, P11_KIT_SERVER_ADDRESS: t.address }, timeout: (SECONDS + 120) * 1000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${t.name} client ${args[0]}: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // the process ended between listing and reading
  }
}

/** `pid` and its descendants, from /proc/<pid>/stat's parent field. */
function tree(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone already
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [child, pp] of parent) if (pp === out[i]) out.push(child);
  return out;
}

interface Result {
  opsPerSecond: number;
  rssKb: number;
  /** Server CPU time per signature (µs): what each signature costs, whatever else the host runs. */
  cpuUs: number;
}

async function run(t: Target, algorithm: 'rsa' | 'ec', clients: number): Promise<Result> {
  const cpuBefore = t.cpuSeconds();
  const startAt = Date.now() + 4000; // every client has loaded, logged in and signed once by then
  const runs: Promise<string>[] = [];
  for (let i = 0; i < clients; i++) {
    runs.push(client(t, ['sign', t.pin, algorithm, String(SECONDS), String(startAt)]));
    await new Promise((res) => setTimeout(res, 200)); // staggered: SoftHSM2 children starting at once sometimes fail
  }
  let rssKb = 0;
  const sampler = setTimeout(() => {
    rssKb = t.rssKb();
  }, startAt - Date.now() + (SECONDS * 1000) / 2);
  const results = (await Promise.all(runs)).map((o) => JSON.parse(o) as { ops: number; seconds: number });
  clearTimeout(sampler);
  const opsPerSecond = results.reduce((sum, r) => sum + r.ops / r.seconds, 0);
  await new Promise((res) => setTimeout(res, 500)); // p11-kit server reaps its per-connection children
  const ops = results.reduce((sum, r) => sum + r.ops + 1, 0); // +1: the signature each client makes before the clock starts
  return { opsPerSecond, rssKb, cpuUs: ((t.cpuSeconds() - cpuBefore) / ops) * 1e6 };
}

async function cofferTarget(): Promise<{ target: Target; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-bench-p11-'));
  const socket = join(dir, 'pkcs11.sock');
  const child = spawn(process.execPath, [COFFER, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => (c.toString().includes('READY') ? resolve() : undefined));
    child.once('exit', (code) => reject(new Error(`Coffer server exited (${code})`)));
  });
  const pid = child.pid as number;
  return {
    target: { name: 'Coffer', address: `unix:path=${socket}`, pin: COFFER_PIN, rssKb: () => statusKb(pid, 'VmRSS'), cpuSeconds: () => cpuOf(pid, false) },
    async close() {
      const gone = new Promise((res) => child.once('exit', res));
      child.kill('SIGTERM');
      await gone;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function softTarget(): Promise<{ target: Target; close(): Promise<void> }> {
  const soft = await softHsmServer('coffer-bench');
  const pid = soft.server.pid as number;
  return {
    target: { name: 'SoftHSM2', address: soft.address, pin: SOFTHSM_PIN, rssKb: () => tree(pid).reduce((sum, p) => sum + statusKb(p, 'VmRSS'), 0), cpuSeconds: () => cpuOf(pid, true) },
    close: () => soft.close(),
  };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;

async function main(): Promise<void> {
  const softhsmVersion = await new Promise<string>((res) => execFile('softhsm2-util', ['--version'], (_e, out) => res(out.trim())));
  console.log(`PKCS#11 sign, ${SECONDS} s per run, client pkcs11js + p11-kit-client.so; SoftHSM ${softhsmVersion} behind p11-kit server`);
  const coffer = await cofferTarget();
  const soft = await softTarget();
  try {
    for (const t of [coffer.target, soft.target]) await client(t, ['setup', t.pin]);
    const rows: string[] = [];
    let short = false;
    for (const [algorithm, label] of [
      ['rsa', 'RSA-2048 CKM_SHA256_RSA_PKCS'],
      ['ec', 'ECDSA P-256 CKM_ECDSA (32-byte digest)'],
    ] as const) {
      for (const clients of [1, 4]) {
        const c = await run(coffer.target, algorithm, clients);
        const s = await run(soft.target, algorithm, clients);
        const ratio = c.opsPerSecond / s.opsPerSecond;
        if (ratio < TARGET) short = true;
        const line = `| ${label} | ${clients} | ${fmt(c.opsPerSecond)} | ${fmt(s.opsPerSecond)} | ${ratio.toFixed(2)} | ${fmt(c.cpuUs)} | ${fmt(s.cpuUs)} | ${mb(c.rssKb)} | ${mb(s.rssKb)} |`;
        process.stderr.write(`${line}\n`);
        rows.push(line);
      }
    }
    console.log('| operation | client processes | Coffer ops/s | SoftHSM2 ops/s | Coffer/SoftHSM2 | Coffer server CPU µs/op | SoftHSM2 server CPU µs/op | Coffer server RSS | SoftHSM2 server RSS |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    console.log(`target Coffer/SoftHSM2 ≥ ${TARGET}: ${short ? 'NOT met on every row' : 'met'}`);
    console.log(`load average (1, 5, 15 min): ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
  } finally {
    await coffer.close();
    await soft.close();
  }
}

await main();

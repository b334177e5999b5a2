// The REST rows of `npm run bench`: ECDSA P-256 sign and AES-256-GCM 1 KiB encrypt requests/s
// through the real server (a child process, bench/rest-server.ts) with 1, 16 and 64 keep-alive
// autocannon clients, each group next to the boundary API's rate for the same operation measured
// just before it in this process. Any failed request fails the run: such figures mean nothing.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { memoryHsm } from './hsm-setup.js';
import { measure } from './measure.js';
import { type ServerChild, startServerChild } from './rest-child.js';
import { readProfile, summariseProfile } from './rest-profile.js';
import { mainThreadSeconds } from './thread-cpu.js';

export const CONNECTIONS = [1, 16, 64] as const;
/** Issue 3's bar: REST sign with 64 clients reaches this share of the boundary API's rate. */
export const SIGN_64_TARGET = 0.4;
/** As bench/run.ts's boundary rows: enough in flight to keep libuv's pool busy on both cores. */
const BOUNDARY_IN_FLIGHT = 32;

const MESSAGE = new Uint8Array(64).fill(0x61);
const BLOCK_1K = new Uint8Array(1024).fill(0x63);

export interface RestOptions {
  /** Seconds per measured row (boundary reference and each REST connection count). */
  seconds: number;
  /** Profile every operation at 64 clients, not only a 64-client sign that misses its target. */
  profile: boolean;
}

export interface RestRow {
  operation: string;
  connections: number;
  requestsPerSecond: number;
  /** Latency percentiles in milliseconds, over the 2xx responses. */
  p50: number;
  p99: number;
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number;
  /** The server's event-loop utilisation and CPU seconds per second during the row (all threads, main thread). */
  serverElu: number;
  serverCpu: number;
  serverMainCpu: number;
  /** CPU seconds per second of this process, the load generator, during the row. */
  clientCpu: number;
  boundaryPerSecond: number;
  /** Main-thread CPU per operation through the boundary API alone, for comparison with the server's. */
  boundaryMainMicros: number;
}

export interface RestResult {
  rows: RestRow[];
  serverRssBytes: number;
  /** The profile summary lines, when profiles were taken. */
  profile?: string[];
}

/** One REST operation: its route and request body. */
interface RestCase {
  operation: string;
  path: string;
  body: string;
}

async function call(server: ServerChild, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(`${server.address}${path}`, init);
  const text = await res.text();
  if (res.status >= 300) throw new Error(`REST benchmark set-up: ${method} ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const keyPath = (uid: string, op: string): string => `/v1/keys/${encodeURIComponent(uid)}/${op}`;

/** Generates the two keys over REST and proves one request of each kind round-trips. */
async function setUp(server: ServerChild): Promise<RestCase[]> {
  const pair = (await call(server, 'POST', '/v1/keys', { template: { keyType: 'ec', curve: 'P-256', sign: true } })) as { privateKey: { uid: string }; publicKey: { uid: string } };
  const aes = (await call(server, 'POST', '/v1/keys', { template: { keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true } })) as { key: { uid: string } };
  const keys = { p256: pair.privateKey.uid, aes: aes.key.uid };
  const signBody = { mechanism: 'ECDSA-SHA256', data: b64(MESSAGE) };
  const encryptBody = { mechanism: 'AES-GCM', plaintext: b64(BLOCK_1K) };
  // A benchmark of requests that fail would be fast and wrong: check both answers once.
  const sig = (await call(server, 'POST', keyPath(keys.p256, 'sign'), signBody)) as { signature: string };
  const ok = await call(server, 'POST', keyPath(pair.publicKey.uid, 'verify'), { ...signBody, signature: sig.signature });
  if (ok.valid !== true) throw new Error('REST benchmark set-up: the signature did not verify');
  const enc = (await call(server, 'POST', keyPath(keys.aes, 'encrypt'), encryptBody)) as { ciphertext: string };
  const dec = (await call(server, 'POST', keyPath(keys.aes, 'decrypt'), { ciphertext: enc.ciphertext })) as { plaintext: string };
  if (dec.plaintext !== encryptBody.plaintext) throw new Error('REST benchmark set-up: decrypt did not return the plaintext');
  return [
    { operation: 'sign ECDSA P-256 ECDSA-SHA256', path: keyPath(keys.p256, 'sign'), body: JSON.stringify(signBody) },
    { operation: 'encrypt AES-256-GCM 1 KiB', path: keyPath(keys.aes, 'encrypt'), body: JSON.stringify(encryptBody) },
  ];
}

interface Load {
  requestsPerSecond: number;
  clientCpu: number;
  p50: number;
  p99: number;
  errors: number;
}

/**
 * `connections` keep-alive clients (autocannon reuses each connection; no pipelining) for
 * `seconds`. Latencies come from autocannon's per-response times (fractional ms): its own
 * histogram keeps whole milliseconds, which reads 0 for a one-client row.
 */
function load(server: ServerChild, c: RestCase, connections: number, seconds: number): Promise<Load> {
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${server.address}${c.path}`,
        method: 'POST',
        headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
        body: c.body,
        connections,
        pipelining: 1,
        duration: seconds,
      },
      (err: unknown, r: autocannon.Result) => {
        if (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        latencies.sort((a, b) => a - b);
        const used = process.cpuUsage(cpu);
        const clientCpu = (used.user + used.system) / 1e6 / r.duration;
        resolve({ requestsPerSecond: r['2xx'] / r.duration, clientCpu, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), errors: r.errors + r.non2xx });
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
}

/** Nearest-rank percentile of sorted values (NaN when there are none). */
function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

interface Boundary {
  perSecond: number;
  mainMicros: number;
}

/**
 * The boundary API's rate for the same operation, in this process, as bench/run.ts measures it,
 * and this main thread's CPU per operation (counted over the warm-up too, which is short).
 */
async function boundaryRate(operation: string, seconds: number): Promise<Boundary> {
  const b = await memoryHsm();
  try {
    const { hsm, session } = b;
    let op: () => Promise<unknown>;
    if (operation.startsWith('sign')) {
      const pair = await hsm.generateKeyPair(session, {
        publicTemplate: { keyType: 'ec', curve: 'P-256', verify: true },
        privateTemplate: { keyType: 'ec', curve: 'P-256', sign: true },
      });
      op = () => hsm.sign(session, { key: pair.privateKey, mechanism: 'ECDSA-SHA256', data: MESSAGE });
    } else {
      const aes = await hsm.generateKey(session, { template: { keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true } });
      op = () => hsm.encrypt(session, { key: aes, mechanism: 'AES-GCM', data: BLOCK_1K });
    }
    let calls = 0;
    const counted = (): Promise<unknown> => {
      calls++;
      return op();
    };
    const cpu = mainThreadSeconds();
    const m = await measure(seconds, BOUNDARY_IN_FLIGHT, counted);
    return { perSecond: m.opsPerSecond, mainMicros: ((mainThreadSeconds() - cpu) * 1e6) / calls };
  } finally {
    await b.close();
  }
}

/**
 * Runs every REST row. Each operation's boundary reference is measured right before its REST
 * rows (server child idle), so load from other work on the host hits both sides of a ratio alike.
 */
export async function runRest(opts: RestOptions): Promise<RestResult> {
  const rows: RestRow[] = [];
  const server = await startServerChild();
  const result: RestResult = { rows, serverRssBytes: 0 };
  try {
    const cases = await setUp(server);
    for (const c of cases) {
      const boundary = await boundaryRate(c.operation, opts.seconds);
      await load(server, c, 16, Math.min(1, opts.seconds)); // warm-up: JIT, key cache, sockets
      for (const connections of CONNECTIONS) {
        await server.stats(); // starts the server's utilisation window
        const l = await load(server, c, connections, opts.seconds);
        const s = await server.stats();
        rows.push({ operation: c.operation, connections, ...l, serverElu: s.eventLoopUtilization, serverCpu: s.cpu, serverMainCpu: s.mainThreadCpu, boundaryPerSecond: boundary.perSecond, boundaryMainMicros: boundary.mainMicros });
        process.stderr.write(
          `  REST ${c.operation}, ${connections} clients: ${Math.round(l.requestsPerSecond)} req/s (boundary ${Math.round(boundary.perSecond)} ops/s), ` +
            `p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, ${l.errors} errors\n`,
        );
      }
    }
    result.serverRssBytes = (await server.stats()).rssBytes;
    const sign = cases[0]!;
    const sign64 = rows.find((r) => r.operation === sign.operation && r.connections === 64);
    const short = sign64 !== undefined && sign64.requestsPerSecond / sign64.boundaryPerSecond < SIGN_64_TARGET;
    const profiled = opts.profile ? cases : short ? [sign] : [];
    if (profiled.length > 0) result.profile = [];
    for (const c of profiled) result.profile?.push(...(await profileRow(server, c, 64, opts.seconds)), '');

  } finally {
    await server.close();
  }
  return result;
}

/** Profiles one row on the running server, after the measured rows (profiling slows it). */
async function profileRow(server: ServerChild, c: RestCase, connections: number, seconds: number): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-bench-prof-'));
  try {
    await server.startProfile();
    const l = await load(server, c, connections, seconds);
    await server.stopProfile(join(dir, 'server.cpuprofile'));
    return [
      `profile of REST ${c.operation} with ${connections} clients (${Math.round(l.requestsPerSecond)} req/s while profiled), V8 CPU profiler on the server child:`,
      ...summariseProfile(readProfile(dir)),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Plain-text table of the REST rows, with the ratio to the boundary API. */
export function formatRestTable(rows: readonly RestRow[]): string {
  const header = ['REST operation', 'clients', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'server ELU', 'server CPU (main)', 'main µs/req', 'client CPU', 'boundary ops/s', 'boundary main µs/op', 'ratio'];
  const body = rows.map((r) => [
    r.operation,
    String(r.connections),
    fmt(r.requestsPerSecond),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    String(r.errors),
    r.serverElu.toFixed(2),
    `${r.serverCpu.toFixed(2)} (${r.serverMainCpu.toFixed(2)})`,
    // CPU time, not wall time: the figure least moved by other load on the host.
    Number.isNaN(r.serverMainCpu) ? '—' : fmt((1e6 * r.serverMainCpu) / r.requestsPerSecond),
    r.clientCpu.toFixed(2),
    fmt(r.boundaryPerSecond),
    Number.isNaN(r.boundaryMainMicros) ? '—' : fmt(r.boundaryMainMicros),
    (r.requestsPerSecond / r.boundaryPerSecond).toFixed(3),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

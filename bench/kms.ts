// `npm run bench:kms`: the AWS-KMS endpoint's requests/s through the real @aws-sdk/client-kms
// with 16 concurrent callers (GenerateDataKey AES_256, Encrypt 1 KiB, Sign ECC_NIST_P256 RAW),
// each beside the REST API's rate for the same operation on the same key and server. The server
// is a child process (bench/rest-server.ts: startServer in dev mode, as `coffer server --dev`,
// in-memory store, REST rate limit off) so its CPU is measured apart from the load generator's;
// the SDK callers are spread over the account's two access keys (KMS limits each to 2,000/s). A
// failed request aborts the run. `--quick`: 1 s rows; `--seconds N`; `--profile`: V8 CPU
// profile of the server's main thread during each KMS operation, summarised by layer and area;
// `--profile-dir D` also keeps the .cpuprofile files in D.

import { Agent } from 'node:http';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient, SignCommand, VerifyCommand } from '@aws-sdk/client-kms';
import { type ServerChild, startServerChild } from './rest-child.js';
import { readProfile, summariseProfile } from './rest-profile.js';

const CALLERS = 16;
const ACCESS_KEYS = 2;
const quick = process.argv.includes('--quick');
const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : quick ? 1 : 10;
const profileDirArg = process.argv.indexOf('--profile-dir');
/** Where to keep the .cpuprofile files (open them in Chrome DevTools); a temp directory otherwise. */
const PROFILE_DIR = profileDirArg > 0 ? process.argv[profileDirArg + 1] : undefined;
const PROFILE = process.argv.includes('--profile') || PROFILE_DIR !== undefined;
const WARM_UP_SECONDS = quick ? 0.5 : 2;

const MESSAGE = new Uint8Array(64).fill(0x61); // as the REST and boundary sign rows
const BLOCK_1K = new Uint8Array(1024).fill(0x63);

interface Drive {
  requestsPerSecond: number;
  /** Latency percentiles in milliseconds, request sent to answer parsed, at the caller. */
  p50: number;
  p99: number;
  /** CPU seconds per second of this process (the SDK or fetch callers) during the row. */
  clientCpu: number;
}

interface Row extends Drive {
  operation: string;
  api: 'KMS (SDK)' | 'REST';
  serverElu: number;
  serverCpu: number;
  serverMainCpu: number;
}

/** `callers` concurrent loops of `op` for `seconds`; any failure aborts (such figures mean nothing). */
async function drive(seconds: number, callers: number, op: (caller: number) => Promise<unknown>): Promise<Drive> {
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const loop = async (caller: number): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await op(caller).catch((e: Error) => {
        // The KMS endpoint limits each access key (2,000/s sustained): a throttled run measures the limiter.
        if (e.name === 'ThrottlingException') throw new Error(`caller ${caller} was throttled by the per-access-key rate limit: the figures would measure the limiter`);
        throw e;
      });
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: callers }, (_, i) => loop(i)));
  const elapsed = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  return { requestsPerSecond: latencies.length / elapsed, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), clientCpu: (used.user + used.system) / 1e6 / elapsed };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function rest(server: ServerChild, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(`${server.address}${path}`, init);
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

interface Case {
  operation: string;
  kms: (caller: number) => Promise<unknown>;
  /** The same operation on the same key over REST, where REST has it. */
  rest?: () => Promise<unknown>;
}

/** Creates the keys through KMS, proves each operation round-trips once, and returns the cases. */
async function setUp(server: ServerChild, clients: readonly KMSClient[]): Promise<Case[]> {
  const kms = clients[0]!;
  const by = (caller: number): KMSClient => clients[caller % clients.length]!;
  const aes = (await kms.send(new CreateKeyCommand({ Description: 'bench aes' }))).KeyMetadata!.KeyId!;
  const p256 = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;

  const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: aes, KeySpec: 'AES_256' }));
  const back = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }));
  if (Buffer.compare(Buffer.from(back.Plaintext!), Buffer.from(dk.Plaintext!)) !== 0) throw new Error('set-up: the data key did not unwrap');
  const enc = await kms.send(new EncryptCommand({ KeyId: aes, Plaintext: BLOCK_1K }));
  const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }));
  if (Buffer.compare(Buffer.from(dec.Plaintext!), BLOCK_1K) !== 0) throw new Error('set-up: Encrypt/Decrypt did not round-trip');
  const sig = await kms.send(new SignCommand({ KeyId: p256, Message: MESSAGE, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }));
  const ok = await kms.send(new VerifyCommand({ KeyId: p256, Message: MESSAGE, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256', Signature: sig.Signature }));
  if (ok.SignatureValid !== true) throw new Error('set-up: the signature did not verify');

  // REST on the very same keys (one object model): the KMS KeyId is the Coffer uid.
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
  const signBody = { mechanism: 'ECDSA-SHA256', data: b64(MESSAGE) };
  const encryptBody = { mechanism: 'AES-GCM', plaintext: b64(BLOCK_1K) };
  const restSign = () => rest(server, 'POST', `/v1/keys/${p256}/sign`, signBody);
  const restEncrypt = () => rest(server, 'POST', `/v1/keys/${aes}/encrypt`, encryptBody);
  await restSign();
  await restEncrypt();

  return [
    { operation: 'GenerateDataKey AES_256', kms: (i) => by(i).send(new GenerateDataKeyCommand({ KeyId: aes, KeySpec: 'AES_256' })) },
    { operation: 'Encrypt 1 KiB (AES-256-GCM)', kms: (i) => by(i).send(new EncryptCommand({ KeyId: aes, Plaintext: BLOCK_1K })), rest: restEncrypt },
    { operation: 'Sign ECC_NIST_P256 ECDSA_SHA_256 (64 B RAW)', kms: (i) => by(i).send(new SignCommand({ KeyId: p256, Message: MESSAGE, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' })), rest: restSign },
  ];
}

async function measureRow(server: ServerChild, operation: string, api: Row['api'], op: (caller: number) => Promise<unknown>): Promise<Row> {
  await drive(WARM_UP_SECONDS, CALLERS, op); // JIT, key cache, sockets
  await server.stats(); // starts the server's utilisation window
  const d = await drive(SECONDS, CALLERS, op);
  const s = await server.stats();
  process.stderr.write(`  ${api} ${operation}: ${Math.round(d.requestsPerSecond)} req/s, p50 ${d.p50.toFixed(2)} ms, p99 ${d.p99.toFixed(2)} ms\n`);
  return { operation, api, ...d, serverElu: s.eventLoopUtilization, serverCpu: s.cpu, serverMainCpu: s.mainThreadCpu };
}

async function profile(server: ServerChild, c: Case): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-bench-kms-prof-'));
  try {
    await server.startProfile();
    const d = await drive(SECONDS, CALLERS, c.kms);
    await server.stopProfile(join(dir, 'server.cpuprofile'));
    const p = readProfile(dir);
    if (PROFILE_DIR) {
      mkdirSync(PROFILE_DIR, { recursive: true });
      copyFileSync(join(dir, 'server.cpuprofile'), join(PROFILE_DIR, `kms-${c.operation.split(' ')[0]}.cpuprofile`));
    }
    return [
      `profile of KMS ${c.operation} with ${CALLERS} callers (${Math.round(d.requestsPerSecond)} req/s while profiled), V8 CPU profiler on the server child:`,
      'server main thread, each sample charged to the first layer on its stack of: SigV4, boundary, KMS front end, HTTP:',
      ...byLayer(p),
      ...summariseProfile(p),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Profile = ReturnType<typeof readProfile>;
type ProfileNode = Profile['nodes'][number];

/**
 * Where a KMS request's main-thread time goes: each sample is charged to the first of these
 * layers found on its stack (SigV4 first, so the boundary HMAC it calls counts as SigV4), which
 * self-time areas cannot show. Crypto on libuv's pool is not sampled (it is off this thread).
 */
const LAYERS: readonly { label: string; match: (n: ProfileNode) => boolean }[] = [
  { label: 'SigV4 verification (canonical request, replay cache, boundary HMAC)', match: (n) => /\/frontends\/kms\/sigv4\.js$/.test(n.callFrame.url) },
  { label: 'boundary (policy, key load/unseal, crypto, audit)', match: (n) => /\/dist\/src\/boundary\//.test(n.callFrame.url) },
  { label: 'KMS front end (JSON in/out, blobs, key ids)', match: (n) => /\/frontends\/kms\//.test(n.callFrame.url) },
  { label: 'HTTP (node:http, fastify)', match: (n) => /node:_http|node:net|\/fastify\/|\/find-my-way\/|\/light-my-request\//.test(n.callFrame.url) },
];

function byLayer(p: Profile): string[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, ProfileNode>();
  for (const n of p.nodes) for (const c of n.children ?? []) parentOf.set(c, n);
  const counts = new Map<string, number>();
  for (const id of p.samples) {
    const leaf = byId.get(id);
    if (!leaf) continue;
    const stack: ProfileNode[] = [];
    for (let n: ProfileNode | undefined = leaf; n; n = parentOf.get(n.id)) stack.push(n);
    const special = leaf.callFrame.url === '' && leaf.callFrame.functionName.startsWith('(') ? leaf.callFrame.functionName : undefined;
    const label = special ?? LAYERS.find((l) => stack.some(l.match))?.label ?? 'other (event loop, timers, streams)';
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  const busy = p.samples.length - (counts.get('(idle)') ?? 0);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([label, n]) => `  ${((100 * n) / p.samples.length).toFixed(1).padStart(5)} %  ${label}${label === '(idle)' ? '' : ` (${((100 * n) / busy).toFixed(0)} % of busy)`}`);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function formatTable(rows: readonly Row[]): string {
  const header = ['operation', 'API', 'req/s', 'p50 ms', 'p99 ms', 'server ELU', 'server CPU (main)', 'main µs/req', 'server CPU µs/req', 'client CPU'];
  const body = rows.map((r) => [
    r.operation,
    r.api,
    fmt(r.requestsPerSecond),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    r.serverElu.toFixed(2),
    `${r.serverCpu.toFixed(2)} (${r.serverMainCpu.toFixed(2)})`,
    Number.isNaN(r.serverMainCpu) ? '—' : fmt((1e6 * r.serverMainCpu) / r.requestsPerSecond),
    fmt((1e6 * r.serverCpu) / r.requestsPerSecond),
    r.clientCpu.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  if (!(SECONDS > 0)) throw new Error('--seconds wants a positive number');
  console.log(
    `KMS benchmark${quick ? ' (--quick)' : ''}: node ${process.version}, ${availableParallelism()} cores; server in a child process ` +
      `(dev mode, in-memory store, log silent, REST rate limit off; the KMS limit is per access key); ${CALLERS} concurrent callers in this process ` +
      `(@aws-sdk/client-kms with SigV4 over ${ACCESS_KEYS} access keys, or fetch with a bearer token for REST), ${SECONDS} s per row after ${WARM_UP_SECONDS} s warm-up`,
  );
  const server = await startServerChild();
  // One keep-alive socket per caller, as a long-lived application client would hold.
  const agent = new Agent({ keepAlive: true, maxSockets: CALLERS });
  const clients: KMSClient[] = [];
  try {
    // The account's two access keys (the most it may have), half the callers on each: the KMS
    // endpoint rate-limits per access key, and the benchmark must measure the server, not that.
    for (let i = 0; i < ACCESS_KEYS; i++) {
      const key = (await rest(server, 'POST', '/v1/access-keys')) as { accessKeyId: string; secretAccessKey: string };
      clients.push(
        new KMSClient({
          endpoint: server.address,
          region: 'us-east-1',
          credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
          maxAttempts: 1, // a refused request must fail the run, not be retried into the figures
          requestHandler: { httpAgent: agent },
        }),
      );
    }
    const cases = await setUp(server, clients);
    const rows: Row[] = [];
    for (const c of cases) {
      rows.push(await measureRow(server, c.operation, 'KMS (SDK)', c.kms));
      if (c.rest) rows.push(await measureRow(server, c.operation, 'REST', c.rest));
    }
    const rss = (await server.stats()).rssBytes;
    console.log(`\n${formatTable(rows)}\n`);
    console.log('server ELU = event-loop utilisation; server CPU = CPU seconds per second, all threads (main thread in brackets);');
    console.log('main µs/req and server CPU µs/req = CPU time per request (the figures least moved by other load on the host);');
    console.log('client CPU = this process (SDK: request building, SigV4 signing, parsing) — it shares the cores with the server');
    console.log(`server RSS at end: ${(rss / 2 ** 20).toFixed(1)} MiB`);
    if (PROFILE) for (const c of cases) console.log(`\n${(await profile(server, c)).join('\n')}`);
    console.log(`load average (1, 5, 15 min): ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
  } finally {
    for (const c of clients) c.destroy();
    agent.destroy();
    await server.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

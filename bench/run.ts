// `npm run bench`: Coffer's throughput through the boundary API against `openssl speed` on the
// same machine in the same run (DESIGN §5). Each row's openssl baseline runs right after its
// Coffer measurement, never at the same time, so both meet similar load from anything else on
// the host. Then the REST rows (bench/rest.ts): the same server over HTTP with 1/16/64 clients.
// `--quick` shortens every run for a smoke test; `--rest-only` runs just the REST rows;
// `--rest-profile` profiles each REST operation at 64 clients (the sign is profiled anyway when
// it misses its 40 % target).

import { availableParallelism, loadavg } from 'node:os';
import type { Template } from '../src/boundary/api.js';
import { type BenchHsm, memoryHsm, sqliteHsm } from './hsm-setup.js';
import { formatTable, measure, type Row } from './measure.js';
import { BASELINES, opensslRate, opensslVersion } from './openssl-speed.js';
import { formatRestTable, runRest, SIGN_64_TARGET } from './rest.js';

const quick = process.argv.includes('--quick');
const restOnly = process.argv.includes('--rest-only');
const restProfile = process.argv.includes('--rest-profile');
const SECONDS = quick ? 1 : 5; // per Coffer row
const OPENSSL_SECONDS = quick ? 1 : 3; // per openssl algorithm and direction
const IN_FLIGHT = 32; // enough to keep libuv's pool (4 threads) busy on both cores
const CORES = availableParallelism();

const MESSAGE = new Uint8Array(64).fill(0x61);
const BLOCK_64 = new Uint8Array(64).fill(0x62);
const BLOCK_1K = new Uint8Array(1024).fill(0x63);

interface Case {
  operation: string;
  inFlight: number;
  op: () => Promise<unknown>;
}

async function cryptoCases(b: BenchHsm): Promise<Case[]> {
  const { hsm, session } = b;
  const pair = (publicTemplate: Template, privateTemplate: Template) =>
    hsm.generateKeyPair(session, {
      publicTemplate: { verify: true, ...publicTemplate },
      privateTemplate: { sign: true, ...privateTemplate },
    });
  const rsa = await pair({ keyType: 'rsa', modulusBits: 2048 }, { keyType: 'rsa' });
  const p256 = await pair({ keyType: 'ec', curve: 'P-256' }, { keyType: 'ec', curve: 'P-256' });
  const ed = await pair({ keyType: 'ec-edwards', curve: 'Ed25519' }, { keyType: 'ec-edwards', curve: 'Ed25519' });
  const aes = await hsm.generateKey(session, { template: { keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true } });
  const sign = (key: string, mechanism: string) => () => hsm.sign(session, { key, mechanism, data: MESSAGE });
  const gcm = (data: Uint8Array) => () => hsm.encrypt(session, { key: aes, mechanism: 'AES-GCM', data });
  return [
    { operation: 'sign RSA-2048 SHA256-RSA-PKCS', inFlight: IN_FLIGHT, op: sign(rsa.privateKey, 'SHA256-RSA-PKCS') },
    { operation: 'sign ECDSA P-256 ECDSA-SHA256', inFlight: IN_FLIGHT, op: sign(p256.privateKey, 'ECDSA-SHA256') },
    { operation: 'sign Ed25519 EDDSA', inFlight: IN_FLIGHT, op: sign(ed.privateKey, 'EDDSA') },
    { operation: 'encrypt AES-256-GCM 64 B', inFlight: IN_FLIGHT, op: gcm(BLOCK_64) },
    { operation: 'encrypt AES-256-GCM 1 KiB', inFlight: IN_FLIGHT, op: gcm(BLOCK_1K) },
  ];
}

function keyCreationCase(b: BenchHsm): Case {
  const { hsm, session } = b;
  const template: Template = { keyType: 'aes', valueLen: 32, token: true, encrypt: true, decrypt: true };
  // Each creation is one durable SQLite transaction; a few in flight overlap the async parts.
  return { operation: 'generateKey AES-256 token (SQLite)', inFlight: 8, op: () => hsm.generateKey(session, { template }) };
}

/** Measures one case, then its openssl baseline if it has one. */
async function row(c: Case): Promise<Row> {
  const m = await measure(SECONDS, c.inFlight, c.op);
  const spec = BASELINES[c.operation];
  const openssl = spec ? await opensslRate(spec, CORES, OPENSSL_SECONDS) : undefined;
  const vs = openssl === undefined ? '' : `, openssl ${Math.round(openssl)} ops/s`;
  process.stderr.write(`  ${c.operation}: ${Math.round(m.opsPerSecond)} ops/s${vs}\n`);
  return openssl === undefined ? { operation: c.operation, coffer: m.opsPerSecond } : { operation: c.operation, coffer: m.opsPerSecond, openssl };
}

async function main(): Promise<void> {
  if (!restOnly) await boundaryRows();
  await restRows();
  // Other work on the host skews every column, not necessarily equally: say how busy it was.
  console.log(`load average (1, 5, 15 min): ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
}

async function boundaryRows(): Promise<void> {
  const baselineVersion = await opensslVersion();
  console.log(
    `Coffer benchmark${quick ? ' (--quick)' : ''}: node ${process.version} (OpenSSL ${process.versions.openssl}), ${CORES} cores, ` +
      `${IN_FLIGHT} operations in flight, ${SECONDS} s per Coffer row; ` +
      `baseline openssl speed -multi ${CORES} -seconds ${OPENSSL_SECONDS} (${baselineVersion})`,
  );
  const rows: Row[] = [];
  const mem = await memoryHsm();
  try {
    for (const c of await cryptoCases(mem)) rows.push(await row(c));
  } finally {
    await mem.close();
  }
  const disk = await sqliteHsm();
  try {
    rows.push(await row(keyCreationCase(disk)));
  } finally {
    await disk.close();
  }

  console.log(`\n${formatTable(rows)}\n`);
  console.log('ratio = Coffer ops/s ÷ openssl ops/s (openssl speed signs a bare digest with the key in hand;');
  console.log('Coffer checks the session and policy, loads the key and hashes a 64-byte message per call)');
  console.log(`RSS at end: ${(process.memoryUsage().rss / 2 ** 20).toFixed(1)} MiB\n`);
}

async function restRows(): Promise<void> {
  console.log(
    `REST benchmark${quick ? ' (--quick)' : ''}: server in a child process (in-memory store, log silent, rate limit off), ` +
      `autocannon keep-alive clients in this process, ${SECONDS} s per row; boundary reference: ${IN_FLIGHT} in flight, measured just before`,
  );
  const r = await runRest({ seconds: SECONDS, profile: restProfile });
  console.log(`\n${formatRestTable(r.rows)}\n`);
  console.log('ratio = REST req/s ÷ boundary ops/s of the same operation; server ELU = event-loop utilisation;');
  console.log('CPU = CPU seconds per second: the server process (its main thread in brackets) and autocannon (client);');
  console.log('main µs/req = the server main thread\'s CPU time per request (the event loop is the serial part);');
  console.log('boundary main µs/op = the same for the boundary API alone, so the difference is the HTTP path');
  console.log(`server RSS at end: ${(r.serverRssBytes / 2 ** 20).toFixed(1)} MiB`);
  const sign64 = r.rows.find((x) => x.operation.startsWith('sign') && x.connections === 64);
  if (sign64) {
    const ratio = sign64.requestsPerSecond / sign64.boundaryPerSecond;
    console.log(`REST sign with 64 clients: ${(100 * ratio).toFixed(0)} % of the boundary rate (target ${100 * SIGN_64_TARGET} %)`);
  }
  if (r.profile) console.log(`\n${r.profile.join('\n')}\n`);
  const errors = r.rows.reduce((n, x) => n + x.errors, 0);
  if (errors > 0) {
    console.error(`REST benchmark: ${errors} failed requests; the figures are not valid`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

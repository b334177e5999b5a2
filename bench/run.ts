// `npm run bench`: Coffer's throughput through the boundary API against `openssl speed` on the
// same machine in the same run (DESIGN §5). Coffer is measured first, then openssl, so the two
// never compete for the cores. `--quick` shortens every run for a smoke test.

import { availableParallelism, loadavg } from 'node:os';
import type { Template } from '../src/boundary/api.js';
import { type BenchHsm, memoryHsm, sqliteHsm } from './hsm-setup.js';
import { formatTable, measure, type Row } from './measure.js';
import { opensslBaseline } from './openssl-speed.js';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 1 : 5; // per Coffer row
const OPENSSL_SECONDS = quick ? 1 : 3; // per openssl algorithm and direction
const IN_FLIGHT = 32; // enough to keep libuv's pool (4 threads) busy on both cores
const CORES = availableParallelism();

const MESSAGE = new Uint8Array(64).fill(0x61);
const BLOCK_64 = new Uint8Array(64).fill(0x62);
const BLOCK_1K = new Uint8Array(1024).fill(0x63);

async function signRows(b: BenchHsm): Promise<Row[]> {
  const { hsm, session } = b;
  const pair = (publicTemplate: Template, privateTemplate: Template) =>
    hsm.generateKeyPair(session, {
      publicTemplate: { verify: true, ...publicTemplate },
      privateTemplate: { sign: true, ...privateTemplate },
    });
  const rsa = await pair({ keyType: 'rsa', modulusBits: 2048 }, { keyType: 'rsa' });
  const p256 = await pair({ keyType: 'ec', curve: 'P-256' }, { keyType: 'ec', curve: 'P-256' });
  const ed = await pair({ keyType: 'ec-edwards', curve: 'Ed25519' }, { keyType: 'ec-edwards', curve: 'Ed25519' });
  const cases: [string, string, string][] = [
    ['sign RSA-2048 SHA256-RSA-PKCS', rsa.privateKey, 'SHA256-RSA-PKCS'],
    ['sign ECDSA P-256 ECDSA-SHA256', p256.privateKey, 'ECDSA-SHA256'],
    ['sign Ed25519 EDDSA', ed.privateKey, 'EDDSA'],
  ];
  const rows: Row[] = [];
  for (const [operation, key, mechanism] of cases) {
    const m = await measure(SECONDS, IN_FLIGHT, () => hsm.sign(session, { key, mechanism, data: MESSAGE }));
    rows.push({ operation, coffer: m.opsPerSecond });
    progress(operation, m.opsPerSecond);
  }
  return rows;
}

async function aesRows(b: BenchHsm): Promise<Row[]> {
  const { hsm, session } = b;
  const key = await hsm.generateKey(session, { template: { keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true } });
  const rows: Row[] = [];
  for (const [operation, data] of [
    ['encrypt AES-256-GCM 64 B', BLOCK_64],
    ['encrypt AES-256-GCM 1 KiB', BLOCK_1K],
  ] as const) {
    const m = await measure(SECONDS, IN_FLIGHT, () => hsm.encrypt(session, { key, mechanism: 'AES-GCM', data }));
    rows.push({ operation, coffer: m.opsPerSecond });
    progress(operation, m.opsPerSecond);
  }
  return rows;
}

async function keyCreationRow(b: BenchHsm): Promise<Row> {
  const { hsm, session } = b;
  const operation = 'generateKey AES-256 token (SQLite)';
  // Each creation is one durable SQLite transaction; a few in flight overlap the async parts.
  const m = await measure(SECONDS, 8, () =>
    hsm.generateKey(session, { template: { keyType: 'aes', valueLen: 32, token: true, encrypt: true, decrypt: true } }),
  );
  progress(operation, m.opsPerSecond);
  return { operation, coffer: m.opsPerSecond };
}

function progress(operation: string, opsPerSecond: number): void {
  process.stderr.write(`  ${operation}: ${Math.round(opsPerSecond)} ops/s\n`);
}

async function main(): Promise<void> {
  console.log(
    `Coffer benchmark${quick ? ' (--quick)' : ''}: node ${process.version} (OpenSSL ${process.versions.openssl}), ${CORES} cores, ` +
      `${IN_FLIGHT} operations in flight, ${SECONDS} s per Coffer row, openssl speed -multi ${CORES} -seconds ${OPENSSL_SECONDS}`,
  );
  const rows: Row[] = [];
  const mem = await memoryHsm();
  try {
    rows.push(...(await signRows(mem)), ...(await aesRows(mem)));
  } finally {
    await mem.close();
  }
  const disk = await sqliteHsm();
  try {
    rows.push(await keyCreationRow(disk));
  } finally {
    await disk.close();
  }

  process.stderr.write('  running openssl speed …\n');
  const baseline = await opensslBaseline(CORES, OPENSSL_SECONDS);
  for (const row of rows) row.openssl = baseline.rates[row.operation];

  console.log(`\nbaseline: ${baseline.version}\n`);
  console.log(formatTable(rows));
  console.log(`\nratio = Coffer ops/s ÷ openssl ops/s (openssl speed signs a bare digest; Coffer hashes a 64-byte message and goes through the guard pipeline)`);
  console.log(`RSS at end: ${(process.memoryUsage().rss / 2 ** 20).toFixed(1)} MiB`);
  // Other work on the host skews both columns, not necessarily equally: say how busy it was.
  console.log(`load average (1, 5, 15 min): ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

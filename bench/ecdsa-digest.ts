// Micro-benchmark of prehashed ECDSA (CKM_ECDSA) in-process: `hsm.sign` with mechanism ECDSA
// on a 32-byte digest, one call at a time, for each Weierstrass curve. Run after a build:
// `node dist/bench/ecdsa-digest.js [--seconds N]`. Prints signatures/s and µs of CPU per signature.

import { createHash } from 'node:crypto';
import type { Curve } from '../src/boundary/api.js';
import { memoryHsm } from './hsm-setup.js';

const at = process.argv.indexOf('--seconds');
const seconds = at > 0 ? Number(process.argv[at + 1]) : 3;

const bench = await memoryHsm();
try {
  const digest = createHash('sha256').update('coffer').digest();
  for (const curve of ['P-256', 'P-384', 'P-521', 'secp256k1'] as Curve[]) {
    const pair = await bench.hsm.generateKeyPair(bench.session, {
      publicTemplate: { keyType: 'ec', curve, verify: true, token: false },
      privateTemplate: { keyType: 'ec', sign: true, token: false },
    });
    const key = pair.privateKey;
    // Warm-up: JIT, and noble's one-time tables where noble still multiplies.
    for (let i = 0; i < 20; i++) await bench.hsm.sign(bench.session, { key, mechanism: 'ECDSA', data: digest });
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const end = t0 + BigInt(Math.round(seconds * 1e9));
    let n = 0;
    while (process.hrtime.bigint() < end) {
      await bench.hsm.sign(bench.session, { key, mechanism: 'ECDSA', data: digest });
      n++;
    }
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const cpuUs = (cpu.user + cpu.system) / n;
    console.log(`${curve.padEnd(10)} ${String(Math.round(n / wall)).padStart(7)} sign/s  ${cpuUs.toFixed(0).padStart(6)} µs CPU/sign  (${n} in ${wall.toFixed(1)} s)`);
  }
} finally {
  await bench.close();
}

// Throughput and scale of the SQLite vault. Prints putObject ops/s (one new object with one sealed
// version per durable transaction: three fsyncs, anchor–SQLite–anchor) and the unseal integrity
// scan time over a large store. COFFER_SCALE=1 raises the store to 100,000 objects; the default
// keeps the suite fast. COFFER_PERF_FLOOR=<ops/s> turns the throughput print into an assertion.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { isHsmError } from '../../src/boundary/errors.js';
import { SecretBytes } from '../../src/boundary/secret.js';
import { openVault } from '../../src/boundary/store/vault.js';
import { masterKey, partition, secretValue, storedObject, tempDir } from '../support/store-fixtures.js';

const SCALE = process.env.COFFER_SCALE === '1' ? 100_000 : 10_000;
const BATCH = 1000;

test('throughput: putObject of a new object in its own durable transaction (SQLite, synchronous=FULL)', () => {
  const t = tempDir('coffer-perf-');
  const vault = openVault({ kind: 'sqlite', path: `${t.dir}/store.db` });
  try {
    vault.initialize(masterKey());
    vault.putPartition(partition('p1'));
    const n = 300;
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const secret = SecretBytes.from(secretValue(`k${i}`));
      vault.putObject(storedObject(`k${i}`, 'p1'), new Map([[1, secret]]));
      secret.destroy();
    }
    const opsPerSecond = Math.round((n / (performance.now() - start)) * 1000);
    process.stdout.write(`# store throughput: ${opsPerSecond} putObject/s (new object, one sealed version, own transaction)\n`);
    assert.equal(vault.countObjects('p1'), n);
    const floor = Number(process.env.COFFER_PERF_FLOOR ?? 0);
    assert.ok(opsPerSecond >= floor, `${opsPerSecond} ops/s is below the floor of ${floor}`);
  } finally {
    vault.close();
    t.cleanup();
  }
});

test(`scale: ${SCALE} objects, unseal streams the integrity scan and still catches one edited row`, () => {
  const t = tempDir('coffer-scale-');
  const path = `${t.dir}/store.db`;
  try {
    const v1 = openVault({ kind: 'sqlite', path });
    v1.initialize(masterKey());
    v1.putPartition(partition('p1'));
    v1.putPartition(partition('p2'));
    const secret = SecretBytes.from(secretValue('shared'));
    for (let b = 0; b < SCALE; b += BATCH) {
      v1.transaction(() => {
        for (let i = b; i < Math.min(SCALE, b + BATCH); i++) v1.putObject(storedObject(`o${i}`, i % 10 === 0 ? 'p2' : 'p1'), new Map([[1, secret]]));
      });
    }
    secret.destroy();
    v1.close();

    const v2 = openVault({ kind: 'sqlite', path });
    const heapBefore = process.memoryUsage().heapUsed;
    const start = performance.now();
    v2.unseal(masterKey());
    const seconds = (performance.now() - start) / 1000;
    const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
    process.stdout.write(`# store scale: unseal scan of ${SCALE} objects (+${SCALE} sealed versions) took ${seconds.toFixed(2)} s, heap +${heapMb.toFixed(1)} MB\n`);
    assert.equal(v2.countObjects(), SCALE);
    assert.equal(v2.countObjects('p2'), SCALE / 10);
    assert.equal(v2.listObjects('p2').length, SCALE / 10);
    const last = v2.getObject(`o${SCALE - 1}`)!;
    const s = v2.loadSecret(last, 1)!;
    assert.deepEqual(Uint8Array.from(s.insecureBytes()), secretValue('shared'));
    s.destroy();
    v2.close();

    // One row edited in the middle of the store is still found by the streamed scan.
    const db = new Database(path);
    db.prepare("UPDATE objects SET body = replace(body, '\"sensitive\":true', '\"sensitive\":false') WHERE uid = ?").run(`o${SCALE >> 1}`);
    db.close();
    const v3 = openVault({ kind: 'sqlite', path });
    assert.throws(() => v3.unseal(masterKey()), (e) => isHsmError(e, 'TAMPER_DETECTED'));
    v3.close();
  } finally {
    t.cleanup();
  }
});

// The precomputed ECDSA nonces (mechanisms/ecdsa-nonces.ts): every r‖k⁻¹ pair is consistent (r is
// the x of (k⁻¹)⁻¹·G mod n, checked with @noble/curves, an independent implementation), no pair is
// handed out twice, the worker refills the pool, and a wipe (which KeyCache.clear performs on seal,
// error, tamper and zeroize) leaves nothing pooled and discards a batch still in flight. The key
// cache zeroes the scalar CKM_ECDSA keeps beside a key when it drops the key.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { invert } from '@noble/curves/abstract/modular.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { KeyCache } from '../../src/boundary/key-cache.js';
import { computeNonces, type NonceCurve, pooledNonces, takeNonce, toInt, wipeNonces } from '../../src/boundary/mechanisms/ecdsa-nonces.js';
import { MECHANISMS } from '../../src/boundary/mechanisms/ecdsa-prehashed.js';
import { SecretBytes } from '../../src/boundary/secret.js';
import type { LoadedKey } from '../../src/boundary/types.js';

const CURVES = [
  { noble: p256, curve: { openssl: 'prime256v1', order: p256.Point.Fn.ORDER, bytes: 32 } },
  { noble: p384, curve: { openssl: 'secp384r1', order: p384.Point.Fn.ORDER, bytes: 48 } },
  { noble: p521, curve: { openssl: 'secp521r1', order: p521.Point.Fn.ORDER, bytes: 66 } },
  { noble: secp256k1, curve: { openssl: 'secp256k1', order: secp256k1.Point.Fn.ORDER, bytes: 32 } },
];

/** r must be ((k⁻¹)⁻¹·G).x mod n, with k⁻¹ in [1, n−1]. */
function assertConsistent(noble: (typeof CURVES)[number]['noble'], curve: NonceCurve, r: bigint, kinv: bigint): void {
  const n = curve.order;
  assert.ok(kinv > 0n && kinv < n, 'k⁻¹ in [1, n−1]');
  assert.ok(r > 0n && r < n, 'r in [1, n−1]');
  const k = invert(kinv, n);
  assert.equal(noble.Point.BASE.multiply(k).toAffine().x % n, r, 'r = (k·G).x mod n');
}

test('the mechanism self-test (run at start-up) signs with in-line nonces: no nonce worker starts, nothing is pooled', async () => {
  // First in this file, so nothing else has touched the pool in this process yet.
  await MECHANISMS[0]!.selfTest!();
  await sleep(300); // a refill, had one been asked for, has arrived by now
  for (const { curve } of CURVES) assert.equal(pooledNonces(curve.openssl), 0);
});

for (const { noble, curve } of CURVES) {
  test(`${curve.openssl}: a batch of 40 computed pairs (one batch inversion) is consistent and has no repeated r`, () => {
    const batch = computeNonces(curve, 40);
    assert.equal(batch.length, 40 * 2 * curve.bytes);
    const rs = new Set<bigint>();
    for (let i = 0; i < 40; i++) {
      const at = i * 2 * curve.bytes;
      const r = toInt(batch.subarray(at, at + curve.bytes));
      assertConsistent(noble, curve, r, toInt(batch.subarray(at + curve.bytes, at + 2 * curve.bytes)));
      rs.add(r);
    }
    assert.equal(rs.size, 40);
  });
}

test('P-256 pool: the first nonce is computed in line, the worker then fills the pool, every nonce taken is consistent and new', async () => {
  const { noble, curve } = CURVES[0]!;
  wipeNonces();
  assert.equal(pooledNonces(curve.openssl), 0);
  const seen = new Set<bigint>();
  const first = takeNonce(curve); // empty pool: in line, and a refill is asked for
  assertConsistent(noble, curve, first.r, first.kinv);
  seen.add(first.r);
  for (let i = 0; i < 200 && pooledNonces(curve.openssl) === 0; i++) await sleep(10);
  const pooled = pooledNonces(curve.openssl);
  assert.ok(pooled > 0, 'the worker refilled the pool');
  // Drain past one batch: each take removes exactly one pair, none repeats, all are consistent.
  for (let i = 0; i < 300; i++) {
    const before = pooledNonces(curve.openssl);
    const { r, kinv } = takeNonce(curve);
    if (before > 0) assert.equal(pooledNonces(curve.openssl), before - 1, 'one pair per take');
    if (i % 25 === 0) assertConsistent(noble, curve, r, kinv);
    assert.ok(!seen.has(r), 'a nonce is never handed out twice');
    seen.add(r);
  }
});

test('wipe: the pool is emptied, and a batch asked for before the wipe is zeroed on arrival, not pooled', async () => {
  const { curve } = CURVES[0]!;
  wipeNonces();
  takeNonce(curve); // asks the worker for a batch
  wipeNonces(); // … which is now stale
  await sleep(300); // the stale batch has arrived by now (a batch is a few ms of work)
  assert.equal(pooledNonces(curve.openssl), 0, 'the stale batch was discarded');
  takeNonce(curve); // a fresh request after the wipe is honoured
  for (let i = 0; i < 200 && pooledNonces(curve.openssl) === 0; i++) await sleep(10);
  assert.ok(pooledNonces(curve.openssl) > 0);
  new KeyCache(4).clear(); // what seal, the error state, tamper and zeroize call
  assert.equal(pooledNonces(curve.openssl), 0, 'KeyCache.clear wipes the nonces');
});

test('the key cache zeroes the CKM_ECDSA scalar kept beside a key when it evicts, forgets or clears the key', () => {
  const keyWithScalar = (uid: string): { key: LoadedKey; bytes: Buffer } => {
    const bytes = Buffer.alloc(32, 0x42);
    return { key: { uid, version: 1, keyType: 'ec', class: 'private-key', bits: 256, scalar: SecretBytes.adopt(bytes) }, bytes };
  };
  const cache = new KeyCache(1);
  const a = keyWithScalar('a');
  const b = keyWithScalar('b');
  const c = keyWithScalar('c');
  cache.set(KeyCache.key('a', 1, 0), a.key);
  cache.set(KeyCache.key('b', 1, 0), b.key); // evicts a
  assert.ok(a.key.scalar?.destroyed && a.bytes.every((x) => x === 0), 'evicted: zeroed');
  cache.forget('b');
  assert.ok(b.key.scalar?.destroyed && b.bytes.every((x) => x === 0), 'forgotten: zeroed');
  cache.set(KeyCache.key('c', 1, 0), c.key);
  cache.clear();
  assert.ok(c.key.scalar?.destroyed && c.bytes.every((x) => x === 0), 'cleared: zeroed');
});

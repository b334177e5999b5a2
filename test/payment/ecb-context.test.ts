// The payment ECB helper reuses one OpenSSL context per key and direction across calls (block.ts).
// These tests check that reuse never changes a result: interleaved directions, several keys, multi-block
// inputs, a refused partial block in between, and a key whose secret the cache has zeroised.

import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { HsmError } from '../../src/boundary/errors.js';
import { loadSymmetricKey } from '../../src/boundary/keytypes/symmetric.js';
import { ecb } from '../../src/boundary/mechanisms/payment/block.js';
import type { KeyType } from '../../src/boundary/types.js';

const NAMES: Record<string, string> = { des2: 'des-ede-ecb', des3: 'des-ede3-ecb', aes: 'aes-128-ecb' };

function reference(keyType: KeyType, key: Buffer, data: Buffer, direction: 'encrypt' | 'decrypt'): Buffer {
  const name = NAMES[keyType] as string;
  const c = direction === 'encrypt' ? createCipheriv(name, key, null) : createDecipheriv(name, key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

const VALUES: [KeyType, number][] = [
  ['des2', 16],
  ['des3', 24],
  ['aes', 16],
];

test('ECB through a reused context equals a fresh cipher, call after call, both directions interleaved, several keys', () => {
  const keys = VALUES.flatMap(([kt, len]) => [0, 1].map(() => ({ kt, raw: randomBytes(len) })));
  const loaded = keys.map((k) => loadSymmetricKey(k.kt, k.raw));
  for (let round = 0; round < 50; round++) {
    for (const [i, k] of keys.entries()) {
      const bs = k.kt === 'aes' ? 16 : 8;
      const data = randomBytes(bs * (1 + (round % 3)));
      const direction = (round + i) % 2 === 0 ? 'encrypt' : 'decrypt';
      const key = loaded[i];
      assert.ok(key);
      assert.deepEqual(ecb(key, data, direction), reference(k.kt, k.raw, data, direction), `${k.kt} round ${round} ${direction}`);
    }
  }
});

test('a refused partial block leaves the context in step: the next whole block is still right', () => {
  const raw = randomBytes(16);
  const key = loadSymmetricKey('des2', raw);
  const block = randomBytes(8);
  assert.deepEqual(ecb(key, block, 'encrypt'), reference('des2', raw, block, 'encrypt'));
  for (const bad of [randomBytes(7), randomBytes(9), Buffer.alloc(0)]) {
    assert.throws(
      () => ecb(key, bad, 'encrypt'),
      (e: unknown) => e instanceof HsmError && e.code === 'MECHANISM_PARAM_INVALID',
    );
  }
  assert.deepEqual(ecb(key, block, 'encrypt'), reference('des2', raw, block, 'encrypt'));
  assert.deepEqual(ecb(key, block, 'decrypt'), reference('des2', raw, block, 'decrypt'));
});

test('a key whose secret was zeroised (evicted from the cache while in use) still computes correctly', () => {
  const raw = randomBytes(16);
  const key = loadSymmetricKey('aes', raw);
  const block = randomBytes(32);
  assert.deepEqual(ecb(key, block, 'encrypt'), reference('aes', raw, block, 'encrypt')); // context made
  key.secret?.destroy();
  assert.equal(key.secret?.destroyed, true);
  // The context is dropped; the one-shot path over the KeyObject gives the same answer.
  assert.deepEqual(ecb(key, block, 'encrypt'), reference('aes', raw, block, 'encrypt'));
  assert.deepEqual(ecb(key, block, 'decrypt'), reference('aes', raw, block, 'decrypt'));
});

test('a key type outside the allowed list is refused before any context is made', () => {
  const key = loadSymmetricKey('aes', randomBytes(16));
  assert.throws(
    () => ecb(key, randomBytes(16), 'encrypt', ['des2', 'des3']),
    (e: unknown) => e instanceof HsmError && e.code === 'KEY_TYPE_INCONSISTENT',
  );
});

// Property tests through the boundary API: wrap∘unwrap is the identity on key values, signatures
// and MACs verify and stop verifying after any bit flip, and encryption round-trips, for random
// inputs (fast-check). Keys are made once per test; runs are kept modest for speed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { expectKeyValue, importSecret, importTrustedWrapKey, testHsm } from '../support/hsm.js';

const RUNS = 30;

/** Flips one bit of a copy. */
function flip(b: Uint8Array, bit: number): Uint8Array {
  const c = Uint8Array.from(b);
  const i = Math.floor(bit / 8) % c.length;
  c[i]! ^= 1 << (bit % 8);
  return c;
}

test('property: unwrap(wrap(k)) has the value of k (AES-KWP, and AES-KW for multiples of 8)', async () => {
  const t = await testHsm();
  try {
    const kek = await importTrustedWrapKey(t, 'aes', Uint8Array.from({ length: 32 }, (_, i) => i * 7));
    const keyValue = fc.oneof(
      fc.constantFrom(16, 24, 32).chain((n) => fc.tuple(fc.constant('aes' as const), fc.uint8Array({ minLength: n, maxLength: n }))),
      fc.tuple(fc.constant('generic-secret' as const), fc.uint8Array({ minLength: 14, maxLength: 96 })),
    );
    await fc.assert(
      fc.asyncProperty(keyValue, async ([keyType, value]) => {
        const src = await importSecret(t, keyType, value, keyType === 'aes' ? { encrypt: true, extractable: true } : { sign: true, extractable: true });
        const mechs = value.length % 8 === 0 ? ['AES-KWP', 'AES-KW'] : ['AES-KWP'];
        for (const mechanism of mechs) {
          const { wrapped, params } = await t.hsm.wrapKey(t.user, { wrappingKey: kek, key: src, mechanism });
          const back = await t.hsm.unwrapKey(t.user, {
            unwrappingKey: kek,
            mechanism,
            wrapped,
            ...(params ? { params } : {}),
            template: { class: 'secret-key', keyType: 'generic-secret', sign: true, token: false },
          });
          await expectKeyValue(t, back, value, `${mechanism} ${keyType} ${value.length} bytes`);
          await t.hsm.destroyObject(t.user, back);
        }
        await t.hsm.destroyObject(t.user, src);
      }),
      { numRuns: RUNS },
    );
  } finally {
    await t.close();
  }
});

test('property: sign then verify is true, and false after a flipped bit (ECDSA, EdDSA, HMAC, RSA-PSS)', async () => {
  const t = await testHsm();
  try {
    const ec = await t.hsm.generateKeyPair(t.user, { privateTemplate: { keyType: 'ec', curve: 'P-256' } });
    const ed = await t.hsm.generateKeyPair(t.user, { privateTemplate: { keyType: 'ec-edwards', curve: 'Ed25519' } });
    const rsa = await t.hsm.generateKeyPair(t.user, { privateTemplate: { keyType: 'rsa', modulusBits: 2048 } });
    const mac = await t.hsm.generateKey(t.user, { template: { keyType: 'generic-secret', sign: true, verify: true } });
    const cases = [
      { name: 'ECDSA-SHA256', signer: ec.privateKey, verifier: ec.publicKey },
      { name: 'EDDSA', signer: ed.privateKey, verifier: ed.publicKey },
      { name: 'HMAC-SHA256', signer: mac, verifier: mac },
      { name: 'SHA256-RSA-PKCS-PSS', signer: rsa.privateKey, verifier: rsa.publicKey },
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...cases), fc.uint8Array({ maxLength: 300 }), fc.nat(), async (c, data, bit) => {
        const { signature } = await t.hsm.sign(t.user, { key: c.signer, mechanism: c.name, data });
        assert.equal(await t.hsm.verify(t.user, { key: c.verifier, mechanism: c.name, data, signature }), true, `${c.name} verifies`);
        assert.equal(await t.hsm.verify(t.user, { key: c.verifier, mechanism: c.name, data, signature: flip(signature, bit) }), false, `${c.name}: flipped signature bit ${bit}`);
        if (data.length > 0) assert.equal(await t.hsm.verify(t.user, { key: c.verifier, mechanism: c.name, data: flip(data, bit), signature }), false, `${c.name}: flipped message bit ${bit}`);
      }),
      { numRuns: RUNS * 2 },
    );
  } finally {
    await t.close();
  }
});

test('property: decrypt(encrypt(m)) = m (AES-GCM, AES-CBC-PAD, AES-CTR, RSA-OAEP)', async () => {
  const t = await testHsm();
  try {
    const aes = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, decrypt: true } });
    const rsa = await t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'rsa', modulusBits: 2048, encrypt: true }, privateTemplate: { keyType: 'rsa', decrypt: true } });
    const cases = [
      { name: 'AES-GCM', enc: aes, dec: aes, max: 2048 },
      { name: 'AES-CBC-PAD', enc: aes, dec: aes, max: 2048 },
      { name: 'AES-CTR', enc: aes, dec: aes, max: 2048 },
      { name: 'RSA-PKCS-OAEP', enc: rsa.publicKey, dec: rsa.privateKey, max: 190 }, // RFC 8017 §7.1.1: k − 2hLen − 2 bytes with SHA-256
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...cases), fc.uint8Array({ maxLength: 2048 }), async (c, m) => {
        const data = m.subarray(0, c.max);
        const out = await t.hsm.encrypt(t.user, { key: c.enc, mechanism: c.name, data });
        const back = await t.hsm.decrypt(t.user, { key: c.dec, mechanism: c.name, data: out.data, ...(out.params ? { params: out.params } : {}) });
        assert.equal(Buffer.from(back).toString('hex'), Buffer.from(data).toString('hex'), `${c.name} round trip of ${data.length} bytes`);
      }),
      { numRuns: RUNS * 2 },
    );
  } finally {
    await t.close();
  }
});

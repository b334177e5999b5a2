// Wycheproof ML-KEM and ML-DSA vectors through the boundary API. Private keys are imported as
// PKCS#8 (the vector's own encoding where it has one), which names the parameter set. What the API
// cannot express (fixed encapsulation randomness, external-mu signing, a caller-chosen rnd) is
// checked at the noble level here and recorded in ACCEPTABLE.md.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { HsmError } from '../../src/boundary/api.js';
import { encodePkcs8, encodeSeedChoice } from '../../src/boundary/keytypes/pq-der.js';
import { expectKeyValue, hex, loadWycheproof, type TestHsm, testHsm, type WycheproofFile } from '../support/hsm.js';

/** Resolves true when the call succeeds, false when the HSM refuses it with an HsmError. */
async function accepted(p: () => Promise<unknown>): Promise<boolean> {
  try {
    await p();
    return true;
  } catch (e) {
    if (e instanceof HsmError) return false;
    throw e;
  }
}

function importPrivate(t: TestHsm, keyType: 'ml-kem' | 'ml-dsa', pkcs8: Uint8Array, usage: object): Promise<string> {
  return t.hsm.createObject(t.user, { class: 'private-key', keyType, privateKey: pkcs8, token: false, ...usage });
}

const derivedTemplate = { keyType: 'generic-secret' as const, sign: true, token: false };

for (const file of ['mlkem_512_test.json', 'mlkem_768_test.json', 'mlkem_1024_test.json']) {
  test(`wycheproof ${file} (decapsulation)`, async (ctx) => {
    const data = loadWycheproof<WycheproofFile>(file, (why) => ctx.skip(why));
    if (!data) return;
    const t = await testHsm();
    let n = 0;
    try {
      for (const g of data.testGroups) {
        const set = g.parameterSet as string;
        for (const c of g.tests) {
          const name = `wycheproof:${file}:${c.tcId}`;
          n++;
          const pkcs8 = encodePkcs8(set, encodeSeedChoice(hex(c.seed as string)));
          let key: string | undefined;
          const imported = await accepted(async () => {
            key = await importPrivate(t, 'ml-kem', pkcs8, { decapsulate: true });
          });
          const decaps = async () =>
            expectKeyValue(t, await t.hsm.decapsulate(t.user, { key: key as string, mechanism: 'ML-KEM', ciphertext: hex(c.c as string), template: derivedTemplate }), hex(c.K as string), name);
          if (c.result === 'valid') {
            assert.ok(imported, `${name}: key import refused`);
            await decaps();
            // The public half the HSM derived is the vector's ek.
            if (c.ek) assert.equal(Buffer.from(await t.hsm.getPublicKey(t.user, key as string)).toString('hex'), c.ek, name);
          } else {
            // Invalid: a seed of the wrong length (import refused) or a ciphertext of the wrong length.
            assert.ok(!imported || !(await accepted(decaps)), `${name}: accepted`);
          }
        }
      }
    } finally {
      await t.close();
    }
    assert.equal(n, data.numberOfTests);
  });
}

test('wycheproof mlkem_768_encaps_test.json: fixed-randomness encapsulation (noble level) and ek import (API)', async (ctx) => {
  const file = 'mlkem_768_encaps_test.json';
  const data = loadWycheproof<WycheproofFile>(file, (why) => ctx.skip(why));
  if (!data) return;
  const t = await testHsm();
  let n = 0;
  try {
    for (const g of data.testGroups) {
      for (const c of g.tests) {
        const name = `wycheproof:${file}:${c.tcId}`;
        n++;
        const ek = hex(c.ek as string);
        // The API makes its own m (FIPS 203 §6.2 step 1), so the KAT runs on the library Coffer uses.
        let kat: { cipherText: Uint8Array; sharedSecret: Uint8Array } | undefined;
        try {
          kat = ml_kem768.encapsulate(ek, hex(c.m as string));
        } catch {
          kat = undefined;
        }
        const imported = await accepted(() => t.hsm.createObject(t.user, { class: 'public-key', keyType: 'ml-kem', publicKey: ek, encapsulate: true, token: false }));
        if (c.result === 'valid') {
          assert.ok(kat, name);
          assert.equal(Buffer.from(kat.cipherText).toString('hex'), c.c, name);
          assert.equal(Buffer.from(kat.sharedSecret).toString('hex'), c.K, name);
          assert.ok(imported, `${name}: encapsulation key refused`);
        } else {
          assert.equal(kat, undefined, `${name}: noble accepted`);
          assert.ok(!imported, `${name}: the HSM accepted an invalid encapsulation key`);
        }
      }
    }
    // Round trip through the API: encapsulate to a generated key, decapsulate, same secret.
    const pair = await t.hsm.generateKeyPair(t.user, {
      publicTemplate: { keyType: 'ml-kem', parameterSet: 'ML-KEM-768', encapsulate: true, token: false },
      privateTemplate: { keyType: 'ml-kem', decapsulate: true, token: false },
    });
    const enc = await t.hsm.encapsulate(t.user, { key: pair.publicKey, mechanism: 'ML-KEM', template: derivedTemplate });
    assert.equal(enc.ciphertext.length, 1088);
    const dec = await t.hsm.decapsulate(t.user, { key: pair.privateKey, mechanism: 'ML-KEM', ciphertext: enc.ciphertext, template: derivedTemplate });
    const probe = Buffer.from('same secret?');
    const a = await t.hsm.sign(t.user, { key: enc.key, mechanism: 'HMAC-SHA256', data: probe });
    const b = await t.hsm.sign(t.user, { key: dec, mechanism: 'HMAC-SHA256', data: probe });
    assert.deepEqual(a.signature, b.signature);
  } finally {
    await t.close();
  }
  assert.equal(n, data.numberOfTests);
});

for (const file of ['mldsa_44_verify_test.json', 'mldsa_65_verify_test.json', 'mldsa_87_verify_test.json']) {
  test(`wycheproof ${file}`, async (ctx) => {
    const data = loadWycheproof<WycheproofFile>(file, (why) => ctx.skip(why));
    if (!data) return;
    const t = await testHsm();
    let n = 0;
    try {
      for (const g of data.testGroups) {
        let key: string | undefined;
        const imported = await accepted(async () => {
          key = await t.hsm.createObject(t.user, { class: 'public-key', keyType: 'ml-dsa', publicKey: hex(g.publicKey as string), verify: true, token: false });
        });
        for (const c of g.tests) {
          const name = `wycheproof:${file}:${c.tcId}`;
          n++;
          const params = c.ctx !== undefined ? { dsaContext: hex(c.ctx as string) } : {};
          let ok = false;
          if (imported) {
            try {
              ok = await t.hsm.verify(t.user, { key: key as string, mechanism: 'ML-DSA', data: hex(c.msg as string), signature: hex(c.sig as string), params });
            } catch (e) {
              if (!(e instanceof HsmError)) throw e; // a refused argument (context > 255 bytes) is a rejection
            }
          }
          assert.equal(ok, c.result === 'valid', name);
        }
      }
    } finally {
      await t.close();
    }
    assert.equal(n, data.numberOfTests);
  });
}

test('wycheproof mldsa_65_sign_seed_test.json', async (ctx) => {
  const file = 'mldsa_65_sign_seed_test.json';
  const data = loadWycheproof<WycheproofFile>(file, (why) => ctx.skip(why));
  if (!data) return;
  const t = await testHsm();
  let n = 0;
  try {
    for (const g of data.testGroups) {
      const seed = hex(g.privateSeed as string);
      const pkcs8 = g.privateKeyPkcs8 ? hex(g.privateKeyPkcs8 as string) : encodePkcs8('ML-DSA-65', encodeSeedChoice(seed));
      let key: string | undefined;
      const imported = await accepted(async () => {
        key = await importPrivate(t, 'ml-dsa', pkcs8, { sign: true });
      });
      for (const c of g.tests) {
        const name = `wycheproof:${file}:${c.tcId}`;
        n++;
        if (c.result !== 'valid') {
          const signed = imported && (await accepted(() => t.hsm.sign(t.user, { key: key as string, mechanism: 'ML-DSA', data: hex((c.msg as string) ?? ''), params: { deterministic: true, ...(c.ctx !== undefined ? { dsaContext: hex(c.ctx as string) } : {}) } })));
          assert.ok(!signed, `${name}: accepted`);
          continue;
        }
        assert.ok(imported, `${name}: key refused`);
        const { secretKey, publicKey } = ml_dsa65.keygen(seed);
        assert.equal(Buffer.from(await t.hsm.getPublicKey(t.user, key as string)).toString('hex'), g.publicKey, name);
        if (c.msg === undefined || c.rnd !== undefined) {
          // External-mu (Internal flag) and caller-chosen rnd (Randomized flag) are not API
          // parameters: checked on noble (ACCEPTABLE.md).
          const sig =
            c.msg === undefined
              ? ml_dsa65.internal.sign(hex(c.mu as string), secretKey, { externalMu: true, extraEntropy: (c.rnd as string | undefined) ? hex(c.rnd as string) : false })
              : ml_dsa65.sign(hex(c.msg as string), secretKey, { extraEntropy: hex(c.rnd as string), ...(c.ctx !== undefined ? { context: hex(c.ctx as string) } : {}) });
          assert.equal(Buffer.from(sig).toString('hex'), c.sig, name);
          if (c.msg !== undefined) {
            // Hedged signing through the API still verifies.
            const { signature } = await t.hsm.sign(t.user, { key: key as string, mechanism: 'ML-DSA', data: hex(c.msg as string), params: c.ctx !== undefined ? { dsaContext: hex(c.ctx as string) } : {} });
            assert.ok(ml_dsa65.verify(signature, hex(c.msg as string), publicKey, c.ctx !== undefined ? { context: hex(c.ctx as string) } : {}), name);
          }
          continue;
        }
        const params = { deterministic: true, ...(c.ctx !== undefined ? { dsaContext: hex(c.ctx as string) } : {}) };
        const { signature } = await t.hsm.sign(t.user, { key: key as string, mechanism: 'ML-DSA', data: hex(c.msg as string), params });
        assert.equal(Buffer.from(signature).toString('hex'), c.sig, name);
      }
    }
  } finally {
    await t.close();
  }
  assert.equal(n, data.numberOfTests);
});

// Wycheproof HMAC and HKDF vectors through the boundary API: keys are imported as generic
// secrets, tags are made and checked by the HSM, derived keys are proved by expectKeyValue.
// HKDF outputs longer than a generic secret may be (512 bytes) are checked below the API.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HsmError } from '../../src/boundary/api.js';
import { hashByName } from '../../src/boundary/mechanisms/hash-names.js';
import { hkdfDerive } from '../../src/boundary/mechanisms/kdf.js';
import { SecretBytes } from '../../src/boundary/secret.js';
import { expectKeyValue, hex, importSecret, loadWycheproof, testHsm, type WycheproofFile } from '../support/hsm.js';

/** Largest generic-secret value the key type allows (keytypes/symmetric.ts). */
const GENERIC_MAX = 512;

for (const [file, mech, full] of [
  ['hmac_sha256_test.json', 'HMAC-SHA256', 32],
  ['hmac_sha384_test.json', 'HMAC-SHA384', 48],
  ['hmac_sha512_test.json', 'HMAC-SHA512', 64],
] as const) {
  test(`wycheproof ${file}`, async (ctx) => {
    const data = loadWycheproof<WycheproofFile>(file, (why) => ctx.skip(why));
    if (!data) return;
    const t = await testHsm();
    let valid = 0;
    let invalid = 0;
    try {
      for (const g of data.testGroups) {
        const tagBytes = (g.tagSize as number) / 8;
        const params = tagBytes === full ? {} : { length: tagBytes };
        for (const c of g.tests) {
          const name = `wycheproof:${file}:${c.tcId}`;
          const key = await importSecret(t, 'generic-secret', hex(c.key as string), { sign: true, verify: true });
          const msg = hex(c.msg as string);
          const tag = hex(c.tag as string);
          if (c.result === 'valid') {
            const { signature } = await t.hsm.sign(t.user, { key, mechanism: mech, data: msg, params });
            assert.equal(Buffer.from(signature).toString('hex'), c.tag, name);
            assert.equal(await t.hsm.verify(t.user, { key, mechanism: mech, data: msg, signature: tag, params }), true, name);
            valid++;
          } else {
            assert.equal(c.result, 'invalid', `${name}: no acceptable cases expected`);
            assert.equal(await t.hsm.verify(t.user, { key, mechanism: mech, data: msg, signature: tag, params }), false, name);
            invalid++;
          }
        }
      }
    } finally {
      await t.close();
    }
    assert.equal(valid + invalid, data.numberOfTests);
  });
}

for (const [file, hash] of [
  ['hkdf_sha256_test.json', 'SHA-256'],
  ['hkdf_sha384_test.json', 'SHA-384'],
  ['hkdf_sha512_test.json', 'SHA-512'],
] as const) {
  test(`wycheproof ${file}`, async (ctx) => {
    const data = loadWycheproof<WycheproofFile>(file, (why) => ctx.skip(why));
    if (!data) return;
    const t = await testHsm();
    let seen = 0;
    try {
      for (const g of data.testGroups) {
        for (const c of g.tests) {
          const name = `wycheproof:${file}:${c.tcId}`;
          const size = c.size as number;
          const params = { hash, salt: hex(c.salt as string), info: hex(c.info as string) };
          const ikm = hex(c.ikm as string);
          const base = await importSecret(t, 'generic-secret', ikm, { derive: true });
          const derive = () => t.hsm.deriveKey(t.user, { baseKey: base, mechanism: 'HKDF', params, template: { keyType: 'generic-secret', valueLen: size, sign: true, token: false } });
          if (c.result === 'valid' && size <= GENERIC_MAX) {
            await expectKeyValue(t, await derive(), hex(c.okm as string), name);
          } else if (c.result === 'valid') {
            // A generic secret holds at most 512 bytes: the API refuses the template (ACCEPTABLE.md),
            // and the KDF itself is checked against the vector below the API.
            await assert.rejects(derive, (e: unknown) => e instanceof HsmError && e.code === 'KEY_SIZE_RANGE', name);
            const okm = await hkdfDerive(hashByName(hash), { uid: 'v', version: 1, keyType: 'generic-secret', class: 'secret-key', secret: SecretBytes.from(ikm), bits: ikm.length * 8 }, params.salt, params.info, size);
            assert.equal(okm.insecureBytes().toString('hex'), c.okm, name);
          } else {
            // SizeTooLarge: more than 255·HashLen bytes (RFC 5869 §2.3).
            await assert.rejects(derive, HsmError, name);
            await assert.rejects(
              async () => hkdfDerive(hashByName(hash), { uid: 'v', version: 1, keyType: 'generic-secret', class: 'secret-key', secret: SecretBytes.from(ikm), bits: ikm.length * 8 }, params.salt, params.info, size),
              (e: unknown) => e instanceof HsmError && e.code === 'MECHANISM_PARAM_INVALID',
              name,
            );
          }
          seen++;
        }
      }
    } finally {
      await t.close();
    }
    assert.equal(seen, data.numberOfTests);
  });
}

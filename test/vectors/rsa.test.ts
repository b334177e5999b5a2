// Wycheproof RSA vectors through the boundary API: PKCS#1 v1.5 and PSS verification, PKCS#1 v1.5
// signature generation (exact signatures), OAEP decryption, and PKCS#1 v1.5 decryption (always
// refused). Every `valid` case is accepted, every `invalid` one refused; choices in ACCEPTABLE.md.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { type ErrorCode, isHsmError, type MechanismParams } from '../../src/boundary/api.js';
import { hex, loadWycheproof, type TestHsm, testHsm, type WycheproofTest } from '../support/hsm.js';

type Group = { tests: WycheproofTest[]; [field: string]: unknown };
const s = (x: unknown): string => x as string;
const name = (file: string, tc: WycheproofTest): string => `wycheproof:${file}:${tc.tcId}`;
const eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

async function outcome<T>(p: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; code: ErrorCode }> {
  try {
    return { ok: true, value: await p() };
  } catch (e) {
    if (!isHsmError(e)) throw e; // anything but a coded refusal is a bug
    return { ok: false, code: e.code };
  }
}

function importPublic(t: TestHsm, der: string): Promise<string> {
  return t.hsm.createObject(t.user, { class: 'public-key', keyType: 'rsa', publicKey: hex(der), verify: true, token: false });
}

function importPrivate(t: TestHsm, pkcs8: string, usage: { sign?: boolean; decrypt?: boolean }): Promise<string> {
  return t.hsm.createObject(t.user, { class: 'private-key', keyType: 'rsa', privateKey: hex(pkcs8), token: false, ...usage });
}

const PKCS1_MECHANISM: Record<string, string> = { 'SHA-224': 'SHA224-RSA-PKCS', 'SHA-256': 'SHA256-RSA-PKCS', 'SHA-384': 'SHA384-RSA-PKCS', 'SHA-512': 'SHA512-RSA-PKCS', 'SHA-1': 'SHA1-RSA-PKCS' };
const PSS_MECHANISM: Record<string, string> = { 'SHA-256': 'SHA256-RSA-PKCS-PSS', 'SHA-384': 'SHA384-RSA-PKCS-PSS', 'SHA-512': 'SHA512-RSA-PKCS-PSS' };
const NODE_HASH: Record<string, string> = { 'SHA-1': 'sha1', 'SHA-224': 'sha224', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

for (const FILE of ['rsa_signature_2048_sha256_test.json', 'rsa_signature_3072_sha256_test.json', 'rsa_signature_4096_sha512_test.json']) {
  test(`wycheproof ${FILE}: PKCS#1 v1.5 verification`, async (ctx) => {
    const file = loadWycheproof(FILE, (w) => ctx.skip(w));
    if (!file) return;
    const t = await testHsm();
    try {
      let checked = 0;
      for (const g of file.testGroups as Group[]) {
        const key = await importPublic(t, s(g.publicKeyDer));
        const mechanism = PKCS1_MECHANISM[s(g.sha)];
        assert.ok(mechanism, `${FILE}: hash ${s(g.sha)}`);
        for (const tc of g.tests) {
          const n = name(FILE, tc);
          const ok = await t.hsm.verify(t.user, { key, mechanism, data: hex(s(tc.msg)), signature: hex(s(tc.sig)) });
          // acceptable = MissingNull (DigestInfo without the NULL parameter): refused, see ACCEPTABLE.md.
          assert.equal(ok, tc.result === 'valid', `${n} (${tc.result} ${tc.flags.join(',')})`);
          checked++;
        }
      }
      assert.equal(checked, file.numberOfTests);
    } finally {
      await t.close();
    }
  });
}

for (const FILE of ['rsa_pss_2048_sha256_mgf1_32_test.json', 'rsa_pss_3072_sha256_mgf1_32_test.json', 'rsa_pss_4096_sha512_mgf1_64_test.json']) {
  test(`wycheproof ${FILE}: PSS verification, hashing and prehashed mechanisms`, async (ctx) => {
    const file = loadWycheproof(FILE, (w) => ctx.skip(w));
    if (!file) return;
    const t = await testHsm();
    try {
      let checked = 0;
      for (const g of file.testGroups as Group[]) {
        const key = await importPublic(t, s(g.publicKeyDer));
        const sha = s(g.sha);
        const params: MechanismParams = { hash: sha, mgfHash: s(g.mgfSha), saltLength: g.sLen as number };
        for (const tc of g.tests) {
          const n = name(FILE, tc);
          const msg = hex(s(tc.msg));
          const signature = hex(s(tc.sig));
          const hashing = await t.hsm.verify(t.user, { key, mechanism: fn(PSS_MECHANISM[sha]), data: msg, signature, params });
          assert.equal(hashing, tc.result === 'valid', `${n} (${tc.result} ${tc.flags.join(',')}) hashing mechanism`);
          // Same case through CKM_RSA_PKCS_PSS over the digest: Coffer's own EMSA-PSS verifier.
          const digest = createHash(fn(NODE_HASH[sha])).update(msg).digest();
          const pre = await t.hsm.verify(t.user, { key, mechanism: 'RSA-PKCS-PSS', data: digest, signature, params });
          assert.equal(pre, tc.result === 'valid', `${n} (${tc.result} ${tc.flags.join(',')}) prehashed`);
          checked++;
        }
      }
      assert.equal(checked, file.numberOfTests);
    } finally {
      await t.close();
    }
  });
}

test('wycheproof rsa_pkcs1_2048_sig_gen_test.json: signatures equal the published ones', async (ctx) => {
  const FILE = 'rsa_pkcs1_2048_sig_gen_test.json';
  const file = loadWycheproof(FILE, (w) => ctx.skip(w));
  if (!file) return;
  const t = await testHsm();
  try {
    const counts = { exact: 0, weakHashRefused: 0 };
    for (const g of file.testGroups as Group[]) {
      const sha = s(g.sha);
      const key = await importPrivate(t, s(g.privateKeyPkcs8), { sign: true });
      for (const tc of g.tests) {
        const n = name(FILE, tc);
        const msg = hex(s(tc.msg));
        const want = hex(s(tc.sig));
        const mechanism = sha === 'SHA-1' ? undefined : PKCS1_MECHANISM[sha];
        if (!mechanism) {
          // WeakHash (acceptable): SHA1-RSA-PKCS verifies only; SHA-1 signing is not offered.
          assert.equal(tc.result, 'acceptable', `${n}: only acceptable cases may be refused`);
          const r = await outcome(() => t.hsm.sign(t.user, { key, mechanism: 'SHA1-RSA-PKCS', data: msg }));
          assert.ok(!r.ok && r.code === 'MECHANISM_INVALID', `${n}: SHA-1 signing refused (${r.ok ? 'signed' : r.code})`);
          // The signature itself is right: SHA1-RSA-PKCS verifies it.
          const pub = await t.hsm.getPublicKey(t.user, key);
          const pubKey = await t.hsm.createObject(t.user, { class: 'public-key', keyType: 'rsa', publicKey: pub, verify: true, token: false });
          assert.ok(await t.hsm.verify(t.user, { key: pubKey, mechanism: 'SHA1-RSA-PKCS', data: msg, signature: want }), `${n}: SHA-1 verification`);
          counts.weakHashRefused++;
          continue;
        }
        const { signature } = await t.hsm.sign(t.user, { key, mechanism, data: msg });
        assert.ok(eq(signature, want), `${n} (${tc.result} ${tc.flags.join(',')}): exact signature`);
        counts.exact++;
      }
    }
    assert.equal(counts.exact + counts.weakHashRefused, file.numberOfTests);
  } finally {
    await t.close();
  }
});

for (const FILE of [
  'rsa_oaep_2048_sha1_mgf1sha1_test.json',
  'rsa_oaep_2048_sha256_mgf1sha256_test.json',
  'rsa_oaep_3072_sha256_mgf1sha256_test.json',
  'rsa_oaep_4096_sha512_mgf1sha512_test.json',
]) {
  test(`wycheproof ${FILE}: OAEP decryption, one failure code for every invalid case`, async (ctx) => {
    const file = loadWycheproof(FILE, (w) => ctx.skip(w));
    if (!file) return;
    const t = await testHsm();
    try {
      let checked = 0;
      for (const g of file.testGroups as Group[]) {
        const key = await importPrivate(t, s(g.privateKeyPkcs8), { decrypt: true });
        for (const tc of g.tests) {
          const n = name(FILE, tc);
          const params: MechanismParams = { hash: s(g.sha), mgfHash: s(g.mgfSha), label: hex(s(tc.label ?? '')) };
          const r = await outcome(() => t.hsm.decrypt(t.user, { key, mechanism: 'RSA-PKCS-OAEP', data: hex(s(tc.ct)), params }));
          if (tc.result === 'valid') {
            assert.ok(r.ok, `${n}: valid ciphertext must decrypt (${r.ok ? '' : r.code})`);
            assert.ok(eq(r.value, hex(s(tc.msg))), `${n}: plaintext`);
          } else {
            assert.ok(!r.ok && r.code === 'DECRYPT_FAILED', `${n} (${tc.flags.join(',')}): ${r.ok ? 'decrypted' : r.code}`);
          }
          checked++;
        }
      }
      assert.equal(checked, file.numberOfTests);
    } finally {
      await t.close();
    }
  });
}

test('wycheproof rsa_pkcs1_2048_test.json: PKCS#1 v1.5 decryption is refused for every case', async (ctx) => {
  const FILE = 'rsa_pkcs1_2048_test.json';
  const file = loadWycheproof(FILE, (w) => ctx.skip(w));
  if (!file) return;
  const t = await testHsm();
  try {
    let checked = 0;
    for (const g of file.testGroups as Group[]) {
      const key = await importPrivate(t, s(g.privateKeyPkcs8), { decrypt: true });
      for (const tc of g.tests) {
        const n = name(FILE, tc);
        // Valid and invalid alike: no padding oracle exists to probe (attacks.md B-01, B-03).
        for (const mechanism of ['RSA-PKCS', 'RSAES_PKCS1_V1_5']) {
          const r = await outcome(() => t.hsm.decrypt(t.user, { key, mechanism, data: hex(s(tc.ct)) }));
          assert.ok(!r.ok && r.code === 'MECHANISM_INVALID', `${n} via ${mechanism}: ${r.ok ? 'decrypted' : r.code}`);
        }
        checked++;
      }
    }
    assert.equal(checked, file.numberOfTests);
  } finally {
    await t.close();
  }
});

function fn<T>(x: T | undefined): T {
  assert.ok(x !== undefined);
  return x;
}

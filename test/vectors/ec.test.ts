// Wycheproof elliptic-curve vectors through the boundary API: ECDSA verification (DER and IEEE
// P1363 files), Ed25519/Ed448 verification, and ECDH/X25519/X448 key agreement, where every
// derived key is proved equal to `shared` without reading it. Choices for `acceptable` cases are
// counted here and written down in ACCEPTABLE.md.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Curve, type ErrorCode, isHsmError, type KeyType } from '../../src/boundary/api.js';
import { expectKeyValue, hex, loadWycheproof, type TestHsm, testHsm, type WycheproofTest } from '../support/hsm.js';

type Group = { tests: WycheproofTest[]; [field: string]: unknown };
const s = (x: unknown): string => x as string;
const name = (file: string, tc: WycheproofTest): string => `wycheproof:${file}:${tc.tcId}`;

async function outcome<T>(p: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; code: ErrorCode }> {
  try {
    return { ok: true, value: await p() };
  } catch (e) {
    if (!isHsmError(e)) throw e; // anything but a coded refusal is a bug
    return { ok: false, code: e.code };
  }
}

function importPublic(t: TestHsm, keyType: KeyType, der: string): Promise<string> {
  return t.hsm.createObject(t.user, { class: 'public-key', keyType, publicKey: hex(der), verify: true, token: false });
}

const ECDSA_MECHANISM: Record<string, string> = { 'SHA-256': 'ECDSA-SHA256', 'SHA-384': 'ECDSA-SHA384', 'SHA-512': 'ECDSA-SHA512' };

for (const FILE of [
  'ecdsa_secp256r1_sha256_test.json',
  'ecdsa_secp384r1_sha384_test.json',
  'ecdsa_secp521r1_sha512_test.json',
  'ecdsa_secp256k1_sha256_test.json',
  'ecdsa_secp256r1_sha256_p1363_test.json',
  'ecdsa_secp384r1_sha384_p1363_test.json',
  'ecdsa_secp521r1_sha512_p1363_test.json',
  'ecdsa_secp256k1_sha256_p1363_test.json',
]) {
  test(`wycheproof ${FILE}: ECDSA verification`, async (ctx) => {
    const file = loadWycheproof(FILE, (w) => ctx.skip(w));
    if (!file) return;
    const signatureFormat = FILE.includes('p1363') ? 'raw' : 'der';
    const t = await testHsm();
    try {
      let checked = 0;
      for (const g of file.testGroups as Group[]) {
        const key = await importPublic(t, 'ec', s(g.publicKeyDer));
        const mechanism = ECDSA_MECHANISM[s(g.sha)];
        assert.ok(mechanism, `${FILE}: hash ${s(g.sha)}`);
        for (const tc of g.tests) {
          const ok = await t.hsm.verify(t.user, { key, mechanism, data: hex(s(tc.msg)), signature: hex(s(tc.sig)), params: { signatureFormat } });
          assert.equal(ok, tc.result === 'valid', `${name(FILE, tc)} (${tc.result} ${tc.flags.join(',')})`);
          checked++;
        }
      }
      assert.equal(checked, file.numberOfTests);
    } finally {
      await t.close();
    }
  });
}

for (const FILE of ['ed25519_test.json', 'ed448_test.json']) {
  test(`wycheproof ${FILE}: EdDSA verification`, async (ctx) => {
    const file = loadWycheproof(FILE, (w) => ctx.skip(w));
    if (!file) return;
    const t = await testHsm();
    try {
      let checked = 0;
      for (const g of file.testGroups as Group[]) {
        const key = await importPublic(t, 'ec-edwards', s(g.publicKeyDer));
        for (const tc of g.tests) {
          const ok = await t.hsm.verify(t.user, { key, mechanism: 'EDDSA', data: hex(s(tc.msg)), signature: hex(s(tc.sig)) });
          assert.equal(ok, tc.result === 'valid', `${name(FILE, tc)} (${tc.result} ${tc.flags.join(',')})`);
          checked++;
        }
      }
      assert.equal(checked, file.numberOfTests);
    } finally {
      await t.close();
    }
  });
}

/** DER of each curve's AlgorithmIdentifier (RFC 5480 §2.1.1; RFC 8410 §3). */
const ALG_ID: Record<string, { curve: Curve; keyType: KeyType; algId: string; size: number }> = {
  secp256r1: { curve: 'P-256', keyType: 'ec', algId: '301306072a8648ce3d020106082a8648ce3d030107', size: 32 },
  secp384r1: { curve: 'P-384', keyType: 'ec', algId: '301006072a8648ce3d020106052b81040022', size: 48 },
  secp521r1: { curve: 'P-521', keyType: 'ec', algId: '301006072a8648ce3d020106052b81040023', size: 66 },
  secp256k1: { curve: 'secp256k1', keyType: 'ec', algId: '301006072a8648ce3d020106052b8104000a', size: 32 },
  curve25519: { curve: 'X25519', keyType: 'ec-montgomery', algId: '300506032b656e', size: 32 },
  curve448: { curve: 'X448', keyType: 'ec-montgomery', algId: '300506032b656f', size: 56 },
};

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), content]);
}

/** PKCS#8 around Wycheproof's private value: an RFC 5915 ECPrivateKey, or RFC 8410 §7 octets. */
function pkcs8(curveName: string, privateHex: string): Uint8Array {
  const c = ALG_ID[curveName];
  assert.ok(c, curveName);
  let d = Buffer.from(privateHex, 'hex');
  let inner: Buffer;
  if (c.keyType === 'ec') {
    while (d.length > c.size && d[0] === 0) d = d.subarray(1);
    d = Buffer.concat([Buffer.alloc(c.size - d.length), d]);
    inner = tlv(0x30, Buffer.concat([Buffer.from('020101', 'hex'), tlv(0x04, d)]));
  } else {
    inner = tlv(0x04, d);
  }
  return tlv(0x30, Buffer.concat([Buffer.from('020100', 'hex'), Buffer.from(c.algId, 'hex'), tlv(0x04, inner)]));
}

interface Tally {
  accepted: Record<string, number>;
  refused: Record<string, number>;
}

const bump = (r: Record<string, number>, k: string): void => {
  r[k] = (r[k] ?? 0) + 1;
};

for (const FILE of ['ecdh_secp256r1_test.json', 'ecdh_secp384r1_test.json', 'ecdh_secp521r1_test.json', 'ecdh_secp256k1_test.json', 'x25519_test.json', 'x448_test.json']) {
  test(`wycheproof ${FILE}: key agreement, derived keys equal the shared secret`, async (ctx) => {
    const file = loadWycheproof(FILE, (w) => ctx.skip(w));
    if (!file) return;
    const t = await testHsm();
    const tally: Tally = { accepted: {}, refused: {} };
    try {
      let checked = 0;
      for (const g of file.testGroups as Group[]) {
        const c = ALG_ID[s(g.curve)];
        assert.ok(c, `${FILE}: curve ${s(g.curve)}`);
        const bases = new Map<string, string>();
        for (const tc of g.tests) {
          const n = name(FILE, tc);
          const priv = s(tc.private);
          let baseKey = bases.get(priv);
          if (!baseKey) {
            baseKey = await t.hsm.createObject(t.user, { class: 'private-key', keyType: c.keyType, privateKey: pkcs8(s(g.curve), priv), derive: true, token: false });
            bases.set(priv, baseKey);
          }
          const shared = hex(s(tc.shared));
          const valueLen = shared.length > 0 ? shared.length : c.size;
          const r = await outcome(() =>
            t.hsm.deriveKey(t.user, {
              baseKey,
              mechanism: 'ECDH1-DERIVE',
              params: { publicData: hex(s(tc.public)) },
              template: { class: 'secret-key', keyType: 'generic-secret', valueLen, sign: true, token: false },
            }),
          );
          const flags = tc.flags.join(',');
          if (tc.result === 'valid') {
            assert.ok(r.ok, `${n} (${flags}): valid case refused with ${r.ok ? '' : r.code}`);
            await expectKeyValue(t, r.value, shared, `${n}: derived key equals shared`);
          } else if (tc.result === 'invalid') {
            assert.ok(!r.ok && r.code === 'DOMAIN_PARAMS_INVALID', `${n} (${flags}): ${r.ok ? 'accepted' : r.code}`);
          } else if (r.ok) {
            // Accepted acceptable cases must still compute the right Z (Wycheproof's own rule).
            assert.ok(shared.length > 0, `${n} (${flags}): accepted without a defined shared secret`);
            await expectKeyValue(t, r.value, shared, `${n} (${flags}): derived key equals shared`);
            bump(tally.accepted, flags);
          } else {
            assert.equal(r.code, 'DOMAIN_PARAMS_INVALID', `${n} (${flags})`);
            // RFC 7748 §6.1: an all-zero secret is always refused.
            bump(tally.refused, flags);
          }
          if (tc.flags.includes('ZeroSharedSecret')) assert.ok(!r.ok, `${n}: all-zero shared secret refused`);
          checked++;
        }
      }
      assert.equal(checked, file.numberOfTests);
      ctx.diagnostic(`${FILE} acceptable accepted: ${JSON.stringify(tally.accepted)}`);
      ctx.diagnostic(`${FILE} acceptable refused: ${JSON.stringify(tally.refused)}`);
    } finally {
      await t.close();
    }
  });
}

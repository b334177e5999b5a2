// Descriptor-level tests of the symmetric key types and the AES/TDES mechanisms: published
// vectors (SP 800-38A/B, RFC 3394/4493/5649, ISO/IEC 9797-1 B.4), parameter checks, uniform
// failure codes, and the DES key rules. The same vectors back each descriptor's selfTest().

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ErrorCode, HsmError } from '../../src/boundary/errors.js';
import { KEY_TYPES, loadSymmetricKey } from '../../src/boundary/keytypes/symmetric.js';
import { MECHANISMS as AES } from '../../src/boundary/mechanisms/aes.js';
import { MECHANISMS as TDES } from '../../src/boundary/mechanisms/tdes.js';
import type { MechanismDescriptor, MechanismImpl } from '../../src/boundary/mechanisms/types.js';
import { SecretBytes } from '../../src/boundary/secret.js';
import type { KeyType } from '../../src/boundary/types.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ALL = [...AES, ...TDES];

function mech(name: string): MechanismImpl {
  const m = ALL.find((d) => d.name === name);
  assert.ok(m, name);
  return m.impl;
}

function fn<T>(f: T | undefined): T {
  assert.ok(f);
  return f;
}

function kt(keyType: KeyType) {
  const d = KEY_TYPES.find((k) => k.keyType === keyType);
  assert.ok(d, keyType);
  return d;
}

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: ErrorCode): Promise<void> {
  await assert.rejects(
    async () => (typeof p === 'function' ? p() : p),
    (e: unknown) => e instanceof HsmError && e.code === code,
    `expected ${code}`,
  );
}

const plain = (x: Uint8Array | SecretBytes): Buffer => (x instanceof SecretBytes ? Buffer.from(x.insecureBytes()) : Buffer.from(x));

test('every symmetric descriptor passes its known-answer self-test quickly', async () => {
  for (const m of ALL) {
    const t0 = performance.now();
    await m.selfTest();
    assert.ok(performance.now() - t0 < 50, `${m.name} self-test took too long`);
  }
});

test('descriptor tables: CKM numbers, operations implemented, CBC-PAD never wraps, ECB disabled by default', () => {
  const ckm = Object.fromEntries(ALL.filter((m) => m.ckm !== undefined).map((m) => [m.name, m.ckm]));
  assert.deepEqual(ckm, {
    'AES-ECB': 0x1081,
    'AES-CBC': 0x1082,
    'AES-CBC-PAD': 0x1085,
    'AES-CTR': 0x1086,
    'AES-GCM': 0x1087,
    'AES-CMAC': 0x108a,
    'AES-KW': 0x2109,
    'AES-KWP': 0x210b,
    'DES3-ECB': 0x132,
    'DES3-CBC': 0x133,
    'DES3-CBC-PAD': 0x136,
    'DES3-CMAC': 0x138,
  });
  for (const m of ALL as MechanismDescriptor[]) {
    for (const op of m.operations) assert.ok(op === 'generate' || op === 'generate-pair' || m.impl[op], `${m.name} ${op}`);
    if (m.name.endsWith('CBC-PAD')) assert.ok(!m.operations.includes('wrap') && !m.impl.wrap && !m.impl.unwrap, m.name);
    if (m.name.endsWith('-ECB')) assert.equal(m.disabledByDefault, true, m.name);
    if (m.family === 'tdes') assert.equal(m.approved, false, m.name);
  }
  const names = ALL.flatMap((m) => [m.name, ...(m.aliases ?? [])].map((n) => n.toUpperCase()));
  assert.equal(new Set(names).size, names.length, 'names and aliases are unique');
});

test('key types: sizes, defaults, strengths and CKK numbers', async () => {
  assert.deepEqual(
    KEY_TYPES.map((k) => [k.keyType, k.ckk]),
    [
      ['aes', 0x1f],
      ['des2', 0x14],
      ['des3', 0x15],
      ['generic-secret', 0x10],
    ],
  );
  assert.equal(kt('aes').normalizeSpec({ keyType: 'aes' }).valueLen, 32);
  assert.equal(kt('generic-secret').normalizeSpec({ keyType: 'generic-secret' }).valueLen, 32);
  assert.equal(kt('des2').normalizeSpec({ keyType: 'des2' }).valueLen, 16);
  for (const [t, len] of [
    ['aes', 20],
    ['aes', 0],
    ['des2', 24],
    ['des3', 16],
    ['generic-secret', 0],
    ['generic-secret', 513],
    ['generic-secret', 1.5],
  ] as const) {
    await rejectsWith(() => kt(t).normalizeSpec({ keyType: t, valueLen: len }), 'KEY_SIZE_RANGE');
  }
  assert.equal(kt('aes').strength({ valueLen: 16 }), 128);
  assert.equal(kt('aes').strength({ valueLen: 32 }), 256);
  assert.equal(kt('des2').strength({ valueLen: 16 }), 80);
  assert.equal(kt('des3').strength({ valueLen: 24 }), 112);
  assert.equal(kt('generic-secret').strength({ valueLen: 16 }), 128);
  assert.equal(kt('generic-secret').strength({ valueLen: 64 }), 256);
  const g = await fn(kt('aes').generate)({ keyType: 'aes', valueLen: 24 });
  assert.equal(g.secret.length, 24);
  const k = kt('aes').load('u', 1, { secret: g.secret });
  assert.equal(k.bits, 192);
  assert.equal(k.keyObject?.symmetricKeySize, 24);
  assert.deepEqual(kt('aes').facts({ secret: g.secret }), { valueLen: 24 });
});

test('DES keys: generated with odd parity, degenerate halves refused on load (attacks.md A-11)', async () => {
  for (const t of ['des2', 'des3'] as const) {
    const { secret } = await fn(kt(t).generate)({ keyType: t });
    for (const b of secret.insecureBytes()) {
      let ones = 0;
      for (let v = b; v; v >>= 1) ones += v & 1;
      assert.equal(ones % 2, 1, 'odd parity');
    }
  }
  const k1 = '0123456789abcdef';
  const k2 = 'fedcba9876543210';
  const k1p = '0022446688aaccee'; // k1 with every parity bit flipped: the same DES key
  for (const [t, value] of [
    ['des2', k1 + k1],
    ['des2', k1 + k1p],
    ['des3', k1 + k1 + k2],
    ['des3', k2 + k1 + k1],
  ] as const) {
    await rejectsWith(() => loadSymmetricKey(t, hex(value)), 'ATTRIBUTE_VALUE_INVALID');
  }
  // K1 = K3 is keying option 2 (two-key TDES), not degenerate.
  assert.equal(loadSymmetricKey('des3', hex(k1 + k2 + k1)).bits, 192);
  await rejectsWith(() => loadSymmetricKey('des2', hex(k1 + k2 + k1)), 'ATTRIBUTE_VALUE_INVALID');
  await rejectsWith(() => loadSymmetricKey('aes', hex('00'.repeat(20))), 'ATTRIBUTE_VALUE_INVALID');
  await rejectsWith(() => loadSymmetricKey('generic-secret', new Uint8Array(0)), 'ATTRIBUTE_VALUE_INVALID');
  await rejectsWith(() => kt('aes').load('u', 1, {}), 'ATTRIBUTE_VALUE_INVALID');
});

test('AES-CMAC: RFC 4493 §4 examples, truncation, malformed tags verify false', async () => {
  const cmac = mech('AES-CMAC');
  const key = loadSymmetricKey('aes', hex('2b7e151628aed2a6abf7158809cf4f3c'));
  const m = hex(`6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
                 30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710`);
  const cases: [number, string][] = [
    [0, 'bb1d6929e95937287fa37d129b756746'],
    [16, '070a16b46b4d4144f79bdd9dd04a287c'],
    [40, 'dfa66747de9ae63030ca32611497c827'],
    [64, '51f0bebf7e3b9d92fc49741779363cfe'],
  ];
  for (const [len, tag] of cases) {
    assert.deepEqual(plain(await fn(cmac.sign)(key, m.subarray(0, len), {})), hex(tag), `Mlen ${len}`);
    assert.equal(await fn(cmac.verify)(key, m.subarray(0, len), hex(tag), {}), true);
  }
  assert.deepEqual(plain(await fn(cmac.sign)(key, m.subarray(0, 16), { length: 8 })), hex('070a16b46b4d4144'));
  assert.equal(await fn(cmac.verify)(key, m.subarray(0, 16), hex('070a16b46b4d4144'), { length: 8 }), true);
  assert.equal(await fn(cmac.verify)(key, m.subarray(0, 16), hex('070a16b46b4d4144'), {}), false, 'short tag, full length expected');
  assert.equal(await fn(cmac.verify)(key, m.subarray(0, 16), new Uint8Array(0), {}), false);
  assert.equal(await fn(cmac.verify)(key, m.subarray(0, 16), hex('070a16b46b4d4144f79bdd9dd04a287d'), {}), false);
  await rejectsWith(fn(cmac.sign)(key, m, { length: 3 }), 'MECHANISM_PARAM_INVALID');
  await rejectsWith(fn(cmac.sign)(key, m, { length: 17 }), 'MECHANISM_PARAM_INVALID');
  await rejectsWith(fn(cmac.verify)(key, m, hex('00'), { length: 2 }), 'MECHANISM_PARAM_INVALID');
  await rejectsWith(fn(cmac.sign)(key, m, { iv: new Uint8Array(16) }), 'MECHANISM_PARAM_INVALID');
  await rejectsWith(fn(cmac.sign)(loadSymmetricKey('des2', hex('0123456789abcdeffedcba9876543210')), m, {}), 'KEY_TYPE_INCONSISTENT');
});

test('DES3-CMAC: SP 800-38B updated examples for three- and two-key TDES', async () => {
  const cmac = mech('DES3-CMAC');
  const m = hex('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51');
  const sets: [KeyType, string, [number, string][]][] = [
    [
      'des3',
      '8aa83bf8cbda10620bc1bf19fbb6cd58bc313d4a371ca8b5',
      [
        [0, 'b7a688e122ffaf95'],
        [8, '8e8f293136283797'],
        [20, '743ddbe0ce2dc2ed'],
        [32, '33e6b1092400eae5'],
      ],
    ],
    [
      'des2',
      '4cf15134a2850dd58a3d10ba80570d38',
      [
        [0, 'bd2ebf9a3ba00361'],
        [8, '4ff2ab813c53ce83'],
        [20, '62dd1b471902bd4e'],
        [32, '31b1e431dabc4eb8'],
      ],
    ],
  ];
  for (const [t, k, cases] of sets) {
    const key = loadSymmetricKey(t, hex(k));
    for (const [len, tag] of cases) {
      assert.deepEqual(plain(await fn(cmac.sign)(key, m.subarray(0, len), {})), hex(tag), `${t} Mlen ${len}`);
      assert.equal(await fn(cmac.verify)(key, m.subarray(0, len), hex(tag), {}), true);
    }
    await rejectsWith(fn(cmac.sign)(key, m, { length: 9 }), 'MECHANISM_PARAM_INVALID');
  }
});

test('retail MAC: ISO/IEC 9797-1:2011 B.4; des3 with K3 = K1 equals des2; truncation', async () => {
  const mac = mech('DES3-RETAIL-MAC');
  const d2 = loadSymmetricKey('des2', hex('0123456789ABCDEFFEDCBA9876543210'));
  const d3 = loadSymmetricKey('des3', hex('0123456789ABCDEFFEDCBA98765432100123456789ABCDEF'));
  const a = Buffer.from('Now is the time for all ', 'latin1');
  const b = Buffer.from('Now is the time for it', 'latin1');
  assert.deepEqual(plain(await fn(mac.sign)(d2, a, {})), hex('A1C72E74EA3FA9B6'));
  assert.deepEqual(plain(await fn(mac.sign)(d2, b, {})), hex('2E2B1428CC78254F'));
  assert.deepEqual(plain(await fn(mac.sign)(d3, a, {})), hex('A1C72E74EA3FA9B6'));
  assert.deepEqual(plain(await fn(mac.sign)(d2, a, { length: 4 })), hex('A1C72E74'));
  assert.equal(await fn(mac.verify)(d2, b, hex('2E2B1428CC78254F'), {}), true);
  assert.equal(await fn(mac.verify)(d2, b, hex('2E2B1428CC78254E'), {}), false);
  // Padding method 1 on empty data is one zero block (§6.1.2 "positive integer multiple").
  assert.deepEqual(plain(await fn(mac.sign)(d2, new Uint8Array(0), {})), plain(await fn(mac.sign)(d2, new Uint8Array(8), {})));
  await rejectsWith(fn(mac.sign)(loadSymmetricKey('aes', new Uint8Array(16).fill(1)), a, {}), 'KEY_TYPE_INCONSISTENT');
});

test('AES-CBC and CBC-PAD: IVs, lengths, uniform decrypt failure', async () => {
  const key = loadSymmetricKey('aes', hex('2b7e151628aed2a6abf7158809cf4f3c'));
  const cbc = mech('AES-CBC');
  const pad = mech('AES-CBC-PAD');
  const r = await fn(cbc.encrypt)(key, new Uint8Array(32), {});
  assert.equal(r.params?.iv?.length, 16, 'a random IV is made and returned');
  const r2 = await fn(cbc.encrypt)(key, new Uint8Array(32), {});
  assert.notDeepEqual(r.params?.iv, r2.params?.iv);
  assert.deepEqual(plain(await fn(cbc.decrypt)(key, r.output, { iv: r.params?.iv })), Buffer.alloc(32));
  await rejectsWith(fn(cbc.encrypt)(key, new Uint8Array(15), {}), 'DATA_LEN_RANGE');
  await rejectsWith(fn(cbc.encrypt)(key, new Uint8Array(16), { iv: new Uint8Array(8) }), 'MECHANISM_PARAM_INVALID');
  await rejectsWith(fn(cbc.decrypt)(key, new Uint8Array(16), {}), 'MECHANISM_PARAM_INVALID');
  await rejectsWith(fn(cbc.decrypt)(key, new Uint8Array(17), { iv: new Uint8Array(16) }), 'DECRYPT_FAILED');
  const p = await fn(pad.encrypt)(key, Buffer.from('hello'), {});
  assert.equal(p.output.length, 16);
  assert.deepEqual(plain(await fn(pad.decrypt)(key, p.output, { iv: p.params?.iv })), Buffer.from('hello'));
  const bad = Buffer.from(p.output);
  bad[15] ^= 0x55;
  await rejectsWith(fn(pad.decrypt)(key, bad, { iv: p.params?.iv }), 'DECRYPT_FAILED');
  await rejectsWith(fn(pad.decrypt)(key, new Uint8Array(0), { iv: p.params?.iv }), 'DECRYPT_FAILED');
  await rejectsWith(fn(pad.decrypt)(key, new Uint8Array(20), { iv: p.params?.iv }), 'DECRYPT_FAILED');
  await rejectsWith(fn(mech('AES-ECB').encrypt)(key, new Uint8Array(16), { iv: new Uint8Array(16) }), 'MECHANISM_PARAM_INVALID');
  await rejectsWith(fn(mech('AES-ECB').decrypt)(key, new Uint8Array(15), {}), 'DECRYPT_FAILED');
  const ctr = await fn(mech('AES-CTR').encrypt)(key, Buffer.from('odd length!'), {});
  assert.equal(ctr.output.length, 11);
  assert.deepEqual(plain(await fn(mech('AES-CTR').decrypt)(key, ctr.output, { iv: ctr.params?.iv })), Buffer.from('odd length!'));
  await rejectsWith(fn(cbc.encrypt)(loadSymmetricKey('des2', hex('0123456789abcdeffedcba9876543210')), new Uint8Array(16), {}), 'KEY_TYPE_INCONSISTENT');
});

test('TDES CBC/ECB with two-key keys: round trip and SP 800-67 keying option 2 equivalence', async () => {
  const k1 = '0123456789abcdef';
  const k2 = 'f1e0d3c2b5a49786';
  const d2 = loadSymmetricKey('des2', hex(k1 + k2));
  const d3 = loadSymmetricKey('des3', hex(k1 + k2 + k1));
  const data = Buffer.from('0123456789abcdef01234567');
  const iv = hex('fedcba9876543210');
  const a = await fn(mech('DES3-CBC').encrypt)(d2, data, { iv });
  const b = await fn(mech('DES3-CBC').encrypt)(d3, data, { iv });
  assert.deepEqual(plain(a.output), plain(b.output));
  assert.deepEqual(plain(await fn(mech('DES3-CBC').decrypt)(d2, a.output, { iv })), data);
  const p = await fn(mech('DES3-CBC-PAD').encrypt)(d2, Buffer.from('abc'), {});
  assert.equal(p.params?.iv?.length, 8);
  assert.deepEqual(plain(await fn(mech('DES3-CBC-PAD').decrypt)(d2, p.output, { iv: p.params?.iv })), Buffer.from('abc'));
  await rejectsWith(fn(mech('DES3-CBC').encrypt)(d2, new Uint8Array(12), {}), 'DATA_LEN_RANGE');
  await rejectsWith(fn(mech('DES3-ECB').encrypt)(loadSymmetricKey('aes', new Uint8Array(16).fill(1)), new Uint8Array(8), {}), 'KEY_TYPE_INCONSISTENT');
});

test('AES-GCM: IV made inside, caller IV refused on encrypt, tags, wrap/unwrap', async () => {
  const gcm = mech('AES-GCM');
  const key = loadSymmetricKey('aes', hex('feffe9928665731c6d6a8f9467308308'));
  await rejectsWith(fn(gcm.encrypt)(key, Buffer.from('x'), { iv: new Uint8Array(12) }), 'MECHANISM_PARAM_INVALID');
  const aad = Buffer.from('header');
  const r = await fn(gcm.encrypt)(key, Buffer.from('secret data'), { aad });
  assert.equal(r.params?.iv?.length, 12);
  assert.equal(r.output.length, 11 + 16);
  assert.deepEqual(plain(await fn(gcm.decrypt)(key, r.output, { iv: r.params?.iv, aad })), Buffer.from('secret data'));
  await rejectsWith(fn(gcm.decrypt)(key, r.output, { iv: r.params?.iv }), 'DECRYPT_FAILED');
  await rejectsWith(fn(gcm.decrypt)(key, r.output.subarray(0, 10), { iv: r.params?.iv, aad }), 'DECRYPT_FAILED');
  await rejectsWith(fn(gcm.decrypt)(key, r.output, {}), 'MECHANISM_PARAM_INVALID');
  await rejectsWith(fn(gcm.decrypt)(key, r.output, { iv: new Uint8Array(0) }), 'MECHANISM_PARAM_INVALID');
  await rejectsWith(fn(gcm.decrypt)(key, r.output, { iv: new Uint8Array(129) }), 'MECHANISM_PARAM_INVALID');
  for (const tagLength of [4, 8, 12, 13, 16]) {
    const t = await fn(gcm.encrypt)(key, Buffer.from('abc'), { tagLength });
    assert.equal(t.output.length, 3 + tagLength);
    assert.deepEqual(plain(await fn(gcm.decrypt)(key, t.output, { iv: t.params?.iv, tagLength })), Buffer.from('abc'));
  }
  for (const tagLength of [0, 3, 10, 17]) await rejectsWith(fn(gcm.encrypt)(key, Buffer.from('abc'), { tagLength }), 'MECHANISM_PARAM_INVALID');
  const material = SecretBytes.from(hex('000102030405060708090a0b0c0d0e0f'));
  const w = await fn(gcm.wrap)(key, material, {});
  const back = await fn(gcm.unwrap)(key, w.output, { iv: w.params?.iv });
  assert.ok(back.equals(material));
  const bad = Buffer.from(w.output);
  bad[3] ^= 1;
  await rejectsWith(fn(gcm.unwrap)(key, bad, { iv: w.params?.iv }), 'UNWRAP_FAILED');
  await rejectsWith(fn(gcm.wrap)(key, material, { iv: new Uint8Array(12) }), 'MECHANISM_PARAM_INVALID');
});

test('AES-KW and AES-KWP: RFC 3394 §4 and RFC 5649 §6 vectors, lengths, uniform failures', async () => {
  const kw = mech('AES-KW');
  const kwp = mech('AES-KWP');
  const cases: [string, string, string][] = [
    // RFC 3394 §4.1, §4.3, §4.6
    ['000102030405060708090A0B0C0D0E0F', '00112233445566778899AABBCCDDEEFF', '1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5'],
    [
      '000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F',
      '00112233445566778899AABBCCDDEEFF',
      '64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7',
    ],
    [
      '000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F',
      '00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F',
      '28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21',
    ],
  ];
  for (const [k, p, c] of cases) {
    const key = loadSymmetricKey('aes', hex(k));
    assert.deepEqual(plain((await fn(kw.encrypt)(key, hex(p), {})).output), hex(c));
    assert.deepEqual(plain((await fn(kw.wrap)(key, SecretBytes.from(hex(p)), {})).output), hex(c));
    assert.deepEqual(plain(await fn(kw.unwrap)(key, hex(c), {})), hex(p));
    const bad = hex(c);
    bad[bad.length - 1] ^= 1;
    await rejectsWith(fn(kw.unwrap)(key, bad, {}), 'UNWRAP_FAILED');
    await rejectsWith(fn(kw.decrypt)(key, bad, {}), 'DECRYPT_FAILED');
  }
  const kek = loadSymmetricKey('aes', hex('5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8'));
  assert.deepEqual(plain((await fn(kwp.encrypt)(kek, hex('466f7250617369'), {})).output), hex('afbeb0f07dfbf5419200f2ccb50bb24f'));
  assert.deepEqual(plain(await fn(kwp.unwrap)(kek, hex('afbeb0f07dfbf5419200f2ccb50bb24f'), {})), hex('466f7250617369'));
  await rejectsWith(fn(kwp.encrypt)(kek, new Uint8Array(0), {}), 'DATA_LEN_RANGE');
  await rejectsWith(fn(kw.encrypt)(kek, new Uint8Array(8), {}), 'DATA_LEN_RANGE');
  await rejectsWith(fn(kw.encrypt)(kek, new Uint8Array(20), {}), 'DATA_LEN_RANGE');
  await rejectsWith(fn(kw.wrap)(kek, SecretBytes.from(new Uint8Array(8)), {}), 'KEY_SIZE_RANGE');
  await rejectsWith(fn(kw.unwrap)(kek, new Uint8Array(16), {}), 'UNWRAP_FAILED');
  await rejectsWith(fn(kwp.unwrap)(kek, new Uint8Array(8), {}), 'UNWRAP_FAILED');
  await rejectsWith(fn(kwp.unwrap)(kek, new Uint8Array(17), {}), 'UNWRAP_FAILED');
  await rejectsWith(fn(kw.encrypt)(kek, new Uint8Array(16), { iv: new Uint8Array(8) }), 'MECHANISM_PARAM_INVALID');
});

test('through the API: generated TDES keys, degenerate import refused, ECB disabled, GCM wraps and CBC-PAD does not', async () => {
  const { testHsm, importSecret, importTrustedWrapKey, expectKeyValue } = await import('../support/hsm.js');
  const t = await testHsm();
  try {
    const d2 = await t.hsm.generateKey(t.user, { template: { class: 'secret-key', keyType: 'des2', encrypt: true, decrypt: true, token: false } });
    const r = await t.hsm.encrypt(t.user, { key: d2, mechanism: 'DES3-CBC-PAD', data: Buffer.from('hi') });
    assert.equal(r.params?.iv?.length, 8);
    assert.deepEqual(Buffer.from(await t.hsm.decrypt(t.user, { key: d2, mechanism: 'DES3-CBC-PAD', data: r.data, params: r.params })), Buffer.from('hi'));
    await rejectsWith(t.hsm.encrypt(t.user, { key: d2, mechanism: 'DES3-ECB', data: new Uint8Array(8) }), 'MECHANISM_INVALID');
    await rejectsWith(importSecret(t, 'des2', hex('0123456789abcdef0123456789abcdef'), { encrypt: true }), 'ATTRIBUTE_VALUE_INVALID');
    const mac = await importSecret(t, 'des2', hex('0123456789ABCDEFFEDCBA9876543210'), { sign: true, verify: true });
    const data = Buffer.from('Now is the time for all ', 'latin1');
    const { signature } = await t.hsm.sign(t.user, { key: mac, mechanism: 'ISO9797-1-MAC-ALG3', data });
    assert.deepEqual(Buffer.from(signature), hex('A1C72E74EA3FA9B6'));
    assert.equal(await t.hsm.verify(t.user, { key: mac, mechanism: 'DES3-RETAIL-MAC', data, signature: hex('A1C72E74EA3FA9B7') }), false);

    const kek = await importTrustedWrapKey(t, 'aes', hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'));
    const value = hex('00112233445566778899aabbccddeeff');
    const key = await importSecret(t, 'generic-secret', value, { extractable: true, sign: true });
    const w = await t.hsm.wrapKey(t.user, { wrappingKey: kek, key, mechanism: 'AES-GCM' });
    assert.equal(w.params?.iv?.length, 12);
    const template = { class: 'secret-key', keyType: 'generic-secret', sign: true, token: false } as const;
    const back = await t.hsm.unwrapKey(t.user, { unwrappingKey: kek, mechanism: 'AES-GCM', wrapped: w.wrapped, params: w.params, template });
    await expectKeyValue(t, back, value);
    const bad = Buffer.from(w.wrapped);
    bad[0] ^= 1;
    await rejectsWith(t.hsm.unwrapKey(t.user, { unwrappingKey: kek, mechanism: 'AES-GCM', wrapped: bad, params: w.params, template }), 'UNWRAP_FAILED');
    await rejectsWith(t.hsm.wrapKey(t.user, { wrappingKey: kek, key, mechanism: 'AES-CBC-PAD' }), 'MECHANISM_INVALID');
  } finally {
    await t.close();
  }
});

test('retail MAC padding method 2 (ISO/IEC 9797-1 §6.1.3) is method 1 over the data with 0x80 appended', async () => {
  const { retailMac } = await import('../../src/boundary/mechanisms/iso9797-mac.js');
  const key = loadSymmetricKey('des2', hex('0123456789ABCDEFFEDCBA9876543210'));
  for (const len of [0, 7, 8, 22, 24]) {
    const m = Buffer.alloc(len, 0x41);
    assert.deepEqual(retailMac(key, m, 2), retailMac(key, Buffer.concat([m, hex('80')]), 1), `len ${len}`);
  }
});

// TR-31 / X9.143 key blocks: every tr31_* vector through the Hsm API (and byte-exact at function level),
// round trips of versions B and D for des2/des3/aes keys, tampering of each header field and of the MAC,
// and the named attack tests of attacks.md C-10 (usage change, exportability N, version downgrade).

import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, verify as verifySignature } from 'node:crypto';
import { after, before, type TestContext, test } from 'node:test';
import { loadSymmetricKey } from '../../src/boundary/keytypes/symmetric.js';
import { checkValue } from '../../src/boundary/mechanisms/payment/check-value.js';
import { parseHeader } from '../../src/boundary/mechanisms/payment/tr31-header.js';
import { insecureBlockKeys, wrapKeyBlock } from '../../src/boundary/mechanisms/payment/tr31.js';
import { Hsm, isHsmError, SecretBytes, type KeyType, type Template } from '../../src/boundary/api.js';
import { expectCode } from '../support/expect-code.js';
import { PASSWORD, TEST_SCRYPT, type TestHsm, testHsm } from '../support/hsm.js';
import { loadPaymentVectors, type PaymentVectors, s } from './vectors.js';

const H = (x: string): Buffer => Buffer.from(x, 'hex');
const up = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
let t: TestHsm;

before(async () => {
  t = await testHsm();
});
after(async () => t.close());

function need(tc: TestContext): PaymentVectors | undefined {
  return loadPaymentVectors((why) => tc.skip(why));
}

/** The KBPK type a block version and key length call for. */
function kbpkType(hex: string, version: string): KeyType {
  if (version === 'D') return 'aes';
  return hex.length === 48 ? 'des3' : 'des2';
}

/** The officer loads a trusted K0 key block protection key (a KBPK is a key the officer trusts). */
async function kbpk(hex: string, keyType: KeyType, extra: Template = {}): Promise<string> {
  return t.hsm.createObject(t.officer, { class: 'secret-key', keyType, value: H(hex), keyUsage: 'K0', wrap: true, unwrap: true, trusted: true, ...extra });
}

/** A payment key of the partition user, exportable unless said otherwise. */
async function payKey(hex: string, keyType: KeyType, keyUsage: string, extra: Template = {}): Promise<string> {
  return t.hsm.createObject(t.user, { class: 'secret-key', keyType, value: H(hex), keyUsage, exportability: 'E', ...extra });
}

/** KCV computed outside the API path (function level) from a clear test key. */
function kcvOf(hex: string, keyType: KeyType): string {
  const k = loadSymmetricKey(keyType, H(hex));
  try {
    return up(checkValue(k, 3));
  } finally {
    k.secret?.destroy();
  }
}

async function apiKcv(uid: string): Promise<string> {
  return up(await t.hsm.paymentKeyCheckValue(t.user, { key: uid }));
}

async function objectCount(): Promise<number> {
  return (await t.hsm.findObjects(t.user, {})).length;
}

async function legacy(on: boolean): Promise<void> {
  await t.hsm.paymentSetPartitionPolicy(t.officer, { tr31LegacyImport: on });
}

/** The same block with one character replaced (the MAC no longer matches, or the shape breaks). */
function alter(block: string, i: number): string {
  const c = block[i]!;
  const next = /[0-9]/.test(c) ? String((Number(c) + 1) % 10) : c === 'A' ? 'B' : 'A';
  return block.slice(0, i) + next + block.slice(i + 1);
}

/** X9.143 KBPK keys for the tr31_kbpk_derive check: TDES-CMAC as the vectors' verifier defines it. */
function tdesCmac(key: Buffer, data: Buffer): Buffer {
  const ecb = (b: Buffer): Buffer => createCipheriv('des-ede-ecb', key, null).setAutoPadding(false).update(b);
  const dbl = (b: Buffer): Buffer => {
    const out = Buffer.alloc(8);
    for (let i = 0; i < 8; i++) out[i] = ((b[i]! << 1) | (i < 7 ? b[i + 1]! >> 7 : 0)) & 0xff;
    if (b[0]! & 0x80) out[7]! ^= 0x1b;
    return out;
  };
  const k1 = dbl(ecb(Buffer.alloc(8)));
  const k2 = dbl(k1);
  const n = Math.max(1, Math.ceil(data.length / 8));
  const msg = Buffer.alloc(n * 8);
  data.copy(msg);
  const complete = data.length > 0 && data.length % 8 === 0;
  if (!complete) msg[data.length] = 0x80;
  const sub = complete ? k1 : k2;
  for (let i = 0; i < 8; i++) msg[(n - 1) * 8 + i]! ^= sub[i]!;
  const c = createCipheriv('des-ede-cbc', key, Buffer.alloc(8)).setAutoPadding(false).update(msg);
  return c.subarray(c.length - 8);
}

test('tr31_unwrap: every vector imports through the API to the published key (single-DES keys refused by design)', async (tc) => {
  const V = need(tc);
  if (!V) return;
  await legacy(true);
  for (const [i, v] of V.tr31_unwrap.entries()) {
    const name = `payment:tr31_unwrap:${i}`;
    const block = s(v.inputs.key_block);
    const key = s(v.expected.key);
    const kb = await kbpk(s(v.inputs.kbpk), kbpkType(s(v.inputs.kbpk), block[0]!));
    const h = parseHeader(block).header;
    if (h.algorithm === 'T' && key.length === 16) {
      // A single-length DES key: Coffer has no single-DES key type (C-11 step 4); the block itself is sound.
      await expectCode(() => t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: block }), 'KEY_SIZE_RANGE', name);
      continue;
    }
    const uid = await t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: block, label: name });
    const info = await t.hsm.getAttributes(t.user, uid);
    assert.equal(info.keyUsage, h.usage, `${name}: usage`);
    assert.equal(info.modeOfUse, h.mode, `${name}: mode`);
    assert.equal(info.exportability, h.exportability, `${name}: exportability`);
    assert.equal(info.keyVersionNumber, h.keyVersion, `${name}: key version`);
    assert.equal(info.local, false, `${name}: an imported key is never local`);
    if (h.algorithm === 'R') {
      // RSA private key (X9.143 8.5): the imported key signs, and the published key's public half verifies.
      const data = Buffer.from('tr31 rsa probe');
      const { signature } = await t.hsm.sign(t.user, { key: uid, mechanism: 'SHA256-RSA-PKCS', data });
      const pub = createPublicKey(createPrivateKey({ key: H(key), format: 'der', type: 'pkcs1' }));
      assert.ok(verifySignature('sha256', data, pub, signature), `${name}: signature under the published key`);
      continue;
    }
    const kt: KeyType = h.algorithm === 'A' ? 'aes' : key.length === 48 ? 'des3' : 'des2';
    assert.equal(await apiKcv(uid), kcvOf(key, kt), `${name}: key check value`);
    if (v.expected.key_kcv !== undefined) assert.equal(await apiKcv(uid), s(v.expected.key_kcv), `${name}: published KCV`);
  }
  await legacy(false);
});

test('tr31_wrap_deterministic: byte-exact at function level; through the API the same header, and the block imports to the key', async (tc) => {
  const V = need(tc);
  if (!V) return;
  for (const [i, v] of V.tr31_wrap_deterministic.entries()) {
    const name = `payment:tr31_wrap_deterministic:${i}`;
    const hdr = s(v.inputs.header);
    const expected = s(v.expected.key_block);
    const kbHex = s(v.inputs.kbpk);
    const kt = kbpkType(kbHex, hdr[0]!);
    // Function level: the published block, byte for byte, from the recovered padding.
    const k = loadSymmetricKey(kt, H(kbHex));
    const out = wrapKeyBlock(k, { header: parseHeader(expected).header, key: SecretBytes.from(H(s(v.inputs.key))), padding: H(s(v.inputs.padding)) });
    k.secret?.destroy();
    assert.equal(out, expected, name);
    // API: the published block imports to the key (A/C with the partition's permission).
    const kb = await kbpk(kbHex, kt);
    const h = parseHeader(expected).header;
    const keyHex = s(v.inputs.key);
    if (keyHex.length === 16) {
      await legacy(true);
      await expectCode(() => t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: expected }), 'KEY_SIZE_RANGE', `${name}: single DES refused`);
      await legacy(false);
      continue;
    }
    const keyType: KeyType = h.algorithm === 'A' ? 'aes' : keyHex.length === 48 ? 'des3' : 'des2';
    await legacy(h.version === 'A' || h.version === 'C');
    const imported = await t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: expected });
    await legacy(false);
    assert.equal(await apiKcv(imported), kcvOf(keyHex, keyType), `${name}: import`);
    if (h.version !== 'B' && h.version !== 'D') continue;
    // API export of the same key with the header's attributes: identical header but for the length (padding is masked here).
    const own = await payKey(keyHex, keyType, h.usage, { modeOfUse: h.mode, exportability: h.exportability, keyVersionNumber: h.keyVersion });
    const input = { key: own, kbpk: kb, version: h.version, optionalBlocks: h.optionalBlocks.filter((b) => b.id !== 'PB') };
    if (h.exportability === 'N') {
      await expectCode(() => t.hsm.paymentExportKeyBlock(t.user, input), 'KEY_UNEXTRACTABLE', `${name}: exportability N (C-10)`);
      continue;
    }
    const block = await t.hsm.paymentExportKeyBlock(t.user, input);
    const got = parseHeader(block);
    const want = parseHeader(expected);
    assert.equal(block[0] + block.slice(5, got.headerLength), expected[0] + expected.slice(5, want.headerLength), `${name}: header`);
    assert.equal(await apiKcv(await t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: block })), kcvOf(keyHex, keyType), `${name}: round trip`);
  }
});

test('tr31_kbpk_derive: the KBPK derivations through the API (derive: export opened with the published KBEK/KBMK; variant: a block built with them imports)', async (tc) => {
  const V = need(tc);
  if (!V) return;
  const keyHex = '0123456789ABCDEFFEDCBA9876543210';
  for (const [i, v] of V.tr31_kbpk_derive.entries()) {
    const name = `payment:tr31_kbpk_derive:${i}`;
    const kbHex = s(v.inputs.kbpk);
    const kbek = H(s(v.expected.kbek));
    const kbak = H(s(v.expected.kbak));
    const fn = insecureBlockKeys(loadSymmetricKey('des2', H(kbHex)), v.inputs.method === 'variant' ? 'C' : 'B');
    assert.equal(up(fn.kbek), up(kbek), `${name}: function-level KBEK`);
    assert.equal(up(fn.kbmk), up(kbak), `${name}: function-level KBMK`);
    const kb = await kbpk(kbHex, 'des2');
    if (v.inputs.method === 'derive') {
      const block = await t.hsm.paymentExportKeyBlock(t.user, { key: await payKey(keyHex, 'des2', 'P0'), kbpk: kb, version: 'B' });
      const { headerLength } = parseHeader(block);
      const mac = H(block.slice(-16));
      const enc = H(block.slice(headerLength, -16));
      const d = createDecipheriv('des-ede-cbc', kbek, mac).setAutoPadding(false);
      const clear = Buffer.concat([d.update(enc), d.final()]);
      assert.equal(clear.readUInt16BE(0), 128, `${name}: key length field`);
      assert.equal(up(clear.subarray(2, 18)), keyHex, `${name}: key under the published KBEK`);
      assert.equal(up(tdesCmac(kbak, Buffer.concat([Buffer.from(block.slice(0, headerLength), 'ascii'), clear]))), up(mac), `${name}: MAC under the published KBMK`);
    } else {
      const header = 'C0072P0TB00E0000';
      const payload = Buffer.concat([Buffer.from([0x00, 0x80]), H(keyHex), H('0102030405060708090A0B0C0D0E')]).subarray(0, 24);
      const enc = createCipheriv('des-ede-cbc', kbek, Buffer.from(header.slice(0, 8), 'ascii')).setAutoPadding(false).update(payload);
      const cbcMac = createCipheriv('des-ede-cbc', kbak, Buffer.alloc(8)).setAutoPadding(false).update(Buffer.concat([Buffer.from(header, 'ascii'), enc]));
      const block = `${header}${up(enc)}${up(cbcMac.subarray(cbcMac.length - 8, cbcMac.length - 4))}`;
      assert.equal(block.length, 72);
      await legacy(true);
      const uid = await t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: block });
      await legacy(false);
      assert.equal(await apiKcv(uid), kcvOf(keyHex, 'des2'), name);
    }
  }
});

const KEYS: { keyType: KeyType; hex: string }[] = [
  { keyType: 'des2', hex: '0123456789ABCDEFFEDCBA9876543210' },
  { keyType: 'des3', hex: '0123456789ABCDEFFEDCBA987654321089ABCDEF01234567' },
  { keyType: 'aes', hex: '000102030405060708090A0B0C0D0E0F' },
  { keyType: 'aes', hex: '000102030405060708090A0B0C0D0E0F1011121314151617' },
  { keyType: 'aes', hex: '000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F' },
];
const KBPK_B = 'A1B2C3D4E5F60718293A4B5C6D7E8F90F1E2D3C4B5A69788';
const KBPK_D = '88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6';

test('round trips: versions B (3TDEA KBPK) and D (AES-256 KBPK) for des2, des3 and AES keys keep the key and every attribute', async () => {
  const kbB = await kbpk(KBPK_B, 'des3');
  const kbD = await kbpk(KBPK_D, 'aes');
  for (const version of ['B', 'D'] as const) {
    for (const k of KEYS) {
      if (version === 'B' && k.keyType === 'aes') continue; // no AES key under a TDES KBPK: it would be stronger than the KBPK
      const name = `${version} ${k.keyType}-${k.hex.length * 4}`;
      const usage = k.keyType === 'aes' ? 'D0' : 'M3';
      const mode = k.keyType === 'aes' ? 'E' : 'G';
      const uid = await payKey(k.hex, k.keyType, usage, { modeOfUse: mode, keyVersionNumber: '07' });
      const block = await t.hsm.paymentExportKeyBlock(t.user, { key: uid, kbpk: version === 'B' ? kbB : kbD, version, optionalBlocks: [{ id: 'KS', data: '00604B120F9292800000' }] });
      assert.equal(block[0], version, name);
      assert.match(block.slice(5, 16), new RegExp(`^${usage}${k.keyType === 'aes' ? 'A' : 'T'}${mode}07E0[12]00$`), `${name}: header fields`);
      assert.ok(!block.includes(k.hex), `${name}: no clear key in the block`);
      const back = await t.hsm.paymentImportKeyBlock(t.user, { kbpk: version === 'B' ? kbB : kbD, keyBlock: block });
      assert.equal(await apiKcv(back), kcvOf(k.hex, k.keyType), `${name}: same key`);
      const info = await t.hsm.getAttributes(t.user, back);
      assert.deepEqual([info.keyType, info.keyUsage, info.modeOfUse, info.exportability, info.keyVersionNumber], [k.keyType, usage, mode, 'E', '07'], `${name}: attributes`);
      // Random padding: two exports of one key differ, and a block hides the key's length (masked to the largest key).
      const again = await t.hsm.paymentExportKeyBlock(t.user, { key: uid, kbpk: version === 'B' ? kbB : kbD, version });
      assert.notEqual(again, block.replace(/KS.*?0000/, ''), `${name}: fresh padding`);
    }
  }
});

test('C-10 tamper: any changed header character, key data or MAC character, truncation or lower-case hex is refused and creates nothing', async () => {
  const kbB = await kbpk(KBPK_B, 'des3');
  const kbD = await kbpk(KBPK_D, 'aes');
  for (const [version, kb] of [['B', kbB], ['D', kbD]] as const) {
    const uid = await payKey(KEYS[0]!.hex, 'des2', 'P0');
    const block = await t.hsm.paymentExportKeyBlock(t.user, { key: uid, kbpk: kb, version, optionalBlocks: [{ id: 'KS', data: '00604B120F9292800000' }] });
    const { headerLength } = parseHeader(block);
    const before = await objectCount();
    const positions = [...Array(headerLength).keys()];
    const mac = version === 'B' ? 16 : 32;
    positions.push(headerLength, headerLength + 7, block.length - mac - 1, block.length - mac, block.length - 1);
    for (const i of positions) {
      const bad = alter(block, i);
      try {
        await t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: bad });
        assert.fail(`${version}: character ${i} changed and the block still imported`);
      } catch (e) {
        assert.ok(isHsmError(e), `${version}: character ${i}: coded refusal`);
        // The version letter is checked before any MAC (A/C off here, B ↔ D the wrong KBPK type); the rest is one code (C-10).
        if (i !== 0) assert.equal(e.code, 'UNWRAP_FAILED', `${version}: character ${i}`);
      }
    }
    for (const bad of [block.slice(0, -2), `${block}00`, block.slice(0, headerLength) + block.slice(headerLength).toLowerCase(), block.replace(/^(.)..../, `$1${String(block.length + 1).padStart(4, '0')}`)]) {
      await expectCode(() => t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: bad }), 'UNWRAP_FAILED', `${version}: malformed`);
    }
    // The right block under another KBPK of the right type: the same one code.
    const other = await kbpk(version === 'B' ? 'F1E2D3C4B5A69788A1B2C3D4E5F60718293A4B5C6D7E8F90' : KBPK_D.split('').reverse().join(''), version === 'B' ? 'des3' : 'aes');
    await expectCode(() => t.hsm.paymentImportKeyBlock(t.user, { kbpk: other, keyBlock: block }), 'UNWRAP_FAILED', `${version}: other KBPK`);
    assert.equal(await objectCount(), before + 1, `${version}: only the other KBPK was created`);
  }
});

test('C-10: a changed usage is refused — by the MAC in a block, and by the key block policy and the guard after import', async () => {
  const kb = await kbpk(KBPK_D, 'aes');
  const p0 = await payKey(KEYS[0]!.hex, 'des2', 'P0');
  const block = await t.hsm.paymentExportKeyBlock(t.user, { key: p0, kbpk: kb, version: 'D' });
  for (const usage of ['D0', 'K0', 'M3', 'V2']) {
    await expectCode(() => t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: block.slice(0, 5) + usage + block.slice(7) }), 'UNWRAP_FAILED', `C-10: P0 → ${usage}`);
  }
  // A block with a sound MAC but an impossible header (made outside with the clear KBPK): refused by the policy table.
  const k = loadSymmetricKey('aes', H(KBPK_D));
  const forged = (usage: string, algorithm: string, mode: string, key = KEYS[0]!.hex): string =>
    wrapKeyBlock(k, { header: { version: 'D', usage, algorithm, mode, keyVersion: '00', exportability: 'E', reserved: '00' }, key: SecretBytes.from(H(key)) });
  await expectCode(() => t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: forged('P0', 'R', 'B') }), 'KEY_TYPE_INCONSISTENT', 'C-10: a P0 key that claims to be RSA');
  await expectCode(() => t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: forged('P0', 'T', 'G') }), 'KEY_FUNCTION_NOT_PERMITTED', 'C-10: a P0 key with a MAC mode');
  await expectCode(() => t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: forged('C0', 'A', 'C', KEYS[2]!.hex) }), 'KEY_TYPE_INCONSISTENT', 'C-10: a CVK is TDES');
  await expectCode(() => t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: forged('Z9', 'T', 'N') }), 'KEY_FUNCTION_NOT_PERMITTED', 'C-10: unknown usage');
  const component = wrapKeyBlock(k, { header: { version: 'D', usage: 'K0', algorithm: 'T', mode: 'B', keyVersion: 'c1', exportability: 'E', reserved: '00' }, key: SecretBytes.from(H(KEYS[0]!.hex)) });
  await expectCode(() => t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: component }), 'KEY_FUNCTION_NOT_PERMITTED', 'C-08: a component block is no key');
  // An imported P0 key never encrypts data, and an M3 verify-only key never generates a MAC.
  const imported = await t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: block });
  await expectCode(() => t.hsm.encrypt(t.user, { key: imported, mechanism: 'DES3-CBC-PAD', data: Buffer.alloc(8), params: { iv: Buffer.alloc(8) } }), 'KEY_FUNCTION_NOT_PERMITTED', 'C-07 after import');
  const m3v = await t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: forged('M3', 'T', 'V') });
  const data = Buffer.from('0123456789ABCDEF', 'hex');
  await expectCode(() => t.hsm.paymentGenerateMac(t.user, { key: m3v, algorithm: 3, padding: 1, data }), 'KEY_FUNCTION_NOT_PERMITTED', 'mode V: no generation');
  assert.equal(await t.hsm.paymentVerifyMac(t.user, { key: m3v, algorithm: 3, padding: 1, data, mac: Buffer.alloc(8) }), false, 'mode V: verification runs');
  k.secret?.destroy();
});

test('C-10: exportability N is never exported, and a block never widens exportability', async () => {
  const kb = await kbpk(KBPK_D, 'aes');
  const none = await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'des2', value: H(KEYS[0]!.hex), keyUsage: 'P0' });
  await expectCode(() => t.hsm.paymentExportKeyBlock(t.user, { key: none, kbpk: kb, version: 'D' }), 'KEY_UNEXTRACTABLE', 'no exportability attribute = N');
  const n = await payKey(KEYS[0]!.hex, 'des2', 'P0', { exportability: 'N' });
  await expectCode(() => t.hsm.paymentExportKeyBlock(t.user, { key: n, kbpk: kb, version: 'D' }), 'KEY_UNEXTRACTABLE', 'exportability N');
  const e = await payKey(KEYS[0]!.hex, 'des2', 'P0');
  await expectCode(() => t.hsm.paymentExportKeyBlock(t.user, { key: e, kbpk: kb, version: 'D', exportability: 'S' }), 'KEY_UNEXTRACTABLE', 'E → S widens');
  const narrowed = await t.hsm.paymentExportKeyBlock(t.user, { key: e, kbpk: kb, version: 'D', exportability: 'N' });
  assert.equal(narrowed[11], 'N');
  const received = await t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: narrowed });
  assert.equal((await t.hsm.getAttributes(t.user, received)).exportability, 'N');
  await expectCode(() => t.hsm.paymentExportKeyBlock(t.user, { key: received, kbpk: kb, version: 'D' }), 'KEY_UNEXTRACTABLE', 'the receiver of an N block cannot pass it on');
  await expectCode(() => t.hsm.setAttributes(t.user, received, { exportability: 'E' }), 'ATTRIBUTE_READ_ONLY', 'exportability is fixed');
  // Nor does such a key leave by the generic C_WrapKey path: a key with a TR-31 exportability is never extractable.
  for (const exportability of ['N', 'E', 'S'] as const) {
    await expectCode(() => t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'des2', value: H(KEYS[0]!.hex), keyUsage: 'P0', exportability, extractable: true }), 'TEMPLATE_INCONSISTENT', `exportability ${exportability} with extractable`);
  }
  const wrapper = await t.hsm.createObject(t.officer, { class: 'secret-key', keyType: 'aes', value: H(KBPK_D), wrap: true, unwrap: true, trusted: true });
  await expectCode(() => t.hsm.wrapKey(t.user, { wrappingKey: wrapper, key: n, mechanism: 'AES-KWP' }), 'KEY_UNEXTRACTABLE', 'N key by C_WrapKey');
});

test('C-10: version downgrade — A and C are refused by default, allowed only by the officer\'s partition policy; export makes B and D only', async (tc) => {
  const V = need(tc);
  if (!V) return;
  const v = V.tr31_unwrap.find((x) => s(x.inputs.key_block).startsWith('C0072K0'))!;
  const kb = await kbpk(s(v.inputs.kbpk), 'des2');
  const before = t.hsm.listAudit(t.auditor).length;
  await expectCode(() => t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: s(v.inputs.key_block) }), 'MECHANISM_NOT_APPROVED', 'C by default');
  const a = V.tr31_unwrap.find((x) => s(x.inputs.key_block).startsWith('A0072'))!;
  const kbA = await kbpk(s(a.inputs.kbpk), 'des2');
  await expectCode(() => t.hsm.paymentImportKeyBlock(t.user, { kbpk: kbA, keyBlock: s(a.inputs.key_block) }), 'MECHANISM_NOT_APPROVED', 'A by default');
  assert.ok(t.hsm.listAudit(t.auditor).slice(before).some((r) => r.op === 'payment.keyblock.import' && r.outcome === 'refused' && r.code === 'MECHANISM_NOT_APPROVED'), 'refusal audited');
  await expectCode(() => t.hsm.paymentSetPartitionPolicy(t.user, { tr31LegacyImport: true }), 'USER_TYPE_INVALID', 'only the officer sets it');
  await legacy(true);
  await t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: s(v.inputs.key_block) });
  await legacy(false);
  await expectCode(() => t.hsm.paymentImportKeyBlock(t.user, { kbpk: kb, keyBlock: s(v.inputs.key_block) }), 'MECHANISM_NOT_APPROVED', 'off again');
  const e = await payKey(KEYS[0]!.hex, 'des2', 'P0');
  for (const version of ['A', 'C', 'X']) {
    await expectCode(() => t.hsm.paymentExportKeyBlock(t.user, { key: e, kbpk: kb, version: version as 'B' }), 'MECHANISM_PARAM_INVALID', `export ${version}`);
  }
});

test('KBPK rules: K0/K1, officer-trusted, at least as strong as the key it carries in either direction', async () => {
  const e3 = await payKey(KEYS[1]!.hex, 'des3', 'P0');
  const weak = await kbpk('89E88CF7931444F334BD7547FC3F380C', 'des2');
  await expectCode(() => t.hsm.paymentExportKeyBlock(t.user, { key: e3, kbpk: weak, version: 'B' }), 'WRAPPING_KEY_TYPE_INCONSISTENT', 'des3 key under a des2 KBPK');
  const k = loadSymmetricKey('des2', H('89E88CF7931444F334BD7547FC3F380C'));
  const strong = wrapKeyBlock(k, { header: { version: 'B', usage: 'P0', algorithm: 'T', mode: 'B', keyVersion: '00', exportability: 'E', reserved: '00' }, key: SecretBytes.from(H(KEYS[1]!.hex)) });
  k.secret?.destroy();
  await expectCode(() => t.hsm.paymentImportKeyBlock(t.user, { kbpk: weak, keyBlock: strong }), 'WRAPPING_KEY_TYPE_INCONSISTENT', 'a block cannot import a stronger key under a weaker KBPK');
  const e2 = await payKey(KEYS[0]!.hex, 'des2', 'P0');
  const userKek = await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'aes', value: H(KBPK_D), keyUsage: 'K0', unwrap: true });
  await expectCode(() => t.hsm.paymentExportKeyBlock(t.user, { key: e2, kbpk: userKek, version: 'D' }), 'KEY_FUNCTION_NOT_PERMITTED', 'an untrusted K0 key is no KBPK');
  const p0 = await payKey(KBPK_D, 'aes', 'P0');
  await expectCode(() => t.hsm.paymentExportKeyBlock(t.user, { key: e2, kbpk: p0, version: 'D' }), 'KEY_FUNCTION_NOT_PERMITTED', 'a P0 key is no KBPK');
  const kbD = await kbpk(KBPK_D, 'aes');
  await expectCode(() => t.hsm.paymentExportKeyBlock(t.user, { key: e2, kbpk: kbD, version: 'B' }), 'WRAPPING_KEY_TYPE_INCONSISTENT', 'version B takes a TDES KBPK');
  await expectCode(() => t.hsm.paymentExportKeyBlock(t.officer, { key: e2, kbpk: kbD, version: 'D' }), 'USER_TYPE_INVALID', 'an officer uses no keys');
  // An officer may import a KEK (K0) under a KBPK: the result is a trusted wrapping key; a user's K0 import only unwraps.
  const kekBlock = await t.hsm.paymentExportKeyBlock(t.user, { key: await payKey(KEYS[2]!.hex, 'aes', 'K0', { modeOfUse: 'B' }), kbpk: kbD, version: 'D' });
  const officerKek = await t.hsm.paymentImportKeyBlock(t.officer, { kbpk: kbD, keyBlock: kekBlock });
  const oi = await t.hsm.getAttributes(t.officer, officerKek);
  assert.deepEqual([oi.trusted, oi.wrap, oi.unwrap], [true, true, true]);
  const userImported = await t.hsm.getAttributes(t.user, await t.hsm.paymentImportKeyBlock(t.user, { kbpk: kbD, keyBlock: kekBlock }));
  assert.deepEqual([userImported.trusted, userImported.wrap, userImported.unwrap], [false, false, true]);
  const p0Block = await t.hsm.paymentExportKeyBlock(t.user, { key: e2, kbpk: kbD, version: 'D' });
  await expectCode(() => t.hsm.paymentImportKeyBlock(t.officer, { kbpk: kbD, keyBlock: p0Block }), 'USER_TYPE_INVALID', 'an officer imports KEKs only');
});

test('keys held as key blocks under the partition KBPK: used like stored keys, usage enforced, tampering refused', async () => {
  const p = await testHsm();
  try {
    const zpkA = await p.hsm.createObject(p.user, { class: 'secret-key', keyType: 'des2', value: H('0123456789ABCDEFFEDCBA9876543210'), keyUsage: 'P0', exportability: 'E' });
    const zpkB = await p.hsm.createObject(p.user, { class: 'secret-key', keyType: 'des2', value: H('89ABCDEF0123456776543210FEDCBA98'), keyUsage: 'P0', exportability: 'E' });
    const pvk = await p.hsm.createObject(p.user, { class: 'secret-key', keyType: 'des2', value: H('0123456789ABCDEFFEDCBA9876543210'), keyUsage: 'V2', exportability: 'E' });
    await expectCode(() => p.hsm.paymentExportKeyBlock(p.user, { key: zpkA, kbpk: 'partition', version: 'D' }), 'KEY_HANDLE_INVALID', 'no partition KBPK yet');
    await expectCode(() => p.hsm.paymentCreatePartitionKbpk(p.user), 'USER_TYPE_INVALID', 'an officer creates it');
    const kbpkUid = await p.hsm.paymentCreatePartitionKbpk(p.officer);
    await expectCode(() => p.hsm.paymentCreatePartitionKbpk(p.officer), 'ALREADY_EXISTS');
    const info = await p.hsm.getAttributes(p.officer, kbpkUid);
    assert.deepEqual([info.keyType, info.valueLen, info.keyUsage, info.local, info.trusted, info.exportability], ['aes', 32, 'K0', true, true, 'N']);
    await expectCode(() => p.hsm.paymentExportKeyBlock(p.user, { key: kbpkUid, kbpk: 'partition', version: 'D' }), 'KEY_NOT_WRAPPABLE', 'the KBPK never leaves');
    const blockA = await p.hsm.paymentExportKeyBlock(p.user, { key: zpkA, kbpk: 'partition', version: 'D' });
    const blockB = await p.hsm.paymentExportKeyBlock(p.user, { key: zpkB, kbpk: 'partition', version: 'D' });
    const pan = '4012345678909';
    const clear = Buffer.from('041234FFFFFFFFFF', 'hex');
    const panField = Buffer.from(`0000${pan.slice(-13, -1)}`, 'hex');
    for (let i = 0; i < 8; i++) clear[i]! ^= panField[i]!;
    const pinBlock = createCipheriv('des-ede-ecb', H('0123456789ABCDEFFEDCBA9876543210'), null).setAutoPadding(false).update(clear);
    const viaStore = await p.hsm.paymentTranslatePin(p.user, { in: { key: zpkA, format: 'ISO0', pinBlock, pan }, outKey: zpkB, outFormat: 'ISO0' });
    const viaBlocks = await p.hsm.paymentTranslatePin(p.user, { in: { key: { keyBlock: blockA }, format: 'ISO0', pinBlock, pan }, outKey: { keyBlock: blockB }, outFormat: 'ISO0' });
    assert.equal(up(viaBlocks), up(viaStore), 'the same translation from key blocks');
    assert.equal(up(await p.hsm.paymentKeyCheckValue(p.user, { key: { keyBlock: blockA } })), kcvOf('0123456789ABCDEFFEDCBA9876543210', 'des2'));
    // The header's usage is enforced exactly like a stored key's (C-07): a V2 block is no PIN key.
    const blockPvk = await p.hsm.paymentExportKeyBlock(p.user, { key: pvk, kbpk: 'partition', version: 'D' });
    await expectCode(() => p.hsm.paymentTranslatePin(p.user, { in: { key: { keyBlock: blockPvk }, format: 'ISO0', pinBlock, pan }, outKey: zpkB, outFormat: 'ISO0' }), 'KEY_FUNCTION_NOT_PERMITTED', 'V2 block as P0');
    await expectCode(() => p.hsm.paymentKeyCheckValue(p.user, { key: { keyBlock: alter(blockA, 6) } }), 'UNWRAP_FAILED', 'tampered usage');
    await expectCode(() => p.hsm.paymentKeyCheckValue(p.user, { key: { keyBlock: alter(blockA, blockA.length - 1) } }), 'UNWRAP_FAILED', 'tampered MAC');
    await expectCode(() => p.hsm.paymentKeyCheckValue(p.officer, { key: { keyBlock: blockA } }), 'USER_TYPE_INVALID', 'officers use no keys');
    // A block under another partition's KBPK (or any other key) does not open here.
    await p.hsm.createPartition(p.admin, { name: 'p2' });
    await p.hsm.createUser(p.admin, { name: 'o2', password: 'correct horse battery staple', role: 'officer', partition: 'p2' });
    await p.hsm.createUser(p.admin, { name: 'u2', password: 'correct horse battery staple', role: 'user', partition: 'p2' });
    const o2 = (await p.hsm.login({ user: 'o2', password: 'correct horse battery staple' })).session;
    const u2 = (await p.hsm.login({ user: 'u2', password: 'correct horse battery staple' })).session;
    await p.hsm.paymentCreatePartitionKbpk(o2);
    await expectCode(() => p.hsm.paymentKeyCheckValue(u2, { key: { keyBlock: blockA } }), 'UNWRAP_FAILED', 'another partition');
    assert.ok(!JSON.stringify(p.hsm.listAudit(p.auditor)).includes('0123456789ABCDEF'), 'no key value in the audit log');
  } finally {
    await p.close();
  }
});

test('the TR-31 self-tests run with the module\'s, and a forced failure of one puts the module in the error state', async () => {
  assert.deepEqual(t.hsm.status().selfTests.failed, []);
  const broken = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT, forceSelfTestFailure: 'TR31-D' });
  try {
    const st = broken.status();
    assert.equal(st.state, 'error');
    assert.deepEqual(st.selfTests.failed, ['TR31-D']);
    await expectCode(() => broken.initialize(SecretBytes.random(32), { name: 'admin', password: PASSWORD }), 'DEVICE_ERROR');
  } finally {
    broken.close();
  }
});

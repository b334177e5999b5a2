// The payment functions through the Hsm API: shared payment vectors where the API expresses them
// (key references and encrypted PIN blocks in, encrypted blocks/booleans/check values out), and an
// attack test for each rule (attacks.md C-01, C-02, C-03, C-04, C-05, C-07, C-11, C-12, C-13).

import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { after, before, type TestContext, test } from 'node:test';
import { buildPinBlock } from '../../src/boundary/mechanisms/payment/pin-block.js';
import { SecretBytes } from '../../src/boundary/secret.js';
import type { KeyType } from '../../src/boundary/types.js';
import { expectCode } from '../support/expect-code.js';
import { type TestHsm, testHsm } from '../support/hsm.js';
import { loadPaymentVectors, type PaymentVectors, s } from './vectors.js';

const H = (x: string): Buffer => Buffer.from(x, 'hex');
const up = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
let t: TestHsm;

before(async () => {
  t = await testHsm();
  // Generation is reserved to granted accounts (roles.test.ts tests the refusal); alice holds both grants here.
  t.hsm.paymentGrant(t.officer, { account: 'alice', grant: 'issuer' });
  t.hsm.paymentGrant(t.officer, { account: 'alice', grant: 'card-production' });
});

/** The shared vectors, or a loud skip outside CI when they are missing (a failure under CI=true). */
function need(tc: TestContext): PaymentVectors | undefined {
  return loadPaymentVectors((why) => tc.skip(why));
}
after(async () => t.close());

async function payKey(hexKey: string, keyUsage: string, keyType?: KeyType): Promise<string> {
  const kt: KeyType = keyType ?? (hexKey.length === 48 ? 'des3' : 'des2');
  return t.hsm.createObject(t.user, { class: 'secret-key', keyType: kt, value: H(hexKey), token: false, keyUsage });
}

/** What a terminal does outside the HSM: TDES-ECB of a clear ISO block under a known test PIN key. */
function terminalBlock(keyHex: string, pin: string, pan: string, format: 'ISO0' | 'ISO1' | 'ISO3' = 'ISO0'): Buffer {
  const clear = buildPinBlock(format, SecretBytes.from(Uint8Array.from([...pin].map(Number))), pan);
  const c = createCipheriv(keyHex.length === 48 ? 'des-ede3-ecb' : 'des-ede-ecb', H(keyHex), null).setAutoPadding(false);
  return Buffer.concat([c.update(clear), c.final()]);
}

const ZPK_A = '0123456789ABCDEFFEDCBA9876543210';
const ZPK_B = '89ABCDEF0123456776543210FEDCBA98';

test('KCV through the API: kcv_tdes and kcv_aes_cmac vectors', async (tc) => {
  const V = need(tc);
  if (!V) return;
  for (const [i, v] of V.kcv_tdes.entries()) {
    const exp = s(v.expected.kcv);
    const uid = await payKey(s(v.inputs.key), 'K0');
    assert.equal(up(await t.hsm.paymentKeyCheckValue(t.user, { key: uid, length: exp.length / 2 })), exp, `payment:kcv_tdes:${i}`);
  }
  for (const [i, v] of V.kcv_aes_cmac.entries()) {
    const exp = s(v.expected.kcv);
    const uid = await payKey(s(v.inputs.key), 'K0', 'aes');
    assert.equal(up(await t.hsm.paymentKeyCheckValue(t.user, { key: uid, length: exp.length / 2 })), exp, `payment:kcv_aes_cmac:${i}`);
  }
  const k = await payKey(ZPK_A, 'P0');
  await expectCode(() => t.hsm.paymentKeyCheckValue(t.user, { key: k, length: 8 }), 'MECHANISM_PARAM_INVALID', 'C-09: no full 8-byte check value');
});

test('PIN translate through the API: pin_translate vectors, and the PCI format rules (C-03, C-04, C-05)', async (tc) => {
  const V = need(tc);
  if (!V) return;
  for (const [i, v] of V.pin_translate.entries()) {
    const x = v.inputs;
    const inKey = await payKey(s(x.in_key), 'P0');
    const outKey = await payKey(s(x.out_key), 'P0');
    const out = await t.hsm.paymentTranslatePin(t.user, { in: { key: inKey, format: s(x.in_format), pinBlock: H(s(x.in_block)), pan: s(x.pan) }, outKey, outFormat: s(x.out_format) });
    assert.equal(up(out), v.expected.out_block, `payment:pin_translate:${i}`);
  }
  const a = await payKey(ZPK_A, 'P0');
  const b = await payKey(ZPK_B, 'P0');
  const pan = '4012345678909';
  const iso0 = terminalBlock(ZPK_A, '1234', pan);
  // C-03: PAN-bound → format 1 refused; ISO1 → ISO0 allowed and lands as the same PIN
  for (const from of ['ISO0', 'ISO3'] as const) {
    await expectCode(() => t.hsm.paymentTranslatePin(t.user, { in: { key: a, format: from, pinBlock: terminalBlock(ZPK_A, '1234', pan, from), pan }, outKey: b, outFormat: 'ISO1' }), 'MECHANISM_PARAM_INVALID', `C-03 ${from} → ISO1`);
  }
  await expectCode(() => t.hsm.paymentTranslatePin(t.user, { in: { key: a, format: 'ISO0', pinBlock: iso0, pan }, outKey: b, outFormat: 'ISO2' }), 'MECHANISM_PARAM_INVALID', 'C-03 → ISO2');
  const iso1 = terminalBlock(ZPK_A, '1234', pan, 'ISO1');
  const fromIso1 = await t.hsm.paymentTranslatePin(t.user, { in: { key: a, format: 'ISO1', pinBlock: iso1, pan }, outKey: b, outFormat: 'ISO0' });
  assert.equal(up(fromIso1), up(terminalBlock(ZPK_B, '1234', pan)), 'ISO1 → ISO0 allowed');
  // C-04: PAN substitution refused; a wrong PAN does not decode (uniform DECRYPT_FAILED, C-05)
  await expectCode(() => t.hsm.paymentTranslatePin(t.user, { in: { key: a, format: 'ISO0', pinBlock: iso0, pan }, outKey: b, outFormat: 'ISO0', outPan: '4012345678919' }), 'MECHANISM_PARAM_INVALID', 'C-04');
  await expectCode(() => t.hsm.paymentTranslatePin(t.user, { in: { key: a, format: 'ISO0', pinBlock: iso0, pan: '4012345678919' }, outKey: b, outFormat: 'ISO0' }), 'DECRYPT_FAILED', 'C-04/C-05 other PAN');
  const flipped = Buffer.from(iso0);
  flipped[0] ^= 0x40;
  await expectCode(() => t.hsm.paymentTranslatePin(t.user, { in: { key: a, format: 'ISO0', pinBlock: flipped, pan }, outKey: b, outFormat: 'ISO0' }), 'DECRYPT_FAILED', 'C-05 tampered block');
});

test('IBM 3624 through the API: officer-registered tables (C-01), derived validation data (C-02), attempt limit', async (tc) => {
  const V = need(tc);
  if (!V) return;
  // The lower-authority vector uses validation data 0000 ‖ 12 PAN digits: the API's derivation. PAN 1111111111118 gives it.
  const v = V.ibm3624_offset_generate[3];
  assert.equal(v.inputs.validation_data, '0000111111111111');
  const pan = '1111111111118';
  await expectCode(() => t.hsm.paymentRegisterDecimalisationTable(t.user, { name: 'issuer', table: s(v.inputs.decimalization_table) }), 'USER_TYPE_INVALID', 'C-01: a user cannot register a table');
  await t.hsm.paymentRegisterDecimalisationTable(t.officer, { name: 'issuer', table: s(v.inputs.decimalization_table) });
  await expectCode(() => t.hsm.paymentRegisterDecimalisationTable(t.officer, { name: 'flat', table: '0000000000000000' }), 'ATTRIBUTE_VALUE_INVALID', 'C-01: degenerate table');
  await expectCode(() => t.hsm.paymentRegisterDecimalisationTable(t.officer, { name: 'issuer', table: '9876543210987654' }), 'ALREADY_EXISTS', 'C-01: no replacing a table');
  const pvk = await payKey(s(v.inputs.pvk), 'V1');
  const zpk = await payKey(ZPK_A, 'P0');
  const block = terminalBlock(ZPK_A, s(v.inputs.pin), pan);
  const pin = { key: zpk, format: 'ISO0', pinBlock: block, pan };
  const offset = await t.hsm.paymentGenerateIbm3624Offset(t.user, { pin, pvk, table: 'issuer' });
  assert.equal(offset, v.expected.offset, 'payment:ibm3624_offset_generate:3');
  assert.equal(await t.hsm.paymentVerifyPinIbm3624(t.user, { pin, pvk, table: 'issuer', offset }), true, 'payment:ibm3624_verify (API)');
  await expectCode(() => t.hsm.paymentVerifyPinIbm3624(t.user, { pin, pvk, table: '0123456789012345', offset }), 'MECHANISM_PARAM_INVALID', 'C-01: an inline table is not a registered name');
  const wrong = { ...pin, pinBlock: terminalBlock(ZPK_A, '9999', pan) };
  for (let i = 0; i < 5; i++) assert.equal(await t.hsm.paymentVerifyPinIbm3624(t.user, { pin: wrong, pvk, table: 'issuer', offset }), false);
  await expectCode(() => t.hsm.paymentVerifyPinIbm3624(t.user, { pin, pvk, table: 'issuer', offset }), 'LIMIT_EXCEEDED', 'C-13: attempts per PAN');
  await expectCode(() => t.hsm.paymentVerifyPinIbm3624(t.user, { pin, pvk, table: 'issuer', offset: '12' }), 'MECHANISM_PARAM_INVALID', 'C-02: short check length');
});

test('Visa PVV through the API: visa_pvv vectors, generate and verify', async (tc) => {
  const V = need(tc);
  if (!V) return;
  const zpk = await payKey(ZPK_A, 'P0');
  for (const [i, v] of V.visa_pvv.entries()) {
    const pvk = await payKey(s(v.inputs.pvk), 'V2');
    const pan = s(v.inputs.pan);
    const pin = { key: zpk, format: 'ISO0', pinBlock: terminalBlock(ZPK_A, s(v.inputs.pin), pan), pan };
    const pvv = await t.hsm.paymentGeneratePvv(t.user, { pin, pvk, pvki: Number(v.inputs.pvki) });
    assert.equal(pvv, v.expected.pvv, `payment:visa_pvv:${i}`);
    assert.equal(await t.hsm.paymentVerifyPvv(t.user, { pin, pvk, pvki: Number(v.inputs.pvki), pvv: s(v.expected.pvv) }), true, `payment:visa_pvv:${i}`);
    const other = { ...pin, pinBlock: terminalBlock(ZPK_A, '0000', pan) };
    assert.equal(await t.hsm.paymentVerifyPvv(t.user, { pin: other, pvk, pvki: Number(v.inputs.pvki), pvv: s(v.expected.pvv) }), false);
  }
});

test('CVV through the API: visa_cvv vectors, KA = KB refused, attempt limit (C-11)', async (tc) => {
  const V = need(tc);
  if (!V) return;
  let n = 0;
  for (const [i, v] of V.visa_cvv.entries()) {
    const k = s(v.inputs.cvk);
    if (k.slice(0, 16) === k.slice(16)) {
      await expectCode(() => payKey(k, 'C0'), 'ATTRIBUTE_VALUE_INVALID', `payment:visa_cvv:${i} (C-11: KA = KB)`);
      continue;
    }
    const cvk = await payKey(k, 'C0');
    const args = { key: cvk, pan: s(v.inputs.pan), expiry: s(v.inputs.expiry), serviceCode: s(v.inputs.service_code) };
    assert.equal(await t.hsm.paymentGenerateCvv(t.user, args), v.expected.cvv, `payment:visa_cvv:${i}`);
    assert.equal(await t.hsm.paymentVerifyCvv(t.user, { ...args, cvv: s(v.expected.cvv) }), true, `payment:visa_cvv:${i}`);
    n++;
  }
  assert.equal(n, 3);
  const cvk = await payKey(s(V.visa_cvv[0].inputs.cvk), 'C0');
  const args = { key: cvk, pan: '4123456789012345', expiry: '8701', serviceCode: '101' };
  for (let g = 0; g < 5; g++) assert.equal(await t.hsm.paymentVerifyCvv(t.user, { ...args, cvv: String(100 + g) }), false);
  await expectCode(() => t.hsm.paymentVerifyCvv(t.user, { ...args, cvv: '561' }), 'LIMIT_EXCEEDED', 'C-11: guessing loop stops');
});

test('EMV ARQC through the API: emv_arqc vectors, ARPC only for a verified cryptogram (C-12)', async (tc) => {
  const V = need(tc);
  if (!V) return;
  let n = 0;
  for (const [i, v] of V.emv_arqc.entries()) {
    const x = v.inputs;
    if (typeof x.issuer_mk !== 'string' || x.issuer_mk.slice(0, 16) === x.issuer_mk.slice(16)) continue; // session-key-only and KA = KB vectors: function level
    const imk = await payKey(x.issuer_mk, 'E0');
    const sessionKey =
      x.session_key_derivation === 'mastercard_skd(ATC,UN)'
        ? { method: 'mastercard' as const, atc: s(x.atc), un: s(x.un) }
        : { method: 'common' as const, r: x.session_key_derivation === 'common(ATC)' ? `${s(x.atc)}000000000000` : s(x.r) };
    const call = {
      key: imk,
      pan: s(x.pan),
      psn: s(x.psn),
      derivation: x.icc_mk_derivation === 'option_b' ? ('B' as const) : ('A' as const),
      sessionKey,
      data: H(s(x.data)),
      padding: x.padding === 'visa' ? ('visa' as const) : ('emv' as const),
      arqc: H(s(v.expected.arqc)),
    };
    const ok = await t.hsm.paymentVerifyArqc(t.user, { ...call, arpc: { method: 1, arc: '0000' } });
    assert.equal(ok.valid, true, `payment:emv_arqc:${i}`);
    assert.equal(ok.arpc?.length, 8, `payment:emv_arqc:${i} ARPC`);
    const bad = Buffer.from(call.arqc);
    bad[7] ^= 1;
    const no = await t.hsm.paymentVerifyArqc(t.user, { ...call, arqc: bad, arpc: { method: 2, csu: '00000000' } });
    assert.deepEqual(no, { valid: false }, `payment:emv_arqc:${i} C-12: no ARPC for a bad ARQC`);
    n++;
  }
  assert.equal(n, 8);
  // ARPC method 2 vector 0 through the API: its ARQC is the emv_arqc option-B vector's (5760EE07B4FA65D1)
  const v2 = V.emv_arpc_method2[0];
  const imk = await payKey(s(v2.inputs.issuer_mk), 'E0');
  const res = await t.hsm.paymentVerifyArqc(t.user, {
    key: imk,
    pan: s(v2.inputs.pan),
    psn: s(v2.inputs.psn),
    derivation: 'B',
    sessionKey: { method: 'common', r: s(v2.inputs.r) },
    data: H('0123456789ABCDEF0123456789ABCDEF'),
    arqc: H(s(v2.inputs.arqc)),
    arpc: { method: 2, csu: s(v2.inputs.csu) },
  });
  assert.equal(up(res.arpc ?? new Uint8Array()), v2.expected.arpc, 'payment:emv_arpc_method2:0');
});

test('ISO 9797-1 MAC alg 1 (M1) and alg 3 (M3) through the API', async (tc) => {
  const V = need(tc);
  if (!V) return;
  for (const [i, v] of V.iso9797_mac_alg1.entries()) {
    if (s(v.inputs.key).length === 16) continue; // single DES: no such key type (function-level test shows the refusal)
    const key = await payKey(s(v.inputs.key), 'M1');
    const exp = s(v.expected.mac);
    const p = Number(v.inputs.padding) as 1 | 2 | 3;
    const mac = await t.hsm.paymentGenerateMac(t.user, { key, algorithm: 1, padding: p, data: H(s(v.inputs.data)), length: exp.length / 2 });
    assert.equal(up(mac), exp, `payment:iso9797_mac_alg1:${i}`);
    assert.equal(await t.hsm.paymentVerifyMac(t.user, { key, algorithm: 1, padding: p, data: H(s(v.inputs.data)), mac }), true);
  }
  for (const [i, v] of V.iso9797_mac_alg3.entries()) {
    const key = await payKey(s(v.inputs.key), 'M3');
    const exp = s(v.expected.mac);
    const p = Number(v.inputs.padding) as 1 | 2 | 3;
    const mac = await t.hsm.paymentGenerateMac(t.user, { key, algorithm: 3, padding: p, data: H(s(v.inputs.data)), length: exp.length / 2 });
    assert.equal(up(mac), exp, `payment:iso9797_mac_alg3:${i}`);
    const bad = Buffer.from(mac);
    bad[0] ^= 1;
    assert.equal(await t.hsm.paymentVerifyMac(t.user, { key, algorithm: 3, padding: p, data: H(s(v.inputs.data)), mac: bad }), false);
  }
});

test('C-07 key-usage confusion: every payment function refuses a key of another usage, and generic encrypt/sign refuse payment keys', async () => {
  const key = (u: string): Promise<string> => payKey(ZPK_A, u);
  const [p0, v1, v2, c0, e0, m3, k0] = await Promise.all(['P0', 'V1', 'V2', 'C0', 'E0', 'M3', 'K0'].map(key));
  const pan = '4012345678909';
  const block = terminalBlock(ZPK_A, '1234', pan);
  await t.hsm.paymentRegisterDecimalisationTable(t.officer, { name: 'c07', table: '0123456789012345' });
  const calls: [string, (k: string) => Promise<unknown>, string][] = [
    ['translate', (k) => t.hsm.paymentTranslatePin(t.user, { in: { key: k, format: 'ISO0', pinBlock: block, pan }, outKey: p0, outFormat: 'ISO0' }), p0],
    ['ibm3624', (k) => t.hsm.paymentVerifyPinIbm3624(t.user, { pin: { key: p0, format: 'ISO0', pinBlock: block, pan }, pvk: k, table: 'c07', offset: '0000' }), v1],
    ['pvv', (k) => t.hsm.paymentVerifyPvv(t.user, { pin: { key: p0, format: 'ISO0', pinBlock: block, pan }, pvk: k, pvki: 1, pvv: '0000' }), v2],
    ['cvv', (k) => t.hsm.paymentGenerateCvv(t.user, { key: k, pan, expiry: '2512', serviceCode: '101' }), c0],
    ['arqc', (k) => t.hsm.paymentVerifyArqc(t.user, { key: k, pan, psn: '00', sessionKey: { method: 'common', r: '0001000000000000' }, data: H('00'), arqc: H('0000000000000000') }), e0],
    ['mac', (k) => t.hsm.paymentGenerateMac(t.user, { key: k, algorithm: 3, padding: 2, data: H('00') }), m3],
  ];
  for (const [name, call, right] of calls) {
    for (const wrong of [p0, v1, v2, c0, e0, m3, k0]) {
      if (wrong === right) continue;
      await expectCode(() => call(wrong), 'KEY_FUNCTION_NOT_PERMITTED', `C-07 ${name} with a wrong-usage key`);
    }
    await call(right); // the diagonal works
  }
  // Generic API: a PIN key never encrypts data, a CVK never MACs; an M3 key still MACs through sign.
  const pinKeyEnc = await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'des2', value: H(ZPK_B), token: false, encrypt: true, decrypt: true, keyUsage: 'P0' });
  await expectCode(() => t.hsm.encrypt(t.user, { key: pinKeyEnc, mechanism: 'DES3-CBC', data: Buffer.alloc(8), params: { iv: Buffer.alloc(8) } }), 'KEY_FUNCTION_NOT_PERMITTED', 'C-07 P0 encrypt');
  await expectCode(() => t.hsm.decrypt(t.user, { key: pinKeyEnc, mechanism: 'DES3-CBC', data: Buffer.alloc(8), params: { iv: Buffer.alloc(8) } }), 'KEY_FUNCTION_NOT_PERMITTED', 'C-07 P0 decrypt');
  const pinKeySign = await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'des2', value: H(ZPK_B), token: false, sign: true, keyUsage: 'P0' });
  await expectCode(() => t.hsm.sign(t.user, { key: pinKeySign, mechanism: 'DES3-CMAC', data: Buffer.alloc(8) }), 'KEY_FUNCTION_NOT_PERMITTED', 'C-07 P0 sign');
  const cvkFlags = await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'des2', value: H(ZPK_B), token: false, sign: true, keyUsage: 'C0' });
  await expectCode(() => t.hsm.sign(t.user, { key: cvkFlags, mechanism: 'DES3-CMAC', data: Buffer.alloc(8) }), 'KEY_FUNCTION_NOT_PERMITTED', 'C-07 C0 MAC');
  const macKey = await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'des2', value: H(ZPK_B), token: false, sign: true, verify: true, keyUsage: 'M6' });
  const { signature } = await t.hsm.sign(t.user, { key: macKey, mechanism: 'DES3-CMAC', data: Buffer.alloc(8) });
  assert.equal(signature.length, 8);
  // Only users use payment keys
  await expectCode(() => t.hsm.paymentKeyCheckValue(t.officer, { key: p0 }), 'USER_TYPE_INVALID', 'officer cannot use keys');
});

test('ISO 4 (AES) through translation both ways, and generation functions are audited (C-13)', async (tc) => {
  const V = need(tc);
  if (!V) return;
  const tdes = await payKey(ZPK_A, 'P0');
  const aesKey = await payKey('00112233445566778899AABBCCDDEEFF', 'P0', 'aes');
  const pan = '1234567890123456789';
  const iso0 = terminalBlock(ZPK_A, '4321', pan);
  const iso4 = await t.hsm.paymentTranslatePin(t.user, { in: { key: tdes, format: 'ISO0', pinBlock: iso0, pan }, outKey: aesKey, outFormat: 'ISO4' });
  assert.equal(iso4.length, 16);
  const back = await t.hsm.paymentTranslatePin(t.user, { in: { key: aesKey, format: 'ISO4', pinBlock: iso4, pan }, outKey: tdes, outFormat: 'ISO0' });
  assert.equal(up(back), up(iso0), 'ISO 0 → ISO 4 → ISO 0 keeps the PIN');
  await expectCode(() => t.hsm.paymentTranslatePin(t.user, { in: { key: aesKey, format: 'ISO4', pinBlock: iso4, pan }, outKey: tdes, outFormat: 'ISO1' }), 'MECHANISM_PARAM_INVALID', 'C-03 ISO4 → ISO1');
  await expectCode(() => t.hsm.paymentTranslatePin(t.user, { in: { key: tdes, format: 'ISO0', pinBlock: iso0, pan }, outKey: tdes, outFormat: 'ISO4' }), 'KEY_TYPE_INCONSISTENT', 'format 4 needs an AES key');
  const pvk = await payKey(s(V.visa_pvv[0].inputs.pvk), 'V2');
  await t.hsm.paymentGeneratePvv(t.user, { pin: { key: tdes, format: 'ISO0', pinBlock: iso0, pan }, pvk, pvki: 1 });
  const records = t.hsm.listAudit(t.auditor, 1, 10_000);
  assert.ok(
    records.some((r) => r.op === 'payment.pvv.generate' && r.outcome === 'ok' && r.target === tdes),
    'PVV generation leaves an audit record',
  );
});

test('Mastercard CVC3 through the API: mastercard_cvc3 vector, wrong usage refused, attempt limit', async (tc) => {
  const V = need(tc);
  if (!V) return;
  for (const [i, v] of V.mastercard_cvc3.entries()) {
    const x = v.inputs;
    const key = await payKey(s(x.issuer_cvc3_key), 'E6');
    const call = { key, pan: s(x.pan), psn: s(x.psn), trackData: H(s(x.track_data)), un: s(x.un), atc: s(x.atc), cvc3: s(v.expected.cvc3_last3) };
    assert.equal(await t.hsm.paymentVerifyCvc3(t.user, call), true, `payment:mastercard_cvc3:${i}`);
    assert.equal(await t.hsm.paymentVerifyCvc3(t.user, { ...call, cvc3: '000' }), false);
    const e0 = await payKey(s(x.issuer_cvc3_key), 'E0');
    await expectCode(() => t.hsm.paymentVerifyCvc3(t.user, { ...call, key: e0 }), 'KEY_FUNCTION_NOT_PERMITTED', 'C-07: an AC key is no CVC3 key');
    for (let g = 0; g < 4; g++) await t.hsm.paymentVerifyCvc3(t.user, { ...call, cvc3: String(100 + g) });
    await expectCode(() => t.hsm.paymentVerifyCvc3(t.user, call), 'LIMIT_EXCEEDED', 'C-11: CVC3 guessing stops');
  }
});

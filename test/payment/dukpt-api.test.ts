// DUKPT, CMAC payment MACs and Mastercard CVC through the Hsm API: the dukpt_tdes, dukpt_aes, pin_translate
// (with the DUKPT KSNs the vectors name), aes_cmac and tdes_cmac vectors, and the refusals (B0 usage,
// PCI format rules, KSNs no device makes). Derived keys never come out: the tests check them by what
// they encrypt, MAC or decrypt.

import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { after, before, test } from 'node:test';
import { loadSymmetricKey } from '../../src/boundary/keytypes/symmetric.js';
import { cmacTag } from '../../src/boundary/mechanisms/cmac.js';
import { buildPinBlock } from '../../src/boundary/mechanisms/payment/pin-block.js';
import { SecretBytes } from '../../src/boundary/secret.js';
import type { KeyType } from '../../src/boundary/types.js';
import { expectCode } from '../support/expect-code.js';
import { type TestHsm, testHsm } from '../support/hsm.js';
import { loadPaymentVectors, type PaymentVectors, s } from './vectors.js';

const H = (x: string): Buffer => Buffer.from(x, 'hex');
const up = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const V: PaymentVectors = loadPaymentVectors() ?? assert.fail('payment vectors missing');
let t: TestHsm;

before(async () => {
  t = await testHsm();
  t.hsm.paymentGrant(t.officer, { account: 'alice', grant: 'card-production' });
});
after(async () => t.close());

async function payKey(hexKey: string, keyUsage: string, keyType?: KeyType): Promise<string> {
  const kt: KeyType = keyType ?? (hexKey.length === 48 ? 'des3' : 'des2');
  return t.hsm.createObject(t.user, { class: 'secret-key', keyType: kt, value: H(hexKey), token: false, keyUsage });
}

/** What the acquirer's HSM should produce: TDES-ECB of the ISO 0 block under a known zone key. */
function zoneBlock(keyHex: string, pin: string, pan: string): string {
  const clear = buildPinBlock('ISO0', SecretBytes.from(Uint8Array.from([...pin].map(Number))), pan);
  const c = createCipheriv('des-ede-ecb', H(keyHex), null).setAutoPadding(false);
  return up(Buffer.concat([c.update(clear), c.final()]));
}

const ZPK = '89ABCDEF0123456776543210FEDCBA98';

test('TDES DUKPT through the API: every dukpt_tdes vector (PIN translation, X9.19 and CMAC request and response MACs, request data)', async () => {
  const vs = V.dukpt_tdes ?? [];
  assert.equal(vs.length, 14);
  const bdk = await payKey(s(vs[0]?.inputs.bdk), 'B0');
  const zpk = await payKey(ZPK, 'P0');
  const pan = '4012345678909';
  const want = zoneBlock(ZPK, '1234', pan);
  for (const [i, v] of vs.entries()) {
    const ksn = s(v.inputs.ksn);
    const name = `payment:dukpt_tdes:${i}`;
    const out = await t.hsm.paymentTranslatePinFromDukpt(t.user, { bdk, ksn, format: 'ISO0', pinBlock: H(s(v.expected.encrypted_pin_block)), pan, outKey: zpk, outFormat: 'ISO0' });
    assert.equal(up(out), want, `${name} PIN`);
    const data = H(s(v.inputs.txn_data));
    assert.equal(await t.hsm.paymentVerifyDukptMac(t.user, { bdk, ksn, data, mac: H(s(v.expected.mac_request)) }), true, `${name} X9.19 MAC`);
    assert.equal(await t.hsm.paymentVerifyDukptMac(t.user, { bdk, ksn, data, mac: H(s(v.expected.cmac_request_handcrafted)), algorithm: 'cmac' }), true, `${name} CMAC`);
    assert.equal(up(await t.hsm.paymentGenerateDukptMac(t.user, { bdk, ksn, data })), v.expected.mac_response, `${name} response MAC`);
    assert.equal(up(await t.hsm.paymentGenerateDukptMac(t.user, { bdk, ksn, data, algorithm: 'cmac', length: 8 })), v.expected.cmac_response_handcrafted, `${name} response CMAC`);
    // the response MAC is under another variant: it must not verify as a request MAC
    assert.equal(await t.hsm.paymentVerifyDukptMac(t.user, { bdk, ksn, data, mac: H(s(v.expected.mac_response)) }), false, `${name} response MAC is not a request MAC`);
    const clear = await t.hsm.paymentDecryptDukptData(t.user, { bdk, ksn, data: H(s(v.expected.encrypted_request)) });
    assert.equal(up(clear), up(Buffer.concat([data, Buffer.alloc(24 - data.length)])), `${name} data`);
  }
});

test('pin_translate vectors from the terminal side: the DUKPT blocks they name translate to the published zone blocks', async () => {
  // The vectors' notes name the KSN each in_block was made under (transaction keys of BDK 0123…3210).
  const ksns = ['FFFF9876543210E00001', 'FFFF9876543210E00003', 'FFFF9876543210E00008', 'FFFF9876543210EFF801'];
  const vs = V.pin_translate ?? [];
  const bdk = await payKey('0123456789ABCDEFFEDCBA9876543210', 'B0');
  for (const [i, v] of vs.entries()) {
    assert.ok(v.note?.includes(ksns[i] ?? '?'), `payment:pin_translate:${i} names KSN ${ksns[i]}`);
    const outKey = await payKey(s(v.inputs.out_key), 'P0');
    const out = await t.hsm.paymentTranslatePinFromDukpt(t.user, { bdk, ksn: ksns[i] ?? '', format: 'ISO0', pinBlock: H(s(v.inputs.in_block)), pan: s(v.inputs.pan), outKey, outFormat: 'ISO0' });
    assert.equal(up(out), v.expected.out_block, `payment:pin_translate:${i} from DUKPT`);
  }
});

test('AES DUKPT through the API: ISO 4 PIN blocks, AES-CMAC request MACs and request data under the published working keys', async () => {
  const vs = V.dukpt_aes ?? [];
  let pins = 0;
  let macs = 0;
  const zpk = await payKey(ZPK, 'P0');
  const bdks = new Map<string, string>();
  for (const [i, v] of vs.entries()) {
    const name = `payment:dukpt_aes:${i}`;
    const bdkHex = s(v.inputs.bdk);
    const bdk = bdks.get(bdkHex) ?? (await payKey(bdkHex, 'B0', 'aes'));
    bdks.set(bdkHex, bdk);
    const ksn = s(v.inputs.ksn);
    if (v.expected.encrypted_pin_block !== undefined) {
      const pan = s(v.inputs.pan);
      const out = await t.hsm.paymentTranslatePinFromDukpt(t.user, { bdk, ksn, format: 'ISO4', pinBlock: H(s(v.expected.encrypted_pin_block)), pan, outKey: zpk, outFormat: 'ISO0' });
      assert.equal(up(out), zoneBlock(ZPK, '1234', pan), `${name} PIN`);
      pins++;
    }
    for (const type of ['aes128', 'aes256'] as const) {
      const macKey = v.expected[`cmac_${type}_key`];
      const dataKey = v.expected[`data_${type}_key`];
      if (macKey === undefined || dataKey === undefined) continue;
      const msg = Buffer.from(`transaction ${i} ${type}`);
      const tag = cmacTag(loadSymmetricKey('aes', H(s(macKey))), ['aes'], 16, msg);
      assert.equal(await t.hsm.paymentVerifyDukptMac(t.user, { bdk, ksn, data: msg, mac: tag, workingKeyType: type }), true, `${name} ${type} MAC`);
      tag[0] ^= 1;
      assert.equal(await t.hsm.paymentVerifyDukptMac(t.user, { bdk, ksn, data: msg, mac: tag, workingKeyType: type }), false, `${name} ${type} altered MAC`);
      const plain = Buffer.alloc(32, i);
      const c = createCipheriv(`aes-${type.slice(3)}-cbc`, H(s(dataKey)), Buffer.alloc(16)).setAutoPadding(false);
      const enc = Buffer.concat([c.update(plain), c.final()]);
      assert.deepEqual(Buffer.from(await t.hsm.paymentDecryptDukptData(t.user, { bdk, ksn, data: enc, workingKeyType: type })), plain, `${name} ${type} data`);
      macs++;
    }
  }
  assert.equal(pins, 3);
  assert.equal(macs, 9);
});

test('DUKPT refusals: B0 usage both ways, PCI format rules, KSNs no device makes, workingKeyType on TDES', async () => {
  const bdkHex = '0123456789ABCDEFFEDCBA9876543210';
  const bdk = await payKey(bdkHex, 'B0');
  const notBdk = await payKey(bdkHex, 'P0');
  const zpk = await payKey(ZPK, 'P0');
  const pan = '4012345678909';
  const block = H('50E55547A5027551'); // KSN …E00008, PIN 1234
  const ksn = 'FFFF9876543210E00008';
  const base = { bdk, ksn, format: 'ISO0', pinBlock: block, pan, outKey: zpk, outFormat: 'ISO0' };
  await expectCode(() => t.hsm.paymentTranslatePinFromDukpt(t.user, { ...base, bdk: notBdk }), 'KEY_FUNCTION_NOT_PERMITTED', 'a P0 key is no BDK (C-07)');
  await expectCode(() => t.hsm.paymentTranslatePinFromDukpt(t.user, { ...base, outKey: bdk }), 'KEY_FUNCTION_NOT_PERMITTED', 'a BDK is no zone key');
  await expectCode(() => t.hsm.paymentTranslatePin(t.user, { in: { key: bdk, format: 'ISO0', pinBlock: block, pan }, outKey: zpk, outFormat: 'ISO0' }), 'KEY_FUNCTION_NOT_PERMITTED', 'a BDK decrypts no PIN block directly');
  await expectCode(() => t.hsm.encrypt(t.user, { key: bdk, mechanism: 'DES3-ECB', data: Buffer.alloc(8) }), 'KEY_FUNCTION_NOT_PERMITTED', 'a BDK encrypts nothing through the general API');
  await expectCode(() => t.hsm.paymentTranslatePinFromDukpt(t.user, { ...base, outFormat: 'ISO1' }), 'MECHANISM_PARAM_INVALID', 'C-03 from DUKPT');
  await expectCode(() => t.hsm.paymentTranslatePinFromDukpt(t.user, { ...base, outPan: '4012345678917' }), 'MECHANISM_PARAM_INVALID', 'C-04 from DUKPT');
  await expectCode(() => t.hsm.paymentTranslatePinFromDukpt(t.user, { ...base, ksn: 'FFFF9876543210FFFFFF' }), 'MECHANISM_PARAM_INVALID', 'counter with 21 one-bits');
  await expectCode(() => t.hsm.paymentTranslatePinFromDukpt(t.user, { ...base, ksn: 'FFFF98765432' }), 'MECHANISM_PARAM_INVALID', 'short KSN');
  await expectCode(() => t.hsm.paymentTranslatePinFromDukpt(t.user, { ...base, workingKeyType: 'aes128' }), 'MECHANISM_PARAM_INVALID', 'workingKeyType on TDES');
  // the wrong KSN gives a wrong key, so the block does not parse: one code, as for any bad block (C-05)
  await expectCode(() => t.hsm.paymentTranslatePinFromDukpt(t.user, { ...base, ksn: 'FFFF9876543210E00009' }), 'DECRYPT_FAILED', 'block under another KSN');
  await expectCode(() => t.hsm.paymentTranslatePinFromDukpt(t.officer, base), 'USER_TYPE_INVALID', 'officers use no keys');
  await expectCode(() => t.hsm.paymentDecryptDukptData(t.user, { bdk, ksn, data: Buffer.alloc(7) }), 'MECHANISM_PARAM_INVALID', 'partial block');
});

test('C-14: a DUKPT PIN block is translated once; a repeated or older KSN counter of that device is refused', async () => {
  const vs = V.dukpt_tdes ?? [];
  const bdk = await payKey('0123456789ABCDEFFEDCBA9876543210', 'B0');
  const zpk = await payKey(ZPK, 'P0');
  const pan = '4012345678909';
  const tx = (i: number) => {
    const v = vs[i] ?? assert.fail('vector');
    return t.hsm.paymentTranslatePinFromDukpt(t.user, { bdk, ksn: s(v.inputs.ksn), format: 'ISO0', pinBlock: H(s(v.expected.encrypted_pin_block)), pan, outKey: zpk, outFormat: 'ISO0' });
  };
  await tx(1); // counter 9
  await expectCode(() => tx(1), 'MECHANISM_PARAM_INVALID', 'the same KSN again (replay)');
  await expectCode(() => tx(0), 'MECHANISM_PARAM_INVALID', 'an older counter');
  await tx(2); // counter 10: the next transaction goes through
  // the same transaction's MAC and data use the same KSN: not a replay
  const v2 = vs[2] ?? assert.fail('vector');
  assert.equal(await t.hsm.paymentVerifyDukptMac(t.user, { bdk, ksn: s(v2.inputs.ksn), data: H(s(v2.inputs.txn_data)), mac: H(s(v2.expected.mac_request)) }), true);
  // another BDK object is another key: its devices are tracked apart
  const bdk2 = await payKey('0123456789ABCDEFFEDCBA9876543210', 'B0');
  const v1 = vs[1] ?? assert.fail('vector');
  await t.hsm.paymentTranslatePinFromDukpt(t.user, { bdk: bdk2, ksn: s(v1.inputs.ksn), format: 'ISO0', pinBlock: H(s(v1.expected.encrypted_pin_block)), pan, outKey: zpk, outFormat: 'ISO0' });
  const refused = t.hsm.listAudit(t.auditor, 1, 10_000).filter((r) => r.op === 'payment.pin.translate-dukpt' && r.code === 'MECHANISM_PARAM_INVALID' && r.outcome !== 'ok');
  assert.ok(refused.length >= 2, 'replays are audited');
});

test('CMAC payment MACs (M6): aes_cmac and tdes_cmac vectors generate and verify; other usages refused', async () => {
  let n = 0;
  for (const [group, kt] of [['aes_cmac', 'aes'], ['tdes_cmac', 'des3']] as const) {
    for (const [i, v] of (V[group] ?? []).entries()) {
      const key = await payKey(s(v.inputs.key), 'M6', kt);
      const data = H(s(v.inputs.message));
      const want = s(v.expected.cmac);
      const mac = await t.hsm.paymentGenerateMac(t.user, { key, algorithm: 'cmac', data, length: want.length / 2 });
      assert.equal(up(mac), want, `payment:${group}:${i}`);
      assert.equal(await t.hsm.paymentVerifyMac(t.user, { key, algorithm: 'cmac', data, mac: H(want).subarray(0, 8) }), true, `payment:${group}:${i} verify truncated`);
      const bad = H(want);
      bad[bad.length - 1] ^= 1;
      assert.equal(await t.hsm.paymentVerifyMac(t.user, { key, algorithm: 'cmac', data, mac: bad }), false, `payment:${group}:${i} altered`);
      n++;
    }
  }
  assert.equal(n, 8);
  const m3 = await payKey('0123456789ABCDEFFEDCBA9876543210', 'M3');
  await expectCode(() => t.hsm.paymentGenerateMac(t.user, { key: m3, algorithm: 'cmac', data: Buffer.alloc(8) }), 'KEY_FUNCTION_NOT_PERMITTED', 'an alg-3 key does no CMAC');
  const m6 = await payKey('0123456789ABCDEFFEDCBA9876543210', 'M6');
  await expectCode(() => t.hsm.paymentGenerateMac(t.user, { key: m6, algorithm: 3, padding: 1, data: Buffer.alloc(8) }), 'KEY_FUNCTION_NOT_PERMITTED', 'a CMAC key does no alg 3');
  await expectCode(() => t.hsm.paymentGenerateMac(t.user, { key: m6, algorithm: 'cmac', data: Buffer.alloc(8), length: 9 }), 'MECHANISM_PARAM_INVALID', 'TDES-CMAC is at most 8 bytes');
});

test('Mastercard CVC/CVC2/iCVC: the Visa CVV algorithm with the service code of each kind (cross-checked on visa_cvv)', async () => {
  for (const [i, v] of (V.visa_cvv ?? []).entries()) {
    const x = v.inputs;
    const cvkHex = s(x.cvk);
    if (cvkHex.slice(0, 16) === cvkHex.slice(16)) continue; // KA = KB: refused by the key type
    const key = await payKey(cvkHex, 'C0');
    const base = { key, pan: s(x.pan), expiry: s(x.expiry) };
    const cvc = await t.hsm.paymentGenerateCvv(t.user, { ...base, serviceCode: s(x.service_code), kind: 'cvc' });
    assert.equal(cvc, v.expected.cvv, `payment:visa_cvv:${i} as CVC`);
    const cvc2 = await t.hsm.paymentGenerateCvv(t.user, { ...base, kind: 'cvc2' });
    assert.equal(cvc2, await t.hsm.paymentGenerateCvv(t.user, { ...base, serviceCode: '000' }), `payment:visa_cvv:${i} CVC2 = service code 000`);
    const icvc = await t.hsm.paymentGenerateCvv(t.user, { ...base, kind: 'icvc' });
    assert.equal(icvc, await t.hsm.paymentGenerateCvv(t.user, { ...base, kind: 'icvv' }), `payment:visa_cvv:${i} iCVC = iCVV (999)`);
    assert.equal(await t.hsm.paymentVerifyCvv(t.user, { ...base, kind: 'cvc2', cvv: cvc2 }), true, `payment:visa_cvv:${i} CVC2 verifies`);
    await expectCode(() => t.hsm.paymentGenerateCvv(t.user, { ...base, kind: 'cvc2', serviceCode: '101' }), 'MECHANISM_PARAM_INVALID', 'CVC2 with another service code');
    await expectCode(() => t.hsm.paymentGenerateCvv(t.user, { ...base, kind: 'cvc' }), 'MECHANISM_PARAM_INVALID', 'CVC without a service code');
  }
});

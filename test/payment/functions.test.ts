// Function-level tests of the payment primitives against the shared payment vectors (the clear-PIN
// encode/decode functions are only reachable here, by design). Each case is named
// payment:<group>:<index> in assertion messages.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HsmError } from '../../src/boundary/errors.js';
import { loadSymmetricKey } from '../../src/boundary/keytypes/symmetric.js';
import { retailMac } from '../../src/boundary/mechanisms/iso9797-mac.js';
import { cvc3, cvv } from '../../src/boundary/mechanisms/payment/card-verification.js';
import { checkValue } from '../../src/boundary/mechanisms/payment/check-value.js';
import { parseDecimalisationTable } from '../../src/boundary/mechanisms/payment/decimalisation.js';
import {
  applicationCryptogram,
  arpcMethod1,
  arpcMethod2,
  iccMasterKeyA,
  iccMasterKeyB,
  sessionKeyCommon,
  sessionKeyMastercard,
  verifyCryptogram,
} from '../../src/boundary/mechanisms/payment/emv.js';
import { ibm3624Offset, ibm3624Verify } from '../../src/boundary/mechanisms/payment/ibm3624.js';
import { lengthPrefixed, macAlg1 } from '../../src/boundary/mechanisms/payment/iso9797-alg1.js';
import {
  buildPinBlock,
  decryptPinBlock,
  encryptPinBlock,
  panField4,
  parsePinBlock,
  pinFormat,
} from '../../src/boundary/mechanisms/payment/pin-block.js';
import { visaPvv } from '../../src/boundary/mechanisms/payment/visa-pvv.js';
import { SecretBytes } from '../../src/boundary/secret.js';
import type { KeyType, LoadedKey } from '../../src/boundary/types.js';
import { loadPaymentVectors, type PaymentVector, s } from './vectors.js';

const H = (x: string): Buffer => Buffer.from(x, 'hex');
const up = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const pinOf = (d: string): SecretBytes => SecretBytes.from(Uint8Array.from([...d].map(Number)));
const pinStr = (p: SecretBytes): string => [...p.insecureBytes()].join('');
const keyOf = (h: string): LoadedKey => {
  const t: KeyType = h.length === 64 || h.length === 48 ? (h.length === 48 ? 'des3' : 'aes') : 'des2';
  return loadSymmetricKey(t, H(h));
};
const aes = (h: string): LoadedKey => loadSymmetricKey('aes', H(h));

function each(group: string, body: (v: PaymentVector, name: string) => void): number {
  const all = loadPaymentVectors();
  const list = all?.[group] ?? [];
  assert.ok(list.length > 0, `payment:${group} has vectors`);
  for (const [i, v] of list.entries()) body(v, `payment:${group}:${i}`);
  return list.length;
}

function derivedMk(v: PaymentVector): LoadedKey {
  const i = v.inputs;
  if (i.icc_mk !== undefined) return keyOf(s(i.icc_mk));
  const imk = keyOf(s(i.issuer_mk)); // a degenerate (KA = KB) issuer key throws here: see the EMV test
  return i.icc_mk_derivation === 'option_b' ? iccMasterKeyB(imk, s(i.pan), s(i.psn)) : iccMasterKeyA(imk, s(i.pan), s(i.psn));
}

function sessionKey(v: PaymentVector, mk: LoadedKey): LoadedKey {
  const i = v.inputs;
  if (i.session_key !== undefined) return keyOf(s(i.session_key));
  if (i.session_key_derivation === 'mastercard_skd(ATC,UN)') return sessionKeyMastercard(mk, s(i.atc), s(i.un));
  if (i.session_key_derivation === 'common(ATC)') return sessionKeyCommon(mk, `${s(i.atc)}000000000000`);
  return sessionKeyCommon(mk, s(i.r));
}

const kcv2 = (k: LoadedKey): string => up(checkValue(k, 2));
/** Parity bits masked: a source that does not adjust parity still names the same DES key. */
const noParity = (b: Uint8Array): string => up(Buffer.from(b).map((x) => x & 0xfe));

test('KCV: TDES ECB of zeros and AES CMAC of 16 zero bytes (X9.24-1:2017)', (tc) => {
  if (!loadPaymentVectors((why) => tc.skip(why))) return;
  each('kcv_tdes', (v, name) => {
    const exp = s(v.expected.kcv);
    assert.equal(up(checkValue(keyOf(s(v.inputs.key)), exp.length / 2)), exp, name);
  });
  each('kcv_aes_cmac', (v, name) => {
    const exp = s(v.expected.kcv);
    assert.equal(up(checkValue(aes(s(v.inputs.key)), exp.length / 2)), exp, name);
  });
  // attacks.md C-09: never more than 5 bytes of a known-plaintext encryption
  assert.throws(() => checkValue(keyOf('0123456789ABCDEFFEDCBA9876543210'), 8), HsmError);
});

test('PIN blocks ISO 9564-1 formats 0, 1, 3: encode and decode', (tc) => {
  if (!loadPaymentVectors((why) => tc.skip(why))) return;
  each('pin_block_iso0_encode', (v, name) => {
    const clear = buildPinBlock('ISO0', pinOf(s(v.inputs.pin)), s(v.inputs.pan));
    assert.equal(up(clear), v.expected.pin_block, name);
    assert.equal(pinStr(parsePinBlock('ISO0', clear, s(v.inputs.pan))), v.inputs.pin, name);
  });
  each('pin_block_iso1_encode', (v, name) => {
    const fill = [...s(v.inputs.fill)].map((c) => Number.parseInt(c, 16));
    const clear = buildPinBlock('ISO1', pinOf(s(v.inputs.pin)), undefined, fill);
    assert.equal(up(clear), v.expected.pin_block, name);
    assert.equal(pinStr(parsePinBlock('ISO1', clear)), v.inputs.pin, name);
  });
  each('pin_block_iso3_encode', (v, name) => {
    const fill = [...s(v.inputs.fill)].map((c) => Number.parseInt(c, 16));
    const clear = buildPinBlock('ISO3', pinOf(s(v.inputs.pin)), s(v.inputs.pan), fill);
    assert.equal(up(clear), v.expected.pin_block, name);
    assert.equal(pinStr(parsePinBlock('ISO3', H(s(v.expected.pin_block)), s(v.inputs.pan))), v.inputs.pin, name);
    // random fill is A-F
    const r = buildPinBlock('ISO3', pinOf(s(v.inputs.pin)), s(v.inputs.pan));
    assert.equal(pinStr(parsePinBlock('ISO3', r, s(v.inputs.pan))), v.inputs.pin, name);
  });
  // attacks.md C-05: any malformation is the one DECRYPT_FAILED
  const good = buildPinBlock('ISO0', pinOf('1234'), '4012345678909');
  for (const bad of [Buffer.from(good).fill(0x11, 0, 1), Buffer.from(good).fill(0xab, 3, 4), good.subarray(0, 7)]) {
    assert.throws(() => parsePinBlock('ISO0', bad, '4012345678909'), (e: unknown) => e instanceof HsmError && e.code === 'DECRYPT_FAILED');
  }
  assert.throws(() => parsePinBlock('ISO0', good, '4012345678919'), (e: unknown) => e instanceof HsmError && e.code === 'DECRYPT_FAILED');
  assert.throws(() => buildPinBlock('ISO0', pinOf('123'), '4012345678909'), HsmError);
  assert.throws(() => pinFormat('ISO2'), HsmError);
});

test('PIN block format 4 (AES): PAN field, encipher, decipher', (tc) => {
  if (!loadPaymentVectors((why) => tc.skip(why))) return;
  each('pin_block_iso4_pan_field', (v, name) => assert.equal(up(panField4(s(v.inputs.pan))), v.expected.pan_field, name));
  each('pin_block_iso4_encrypt', (v, name) => {
    const fill = [...s(v.inputs.random_fill)].map((c) => Number.parseInt(c, 16));
    const k = aes(s(v.inputs.key));
    const clear = buildPinBlock('ISO4', pinOf(s(v.inputs.pin)), s(v.inputs.pan), fill);
    assert.equal(up(encryptPinBlock(k, 'ISO4', clear, s(v.inputs.pan))), v.expected.enciphered_block, name);
  });
  each('pin_block_iso4_decrypt', (v, name) => {
    const k = aes(s(v.inputs.key));
    assert.equal(pinStr(decryptPinBlock(k, 'ISO4', H(s(v.inputs.enciphered_block)), s(v.inputs.pan))), v.expected.pin, name);
  });
});

test('PIN translate primitive: decrypt ISO 0 under one key, re-encrypt under another', (tc) => {
  if (!loadPaymentVectors((why) => tc.skip(why))) return;
  each('pin_translate', (v, name) => {
    const i = v.inputs;
    const pin = decryptPinBlock(keyOf(s(i.in_key)), pinFormat(i.in_format), H(s(i.in_block)), s(i.pan));
    assert.equal(pinStr(pin), v.expected.pin, name);
    const clear = buildPinBlock(pinFormat(i.out_format), pin, s(i.pan));
    assert.equal(up(clear), v.expected.clear_pin_block, name);
    assert.equal(up(encryptPinBlock(keyOf(s(i.out_key)), pinFormat(i.out_format), clear, s(i.pan))), v.expected.out_block, name);
  });
});

test('IBM 3624 offset generate and verify', (tc) => {
  if (!loadPaymentVectors((why) => tc.skip(why))) return;
  each('ibm3624_offset_generate', (v, name) => {
    const i = v.inputs;
    const t = [...s(i.decimalization_table)].map(Number); // vector tables are not all officer-grade: test the arithmetic
    assert.equal(ibm3624Offset(keyOf(s(i.pvk)), t, s(i.validation_data), pinOf(s(i.pin))).join(''), v.expected.offset, name);
  });
  each('ibm3624_verify', (v, name) => {
    const i = v.inputs;
    const t = [...s(i.decimalization_table)].map(Number);
    const off = [...s(i.offset)].map(Number);
    assert.equal(ibm3624Verify(keyOf(s(i.pvk)), t, s(i.validation_data), pinOf(s(v.expected.pin)), off), true, name);
    const wrong = pinOf(s(v.expected.pin).replace(/^./, (c) => String((Number(c) + 1) % 10)));
    assert.equal(ibm3624Verify(keyOf(s(i.pvk)), t, s(i.validation_data), wrong, off), false, name);
  });
  // attacks.md C-01: degenerate tables refused at registration
  assert.throws(() => parseDecimalisationTable('0000000000000000'), HsmError);
  assert.throws(() => parseDecimalisationTable('01234567890123'), HsmError);
  assert.deepEqual([...parseDecimalisationTable('0123456789012345')], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5]);
});

test('Visa PVV', (tc) => {
  if (!loadPaymentVectors((why) => tc.skip(why))) return;
  each('visa_pvv', (v, name) => {
    const i = v.inputs;
    assert.equal(visaPvv(keyOf(s(i.pvk)), s(i.pan), Number(i.pvki), pinOf(s(i.pin))).join(''), v.expected.pvv, name);
  });
});

test('Visa CVV / CVV2 / iCVV and Mastercard CVC3', (tc) => {
  if (!loadPaymentVectors((why) => tc.skip(why))) return;
  let refused = 0;
  each('visa_cvv', (v, name) => {
    const i = v.inputs;
    const k = s(i.cvk);
    if (k.slice(0, 16) === k.slice(16)) {
      // attacks.md C-11 (4): a CVK with KA = KB is single DES; the key type refuses to load it
      assert.throws(() => cvv(keyOf(k), s(i.pan), s(i.expiry), s(i.service_code)), HsmError, name);
      refused++;
      return;
    }
    assert.equal(cvv(keyOf(k), s(i.pan), s(i.expiry), s(i.service_code)), v.expected.cvv, name);
  });
  assert.equal(refused, 2, 'the two KA = KB vectors are refused');
  each('mastercard_cvc3', (v, name) => {
    const i = v.inputs;
    const icc = iccMasterKeyA(keyOf(s(i.issuer_cvc3_key)), s(i.pan), s(i.psn));
    assert.equal(kcv2(icc), v.expected.icc_cvc3_key_kcv2, name);
    const value = cvc3(icc, H(s(i.track_data)), s(i.un), s(i.atc));
    assert.equal(String(value).slice(-3), v.expected.cvc3_last3, name);
  });
});

test('EMV: ICC MK options A/B, session keys, ARQC, ARPC 1/2', (tc) => {
  if (!loadPaymentVectors((why) => tc.skip(why))) return;
  each('emv_icc_mk_option_a', (v, name) => {
    const mk = iccMasterKeyA(keyOf(s(v.inputs.issuer_mk)), s(v.inputs.pan), s(v.inputs.psn));
    if (v.expected.icc_mk_kcv2 !== undefined) assert.equal(kcv2(mk), v.expected.icc_mk_kcv2, name);
    else assert.equal(noParity(mk.secret?.insecureBytes() ?? Buffer.alloc(0)), noParity(H(s(v.expected.icc_mk_no_parity_adjust))), name);
  });
  each('emv_icc_mk_option_b', (v, name) => {
    const mk = iccMasterKeyB(keyOf(s(v.inputs.issuer_mk)), s(v.inputs.pan), s(v.inputs.psn));
    if (v.expected.icc_mk_kcv2 !== undefined) assert.equal(kcv2(mk), v.expected.icc_mk_kcv2, name);
    else assert.equal(noParity(mk.secret?.insecureBytes() ?? Buffer.alloc(0)), noParity(H(s(v.expected.icc_mk))), name);
  });
  each('emv_session_key_common', (v, name) => {
    const sk = sessionKeyCommon(derivedMk(v), s(v.inputs.r));
    if (v.expected.session_key_kcv2 !== undefined) assert.equal(kcv2(sk), v.expected.session_key_kcv2, name);
    else assert.equal(noParity(sk.secret?.insecureBytes() ?? Buffer.alloc(0)), noParity(H(s(v.expected.session_key))), name);
  });
  each('emv_session_key_mastercard_skd', (v, name) => {
    const sk = sessionKeyMastercard(derivedMk(v), s(v.inputs.atc), s(v.inputs.un));
    assert.equal(kcv2(sk), v.expected.session_key_kcv2, name);
  });
  let degenerate = 0;
  each('emv_arqc', (v, name) => {
    const ik = v.inputs.issuer_mk;
    if (typeof ik === 'string' && ik.slice(0, 16) === ik.slice(16)) {
      // an issuer master key with KA = KB is single DES: refused as a key, so its cryptograms are never computed
      assert.throws(() => derivedMk(v), HsmError, name);
      degenerate++;
      return;
    }
    const mk = v.inputs.session_key === undefined ? derivedMk(v) : keyOf(s(v.inputs.session_key));
    if (v.expected.icc_mk_kcv2 !== undefined) assert.equal(kcv2(mk), v.expected.icc_mk_kcv2, name);
    const sk = sessionKey(v, mk);
    if (v.expected.session_key_kcv2 !== undefined) assert.equal(kcv2(sk), v.expected.session_key_kcv2, name);
    const pad = v.inputs.padding === 'visa' ? 'visa' : 'emv';
    assert.equal(up(applicationCryptogram(sk, H(s(v.inputs.data)), pad)), v.expected.arqc, name);
    assert.equal(verifyCryptogram(sk, H(s(v.inputs.data)), pad, H(s(v.expected.arqc))), true, name);
    const bad = H(s(v.expected.arqc));
    bad[0] ^= 1;
    assert.equal(verifyCryptogram(sk, H(s(v.inputs.data)), pad, bad), false, name);
  });
  assert.equal(degenerate, 1, 'one ARQC vector uses a KA = KB issuer key');
  each('emv_arpc_method1', (v, name) => {
    const mk = derivedMk(v);
    const key = v.inputs.arpc_key === 'icc_mk' ? mk : sessionKey(v, mk);
    assert.equal(up(arpcMethod1(key, s(v.inputs.arqc), s(v.inputs.arc))), v.expected.arpc, name);
  });
  each('emv_arpc_method2', (v, name) => {
    const key = v.inputs.key !== undefined ? keyOf(s(v.inputs.key)) : sessionKey(v, derivedMk(v));
    assert.equal(up(arpcMethod2(key, s(v.inputs.arqc), s(v.inputs.csu), H(s(v.inputs.prop_auth_data)))), v.expected.arpc, name);
  });
});

test('ISO 9797-1 MAC algorithms 1 and 3', (tc) => {
  if (!loadPaymentVectors((why) => tc.skip(why))) return;
  let skipped = 0;
  each('iso9797_mac_alg1', (v, name) => {
    const k = s(v.inputs.key);
    const p = Number(v.inputs.padding);
    if (k.length === 16) {
      skipped++; // single-length DES keys do not exist in Coffer (attacks.md C-09)
      assert.throws(() => loadSymmetricKey('des2', H(k)), name);
      return;
    }
    const exp = s(v.expected.mac);
    const data = p === 3 ? lengthPrefixed(H(s(v.inputs.data))) : H(s(v.inputs.data));
    assert.equal(up(macAlg1(keyOf(k), data, p === 3 ? 1 : (p as 1 | 2)).subarray(0, exp.length / 2)), exp, name);
  });
  assert.equal(skipped, 1);
  each('iso9797_mac_alg3', (v, name) => {
    const exp = s(v.expected.mac);
    const p = Number(v.inputs.padding ?? 1);
    const data = p === 3 ? lengthPrefixed(H(s(v.inputs.data))) : H(s(v.inputs.data));
    assert.equal(up(retailMac(keyOf(s(v.inputs.key)), data, p === 2 ? 2 : 1).subarray(0, exp.length / 2)), exp, name);
  });
});

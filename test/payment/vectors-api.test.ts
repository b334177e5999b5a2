// The PIN-block and EMV key-derivation vectors through the Hsm API. The API never takes or returns a clear
// PIN or key, so each vector is expressed as a terminal, card or peer would see it: blocks encrypted outside
// under known test keys and translated, ARQCs made outside under keys derived here independently and verified.

import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, type TestContext, test } from 'node:test';
import type { KeyType } from '../../src/boundary/api.js';
import { arpcMethod1, H, iccMasterKeyA, retailMac, sessionKeyMastercard, tdesEcb } from '../hostcmd/payment-crypto.js';
import { expectCode } from '../support/expect-code.js';
import { type TestHsm, testHsm } from '../support/hsm.js';
import { loadPaymentVectors, type PaymentVector, type PaymentVectors, s } from './vectors.js';

const up = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const xor = (a: Buffer, b: Buffer): Buffer => Buffer.from(a.map((x, i) => x ^ (b[i] ?? 0)));
/** DES ignores the low bit of each key byte (FIPS 46-3 §1), so derived keys are compared with it masked. */
const noParity = (b: Buffer): string => up(Buffer.from(b.map((x) => x & 0xfe)));
const kcv = (key: Buffer, n: number): string => up(tdesEcb(key, Buffer.alloc(8)).subarray(0, n));

let t: TestHsm;
before(async () => {
  t = await testHsm();
});
after(async () => t.close());

function need(tc: TestContext): PaymentVectors | undefined {
  return loadPaymentVectors((why) => tc.skip(why));
}

async function payKey(hexKey: string, keyUsage: string, keyType?: KeyType): Promise<string> {
  const kt: KeyType = keyType ?? (hexKey.length === 48 ? 'des3' : 'des2');
  return t.hsm.createObject(t.user, { class: 'secret-key', keyType: kt, value: H(hexKey), token: false, keyUsage });
}

const ZPK_A = H('0123456789ABCDEFFEDCBA9876543210');
const ZPK_B = H('89ABCDEF0123456776543210FEDCBA98');
const AES_B = H('FEDCBA98765432100123456789ABCDEF');

// ---- ISO 9564-1 written here from the standard, independently of src/boundary/mechanisms/payment/pin-block.ts

/** §9.3.1: the account field of formats 0 and 3: 0000 ‖ rightmost 12 PAN digits without the check digit. */
const account = (pan: string): Buffer => H(`0000${pan.slice(0, -1).slice(-12).padStart(12, '0')}`);

/** Formats 0, 1, 3 clear block: control ‖ length ‖ PIN ‖ fill, XOR the account field for 0 and 3. */
function clearBlock(control: 0 | 1 | 3, pin: string, fill: string, pan?: string): Buffer {
  const p = H(`${control}${pin.length.toString(16)}${pin}${fill}`.slice(0, 16).padEnd(16, 'F'));
  return pan === undefined ? p : xor(p, account(pan));
}

/** §9.4.2: the format 4 PAN field: M = length − 12 (0 if shorter) ‖ PAN left-padded to 12 digits ‖ zeros. */
const panField4 = (pan: string): Buffer => H(`${Math.max(0, pan.length - 12)}${pan.padStart(12, '0')}`.padEnd(32, '0'));

function aesEcb(key: Buffer, data: Buffer, decrypt = false): Buffer {
  const c = decrypt ? createDecipheriv('aes-128-ecb', key, null) : createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/** §9.4.3: C = E(K, E(K, PIN field) ⊕ PAN field). */
const iso4Encipher = (key: Buffer, pinField: Buffer, panField: Buffer): Buffer => aesEcb(key, xor(aesEcb(key, pinField), panField));
/** The inverse: PIN field = D(K, D(K, C) ⊕ PAN field). */
const iso4Decipher = (key: Buffer, c: Buffer, panField: Buffer): Buffer => aesEcb(key, xor(aesEcb(key, c, true), panField), true);
/** Format 4 plain-text PIN field: 4 ‖ length ‖ PIN ‖ A fill to 16 nibbles ‖ 8 bytes of random fill. */
const pinField4 = (pin: string, random: Buffer): Buffer => Buffer.concat([H(`4${pin.length.toString(16)}${pin}`.padEnd(16, 'A')), random]);

// ---- EMV Book 2 written here (option A, the common session key and ARPC 1 come from test/hostcmd/payment-crypto.ts)

/** A1.4.1 option A on PAN ‖ PSN: rightmost 16 digits, left-padded with zeros. No parity adjustment. */
const iccA = (imk: Buffer, pan: string, psn: string): Buffer => iccMasterKeyA(imk, `${pan}${psn}`.slice(-16).padStart(16, '0'));

/** A1.4.2 option B: SHA-1 of PAN ‖ PSN (a leading 0 if odd), decimal nibbles then A-F as 0-5, 16 digits; option A on those. */
function iccB(imk: Buffer, pan: string, psn: string): Buffer {
  if (pan.length <= 16) return iccA(imk, pan, psn);
  const x = `${pan}${psn}`;
  const hex = createHash('sha1').update(H(x.length % 2 ? `0${x}` : x)).digest('hex').toUpperCase();
  const dec = [...hex].filter((c) => c <= '9');
  const rest = [...hex].filter((c) => c > '9').map((c) => String(c.charCodeAt(0) - 65));
  return iccMasterKeyA(imk, [...dec, ...rest].slice(0, 16).join(''));
}

/** A1.3.1 common session key: TDES(MK)[R with R2 = F0] ‖ TDES(MK)[R with R2 = 0F]. */
function sessionKeyCommon(mk: Buffer, r: Buffer): Buffer {
  const left = Buffer.from(r);
  left[2] = 0xf0;
  const right = Buffer.from(r);
  right[2] = 0x0f;
  return Buffer.concat([tdesEcb(mk, left), tdesEcb(mk, right)]);
}

const single = (k: Buffer): Buffer => Buffer.concat([k, k]);

/**
 * Transaction data whose ISO 9797-1 MAC algorithm 3 (padding method 2, the API's 'emv' padding) under `sk` is
 * `arqc`: a fixed 16-byte prefix, then one 8-byte block solved backwards through the chain. With the session key
 * known this is a MAC preimage by construction; it is how a vector's published ARQC, whose input data the
 * source does not give, is made to verify through the API so that its ARPC can be asked for.
 */
function dataForArqc(sk: Buffer, arqc: Buffer): Buffer {
  const kl = single(sk.subarray(0, 8));
  const kr = single(sk.subarray(8, 16));
  const pre = H('00000001000000000000000009780000'); // amount, other amount, country: any fixed bytes
  let h: Buffer = Buffer.alloc(8);
  for (let i = 0; i < pre.length; i += 8) h = tdesEcb(kl, xor(h, pre.subarray(i, i + 8)));
  const hn = tdesEcb(kr, tdesEcb(kl, arqc, true)); // output = E_KL(D_KR(Hn))
  const hPrev = xor(tdesEcb(kl, hn, true), H('8000000000000000')); // Hn = E_KL(Hn-1 ⊕ padding block)
  const last = xor(tdesEcb(kl, hPrev, true), h); // Hn-1 = E_KL(h ⊕ last)
  const data = Buffer.concat([pre, last]);
  assert.equal(up(retailMac(sk, data, 2)), up(arqc), 'the constructed data MACs to the target ARQC');
  return data;
}

const TXN = H('0000000010000000000000000978000000000009781401010038F4D1A40000');
const R0 = '0001000000000000';

test('PIN-block encode vectors through paymentTranslatePin (ISO 0, 1, 3)', async (tc) => {
  const V = need(tc);
  if (!V) return;
  const a = await payKey(up(ZPK_A), 'P0');
  const b = await payKey(up(ZPK_B), 'P0');
  const translate = (pinBlock: Buffer, format: string, pan: string, outFormat: string) =>
    t.hsm.paymentTranslatePin(t.user, { in: { key: a, format, pinBlock, pan }, outKey: b, outFormat });

  for (const [i, v] of V.pin_block_iso0_encode.entries()) {
    const name = `payment:pin_block_iso0_encode:${i}`;
    const pin = s(v.inputs.pin);
    const pan = s(v.inputs.pan);
    const want = s(v.expected.pin_block);
    assert.equal(up(clearBlock(0, pin, '', pan)), want, `${name} (the test's own ISO 0 builder)`);
    // The terminal's block under ZPK A: the HSM decodes it and re-encodes ISO 0 under ZPK B (format 0 is deterministic).
    const out = await translate(tdesEcb(ZPK_A, H(want)), 'ISO0', pan, 'ISO0');
    assert.equal(up(tdesEcb(ZPK_B, Buffer.from(out), true)), want, name);
    // The same PIN arriving as ISO 3 is encoded by the HSM into the vector's ISO 0 block.
    const fromIso3 = await translate(tdesEcb(ZPK_A, clearBlock(3, pin, 'ABCDEFABCDEF', pan)), 'ISO3', pan, 'ISO0');
    assert.equal(up(tdesEcb(ZPK_B, Buffer.from(fromIso3), true)), want, `${name} (from ISO 3)`);
  }

  for (const [i, v] of V.pin_block_iso1_encode.entries()) {
    const name = `payment:pin_block_iso1_encode:${i}`;
    const pin = s(v.inputs.pin);
    const want = s(v.expected.pin_block);
    assert.equal(up(clearBlock(1, pin, s(v.inputs.fill))), want, `${name} (the test's own ISO 1 builder)`);
    // Format 1 carries no PAN; into ISO 0 it lands as the ISO 0 block of the same PIN for any PAN.
    const pan = '4012345678909';
    const toIso0 = await translate(tdesEcb(ZPK_A, H(want)), 'ISO1', pan, 'ISO0');
    assert.equal(up(tdesEcb(ZPK_B, Buffer.from(toIso0), true)), up(clearBlock(0, pin, '', pan)), `${name} → ISO 0`);
    // ISO 1 → ISO 1: the HSM's encode has the vector's control, length and PIN nibbles; its fill is random (the vector's is not).
    const o = up(tdesEcb(ZPK_B, Buffer.from(await translate(tdesEcb(ZPK_A, H(want)), 'ISO1', pan, 'ISO1')), true));
    assert.equal(o.slice(0, 2 + pin.length), want.slice(0, 2 + pin.length), `${name} → ISO 1 (PIN field)`);
    assert.match(o.slice(2 + pin.length), /^[0-9A-F]+$/, `${name} → ISO 1 (fill)`);
  }

  for (const [i, v] of V.pin_block_iso3_encode.entries()) {
    const name = `payment:pin_block_iso3_encode:${i}`;
    const pin = s(v.inputs.pin);
    const pan = s(v.inputs.pan);
    const want = s(v.expected.pin_block);
    assert.equal(up(clearBlock(3, pin, s(v.inputs.fill), pan)), want, `${name} (the test's own ISO 3 builder, the vector's fill)`);
    // The vector's block decodes in the HSM to its PIN: into ISO 0 it is that PIN's ISO 0 block.
    const toIso0 = await translate(tdesEcb(ZPK_A, H(want)), 'ISO3', pan, 'ISO0');
    assert.equal(up(tdesEcb(ZPK_B, Buffer.from(toIso0), true)), up(clearBlock(0, pin, '', pan)), `${name} → ISO 0`);
    // ISO 0 → ISO 3 and ISO 3 → ISO 3: control, length and PIN equal the vector's; the fill is random A-F (the vector's differs).
    for (const [inFormat, inBlock] of [
      ['ISO0', clearBlock(0, pin, '', pan)],
      ['ISO3', H(want)],
    ] as const) {
      const o = up(xor(tdesEcb(ZPK_B, Buffer.from(await translate(tdesEcb(ZPK_A, inBlock), inFormat, pan, 'ISO3')), true), account(pan)));
      const wantField = up(xor(H(want), account(pan)));
      assert.equal(o.slice(0, 2 + pin.length), wantField.slice(0, 2 + pin.length), `${name} ${inFormat} → ISO 3 (PIN field)`);
      assert.match(o.slice(2 + pin.length), /^[A-F]*$/, `${name} ${inFormat} → ISO 3 (fill A-F)`);
    }
  }
});

test('ISO 4 vectors through paymentTranslatePin: encrypt, decrypt and the PAN field', async (tc) => {
  const V = need(tc);
  if (!V) return;
  const zpk = await payKey(up(ZPK_A), 'P0');
  const aesOut = await payKey(up(AES_B), 'P0', 'aes');

  for (const [i, v] of V.pin_block_iso4_encrypt.entries()) {
    const name = `payment:pin_block_iso4_encrypt:${i}`;
    const key = H(s(v.inputs.key));
    const pin = s(v.inputs.pin);
    const pan = s(v.inputs.pan);
    const want = s(v.expected.enciphered_block);
    assert.equal(up(iso4Encipher(key, pinField4(pin, H(s(v.inputs.random_fill))), panField4(pan))), want, `${name} (the test's own encipherment)`);
    const aes = await payKey(s(v.inputs.key), 'P0', 'aes');
    // The vector's enciphered block, decoded in the HSM, is its PIN: into ISO 0 under a TDES ZPK.
    const toIso0 = await t.hsm.paymentTranslatePin(t.user, { in: { key: aes, format: 'ISO4', pinBlock: H(want), pan }, outKey: zpk, outFormat: 'ISO0' });
    assert.equal(up(tdesEcb(ZPK_A, Buffer.from(toIso0), true)), up(clearBlock(0, pin, '', pan)), `${name} → ISO 0`);
    // ISO 0 → ISO 4 under the vector's key: deciphered per §9.4.3 it has the vector's PIN field; with the random
    // 8 bytes replaced by the vector's forced FF fill it enciphers to the vector's block.
    const c = await t.hsm.paymentTranslatePin(t.user, { in: { key: zpk, format: 'ISO0', pinBlock: tdesEcb(ZPK_A, clearBlock(0, pin, '', pan)), pan }, outKey: aes, outFormat: 'ISO4' });
    const field = iso4Decipher(key, Buffer.from(c), panField4(pan));
    assert.equal(up(field.subarray(0, 8)), up(pinField4(pin, Buffer.alloc(0))), `${name} ISO 0 → ISO 4 (PIN field)`);
    assert.equal(up(iso4Encipher(key, Buffer.concat([field.subarray(0, 8), H(s(v.inputs.random_fill))]), panField4(pan))), want, `${name} ISO 0 → ISO 4 (with the vector's fill)`);
  }

  for (const [i, v] of V.pin_block_iso4_decrypt.entries()) {
    const name = `payment:pin_block_iso4_decrypt:${i}`;
    const key = H(s(v.inputs.key));
    const pan = s(v.inputs.pan);
    const pin = s(v.expected.pin);
    const enc = H(s(v.inputs.enciphered_block));
    const field = iso4Decipher(key, enc, panField4(pan));
    if (v.verifier_computed?.pin_field) assert.equal(up(field), v.verifier_computed.pin_field, `${name} (the test's own decipherment)`);
    const aes = await payKey(s(v.inputs.key), 'P0', 'aes');
    // A PAN shorter than 12 digits is accepted by both fields (format 0 pads the account field with zeros).
    const toIso0 = await t.hsm.paymentTranslatePin(t.user, { in: { key: aes, format: 'ISO4', pinBlock: enc, pan }, outKey: zpk, outFormat: 'ISO0' });
    assert.equal(up(tdesEcb(ZPK_A, Buffer.from(toIso0), true)), up(clearBlock(0, pin, '', pan)), `${name} → ISO 0`);
    const toIso4 = await t.hsm.paymentTranslatePin(t.user, { in: { key: aes, format: 'ISO4', pinBlock: enc, pan }, outKey: aesOut, outFormat: 'ISO4' });
    assert.equal(up(iso4Decipher(AES_B, Buffer.from(toIso4), panField4(pan)).subarray(0, 8)), up(field.subarray(0, 8)), `${name} → ISO 4 (PIN field)`);
  }

  const aesIn = await payKey('00112233445566778899AABBCCDDEEFF', 'P0', 'aes');
  const kIn = H('00112233445566778899AABBCCDDEEFF');
  for (const [i, v] of V.pin_block_iso4_pan_field.entries()) {
    const name = `payment:pin_block_iso4_pan_field:${i}`;
    const pan = s(v.inputs.pan);
    const field = H(s(v.expected.pan_field));
    assert.equal(up(panField4(pan)), up(field), `${name} (the test's own PAN field)`);
    // A block enciphered outside with the vector's PAN field decodes in the HSM only if its PAN field is the same.
    const block = iso4Encipher(kIn, pinField4('1234', H('0123456789ABCDEF')), field);
    const out = await t.hsm.paymentTranslatePin(t.user, { in: { key: aesIn, format: 'ISO4', pinBlock: block, pan }, outKey: aesOut, outFormat: 'ISO4' });
    assert.equal(up(iso4Decipher(AES_B, Buffer.from(out), field).subarray(0, 8)), up(pinField4('1234', Buffer.alloc(0))), `${name} (output under the vector's field)`);
    // A PAN differing only in its first digit (carried by format 4's field, not by format 0's) does not decode.
    const other = `${(Number(pan[0]) + 1) % 10}${pan.slice(1)}`;
    await expectCode(
      () => t.hsm.paymentTranslatePin(t.user, { in: { key: aesIn, format: 'ISO4', pinBlock: block, pan: other }, outKey: zpk, outFormat: 'ISO0' }),
      'DECRYPT_FAILED',
      `${name} (other PAN ${other})`,
    );
  }
});

/** The ARQC over TXN under `sk`, verified through the API; returns the API's ARPC method 1 under the named key. */
async function arqcThroughApi(
  name: string,
  call: { key: string; pan: string; psn: string; derivation?: 'A' | 'B'; sessionKey: { method: 'common'; r: string } | { method: 'mastercard'; atc: string; un: string } },
  sk: Buffer,
  arpcKey: 'icc' | 'session',
): Promise<Buffer> {
  const arqc = retailMac(sk, TXN, 2);
  const res = await t.hsm.paymentVerifyArqc(t.user, { ...call, data: TXN, arqc, arpc: { method: 1, arc: '3030', key: arpcKey } });
  assert.equal(res.valid, true, `${name} (ARQC under the locally derived key verifies)`);
  const bad = Buffer.from(TXN);
  bad[0] ^= 1;
  assert.deepEqual(await t.hsm.paymentVerifyArqc(t.user, { ...call, data: bad, arqc }), { valid: false }, `${name} (other data fails)`);
  return Buffer.from(res.arpc ?? []);
}

test('EMV key-derivation vectors through paymentVerifyArqc (ICC MK options A and B, common and Mastercard session keys)', async (tc) => {
  const V = need(tc);
  if (!V) return;
  const arc = H('3030');

  for (const [i, v] of V.emv_icc_mk_option_a.entries()) {
    const name = `payment:emv_icc_mk_option_a:${i}`;
    const imkHex = s(v.inputs.issuer_mk);
    const pan = s(v.inputs.pan);
    const psn = s(v.inputs.psn);
    const mk = iccA(H(imkHex), pan, psn);
    if (v.expected.icc_mk_kcv2 !== undefined) assert.equal(kcv(mk, 2), v.expected.icc_mk_kcv2, `${name} (local derivation, KCV)`);
    else assert.equal(noParity(mk), noParity(H(s(v.expected.icc_mk_no_parity_adjust))), `${name} (local derivation)`);
    const imk = await payKey(imkHex, 'E0');
    const call = { key: imk, pan, psn, derivation: 'A' as const, sessionKey: { method: 'common' as const, r: R0 } };
    const arpc = await arqcThroughApi(name, call, sessionKeyCommon(mk, H(R0)), 'icc');
    // ARPC method 1 under the ICC MK pins the API's ICC MK to the local (vector-checked) one.
    assert.equal(up(arpc), up(arpcMethod1(mk, retailMac(sessionKeyCommon(mk, H(R0)), TXN, 2), arc)), `${name} (ARPC under the ICC MK)`);
    const otherPsn = psn === '00' ? '01' : '00';
    const no = await t.hsm.paymentVerifyArqc(t.user, { ...call, psn: otherPsn, data: TXN, arqc: retailMac(sessionKeyCommon(mk, H(R0)), TXN, 2) });
    assert.equal(no.valid, false, `${name} (another PSN derives another key)`);
  }

  for (const [i, v] of V.emv_icc_mk_option_b.entries()) {
    const name = `payment:emv_icc_mk_option_b:${i}`;
    const imkHex = s(v.inputs.issuer_mk);
    const pan = s(v.inputs.pan);
    const psn = s(v.inputs.psn);
    const mk = iccB(H(imkHex), pan, psn);
    if (v.expected.icc_mk_kcv2 !== undefined) assert.equal(kcv(mk, 2), v.expected.icc_mk_kcv2, `${name} (local derivation, KCV)`);
    else assert.equal(noParity(mk), noParity(H(s(v.expected.icc_mk))), `${name} (local derivation)`);
    const imk = await payKey(imkHex, 'E0');
    const call = { key: imk, pan, psn, derivation: 'B' as const, sessionKey: { method: 'common' as const, r: R0 } };
    const sk = sessionKeyCommon(mk, H(R0));
    const arpc = await arqcThroughApi(name, call, sk, 'icc');
    assert.equal(up(arpc), up(arpcMethod1(mk, retailMac(sk, TXN, 2), arc)), `${name} (ARPC under the ICC MK)`);
    // A 17-19 digit PAN derives differently under option A: the same ARQC fails there.
    const a = await t.hsm.paymentVerifyArqc(t.user, { ...call, derivation: 'A', data: TXN, arqc: retailMac(sk, TXN, 2) });
    assert.equal(a.valid, false, `${name} (option A is another key for this PAN)`);
  }

  for (const [i, v] of V.emv_session_key_common.entries()) {
    const name = `payment:emv_session_key_common:${i}`;
    let imkHex: string;
    let pan: string;
    let psn: string;
    if (typeof v.inputs.issuer_mk === 'string') {
      imkHex = v.inputs.issuer_mk;
      pan = s(v.inputs.pan);
      psn = s(v.inputs.psn);
    } else {
      // This vector starts from an ICC MK; the API starts from an issuer key. Its ICC MK is emv_icc_mk_option_a:2's
      // output (that source does not adjust parity, which DES ignores), so the chain starts from that issuer key.
      const src: PaymentVector = V.emv_icc_mk_option_a[2];
      assert.equal(src.expected.icc_mk_no_parity_adjust, v.inputs.icc_mk, `${name} (its ICC MK is emv_icc_mk_option_a:2's)`);
      imkHex = s(src.inputs.issuer_mk);
      pan = s(src.inputs.pan);
      psn = s(src.inputs.psn);
    }
    const mk = iccA(H(imkHex), pan, psn);
    if (typeof v.inputs.icc_mk === 'string') assert.equal(noParity(mk), noParity(H(v.inputs.icc_mk)), `${name} (local ICC MK)`);
    const r = s(v.inputs.r);
    const sk = sessionKeyCommon(mk, H(r));
    if (v.expected.session_key_kcv2 !== undefined) assert.equal(kcv(sk, 2), v.expected.session_key_kcv2, `${name} (local session key, KCV)`);
    else assert.equal(noParity(sk), noParity(H(s(v.expected.session_key))), `${name} (local session key)`);
    const imk = await payKey(imkHex, 'E0');
    const arpc = await arqcThroughApi(name, { key: imk, pan, psn, derivation: 'A', sessionKey: { method: 'common', r } }, sk, 'session');
    assert.equal(up(arpc), up(arpcMethod1(sk, retailMac(sk, TXN, 2), arc)), `${name} (ARPC under the session key)`);
  }

  for (const [i, v] of V.emv_session_key_mastercard_skd.entries()) {
    const name = `payment:emv_session_key_mastercard_skd:${i}`;
    const imkHex = s(v.inputs.issuer_mk);
    const pan = s(v.inputs.pan);
    const psn = s(v.inputs.psn);
    const atc = s(v.inputs.atc);
    const un = s(v.inputs.un);
    const mk = iccA(H(imkHex), pan, psn);
    const sk = sessionKeyMastercard(mk, H(atc), H(un));
    assert.equal(kcv(sk, 2), v.expected.session_key_kcv2, `${name} (local session key, KCV)`);
    const imk = await payKey(imkHex, 'E0');
    const call = { key: imk, pan, psn, derivation: 'A' as const, sessionKey: { method: 'mastercard' as const, atc, un } };
    const arpc = await arqcThroughApi(name, call, sk, 'session');
    assert.equal(up(arpc), up(arpcMethod1(sk, retailMac(sk, TXN, 2), arc)), `${name} (ARPC under the session key)`);
    const no = await t.hsm.paymentVerifyArqc(t.user, { ...call, sessionKey: { method: 'mastercard', atc, un: '00000000' }, data: TXN, arqc: retailMac(sk, TXN, 2) });
    assert.equal(no.valid, false, `${name} (another UN is another session key)`);
  }
});

test('ARPC method 1 vectors through paymentVerifyArqc: the vector ARQC verifies, the ARPC is the vector ARPC', async (tc) => {
  const V = need(tc);
  if (!V) return;
  for (const [i, v] of V.emv_arpc_method1.entries()) {
    const name = `payment:emv_arpc_method1:${i}`;
    const x = v.inputs;
    const imkHex = s(x.issuer_mk);
    const pan = s(x.pan);
    const psn = s(x.psn);
    const r = x.session_key_derivation === 'common(ATC)' ? `${s(x.atc)}000000000000` : s(x.r);
    const mk = iccA(H(imkHex), pan, psn);
    const sk = sessionKeyCommon(mk, H(r));
    const keyName = s(x.arpc_key) === 'icc_mk' ? ('icc' as const) : ('session' as const);
    const local = keyName === 'icc' ? mk : sk;
    if (v.verifier_computed?.arpc_key_used) assert.equal(noParity(local), noParity(H(v.verifier_computed.arpc_key_used)), `${name} (local ARPC key)`);
    const arqc = H(s(x.arqc));
    assert.equal(up(arpcMethod1(local, arqc, H(s(x.arc)))), v.expected.arpc, `${name} (local ARPC)`);
    // The source gives no ARQC input data: data that MACs to the vector's ARQC under the session key is built here.
    const data = dataForArqc(sk, arqc);
    const imk = await payKey(imkHex, 'E0');
    const call = { key: imk, pan, psn, derivation: 'A' as const, sessionKey: { method: 'common' as const, r }, data, arqc };
    const res = await t.hsm.paymentVerifyArqc(t.user, { ...call, arpc: { method: 1, arc: s(x.arc), key: keyName } });
    assert.equal(res.valid, true, `${name} (the vector's ARQC verifies)`);
    assert.equal(up(res.arpc ?? new Uint8Array()), v.expected.arpc, name);
    const wrong = Buffer.from(arqc);
    wrong[7] ^= 1;
    assert.deepEqual(await t.hsm.paymentVerifyArqc(t.user, { ...call, arqc: wrong, arpc: { method: 1, arc: s(x.arc), key: keyName } }), { valid: false }, `${name} (no ARPC for another ARQC)`);
  }
});

test('Vectors the other API tests leave at function level: emv_arqc:9 and emv_arpc_method2:1, 2, 4', async (tc) => {
  const V = need(tc);
  if (!V) return;
  // emv_arqc:9 and emv_arpc_method2:4 give a bare session key. It is emv_session_key_common:1's, whose ICC MK is
  // emv_icc_mk_option_a:2's, so the API reaches it from that issuer key (asserted here link by link).
  const chain = V.emv_icc_mk_option_a[2];
  const csk = V.emv_session_key_common[1];
  assert.equal(chain.expected.icc_mk_no_parity_adjust, csk.inputs.icc_mk, 'emv_session_key_common:1 starts from emv_icc_mk_option_a:2');
  const imk = await payKey(s(chain.inputs.issuer_mk), 'E0');
  const base = { key: imk, pan: s(chain.inputs.pan), psn: s(chain.inputs.psn), derivation: 'A' as const, sessionKey: { method: 'common' as const, r: s(csk.inputs.r) } };
  const arqcV = V.emv_arqc[9];
  assert.equal(arqcV.inputs.session_key, csk.expected.session_key, 'emv_arqc:9 uses emv_session_key_common:1\'s session key');
  const res = await t.hsm.paymentVerifyArqc(t.user, { ...base, data: H(s(arqcV.inputs.data)), padding: 'emv', arqc: H(s(arqcV.expected.arqc)) });
  assert.equal(res.valid, true, 'payment:emv_arqc:9');
  const m2 = V.emv_arpc_method2[4];
  assert.equal(m2.inputs.key, csk.expected.session_key, 'emv_arpc_method2:4 uses the same session key');
  assert.equal(m2.inputs.arqc, arqcV.expected.arqc, 'emv_arpc_method2:4 answers emv_arqc:9');
  const r2 = await t.hsm.paymentVerifyArqc(t.user, { ...base, data: H(s(arqcV.inputs.data)), arqc: H(s(m2.inputs.arqc)), arpc: { method: 2, csu: s(m2.inputs.csu) } });
  assert.equal(up(r2.arpc ?? new Uint8Array()), m2.expected.arpc, 'payment:emv_arpc_method2:4');

  // emv_arpc_method2:1 and 2: the ARQC's input data is not given; data that MACs to it is built as for ARPC method 1.
  for (const i of [1, 2]) {
    const name = `payment:emv_arpc_method2:${i}`;
    const v: PaymentVector = V.emv_arpc_method2[i];
    const x = v.inputs;
    assert.equal(x.icc_mk_derivation, 'option_b');
    const mk = iccB(H(s(x.issuer_mk)), s(x.pan), s(x.psn));
    const sk = sessionKeyCommon(mk, H(s(x.r)));
    const used = v.verifier_computed?.arpc_key_used;
    if (used) assert.equal(noParity(sk), noParity(H(used)), `${name} (local session key)`);
    const key = await payKey(s(x.issuer_mk), 'E0');
    const arqc = H(s(x.arqc));
    const call = { key, pan: s(x.pan), psn: s(x.psn), derivation: 'B' as const, sessionKey: { method: 'common' as const, r: s(x.r) }, data: dataForArqc(sk, arqc), arqc };
    const out = await t.hsm.paymentVerifyArqc(t.user, { ...call, arpc: { method: 2, csu: s(x.csu), proprietary: H(s(x.prop_auth_data)) } });
    assert.equal(out.valid, true, `${name} (the vector's ARQC verifies)`);
    assert.equal(up(out.arpc ?? new Uint8Array()), v.expected.arpc, name);
  }
});

/** ANSI X9.24-3-2017 §6.3.2: a working key = AES-ECB(transaction key, derivation data), one block for AES-128. */
function aesDukptMacKey128(txnKey: Buffer, ksn: Buffer): Buffer {
  // version 01, block counter 01, usage 2000 (MAC generation), algorithm 0002 (AES-128), length 0080, IK ID right 4 bytes ‖ counter
  const data = Buffer.concat([H('0101200000020080'), ksn.subarray(4, 12)]);
  const c = createCipheriv(txnKey.length === 32 ? 'aes-256-ecb' : 'aes-128-ecb', txnKey, null).setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

function aesCmac(key: Buffer, msg: Buffer): Buffer {
  // NIST SP 800-38B with node's AES-ECB: subkeys from L = E(0), then CBC-MAC with the last block masked.
  const ecb = (b: Buffer): Buffer => aesEcb(key, b);
  const dbl = (b: Buffer): Buffer => {
    const o = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) o[i] = ((b[i] << 1) | (i < 15 ? b[i + 1] >> 7 : 0)) & 0xff;
    if (b[0] & 0x80) o[15] ^= 0x87;
    return o;
  };
  const k1 = dbl(ecb(Buffer.alloc(16)));
  const k2 = dbl(k1);
  const n = Math.max(1, Math.ceil(msg.length / 16));
  const complete = msg.length > 0 && msg.length % 16 === 0;
  const last = complete ? xor(msg.subarray((n - 1) * 16), k1) : xor(Buffer.concat([msg.subarray((n - 1) * 16), H('80'), Buffer.alloc(15 - (msg.length % 16))]), k2);
  let h: Buffer = Buffer.alloc(16);
  for (let i = 0; i < n - 1; i++) h = ecb(xor(h, msg.subarray(i * 16, i * 16 + 16)));
  return ecb(xor(h, last));
}

test('dukpt_aes vectors that publish only the transaction key: a MAC under the working key derived here verifies through the API', async (tc) => {
  const V = need(tc);
  if (!V) return;
  const bdks = new Map<string, string>();
  let checked = 0;
  let through = 0;
  for (const [i, v] of V.dukpt_aes.entries()) {
    const name = `payment:dukpt_aes:${i}`;
    const ksn = H(s(v.inputs.ksn));
    const macKey = aesDukptMacKey128(H(s(v.expected.txn_key)), ksn);
    if (v.expected.cmac_aes128_key !== undefined) {
      // Where the vector publishes the working key, the local derivation must produce it.
      assert.equal(up(macKey), v.expected.cmac_aes128_key, `${name} (local X9.24-3 MAC-key derivation)`);
      checked++;
      continue;
    }
    const bdkHex = s(v.inputs.bdk);
    const bdk = bdks.get(bdkHex) ?? (await payKey(bdkHex, 'B0', 'aes'));
    bdks.set(bdkHex, bdk);
    const msg = Buffer.from(`dukpt_aes ${i} request`);
    const tag = aesCmac(macKey, msg);
    const ok = await t.hsm.paymentVerifyDukptMac(t.user, { bdk, ksn: up(ksn), data: msg, mac: tag, workingKeyType: 'aes128', algorithm: 'cmac' });
    assert.equal(ok, true, `${name} (CMAC under the working key of the vector's transaction key)`);
    tag[15] ^= 1;
    assert.equal(await t.hsm.paymentVerifyDukptMac(t.user, { bdk, ksn: up(ksn), data: msg, mac: tag, workingKeyType: 'aes128', algorithm: 'cmac' }), false, `${name} (altered MAC)`);
    through++;
  }
  assert.equal(checked, 6, 'the derivation is checked on the 6 vectors that publish a working key');
  assert.equal(through, 6, 'the 6 transaction-key-only vectors go through the API');
});

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
test('docs/payment.md "Vectors" names every section of payment-vectors.json', (tc) => {
  const V = need(tc);
  if (!V) return;
  const doc = readFileSync(resolve(root, 'docs/payment.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Vectors'), doc.indexOf('\n## ', doc.indexOf('## Vectors') + 3));
  const names = Object.keys(V).filter((k) => !k.startsWith('_'));
  assert.equal(names.length, 31);
  assert.equal(names.reduce((n, k) => n + V[k].length, 0), 146);
  const mine: Record<string, number> = {
    pin_block_iso0_encode: 4,
    pin_block_iso1_encode: 1,
    pin_block_iso3_encode: 2,
    pin_block_iso4_encrypt: 1,
    pin_block_iso4_decrypt: 2,
    pin_block_iso4_pan_field: 2,
    emv_icc_mk_option_a: 3,
    emv_icc_mk_option_b: 2,
    emv_session_key_common: 2,
    emv_session_key_mastercard_skd: 1,
    emv_arpc_method1: 6,
  };
  for (const [k, n] of Object.entries(mine)) assert.equal(V[k]?.length, n, `this file's loops cover all ${n} ${k} vectors`);
  for (const k of names) assert.ok(section.includes(`| \`${k}\` |`), `docs/payment.md Vectors table has a row for ${k}`);
});

// /v1/payments/… over a real socket: shared payment vectors through REST (KCV, PIN translation,
// ISO 9797-1 MACs, ARQC/ARPC), the usage rule (C-07) and the PCI format rule (C-03) as HTTP errors,
// and schema refusals for malformed hex, PANs and unknown fields.

import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { after, before, test } from 'node:test';
import { buildPinBlock } from '../../src/boundary/mechanisms/payment/pin-block.js';
import { SecretBytes } from '../../src/boundary/secret.js';
import { loadPaymentVectors, type PaymentVectors, s } from '../payment/vectors.js';
import { expectError, type RestFixture, restFixture } from './rest-fixture.js';

let f: RestFixture;
let V: PaymentVectors;
before(async () => {
  f = await restFixture();
  V = loadPaymentVectors() as PaymentVectors;
});
after(async () => {
  await f.close();
});

const ZPK_A = '0123456789ABCDEFFEDCBA9876543210';
const ZPK_B = '89ABCDEF0123456776543210FEDCBA98';

async function payKey(hexKey: string, keyUsage: string): Promise<string> {
  const keyType = hexKey.length === 48 ? 'des3' : 'des2';
  const r = await f.call<{ key: { uid: string } }>('POST', '/v1/keys/import', f.user, {
    template: { class: 'secret-key', keyType, value: Buffer.from(hexKey, 'hex').toString('base64'), keyUsage },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.key.uid;
}

/** What a terminal does outside the HSM: TDES-ECB of a clear ISO block under a known test key. */
function terminalBlock(keyHex: string, pin: string, pan: string): string {
  const clear = buildPinBlock('ISO0', SecretBytes.from(Uint8Array.from([...pin].map(Number))), pan);
  const c = createCipheriv('des-ede-ecb', Buffer.from(keyHex, 'hex'), null).setAutoPadding(false);
  return Buffer.concat([c.update(clear), c.final()]).toString('hex').toUpperCase();
}

test('KCV over REST: kcv_tdes vectors; a full block is refused (C-09)', async () => {
  for (const [i, v] of V.kcv_tdes.entries()) {
    const k = s(v.inputs.key);
    if (k.length !== 32 && k.length !== 48) continue;
    if (k.slice(0, 16) === k.slice(16, 32)) continue; // KA = KB keys are refused at creation (docs/payment.md)
    const uid = await payKey(k, 'K0');
    const exp = String(v.expected.kcv);
    const r = await f.call<{ kcv: string }>('POST', '/v1/payments/kcv', f.user, { key: uid, length: exp.length / 2 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.kcv, exp, `payment:kcv_tdes:${i}`);
  }
  const k = await payKey(ZPK_A, 'P0');
  expectError(await f.call('POST', '/v1/payments/kcv', f.user, { key: k, length: 8 }), 400, 'ARGUMENTS_BAD', 'C-09: the schema stops a full block');
});

test('PIN translation over REST: pin_translate vectors, C-03 and C-07 as HTTP errors', async () => {
  for (const [i, v] of V.pin_translate.entries()) {
    const x = v.inputs;
    const inKey = await payKey(s(x.in_key), 'P0');
    const outKey = await payKey(s(x.out_key), 'P0');
    const r = await f.call<{ pinBlock: string }>('POST', '/v1/payments/pin/translate', f.user, {
      in: { key: inKey, format: s(x.in_format), pinBlock: s(x.in_block), pan: s(x.pan) },
      outKey,
      outFormat: s(x.out_format),
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.pinBlock, v.expected.out_block, `payment:pin_translate:${i} over REST`);
  }
  const a = await payKey(ZPK_A, 'P0');
  const b = await payKey(ZPK_B, 'P0');
  const pan = '4012345678909';
  const block = terminalBlock(ZPK_A, '1234', pan);
  const ok = await f.call<{ pinBlock: string }>('POST', '/v1/payments/pin/translate', f.user, { in: { key: a, format: 'ISO0', pinBlock: block, pan }, outKey: b, outFormat: 'ISO0' });
  assert.equal(ok.body.pinBlock, terminalBlock(ZPK_B, '1234', pan));
  expectError(
    await f.call('POST', '/v1/payments/pin/translate', f.user, { in: { key: a, format: 'ISO0', pinBlock: block, pan }, outKey: b, outFormat: 'ISO1' }),
    400,
    'MECHANISM_PARAM_INVALID',
    'C-03: PAN-bound format to ISO 1',
  );
  const mac = await payKey('1C1C1C1C1C1C1C1C0123456789ABCDEF', 'M3');
  expectError(
    await f.call('POST', '/v1/payments/pin/translate', f.user, { in: { key: a, format: 'ISO0', pinBlock: block, pan }, outKey: mac, outFormat: 'ISO0' }),
    403,
    'KEY_FUNCTION_NOT_PERMITTED',
    'C-07: a MAC key never encrypts PINs',
  );
  expectError(await f.call('POST', '/v1/payments/pin/translate', f.user, { in: { key: a, format: 'ISO0', pinBlock: 'XYZ1', pan }, outKey: b, outFormat: 'ISO0' }), 400, 'ARGUMENTS_BAD', 'not hex');
  expectError(await f.call('POST', '/v1/payments/pin/translate', f.user, { in: { key: a, format: 'ISO0', pinBlock: block, pan: '12ab' }, outKey: b, outFormat: 'ISO0' }), 400, 'ARGUMENTS_BAD', 'bad PAN');
  expectError(await f.call('POST', '/v1/payments/pin/translate', f.user, { in: { key: a, format: 'ISO0', pinBlock: block, pan, pin: '1234' }, outKey: b, outFormat: 'ISO0' }), 400, 'ARGUMENTS_BAD', 'no clear PIN field exists');
});

test('ISO 9797-1 MACs over REST: iso9797_mac_alg3 vectors generate and verify; a flipped MAC is not valid', async () => {
  let n = 0;
  for (const [i, v] of V.iso9797_mac_alg3.entries()) {
    const x = v.inputs;
    const k = s(x.key);
    if (k.length !== 32 || k.slice(0, 16) === k.slice(16)) continue;
    const padding = Number(x.padding);
    const uid = await payKey(k, 'M3');
    const data = s(x.data);
    const exp = String(v.expected.mac);
    const r = await f.call<{ mac: string }>('POST', '/v1/payments/mac', f.user, { key: uid, algorithm: 3, padding, data, length: exp.length / 2 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.mac, exp, `payment:iso9797_mac_alg3:${i} over REST`);
    const ok = await f.call('POST', '/v1/payments/mac/verify', f.user, { key: uid, algorithm: 3, padding, data, mac: exp });
    assert.deepEqual(ok.body, { valid: true });
    const bad = `${exp.slice(0, -1)}${exp.endsWith('0') ? '1' : '0'}`;
    const no = await f.call('POST', '/v1/payments/mac/verify', f.user, { key: uid, algorithm: 3, padding, data, mac: bad });
    assert.deepEqual(no.body, { valid: false });
    n++;
  }
  assert.ok(n >= 1, 'at least one alg-3 vector ran over REST');
});

test('ARQC over REST: an emv_arqc vector verifies and yields an ARPC; a wrong cryptogram gets none (C-12)', async () => {
  const v = V.emv_arqc.find((x) => x.inputs.session_key_derivation === 'common(ATC)' && x.inputs.issuer_mk === '0123456789ABCDEFFEDCBA9876543210');
  assert.ok(v, 'an option-A common(ATC) vector exists');
  const x = v.inputs;
  const imk = await payKey(s(x.issuer_mk), 'E0');
  const body = {
    key: imk,
    pan: s(x.pan),
    psn: s(x.psn),
    derivation: x.icc_mk_derivation === 'option_b' ? 'B' : 'A',
    sessionKey: { method: 'common', r: `${s(x.atc)}000000000000` },
    data: s(x.data),
    padding: x.padding === 'visa' ? 'visa' : 'emv',
    arqc: s(v.expected.arqc),
    arpc: { method: 1, arc: '3030' },
  };
  const r = await f.call<{ valid: boolean; arpc?: string }>('POST', '/v1/payments/emv/arqc/verify', f.user, body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.valid, true);
  assert.match(r.body.arpc ?? '', /^[0-9A-F]{16}$/);
  const wrong = `${body.arqc.slice(0, -1)}${body.arqc.endsWith('0') ? '1' : '0'}`;
  const no = await f.call('POST', '/v1/payments/emv/arqc/verify', f.user, { ...body, arqc: wrong });
  assert.deepEqual(no.body, { valid: false });
});

test('Decimalisation tables over REST are officer-only (C-01)', async () => {
  expectError(await f.call('POST', '/v1/payments/decimalisation-tables', f.user, { name: 'd1', table: '0123456789012345' }), 403, 'USER_TYPE_INVALID', 'C-01: a user');
  const r = await f.call('POST', '/v1/payments/decimalisation-tables', f.officer, { name: 'd1', table: '0123456789012345' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
});

test('Key components over REST: an officer opens the forming, two different custodians complete it and the officer, who entered none, confirms its KCV (C-08); the same account twice, a custodian confirming and a wrong KCV are refused', async () => {
  const created = await f.call('POST', '/v1/users', f.admin, { name: 'bob', password: 'correct horse battery staple', role: 'user', partition: 'p1' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const bob = await f.login('bob', 'correct horse battery staple');
  const C1 = '6BC8A1E6B5232A9E6EA8BAA4C45EDCC8';
  const C2 = '796DF7C1C27634196E2FA2943E80C257';
  expectError(await f.call('POST', '/v1/payments/components', f.user, { keyType: 'des2', usage: 'P0', components: 2, label: 'zpk-formed' }), 403, 'USER_TYPE_INVALID', 'only an officer opens a forming');
  const open = await f.call<{ forming: string; expiresAt: string }>('POST', '/v1/payments/components', f.officer, { keyType: 'des2', usage: 'P0', components: 2, label: 'zpk-formed' });
  assert.equal(open.status, 200, JSON.stringify(open.body));
  const url = `/v1/payments/components/${open.body.forming}`;
  const first = await f.call<{ kcv: string; entered: number; remaining: number; key?: string }>('POST', url, f.user, { component: C1 });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.match(first.body.kcv, /^[0-9A-F]{6}$/, 'a 3-byte component check value (C-09)');
  assert.deepEqual([first.body.entered, first.body.remaining, first.body.key], [1, 1, undefined]);
  expectError(await f.call('POST', url, f.user, { component: C2 }), 403, 'ACCESS_DENIED', 'C-08: the same custodian twice');
  const second = await f.call<{ key: string; keyKcv: string }>('POST', url, bob, { component: C2 });
  assert.equal(second.status, 200, JSON.stringify(second.body));
  const xor = Buffer.from(Buffer.from(C1, 'hex').map((b, i) => b ^ Buffer.from(C2, 'hex')[i]!));
  const kcv = createCipheriv('des-ede-ecb', xor, null).setAutoPadding(false).update(Buffer.alloc(8)).subarray(0, 3).toString('hex').toUpperCase();
  assert.equal(second.body.keyKcv, kcv, 'the formed key is the XOR of the components');
  // C-08: the key is usable only once an officer who entered no component confirms its check value.
  expectError(await f.call('POST', '/v1/payments/kcv', f.user, { key: second.body.key }), 404, 'KEY_HANDLE_INVALID', 'use before confirm');
  const confirm = `${url}/confirm`;
  expectError(await f.call('POST', confirm, f.user, { kcv }), 403, 'USER_TYPE_INVALID', 'a custodian confirming');
  expectError(await f.call('POST', confirm, bob, { kcv }), 403, 'USER_TYPE_INVALID', 'the other custodian confirming');
  const wrong = kcv === '000000' ? '000001' : '000000';
  expectError(await f.call('POST', confirm, f.officer, { kcv: wrong }), 400, 'DATA_INVALID', 'a wrong KCV');
  assert.equal((await f.call('POST', confirm, f.officer, { kcv: 'ABCDEF00' })).status, 400, 'a KCV is 6 hex digits');
  expectError(await f.call('POST', '/v1/payments/kcv', f.user, { key: second.body.key }), 404, 'KEY_HANDLE_INVALID', 'still unusable after the refusals');
  const ok = await f.call<{ key: string; kcv: string }>('POST', confirm, f.officer, { kcv });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual(ok.body, { key: second.body.key, kcv });
  const stored = await f.call<{ kcv: string }>('POST', '/v1/payments/kcv', f.user, { key: second.body.key });
  assert.equal(stored.body.kcv, kcv);
  expectError(await f.call('POST', confirm, f.officer, { kcv }), 400, 'ARGUMENTS_BAD', 'confirmed once');
});

test('TR-31 over REST: export under the partition KBPK, import back, and use the block itself as a key reference', async () => {
  const kb = await f.call<{ key: string }>('POST', '/v1/payments/partition-kbpk', f.officer, {});
  assert.equal(kb.status, 200, JSON.stringify(kb.body));
  const zpk = await f.call<{ key: { uid: string } }>('POST', '/v1/keys/import', f.user, {
    template: { class: 'secret-key', keyType: 'des2', value: Buffer.from(ZPK_B, 'hex').toString('base64'), keyUsage: 'P0', exportability: 'E' },
  });
  assert.equal(zpk.status, 201, JSON.stringify(zpk.body));
  const kcv = (await f.call<{ kcv: string }>('POST', '/v1/payments/kcv', f.user, { key: zpk.body.key.uid })).body.kcv;
  const ex = await f.call<{ keyBlock: string }>('POST', '/v1/payments/keys/export', f.user, { key: zpk.body.key.uid, kbpk: 'partition', version: 'D' });
  assert.equal(ex.status, 200, JSON.stringify(ex.body));
  assert.match(ex.body.keyBlock, /^D\d{4}P0T[A-Z]00E/, 'version D, usage P0, TDES, exportable');
  const byBlock = await f.call<{ kcv: string }>('POST', '/v1/payments/kcv', f.user, { key: { keyBlock: ex.body.keyBlock } });
  assert.equal(byBlock.status, 200, JSON.stringify(byBlock.body));
  assert.equal(byBlock.body.kcv, kcv, 'the block opens inside to the same key');
  const im = await f.call<{ key: string }>('POST', '/v1/payments/keys/import', f.user, { kbpk: 'partition', keyBlock: ex.body.keyBlock, label: 'zpk-b-imported' });
  assert.equal(im.status, 200, JSON.stringify(im.body));
  assert.equal((await f.call<{ kcv: string }>('POST', '/v1/payments/kcv', f.user, { key: im.body.key })).body.kcv, kcv);
  // C-10: a changed header (usage P0 → D0) breaks the block's MAC.
  const forged = ex.body.keyBlock.replace(/^(D\d{4})P0/, '$1D0');
  expectError(await f.call('POST', '/v1/payments/keys/import', f.user, { kbpk: 'partition', keyBlock: forged }), 400, 'UNWRAP_FAILED', 'C-10: header bound by the MAC');
  expectError(await f.call('POST', '/v1/payments/policy', f.user, { tr31LegacyImport: true }), 403, 'USER_TYPE_INVALID', 'policy is the officer\'s');
});

test('Grants over REST: CVV generation needs card-production; DUKPT translation and CMAC through REST', async () => {
  const cvk = await payKey('0123456789ABCDEFFEDCBA9876543210', 'C0');
  const args = { key: cvk, pan: '4123456789012345', expiry: '8701', serviceCode: '101' };
  expectError(await f.call('POST', '/v1/payments/cvv', f.user, args), 403, 'USER_TYPE_INVALID', 'no grant yet');
  expectError(await f.call('POST', '/v1/payments/grants', f.user, { account: 'alice', grant: 'card-production' }), 403, 'USER_TYPE_INVALID', 'a user cannot grant');
  const g = await f.call('POST', '/v1/payments/grants', f.officer, { account: 'alice', grant: 'card-production' });
  assert.equal(g.status, 200, JSON.stringify(g.body));
  const cvv = await f.call<{ cvv: string }>('POST', '/v1/payments/cvv', f.user, args);
  assert.equal(cvv.status, 200, JSON.stringify(cvv.body));
  assert.deepEqual((await f.call('POST', '/v1/payments/cvv/verify', f.user, { ...args, cvv: cvv.body.cvv })).body, { valid: true });

  const v = V.dukpt_tdes[0]!;
  const bdk = await payKey(s(v.inputs.bdk), 'B0');
  const zpk = await payKey(ZPK_B, 'P0');
  const pan = '4012345678909';
  const tr = await f.call<{ pinBlock: string }>('POST', '/v1/payments/dukpt/pin/translate', f.user, {
    bdk,
    ksn: s(v.inputs.ksn),
    format: 'ISO0',
    pinBlock: s(v.expected.encrypted_pin_block),
    pan,
    outKey: zpk,
    outFormat: 'ISO0',
  });
  assert.equal(tr.status, 200, JSON.stringify(tr.body));
  assert.equal(tr.body.pinBlock, terminalBlock(ZPK_B, '1234', pan), 'payment:dukpt_tdes:0 over REST');
  const replay = await f.call('POST', '/v1/payments/dukpt/pin/translate', f.user, { bdk, ksn: s(v.inputs.ksn), format: 'ISO0', pinBlock: s(v.expected.encrypted_pin_block), pan, outKey: zpk, outFormat: 'ISO0' });
  expectError(replay, 400, 'MECHANISM_PARAM_INVALID', 'a replayed KSN');
  const mac = await f.call('POST', '/v1/payments/dukpt/mac/verify', f.user, { bdk, ksn: s(v.inputs.ksn), data: s(v.inputs.txn_data), mac: s(v.expected.mac_request) });
  assert.deepEqual(mac.body, { valid: true });

  const c = V.tdes_cmac[0]!;
  const m6 = await payKey(s(c.inputs.key), 'M6');
  const cm = await f.call<{ mac: string }>('POST', '/v1/payments/mac', f.user, { key: m6, algorithm: 'cmac', data: s(c.inputs.message), length: String(c.expected.cmac).length / 2 });
  assert.equal(cm.status, 200, JSON.stringify(cm.body));
  assert.equal(cm.body.mac, String(c.expected.cmac), 'payment:tdes_cmac:0 over REST');
});

// attacks.md C-06 (clear-PIN and PIN-generation functions reachable by a host) and C-15 (the PCI HSM /
// PCI PIN logical checklist): each checklist item performed once through the boundary API or the
// host-command port, and refused. The deeper cases of each item live in the tests the item names.

import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Hsm, SecretBytes } from '../../src/boundary/api.js';
import { type HostCmdServer, startHostCmdServer } from '../../src/frontends/hostcmd/server.js';
import { buildPinBlock } from '../../src/boundary/mechanisms/payment/pin-block.js';
import { expectCode } from '../support/expect-code.js';
import { PASSWORD, TEST_SCRYPT, type TestHsm, testHsm } from '../support/hsm.js';
import { type HostClient, hostClient } from '../hostcmd/client.js';

const H = (x: string): Buffer => Buffer.from(x, 'hex');
const ZPK_A = '0123456789ABCDEFFEDCBA9876543210';
const ZPK_B = '89ABCDEF0123456776543210FEDCBA98';
const PAN = '4012345678909';

let t: TestHsm;
let server: HostCmdServer;
let c: HostClient;

async function payKey(hex: string, keyUsage: string, extra: Record<string, unknown> = {}): Promise<string> {
  return t.hsm.createObject(t.user, { class: 'secret-key', keyType: hex.length === 48 ? 'des3' : 'des2', value: H(hex), token: true, keyUsage, ...extra });
}

function terminalBlock(keyHex: string, pin: string, pan: string, format: 'ISO0' | 'ISO1' = 'ISO0'): Buffer {
  const clear = buildPinBlock(format, SecretBytes.from(Uint8Array.from([...pin].map(Number))), pan);
  const e = createCipheriv('des-ede-ecb', H(keyHex), null).setAutoPadding(false);
  return Buffer.concat([e.update(clear), e.final()]);
}

before(async () => {
  t = await testHsm();
  server = await startHostCmdServer({ hsm: t.hsm, host: '127.0.0.1', port: 0, account: { user: 'alice', password: PASSWORD, partition: 'p1' } });
  c = await hostClient(server.port);
});
after(async () => {
  c.close();
  await server.close();
  await t.close();
});

test('C-06: no host command outputs or accepts a clear PIN; PIN-issuance functions need the issuer grant and are audited', async () => {
  // payShield's clear-PIN commands: NG (decrypt a PIN under the LMK to clear), BA (encrypt a clear PIN),
  // JG/JE/JC (PIN to or from LMK encryption). None exists here: "command not supported" (68).
  for (const code of ['NG', 'BA', 'JG', 'JE', 'JC', 'PE']) {
    const reply = await c.send(`0000${code}${'0'.repeat(24)}`);
    assert.equal(reply.slice(0, 8), `0000${code[0]}${String.fromCharCode(code.charCodeAt(1) + 1)}68`, `C-06: ${code} is not offered`);
  }
  // The boundary has no clear-PIN method at all: every PIN argument is an encrypted block.
  const methods = Object.keys(t.hsm).filter((m) => m.startsWith('payment'));
  assert.ok(methods.length > 20);
  for (const m of methods) assert.doesNotMatch(m, /clear|decryptPin|printPin|encryptPin/i, `C-06: ${m}`);
  // Offset generation from an encrypted PIN: refused to a plain user, allowed with the officer's grant, audited.
  const zpk = await payKey(ZPK_A, 'P0');
  const pvk = await payKey('1C1C1C1C1C1C1C1C0123456789ABCDEF', 'V2');
  const pin = { key: zpk, format: 'ISO0', pinBlock: terminalBlock(ZPK_A, '1234', PAN), pan: PAN };
  await expectCode(() => t.hsm.paymentGeneratePvv(t.user, { pin, pvk, pvki: 1 }), 'USER_TYPE_INVALID', 'C-06: a plain user cannot generate a PVV');
  await t.hsm.paymentGrant(t.officer, { account: 'alice', grant: 'issuer' });
  const pvv = await t.hsm.paymentGeneratePvv(t.user, { pin, pvk, pvki: 1 });
  assert.match(pvv, /^\d{4}$/);
  const log = t.hsm.exportAudit(t.auditor).map((line) => JSON.parse(line) as { op?: string; outcome?: string; event?: { op?: string; outcome?: string } });
  assert.ok(
    log.some((r) => (r.event ?? r).op === 'payment.pvv.generate' && (r.event ?? r).outcome === 'ok'),
    'C-06: PVV generation is audited',
  );
  await t.hsm.paymentGrant(t.officer, { account: 'alice', grant: 'issuer', revoke: true });
});

test('C-15 checklist: one refusal per PCI item through the API and the host port', async () => {
  const zpkA = await payKey(ZPK_A, 'P0');
  const zpkB = await payKey(ZPK_B, 'P0', { exportability: 'E' });
  const block = terminalBlock(ZPK_A, '1234', PAN);

  // 1. Key-usage separation (C-07): a PIN key neither MACs nor encrypts data.
  await expectCode(() => t.hsm.paymentGenerateMac(t.user, { key: zpkA, algorithm: 3, padding: 1, data: new Uint8Array(8) }), 'KEY_FUNCTION_NOT_PERMITTED', 'C-15.1 PIN key as MAC key');
  await expectCode(() => t.hsm.encrypt(t.user, { key: zpkA, mechanism: 'DES3-ECB', data: new Uint8Array(8) }), 'KEY_FUNCTION_NOT_PERMITTED', 'C-15.1 PIN key as data key');

  // 2. Key metadata bound to the key (C-10, A-08): it leaves only in a TR-31 block whose header the MAC covers;
  //    the generic wrap, which binds nothing, is refused.
  const kbpk = await t.hsm.paymentCreatePartitionKbpk(t.officer);
  assert.ok(kbpk);
  const kb = await t.hsm.paymentExportKeyBlock(t.user, { key: zpkB, kbpk: 'partition', version: 'D' });
  const forged = kb.replace(/^(D\d{4})P0/, '$1M3');
  await expectCode(() => t.hsm.paymentImportKeyBlock(t.user, { kbpk: 'partition', keyBlock: forged }), 'UNWRAP_FAILED', 'C-15.2 usage changed in the header');
  await expectCode(() => t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'des2', value: H(ZPK_B), keyUsage: 'P0', extractable: true }), 'TEMPLATE_INCONSISTENT', 'C-15.2 an extractable payment key');

  // 3. No clear PIN or clear key on the host interface (C-06, A-06): key export over the port is a key block.
  const nc = await c.send('0000NC');
  assert.equal(nc.slice(4, 8), 'ND00');
  assert.equal((await c.send(`0000NG${'0'.repeat(24)}`)).slice(4, 8), 'NH68', 'C-15.3 no PIN decryption');

  // 4. PIN-block translation restrictions (C-03, C-04).
  await expectCode(() => t.hsm.paymentTranslatePin(t.user, { in: { key: zpkA, format: 'ISO0', pinBlock: block, pan: PAN }, outKey: zpkB, outFormat: 'ISO1' }), 'MECHANISM_PARAM_INVALID', 'C-15.4 ISO 0 to ISO 1');
  await expectCode(
    () => t.hsm.paymentTranslatePin(t.user, { in: { key: zpkA, format: 'ISO0', pinBlock: block, pan: PAN }, outKey: zpkB, outFormat: 'ISO0', outPan: '4012345678919' }),
    'MECHANISM_PARAM_INVALID',
    'C-15.4 PAN substitution',
  );

  // 5. Uniform errors for PIN processing (C-05): a wrong key and a corrupted block give the same code.
  const other = await payKey('1C1C1C1C1C1C1C1C0123456789ABCDEF', 'P0');
  const garbage = randomBytes(8);
  for (const [what, key, pinBlock] of [
    ['wrong key', other, block],
    ['garbage block', zpkA, garbage],
  ] as const) {
    await expectCode(() => t.hsm.paymentTranslatePin(t.user, { in: { key, format: 'ISO0', pinBlock, pan: PAN }, outKey: zpkB, outFormat: 'ISO0' }), 'DECRYPT_FAILED', `C-15.5 ${what}`);
  }

  // 6. Dual control for sensitive functions (D-14, C-08): one custodian cannot enter two components.
  const { forming } = await t.hsm.paymentBeginComponents(t.officer, { keyType: 'des2', usage: 'P0', components: 2, label: 'c15' });
  await t.hsm.paymentEnterComponent(t.user, { forming, component: H('6BC8A1E6B5232A9E6EA8BAA4C45EDCC8') });
  await expectCode(() => t.hsm.paymentEnterComponent(t.user, { forming, component: H('796DF7C1C27634196E2FA2943E80C257') }), 'ACCESS_DENIED', 'C-15.6 same custodian twice');

  // 7. Multi-tenant isolation (D-01, A-22): another partition's key is not there.
  t.hsm.createPartition(t.admin, { name: 'p2' });
  await t.hsm.createUser(t.admin, { name: 'bob', password: PASSWORD, role: 'user', partition: 'p2' });
  const bob = (await t.hsm.login({ user: 'bob', password: PASSWORD })).session;
  await expectCode(() => t.hsm.paymentKeyCheckValue(bob, { key: zpkA }), 'KEY_HANDLE_INVALID', 'C-15.7 another tenant');

  // 8. Self-tests before service (E-01…E-05): a failing payment KAT is the error state.
  const broken = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT, forceSelfTestFailure: 'PAYMENT-PIN-BLOCK' });
  try {
    assert.equal(broken.status().state, 'error', 'C-15.8');
  } finally {
    broken.close();
  }
});

// Key forming from clear components under dual control through the Hsm API (attacks.md C-08, C-09):
// the key_components_xor vector, one component per account, parity, lengths, expiry, seal, partitions,
// and what the formed key may and may not do.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Hsm, SecretBytes } from '../../src/boundary/api.js';
import { expectCode } from '../support/expect-code.js';
import { PASSWORD, TEST_SCRYPT, type TestHsm, testHsm } from '../support/hsm.js';
import { loadPaymentVectors, s } from './vectors.js';

const H = (x: string): Buffer => Buffer.from(x, 'hex');
const up = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
let t: TestHsm;
let bob: string;
let carol: string;

/** Two more custodians in the partition. */
async function custodians(x: TestHsm): Promise<{ bob: string; carol: string }> {
  await x.hsm.createUser(x.admin, { name: 'bob', password: PASSWORD, role: 'user', partition: x.partition });
  await x.hsm.createUser(x.admin, { name: 'carol', password: PASSWORD, role: 'user', partition: x.partition });
  return { bob: (await x.hsm.login({ user: 'bob', password: PASSWORD })).session, carol: (await x.hsm.login({ user: 'carol', password: PASSWORD })).session };
}

before(async () => {
  t = await testHsm();
  ({ bob, carol } = await custodians(t));
});
after(async () => t.close());

// Odd-parity double-length components (each byte's count of ones is odd).
const C1 = '6BC8A1E6B5232A9E6EA8BAA4C45EDCC8';
const C2 = '796DF7C1C27634196E2FA2943E80C257';
const D3 = '80B9EAA45857D64A686DE043A15816543486615B83E0B362';

test('key_components_xor: three custodians form the published key; each sees only its component\'s 3-byte check value (C-08, C-09)', async (tc) => {
  const V = loadPaymentVectors((why) => tc.skip(why));
  if (!V) return;
  for (const [i, v] of V.key_components_xor.entries()) {
    const name = `payment:key_components_xor:${i}`;
    const parts = (v.inputs.components as string[]).map(String);
    // These published components carry no parity (bytes of even parity among them): the officer says so when opening.
    await expectCode(async () => {
      const f = await t.hsm.paymentBeginComponents(t.officer, { keyType: 'des2', usage: 'P0', components: 3, label: name });
      return t.hsm.paymentEnterComponent(t.user, { forming: f.forming, component: H(parts[0]!) });
    }, 'DATA_INVALID', `${name}: odd parity is the default`);
    const { forming } = await t.hsm.paymentBeginComponents(t.officer, { keyType: 'des2', usage: 'P0', components: 3, label: name, parity: 'any' });
    const who = [t.user, bob, carol];
    let last: Awaited<ReturnType<Hsm['paymentEnterComponent']>> | undefined;
    for (const [j, part] of parts.entries()) {
      last = await t.hsm.paymentEnterComponent(who[j]!, { forming, component: SecretBytes.from(H(part)) });
      assert.equal(last.kcv.length, 3, `${name}: component KCV is 3 bytes, never a block (C-09)`);
      assert.equal(last.entered, j + 1);
      assert.equal(last.remaining, parts.length - j - 1);
      if (j < parts.length - 1) assert.equal(last.key, undefined, `${name}: no key before the last component`);
    }
    assert.ok(last?.key, `${name}: the last component forms the key`);
    assert.equal(up(last.keyKcv!), s(v.expected.key_kcv), `${name}: combined KCV`);
    // The officer (no custodian here) confirms the published KCV before the key exists (C-08).
    await t.hsm.paymentConfirmComponents(t.officer, { forming, kcv: s(v.expected.key_kcv) });
    assert.equal(up(await t.hsm.paymentKeyCheckValue(t.user, { key: last.key })), s(v.expected.key_kcv), `${name}: the stored key`);
    const info = await t.hsm.getAttributes(t.user, last.key);
    assert.deepEqual([info.keyType, info.keyUsage, info.extractable, info.sensitive, info.local, info.exportability, info.owner], ['des2', 'P0', false, true, false, 'N', 'officer']);
    await expectCode(() => t.hsm.paymentEnterComponent(carol, { forming, component: H(parts[0]!) }), 'ARGUMENTS_BAD', 'a completed forming takes nothing more');
  }
});

test('C-08: the same account twice is refused and changes nothing; another custodian completes the forming', async () => {
  const { forming } = await t.hsm.paymentBeginComponents(t.officer, { keyType: 'des2', usage: 'K0', components: 2, label: 'zmk', exportability: 'E' });
  const first = await t.hsm.paymentEnterComponent(t.user, { forming, component: H(C1) });
  // C-08 step 2: the type was declared when the forming opened; a custodian cannot change it.
  await expectCode(() => t.hsm.paymentEnterComponent(bob, { forming, component: H(C2), usage: 'D0' } as never), 'ARGUMENTS_BAD', 'no usage at entry');
  await expectCode(() => t.hsm.paymentEnterComponent(t.user, { forming, component: H(C2) }), 'ACCESS_DENIED', 'same account');
  const second = await t.hsm.paymentEnterComponent(bob, { forming, component: H(C2) });
  assert.equal(second.remaining, 0);
  // XOR of the two (parity restored: DES ignores parity, so the KCV is that of the plain XOR).
  const xor = Buffer.from(H(C1).map((b, i) => b ^ H(C2)[i]!));
  const { createCipheriv } = await import('node:crypto');
  const kcv = createCipheriv('des-ede-ecb', xor, null).setAutoPadding(false).update(Buffer.alloc(8)).subarray(0, 3);
  assert.equal(up(second.keyKcv!), up(kcv));
  assert.notEqual(up(first.kcv), up(second.kcv), 'each component has its own check value');
  await t.hsm.paymentConfirmComponents(t.officer, { forming, kcv: second.keyKcv! });
  // A K0 key formed in the officer's ceremony is a trusted KEK: it can serve as a KBPK.
  const info = await t.hsm.getAttributes(t.officer, second.key!);
  assert.deepEqual([info.trusted, info.wrap, info.unwrap, info.keyUsage], [true, true, true, 'K0']);
  const p0 = await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'des2', value: H(C2), keyUsage: 'P0', exportability: 'E' });
  const block = await t.hsm.paymentExportKeyBlock(t.user, { key: p0, kbpk: second.key!, version: 'B' });
  assert.match(block, /^B0096P0TB00E0000/);
  await expectCode(() => t.hsm.paymentExportKeyBlock(t.user, { key: p0, kbpk: second.key!, version: 'B', exportability: 'S' }), 'KEY_UNEXTRACTABLE');
});

test('C-08: parity, length and key-type rules; a refused component changes nothing', async () => {
  const { forming } = await t.hsm.paymentBeginComponents(t.officer, { keyType: 'des3', usage: 'M3', components: 2, label: 'mac' });
  const even = `00${D3.slice(2)}`; // 0x00 has even parity
  await expectCode(() => t.hsm.paymentEnterComponent(t.user, { forming, component: H(even) }), 'DATA_INVALID', 'even parity');
  await expectCode(() => t.hsm.paymentEnterComponent(t.user, { forming, component: H(C1) }), 'KEY_SIZE_RANGE', 'double length for a des3 forming');
  await expectCode(() => t.hsm.paymentEnterComponent(t.user, { forming, component: 'not bytes' as unknown as Uint8Array }), 'ARGUMENTS_BAD');
  const ok = await t.hsm.paymentEnterComponent(t.user, { forming, component: H(D3) });
  assert.equal(ok.entered, 1, 'the refusals entered nothing, and the same custodian may still enter once');
  // Components of equal halves XOR to a key with K1 = K2 = K3: refused like any such TDES key.
  const count = (await t.hsm.findObjects(t.user, {})).length;
  await expectCode(() => t.hsm.paymentEnterComponent(bob, { forming, component: H(D3) }), 'ATTRIBUTE_VALUE_INVALID', 'equal components XOR to a degenerate key (TDES parts must differ)');
  assert.equal((await t.hsm.findObjects(t.user, {})).length, count, 'no key formed');
  const aes = await t.hsm.paymentBeginComponents(t.officer, { keyType: 'aes', usage: 'D0', components: 2, label: 'data' });
  await t.hsm.paymentEnterComponent(t.user, { forming: aes.forming, component: H('00'.repeat(16)) }); // no parity for AES
  await expectCode(() => t.hsm.paymentEnterComponent(bob, { forming: aes.forming, component: H('00'.repeat(32)) }), 'KEY_SIZE_RANGE', 'components of one length');
  for (const bad of [
    { keyType: 'des2', usage: 'P0', components: 4, label: 'x' },
    { keyType: 'des', usage: 'P0', components: 2, label: 'x' },
    { keyType: 'aes', usage: 'C0', components: 2, label: 'x' },
    { keyType: 'des2', usage: 'P0', components: 2, label: 'x', modeOfUse: 'G' },
    { keyType: 'des2', usage: 'ZZ', components: 2, label: 'x' },
    { keyType: 'des2', usage: 'P0', components: 2, label: '' },
  ]) {
    await assert.rejects(t.hsm.paymentBeginComponents(t.officer, bad as never), (e: Error) => /ARGUMENTS_BAD|ATTRIBUTE_VALUE_INVALID/.test((e as { code?: string }).code ?? ''), JSON.stringify(bad));
  }
});

test('C-08: only an officer opens a forming; other partitions and appliance roles cannot enter; nothing secret reaches the audit log', async () => {
  await expectCode(() => t.hsm.paymentBeginComponents(t.user, { keyType: 'des2', usage: 'P0', components: 2, label: 'x' }), 'USER_TYPE_INVALID');
  await expectCode(() => t.hsm.paymentBeginComponents(t.admin, { keyType: 'des2', usage: 'P0', components: 2, label: 'x' }), 'USER_TYPE_INVALID');
  const { forming } = await t.hsm.paymentBeginComponents(t.officer, { keyType: 'des2', usage: 'P0', components: 2, label: 'x' });
  await expectCode(() => t.hsm.paymentEnterComponent(t.admin, { forming, component: H(C1) }), 'USER_TYPE_INVALID');
  t.hsm.createPartition(t.admin, { name: 'p9' });
  await t.hsm.createUser(t.admin, { name: 'mallory', password: PASSWORD, role: 'user', partition: 'p9' });
  const mallory = (await t.hsm.login({ user: 'mallory', password: PASSWORD })).session;
  await expectCode(() => t.hsm.paymentEnterComponent(mallory, { forming, component: H(C1) }), 'ARGUMENTS_BAD', 'another partition sees no forming');
  await t.hsm.paymentEnterComponent(t.officer, { forming, component: H(C1) }); // the officer may be a custodian too
  const done = await t.hsm.paymentEnterComponent(carol, { forming, component: H(C2) });
  assert.ok(done.key);
  const audit = JSON.stringify(t.hsm.listAudit(t.auditor));
  for (const secret of [C1, C2, C1.toLowerCase(), Buffer.from(H(C1)).toString('base64')]) assert.ok(!audit.includes(secret), 'no component in the audit log');
  assert.ok(audit.includes('payment.components.form'), 'the forming is audited');
  const records = t.hsm.listAudit(t.auditor).filter((r) => r.target === forming && r.op === 'payment.components.enter' && r.outcome === 'ok');
  assert.deepEqual(records.map((r) => r.actor), ['officer', 'carol'], 'each part by its custodian');
  assert.ok(records.every((r) => /KCV [0-9A-F]{6}$/.test(r.detail ?? '')), 'each part with its 3-byte check value in the audit log (C-08)');
});

test('a forming expires, and a seal forgets every open forming', async () => {
  const q = await testHsm({ shareTimeoutMs: 50 });
  try {
    const { forming, expiresAt } = await q.hsm.paymentBeginComponents(q.officer, { keyType: 'des2', usage: 'P0', components: 2, label: 'x' });
    assert.ok(Date.parse(expiresAt) - Date.now() <= 50);
    await q.hsm.paymentEnterComponent(q.user, { forming, component: H(C1) });
    await new Promise((r) => setTimeout(r, 120));
    const { bob: b } = await custodians(q);
    await expectCode(() => q.hsm.paymentEnterComponent(b, { forming, component: H(C2) }), 'ARGUMENTS_BAD', 'expired');
    assert.ok(q.hsm.listAudit(q.auditor).some((r) => r.op === 'payment.components.expire' && r.target === forming), 'expiry audited');
  } finally {
    await q.close();
  }
  // Seal and unseal with a known master key: the open forming is gone (its partial XOR was zeroed at the seal).
  const mk = Buffer.alloc(32, 7);
  const hsm = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT });
  try {
    await hsm.initialize(SecretBytes.from(mk), { name: 'admin', password: PASSWORD });
    const login = async (user: string): Promise<string> => (await hsm.login({ user, password: PASSWORD })).session;
    hsm.createPartition(await login('admin'), { name: 'p1' });
    const admin = await login('admin');
    await hsm.createUser(admin, { name: 'officer', password: PASSWORD, role: 'officer', partition: 'p1' });
    await hsm.createUser(admin, { name: 'u1', password: PASSWORD, role: 'user', partition: 'p1' });
    await hsm.createUser(admin, { name: 'u2', password: PASSWORD, role: 'user', partition: 'p1' });
    const { forming } = await hsm.paymentBeginComponents(await login('officer'), { keyType: 'des2', usage: 'P0', components: 2, label: 'x' });
    await hsm.paymentEnterComponent(await login('u1'), { forming, component: H(C1) });
    hsm.seal();
    hsm.unseal(SecretBytes.from(mk));
    await expectCode(async () => hsm.paymentEnterComponent(await login('u2'), { forming, component: H(C2) }), 'ARGUMENTS_BAD', 'forgotten at the seal');
  } finally {
    hsm.close();
  }
});

test('C-09: no full-block check value and no single-length DES key through forming', async () => {
  const { forming } = await t.hsm.paymentBeginComponents(t.officer, { keyType: 'des2', usage: 'P0', components: 2, label: 'c09' });
  await expectCode(() => t.hsm.paymentEnterComponent(t.user, { forming, component: H(C1.slice(0, 16)) }), 'KEY_SIZE_RANGE', 'an 8-byte (single DES) component');
  const one = await t.hsm.paymentEnterComponent(t.user, { forming, component: H(C1) });
  const two = await t.hsm.paymentEnterComponent(bob, { forming, component: H(C2) });
  for (const kcv of [one.kcv, two.kcv, two.keyKcv!]) assert.equal(kcv.length, 3, 'never the 8-byte encryption of zeros');
  await t.hsm.paymentConfirmComponents(t.officer, { forming, kcv: two.keyKcv! });
  await expectCode(() => t.hsm.paymentKeyCheckValue(t.user, { key: two.key!, length: 8 }), 'MECHANISM_PARAM_INVALID', 'no full block on request either');
  await expectCode(() => t.hsm.paymentBeginComponents(t.officer, { keyType: 'des' as 'des2', usage: 'P0', components: 2, label: 'x' }), 'ARGUMENTS_BAD', 'no single-DES key type');
});

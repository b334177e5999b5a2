// The formed key's check value confirmed before use (attacks.md C-08 "final KCV confirmed by quorum"):
// nothing is stored until an officer who entered no component states the right KCV; wrong values,
// custodians, the opener beside another officer, expiry and a seal all leave no usable key; a
// payment.key-form quorum rule adds its approvals.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hsm, SecretBytes } from '../../src/boundary/api.js';
import { expectCode } from '../support/expect-code.js';
import { PASSWORD, TEST_SCRYPT, type TestHsm, testHsm } from '../support/hsm.js';

const H = (x: string): Buffer => Buffer.from(x, 'hex');
const C1 = '6BC8A1E6B5232A9E6EA8BAA4C45EDCC8';
const C2 = '796DF7C1C27634196E2FA2943E80C257';

async function account(t: TestHsm, name: string, role: 'user' | 'officer'): Promise<string> {
  await t.hsm.createUser(t.admin, { name, password: PASSWORD, role, partition: t.partition });
  return (await t.hsm.login({ user: name, password: PASSWORD })).session;
}

/** Opens a 2-component des2 P0 forming and has `a` and `b` enter C1 and C2; returns the forming, key id and KCV. */
async function formed(t: TestHsm, a: string, b: string, label: string): Promise<{ forming: string; key: string; kcv: string }> {
  const { forming } = await t.hsm.paymentBeginComponents(t.officer, { keyType: 'des2', usage: 'P0', components: 2, label });
  await t.hsm.paymentEnterComponent(a, { forming, component: H(C1) });
  const last = await t.hsm.paymentEnterComponent(b, { forming, component: H(C2) });
  assert.ok(last.key && last.keyKcv);
  return { forming, key: last.key, kcv: Buffer.from(last.keyKcv).toString('hex').toUpperCase() };
}

test('C-08: the formed key is usable only after an officer confirms its check value', async () => {
  const t = await testHsm();
  try {
    const bob = await account(t, 'bob', 'user');
    const officer2 = await account(t, 'officer2', 'officer');
    const { forming, key, kcv } = await formed(t, t.user, bob, 'zpk-c08');
    // Use before confirm: the key is not in the store, so no path (key use, attributes, enable) reaches it.
    await expectCode(() => t.hsm.paymentKeyCheckValue(t.user, { key }), 'KEY_HANDLE_INVALID', 'use before confirm');
    await expectCode(() => t.hsm.getAttributes(t.user, key), 'OBJECT_NOT_FOUND', 'not visible before confirm');
    await expectCode(() => t.hsm.setKeyState(t.user, key, 'enabled'), 'KEY_HANDLE_INVALID', 'cannot be enabled around the confirmation');
    assert.deepEqual(await t.hsm.findObjects(t.user, { label: 'zpk-c08' }), []);
    // Who may not confirm: a custodian (a user: wrong role), the opener while another officer could, a wrong KCV.
    await expectCode(() => t.hsm.paymentConfirmComponents(t.user, { forming, kcv }), 'USER_TYPE_INVALID', 'a custodian confirming');
    await expectCode(() => t.hsm.paymentConfirmComponents(t.officer, { forming, kcv }), 'ACCESS_DENIED', 'the opener while officer2 exists');
    const wrong = (Number.parseInt(kcv, 16) ^ 1).toString(16).toUpperCase().padStart(6, '0');
    await expectCode(() => t.hsm.paymentConfirmComponents(officer2, { forming, kcv: wrong }), 'DATA_INVALID', 'wrong KCV');
    for (const bad of ['12345', 'GGGGGG', 123456, H('00000000')]) {
      await expectCode(() => t.hsm.paymentConfirmComponents(officer2, { forming, kcv: bad as string }), 'ARGUMENTS_BAD', `malformed kcv ${String(bad)}`);
    }
    await expectCode(() => t.hsm.paymentConfirmComponents(officer2, { forming, kcv, usage: 'D0' } as never), 'ARGUMENTS_BAD', 'nothing else at confirmation');
    await expectCode(() => t.hsm.paymentKeyCheckValue(t.user, { key }), 'KEY_HANDLE_INVALID', 'the refusals left it unusable');
    const refusal = t.hsm.listAudit(t.auditor).find((r) => r.op === 'payment.components.confirm' && r.code === 'DATA_INVALID');
    assert.ok(refusal && refusal.actor === 'officer2' && refusal.target === forming && refusal.detail?.includes(wrong), 'the wrong KCV is audited');
    assert.ok(!refusal.detail?.includes(kcv), "the refusal does not tell the formed key's KCV");
    // The right KCV (hex in any case) from an officer who entered nothing: stored, usable, audited with the KCV.
    const ok = await t.hsm.paymentConfirmComponents(officer2, { forming, kcv: kcv.toLowerCase() });
    assert.equal(ok.key, key, 'the id announced with the last component');
    assert.equal(Buffer.from(ok.kcv).toString('hex').toUpperCase(), kcv);
    assert.equal(Buffer.from(await t.hsm.paymentKeyCheckValue(t.user, { key })).toString('hex').toUpperCase(), kcv, 'usable after the confirmation');
    const info = await t.hsm.getAttributes(t.user, key);
    assert.deepEqual([info.state, info.owner, info.keyUsage], ['enabled', 'officer', 'P0']);
    const confirmed = t.hsm.listAudit(t.auditor).find((r) => r.op === 'payment.components.confirm' && r.outcome === 'ok');
    assert.ok(confirmed && confirmed.actor === 'officer2' && confirmed.target === key && confirmed.detail?.includes(`KCV ${kcv} confirmed`));
    await expectCode(() => t.hsm.paymentConfirmComponents(officer2, { forming, kcv }), 'ARGUMENTS_BAD', 'confirmed once');
  } finally {
    await t.close();
  }
});

test('C-08: an officer who entered a component cannot confirm; the opener may when no other officer can; not before the last component', async () => {
  const t = await testHsm();
  try {
    const officer2 = await account(t, 'officer2', 'officer');
    const { forming } = await t.hsm.paymentBeginComponents(t.officer, { keyType: 'des2', usage: 'P0', components: 2, label: 'x' });
    await t.hsm.paymentEnterComponent(officer2, { forming, component: H(C1) });
    await expectCode(() => t.hsm.paymentConfirmComponents(t.officer, { forming, kcv: '000000' }), 'KEY_STATE_INVALID', 'components still missing');
    const last = await t.hsm.paymentEnterComponent(t.user, { forming, component: H(C2) });
    const kcv = Buffer.from(last.keyKcv!).toString('hex');
    await expectCode(() => t.hsm.paymentConfirmComponents(officer2, { forming, kcv }), 'ACCESS_DENIED', 'a custodian officer confirming');
    await expectCode(() => t.hsm.paymentKeyCheckValue(t.user, { key: last.key! }), 'KEY_HANDLE_INVALID');
    // officer2 is a custodian, so the opener is the only officer who can confirm: dual control came from the custodians.
    const ok = await t.hsm.paymentConfirmComponents(t.officer, { forming, kcv });
    assert.equal(ok.key, last.key);
    // Another partition's officer sees no forming.
    t.hsm.createPartition(t.admin, { name: 'p9' });
    await t.hsm.createUser(t.admin, { name: 'o9', password: PASSWORD, role: 'officer', partition: 'p9' });
    const o9 = (await t.hsm.login({ user: 'o9', password: PASSWORD })).session;
    const other = await t.hsm.paymentBeginComponents(t.officer, { keyType: 'des2', usage: 'P0', components: 2, label: 'y' });
    await t.hsm.paymentEnterComponent(t.user, { forming: other.forming, component: H(C1) });
    const l2 = await t.hsm.paymentEnterComponent(officer2, { forming: other.forming, component: H(C2) });
    await expectCode(() => t.hsm.paymentConfirmComponents(o9, { forming: other.forming, kcv: Buffer.from(l2.keyKcv!).toString('hex') }), 'ARGUMENTS_BAD', 'D-01');
  } finally {
    await t.close();
  }
});

test('C-08: an unconfirmed key is destroyed when its forming expires, and forgotten at a seal', async () => {
  const q = await testHsm({ shareTimeoutMs: 50 });
  try {
    const bob = await account(q, 'bob', 'user');
    const { forming, key, kcv } = await formed(q, q.user, bob, 'expiring');
    await new Promise((r) => setTimeout(r, 150));
    // The timer zeroed it without any further call.
    const ev = q.hsm.listAudit(q.auditor).find((r) => r.op === 'payment.components.expire' && r.target === forming);
    assert.ok(ev?.detail?.includes(`formed key ${key} destroyed unconfirmed`), 'expiry of the formed key audited');
    await expectCode(() => q.hsm.paymentConfirmComponents(q.officer, { forming, kcv }), 'ARGUMENTS_BAD', 'expired');
    await expectCode(() => q.hsm.paymentKeyCheckValue(q.user, { key }), 'KEY_HANDLE_INVALID');
  } finally {
    await q.close();
  }
  const mk = Buffer.alloc(32, 9);
  const hsm = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT });
  try {
    await hsm.initialize(SecretBytes.from(mk), { name: 'admin', password: PASSWORD });
    const login = async (user: string): Promise<string> => (await hsm.login({ user, password: PASSWORD })).session;
    hsm.createPartition(await login('admin'), { name: 'p1' });
    const admin = await login('admin');
    for (const [name, role] of [['officer', 'officer'], ['u1', 'user'], ['u2', 'user']] as const) await hsm.createUser(admin, { name, password: PASSWORD, role, partition: 'p1' });
    const { forming } = await hsm.paymentBeginComponents(await login('officer'), { keyType: 'des2', usage: 'P0', components: 2, label: 'x' });
    await hsm.paymentEnterComponent(await login('u1'), { forming, component: H(C1) });
    const last = await hsm.paymentEnterComponent(await login('u2'), { forming, component: H(C2) });
    hsm.seal();
    hsm.unseal(SecretBytes.from(mk));
    await expectCode(async () => hsm.paymentConfirmComponents(await login('officer'), { forming, kcv: last.keyKcv! }), 'ARGUMENTS_BAD', 'forgotten at the seal');
    await expectCode(async () => hsm.getAttributes(await login('u1'), last.key!), 'OBJECT_NOT_FOUND', 'never stored');
  } finally {
    hsm.close();
  }
});

test('C-08: with a payment.key-form quorum rule the confirmation also needs M approvals', async () => {
  const t = await testHsm();
  try {
    const bob = await account(t, 'bob', 'user');
    const officer2 = await account(t, 'officer2', 'officer');
    const officer3 = await account(t, 'officer3', 'officer');
    t.hsm.setQuorumPolicy(t.admin, { class: 'payment.key-form', partition: t.partition, quorum: 2, approverRole: 'officer' });
    const { forming, key, kcv } = await formed(t, t.user, bob, 'quorum-key');
    const e = await t.hsm.paymentConfirmComponents(officer2, { forming, kcv }).then(
      () => assert.fail('no quorum'),
      (x: { code: string; request: string; digest: string }) => x,
    );
    assert.equal(e.code, 'QUORUM_REQUIRED');
    const req = await t.hsm.showQuorumRequest(t.officer, e.request);
    assert.deepEqual(req.operation, { forming, key, kcv }, 'the approvers see the KCV they confirm');
    await expectCode(() => t.hsm.paymentKeyCheckValue(t.user, { key }), 'KEY_HANDLE_INVALID', 'unusable while the request is open');
    await t.hsm.approveQuorumRequest(t.officer, { request: e.request, digest: e.digest });
    await t.hsm.approveQuorumRequest(officer3, { request: e.request, digest: e.digest });
    const ok = await t.hsm.paymentConfirmComponents(officer2, { forming, kcv });
    assert.equal(ok.key, key);
    assert.equal(Buffer.from(await t.hsm.paymentKeyCheckValue(t.user, { key })).toString('hex').toUpperCase(), kcv);
  } finally {
    await t.close();
  }
});

// Issuer and card-production grants (issue 7 "Functions"): offset/PVV generation needs `issuer`, CVV/CVC
// generation `card-production`; a plain partition user is refused, a granted one succeeds; only an officer
// of the account's partition (or the admin) gives a grant; grants are audited and quorum-gated as user.role.

import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { after, before, test } from 'node:test';
import { QuorumRequiredError } from '../../src/boundary/module/quorum-requests.js';
import { buildPinBlock } from '../../src/boundary/mechanisms/payment/pin-block.js';
import { SecretBytes } from '../../src/boundary/secret.js';
import { expectCode } from '../support/expect-code.js';
import { PASSWORD, type TestHsm, testHsm } from '../support/hsm.js';

const H = (x: string): Buffer => Buffer.from(x, 'hex');
const ZPK = '0123456789ABCDEFFEDCBA9876543210';
const PAN = '4123456789012345';
let t: TestHsm;
let zpk: string;
let pvk: string;
let cvk: string;

function block(pin: string): Buffer {
  const clear = buildPinBlock('ISO0', SecretBytes.from(Uint8Array.from([...pin].map(Number))), PAN);
  const c = createCipheriv('des-ede-ecb', H(ZPK), null).setAutoPadding(false);
  return Buffer.concat([c.update(clear), c.final()]);
}

before(async () => {
  t = await testHsm();
  const mk = (hex: string, keyUsage: string): Promise<string> => t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'des2', value: H(hex), token: true, keyUsage });
  zpk = await mk(ZPK, 'P0');
  pvk = await mk('89ABCDEF0123456776543210FEDCBA98', 'V2');
  cvk = await mk('0123456789ABCDEFFEDCBA9876543210', 'C0');
  t.hsm.paymentRegisterDecimalisationTable(t.officer, { name: 'std', table: '0123456789012345' });
});
after(async () => t.close());

const pvv = () => t.hsm.paymentGeneratePvv(t.user, { pin: { key: zpk, format: 'ISO0', pinBlock: block('1234'), pan: PAN }, pvk, pvki: 1 });
const cvv = () => t.hsm.paymentGenerateCvv(t.user, { key: cvk, pan: PAN, expiry: '8701', serviceCode: '101' });

test('a plain user is refused every generation function; verification needs no grant', async () => {
  await expectCode(pvv, 'USER_TYPE_INVALID', 'PVV generation without the issuer grant');
  await expectCode(cvv, 'USER_TYPE_INVALID', 'CVV generation without the card-production grant');
  const v1 = await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'des2', value: H('89ABCDEF0123456776543210FEDCBA98'), token: false, keyUsage: 'V1' });
  await expectCode(() => t.hsm.paymentGenerateIbm3624Offset(t.user, { pin: { key: zpk, format: 'ISO0', pinBlock: block('1234'), pan: PAN }, pvk: v1, table: 'std' }), 'USER_TYPE_INVALID', 'offset generation without the issuer grant');
  assert.equal(await t.hsm.paymentVerifyCvv(t.user, { key: cvk, pan: PAN, expiry: '8701', serviceCode: '101', cvv: '561' }), true, 'CVV verification is open to users');
  const refusals = t.hsm.listAudit(t.auditor, 1, 10_000).filter((r) => r.op === 'payment.cvv.generate' && r.outcome === 'refused');
  assert.ok(refusals.length >= 1 && refusals.every((r) => r.code === 'USER_TYPE_INVALID'), 'the refusal is audited');
});

test('only an officer of the partition or the admin grants; the user itself cannot; bad input changes nothing', async () => {
  await expectCode(async () => t.hsm.paymentGrant(t.user, { account: 'alice', grant: 'issuer' }), 'USER_TYPE_INVALID', 'a user grants nothing, not even to itself');
  await expectCode(async () => t.hsm.paymentGrant(t.auditor, { account: 'alice', grant: 'issuer' }), 'USER_TYPE_INVALID', 'the auditor grants nothing');
  t.hsm.createPartition(t.admin, { name: 'p2' });
  await t.hsm.createUser(t.admin, { name: 'officer2', password: PASSWORD, role: 'officer', partition: 'p2' });
  const officer2 = (await t.hsm.login({ user: 'officer2', password: PASSWORD })).session;
  await expectCode(async () => t.hsm.paymentGrant(officer2, { account: 'alice', grant: 'issuer' }), 'USER_NOT_FOUND', "another partition's officer");
  await expectCode(async () => t.hsm.paymentGrant(t.admin, { account: 'officer', grant: 'issuer' }), 'ARGUMENTS_BAD', 'grants are for user accounts');
  // a caller outside TypeScript (REST, host commands) can send anything
  await expectCode(async () => t.hsm.paymentGrant(t.officer, { account: 'alice', grant: 'root' as unknown as 'issuer' }), 'ARGUMENTS_BAD', 'unknown grant');
  assert.equal(t.hsm.listUsers(t.officer).find((u) => u.name === 'alice')?.grants, undefined, 'nothing granted');
  await expectCode(pvv, 'USER_TYPE_INVALID', 'still refused');
});

test('a granted user succeeds, each grant opens only its own functions, a revoke closes them again, all audited', async () => {
  t.hsm.paymentGrant(t.officer, { account: 'alice', grant: 'card-production' });
  assert.equal(await cvv(), '561', 'card production generates the CVV');
  await expectCode(pvv, 'USER_TYPE_INVALID', 'card-production is not issuer');
  t.hsm.paymentGrant(t.admin, { account: 'alice', grant: 'issuer' });
  assert.match(await pvv(), /^[0-9]{4}$/);
  assert.deepEqual(t.hsm.listUsers(t.officer).find((u) => u.name === 'alice')?.grants, ['issuer', 'card-production']);
  t.hsm.paymentGrant(t.officer, { account: 'alice', grant: 'card-production', revoke: true });
  await expectCode(cvv, 'USER_TYPE_INVALID', 'revoked');
  assert.match(await pvv(), /^[0-9]{4}$/, 'the other grant stays');
  const all = t.hsm.listAudit(t.auditor, 1, 10_000).filter((r) => r.op.startsWith('payment.grant'));
  assert.equal(all.filter((r) => r.outcome === 'refused').length, 3, 'the three refused grants of the previous test are audited');
  const audit = all.filter((r) => r.outcome === 'ok');
  assert.deepEqual(
    audit.map((r) => [r.actor, r.op, r.target, r.detail, r.outcome]),
    [
      ['officer', 'payment.grant', 'alice', 'card-production', 'ok'],
      ['admin', 'payment.grant', 'alice', 'issuer', 'ok'],
      ['officer', 'payment.grant.revoke', 'alice', 'card-production', 'ok'],
    ],
  );
});

test('a grant is quorum-gated like a role change (user.role) and runs once approved', async () => {
  for (const name of ['officer-b', 'officer-c']) await t.hsm.createUser(t.admin, { name, password: PASSWORD, role: 'officer', partition: 'p1' });
  t.hsm.setQuorumPolicy(t.admin, { class: 'user.role', partition: 'p1', quorum: 2, approverRole: 'officer' });
  let req: QuorumRequiredError | undefined;
  try {
    t.hsm.paymentGrant(t.officer, { account: 'alice', grant: 'card-production' });
  } catch (e) {
    if (e instanceof QuorumRequiredError) req = e;
    else throw e;
  }
  assert.ok(req, 'QUORUM_REQUIRED');
  await expectCode(cvv, 'USER_TYPE_INVALID', 'not granted before approval');
  const view = t.hsm.showQuorumRequest(t.officer, req.request);
  for (const name of ['officer-b', 'officer-c']) {
    const s = (await t.hsm.login({ user: name, password: PASSWORD })).session;
    await t.hsm.approveQuorumRequest(s, { request: req.request, digest: view.digest });
  }
  assert.equal(await cvv(), '561', 'granted once approved');
});

// Persistent per-PAN attempt counters (attacks.md C-11, C-13) on a SQLite store: failures counted by one
// session hold for another, survive a close and reopen of the module, never store the PAN, follow the
// officer's limit, and reset only by an officer.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { Hsm, SecretBytes } from '../../src/boundary/api.js';
import { expectCode } from '../support/expect-code.js';
import { PASSWORD, TEST_SCRYPT } from '../support/hsm.js';
import { MASTER_BYTES, tempDir } from '../support/store-fixtures.js';

const H = (x: string): Buffer => Buffer.from(x, 'hex');
const PAN = '4123456789012345';
const OTHER_PAN = '4123456789012352';
const dir = tempDir('coffer-attempts-');
after(() => dir.cleanup());
const path = `${dir.dir}/store.db`;

async function open(): Promise<Hsm> {
  const hsm = await Hsm.open({ store: { kind: 'sqlite', path }, scrypt: TEST_SCRYPT, masterKey: SecretBytes.from(MASTER_BYTES) });
  assert.equal(hsm.status().state, 'unsealed');
  return hsm;
}
const login = async (hsm: Hsm, user: string): Promise<string> => (await hsm.login({ user, password: PASSWORD })).session;

test('CVV failures survive a restart, are shared by sessions, never store the PAN, and reset only by an officer', async () => {
  let hsm = await Hsm.open({ store: { kind: 'sqlite', path }, scrypt: TEST_SCRYPT });
  await hsm.initialize(SecretBytes.from(MASTER_BYTES), { name: 'admin', password: PASSWORD });
  const admin = await login(hsm, 'admin');
  hsm.createPartition(admin, { name: 'p1' });
  await hsm.createUser(admin, { name: 'officer', password: PASSWORD, role: 'officer', partition: 'p1' });
  for (const name of ['alice', 'bob']) await hsm.createUser(admin, { name, password: PASSWORD, role: 'user', partition: 'p1' });
  await hsm.createUser(admin, { name: 'auditor', password: PASSWORD, role: 'auditor' });
  let alice = await login(hsm, 'alice');
  const cvk = await hsm.createObject(alice, { class: 'secret-key', keyType: 'des2', value: H('0123456789ABCDEFFEDCBA9876543210'), token: true, keyUsage: 'C0' });
  const check = (hsm: Hsm, s: string, cvv: string, pan = PAN) => hsm.paymentVerifyCvv(s, { key: cvk, pan, expiry: '8701', serviceCode: '101', cvv });

  for (let i = 0; i < 3; i++) assert.equal(await check(hsm, alice, '000'), false);
  hsm.close();

  // After a restart, another user's session sees the same three failures: two more reach the limit of 5.
  hsm = await open();
  const bob = await login(hsm, 'bob');
  assert.equal(await check(hsm, bob, '000'), false);
  assert.equal(await check(hsm, bob, '000'), false);
  await expectCode(() => check(hsm, bob, '561'), 'LIMIT_EXCEEDED', 'the right CVV is refused once the limit is reached (C-11)');
  alice = await login(hsm, 'alice');
  await expectCode(() => check(hsm, alice, '561'), 'LIMIT_EXCEEDED', 'for every session');
  assert.equal(typeof (await check(hsm, alice, '561', OTHER_PAN)), 'boolean', 'another PAN has its own counter');
  hsm.close();

  // The store holds keyed hashes, not PANs.
  const db = new Database(path, { readonly: true });
  const dump = JSON.stringify(db.prepare('SELECT * FROM system').all());
  db.close();
  assert.ok(dump.includes('payment.attempts/p1/'), 'the counters are system records');
  assert.ok(!dump.includes(PAN) && !dump.includes(PAN.slice(-10)), 'no PAN in the store');

  hsm = await open();
  alice = await login(hsm, 'alice');
  await expectCode(() => check(hsm, alice, '561'), 'LIMIT_EXCEEDED', 'still refused after a second restart');
  await expectCode(async () => hsm.paymentResetAttempts(alice, { pan: PAN }), 'USER_TYPE_INVALID', 'a user cannot reset its own counter');
  await expectCode(async () => hsm.paymentResetAttempts(await login(hsm, 'officer'), { pan: 'x' }), 'MECHANISM_PARAM_INVALID', 'a bad PAN changes nothing');
  const officer = await login(hsm, 'officer');
  hsm.paymentResetAttempts(officer, { pan: PAN, kind: 'cvv' });
  assert.equal(await check(hsm, alice, '561'), true, 'verifies after the officer reset');

  // The officer's limit holds after a restart too.
  await expectCode(async () => hsm.paymentSetAttemptLimit(officer, { limit: 0 }), 'ARGUMENTS_BAD', 'limit 1-20');
  hsm.paymentSetAttemptLimit(officer, { limit: 2 });
  assert.equal(await check(hsm, alice, '000'), false);
  hsm.close();
  hsm = await open();
  alice = await login(hsm, 'alice');
  assert.equal(await check(hsm, alice, '000'), false);
  await expectCode(() => check(hsm, alice, '561'), 'LIMIT_EXCEEDED', 'limit 2 after a restart');
  const audit = hsm.listAudit(await login(hsm, 'auditor'), 1, 10_000).filter((r) => r.op.startsWith('payment.attempts'));
  assert.deepEqual(
    audit.filter((r) => r.outcome === 'ok').map((r) => r.op),
    ['payment.attempts.reset', 'payment.attempts.limit'],
  );
  hsm.close();
});

// Partition deletion and role changes: admin-only, refused where they would orphan accounts or
// keep stale privileges, and quorum-gated as `partition.delete` / `user.role` (attacks.md D-14,
// D-15, D-16), over the boundary API and REST.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRestApp } from '../../src/frontends/rest/app.js';
import { expectCode } from '../support/expect-code.js';
import { PASSWORD, testHsm } from '../support/hsm.js';

test('partition delete: admin only, refused while it has accounts, destroys its keys, gated by a partition.delete quorum', async () => {
  const t = await testHsm();
  try {
    t.hsm.createPartition(t.admin, { name: 'p2' });
    await t.hsm.createUser(t.admin, { name: 'bob', password: PASSWORD, role: 'user', partition: 'p2' });
    const bob = (await t.hsm.login({ user: 'bob', password: PASSWORD })).session;
    await t.hsm.generateKey(bob, { template: { keyType: 'aes', valueLen: 32 } });
    await expectCode(async () => t.hsm.deletePartition(t.officer, 'p2'), 'USER_TYPE_INVALID', 'an officer deletes no partition');
    await expectCode(async () => t.hsm.deletePartition(t.admin, 'p2'), 'ACTION_PROHIBITED', 'accounts first');
    await expectCode(async () => t.hsm.deletePartition(t.admin, 'nope'), 'PARTITION_NOT_FOUND');
    await expectCode(async () => t.hsm.deletePartition(t.admin, '.system'), 'PARTITION_NOT_FOUND', 'the system partition is nobody’s to delete');
    t.hsm.deleteUser(t.admin, 'bob');
    t.hsm.deletePartition(t.admin, 'p2');
    assert.ok(!t.hsm.listPartitions(t.admin).some((p) => p.name === 'p2'));
    assert.ok(t.hsm.listAudit(t.auditor, 1, 10_000).some((r) => r.op === 'partition.delete' && r.target === 'p2' && /1 objects destroyed/.test(r.detail ?? '')));
    // Under a 2-of-N policy the delete waits for a second admin.
    // Two approvers besides the requester (whose own approval does not count by default).
    for (const name of ['admin2', 'admin3']) await t.hsm.createUser(t.admin, { name, password: PASSWORD, role: 'admin' });
    t.hsm.createPartition(t.admin, { name: 'p3' });
    t.hsm.setQuorumPolicy(t.admin, { class: 'partition.delete', quorum: 2 });
    await expectCode(async () => t.hsm.deletePartition(t.admin, 'p3'), 'QUORUM_REQUIRED');
    assert.ok(t.hsm.listPartitions(t.admin).some((p) => p.name === 'p3'), 'still there');
  } finally {
    await t.close();
  }
});

test('role change: admin only, ends the account’s sessions at once, never one’s own, gated by a user.role quorum', async () => {
  const t = await testHsm();
  try {
    const alice = (await t.hsm.login({ user: 'alice', password: PASSWORD })).session;
    await expectCode(async () => t.hsm.changeUserRole(t.officer, { name: 'alice', role: 'officer' }), 'USER_TYPE_INVALID', 'only the admin changes roles');
    await expectCode(async () => t.hsm.changeUserRole(t.admin, { name: 'admin', role: 'auditor' }), 'ACTION_PROHIBITED', 'not one’s own');
    await expectCode(async () => t.hsm.changeUserRole(t.admin, { name: 'alice', role: 'user' }), 'ARGUMENTS_BAD', 'no change');
    await expectCode(async () => t.hsm.changeUserRole(t.admin, { name: 'alice', role: 'auditor', partition: 'p1' }), 'ARGUMENTS_BAD', 'appliance roles have no partition');
    t.hsm.changeUserRole(t.admin, { name: 'alice', role: 'officer' });
    await expectCode(async () => t.hsm.whoami(alice), 'SESSION_INVALID', 'the old role’s session is gone');
    const again = (await t.hsm.login({ user: 'alice', password: PASSWORD })).session;
    assert.deepEqual(t.hsm.whoami(again), { user: 'alice', role: 'officer', partition: 'p1' });
    await expectCode(() => t.hsm.generateKey(again, { template: { keyType: 'aes' } }), 'USER_TYPE_INVALID', 'an officer uses no keys');
    // Two approvers besides the requester (whose own approval does not count by default).
    for (const name of ['admin2', 'admin3']) await t.hsm.createUser(t.admin, { name, password: PASSWORD, role: 'admin' });
    t.hsm.setQuorumPolicy(t.admin, { class: 'user.role', quorum: 2 });
    await expectCode(async () => t.hsm.changeUserRole(t.admin, { name: 'alice', role: 'user' }), 'QUORUM_REQUIRED');
    assert.equal(t.hsm.listUsers(t.admin).find((u) => u.name === 'alice')?.role, 'officer', 'unchanged until approved');
  } finally {
    await t.close();
  }
});

test('REST: DELETE /v1/partitions/:name and PUT /v1/users/:name/role', async () => {
  const t = await testHsm();
  const { app } = buildRestApp({ hsm: t.hsm });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const login = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'admin', password: PASSWORD }) });
    const { token } = (await login.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    t.hsm.createPartition(t.admin, { name: 'gone' });
    assert.equal((await fetch(`${base}/v1/partitions/gone`, { method: 'DELETE', headers: { authorization: auth.authorization } })).status, 204);
    assert.equal((await fetch(`${base}/v1/partitions/gone`, { method: 'DELETE', headers: { authorization: auth.authorization } })).status, 404);
    const role = await fetch(`${base}/v1/users/alice/role`, { method: 'PUT', headers: auth, body: JSON.stringify({ role: 'officer' }) });
    assert.equal(role.status, 204);
    const bad = await fetch(`${base}/v1/users/alice/role`, { method: 'PUT', headers: auth, body: JSON.stringify({ role: 'root' }) });
    assert.equal(bad.status, 400);
  } finally {
    await app.close();
    await t.close();
  }
});

// Quorum approvals, the flows that must work (DESIGN §3; issue 4): a 2-of-3 partition.create runs
// after two other admins approve and not before, once, as the requester, audited at each step;
// user.create under quorum stores no password; per-partition key.destroy approved by officers;
// policy changes gated by the quorum they change; rejection; zeroize only when opted in.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectCode } from '../support/expect-code.js';
import { PASSWORD } from '../support/hsm.js';
import { expectPending, quorumHsm } from './quorum-support.js';

test('2-of-3 partition.create runs after two admins approve, not before, once, as the requester', async () => {
  const t = await quorumHsm();
  try {
    const [a2, a3, a4] = t.admins;
    t.hsm.setQuorumPolicy(t.admin, { class: 'partition.create', quorum: 2 });
    assert.equal(t.hsm.quorumPolicy(t.admin).classes['partition.create']?.quorum, 2);
    const { request, digest } = await expectPending(() => t.hsm.createPartition(t.admin, { name: 'p2', label: 'Payments' }));
    assert.ok(!t.hsm.listPartitions(t.admin).some((p) => p.name === 'p2'), 'not created by the request');

    const shown = t.hsm.showQuorumRequest(a2, request);
    assert.equal(shown.digest, digest);
    assert.deepEqual(shown.operation, { name: 'p2', label: 'Payments', fipsApprovedOnly: false });
    assert.equal(JSON.parse(shown.canonical).id, request, 'the digest covers the request id');
    assert.equal(JSON.parse(shown.canonical).requester, 'admin');
    assert.equal(shown.status, 'pending');

    const first = await t.hsm.approveQuorumRequest(a2, { request, digest });
    assert.equal(first.status, 'pending');
    assert.equal(first.approvals.length, 1);
    assert.ok(!t.hsm.listPartitions(t.admin).some((p) => p.name === 'p2'), 'one approval of two does not run it');

    const second = await t.hsm.approveQuorumRequest(a3, { request, digest });
    assert.equal(second.status, 'executed');
    assert.equal((second.result as { name: string }).name, 'p2');
    assert.ok(t.hsm.listPartitions(t.admin).some((p) => p.name === 'p2'), 'created by the second approval');

    // It cannot run twice: a further approval is refused and nothing changes.
    await expectCode(() => t.hsm.approveQuorumRequest(a4, { request, digest }), 'REQUEST_CLOSED', 'approve after execution');
    assert.equal(t.hsm.listPartitions(t.admin).filter((p) => p.name === 'p2').length, 1);

    const audit = t.hsm.listAudit(t.auditor).filter((r) => r.target === request || (r.op === 'partition.create' && r.target === 'p2'));
    assert.deepEqual(
      audit.map((r) => `${r.op} ${r.actor} ${r.outcome}`),
      ['quorum.request admin ok', 'quorum.approve admin2 ok', 'quorum.approve admin3 ok', 'partition.create admin ok', 'quorum.execute admin ok', 'quorum.approve admin4 refused'],
    );
    assert.match(audit.find((r) => r.op === 'quorum.execute')?.detail ?? '', /approved by admin2, admin3/);
  } finally {
    await t.close();
  }
});

test('two approvals racing for the last place run the operation once', async () => {
  const t = await quorumHsm();
  try {
    const [a2, a3, a4] = t.admins;
    t.hsm.setQuorumPolicy(t.admin, { class: 'partition.create', quorum: 2 });
    const { request, digest } = await expectPending(() => t.hsm.createPartition(t.admin, { name: 'race' }));
    await t.hsm.approveQuorumRequest(a2, { request, digest });
    const outcomes = await Promise.allSettled([t.hsm.approveQuorumRequest(a3, { request, digest }), t.hsm.approveQuorumRequest(a4, { request, digest })]);
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, 'one approval completes the request');
    const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    assert.equal((refused.reason as { code: string }).code, 'REQUEST_CLOSED');
    assert.equal(t.hsm.listAudit(t.auditor).filter((r) => r.op === 'partition.create' && r.target === 'race').length, 1);
  } finally {
    await t.close();
  }
});

test('user.create under quorum: the request shows and stores no password, and the account works after approval', async () => {
  const t = await quorumHsm();
  try {
    const [a2, a3] = t.admins;
    t.hsm.setQuorumPolicy(t.admin, { class: 'user.create', quorum: 2 });
    const password = 'a new officer password 1';
    const { request, digest } = await expectPending(() => t.hsm.createUser(t.admin, { name: 'officer2', password, role: 'officer', partition: 'p1' }));
    const shown = t.hsm.showQuorumRequest(a2, request);
    const text = JSON.stringify(shown);
    assert.ok(!text.includes(password), 'no password in the request');
    assert.ok(!text.includes('scrypt$'), 'no password hash in the request');
    assert.match(JSON.parse(shown.canonical).fingerprints.passwordHash, /^sha256:[0-9a-f]{64}$/, 'the hash is bound by a fingerprint');
    assert.equal(shown.partition, 'p1');
    await expectCode(() => t.hsm.login({ user: 'officer2', password }), 'PIN_INCORRECT', 'no account yet');
    await t.hsm.approveQuorumRequest(a2, { request, digest });
    const done = await t.hsm.approveQuorumRequest(a3, { request, digest });
    assert.equal(done.status, 'executed');
    const who = await t.hsm.login({ user: 'officer2', password });
    assert.equal(who.role, 'officer');
    assert.equal(who.partition, 'p1');
  } finally {
    await t.close();
  }
});

test('user.delete under quorum runs on approval; the requester is re-checked at execution', async () => {
  const t = await quorumHsm();
  try {
    const [a2, a3] = t.admins;
    t.hsm.setQuorumPolicy(t.admin, { class: 'user.delete', quorum: 2 });
    const { request, digest } = await expectPending(() => t.hsm.deleteUser(t.admin, 'alice'));
    assert.ok(t.hsm.listUsers(t.admin).some((u) => u.name === 'alice'));
    await t.hsm.approveQuorumRequest(a2, { request, digest });
    await t.hsm.approveQuorumRequest(a3, { request, digest });
    assert.ok(!t.hsm.listUsers(t.admin).some((u) => u.name === 'alice'), 'deleted after approval');
  } finally {
    await t.close();
  }
});

test('per-partition key.destroy: officers of the partition approve a user destroying or scheduling a token key', async () => {
  const t = await quorumHsm();
  try {
    await t.hsm.createUser(t.admin, { name: 'officer2', password: PASSWORD, role: 'officer', partition: 'p1' });
    const officer2 = await t.login('officer2');
    t.hsm.createPartition(t.admin, { name: 'p9' });
    await t.hsm.createUser(t.admin, { name: 'officer9', password: PASSWORD, role: 'officer', partition: 'p9' });
    const officer9 = await t.login('officer9');
    // attacks.md D-14 (7): a rule fewer accounts than M could satisfy is refused.
    await expectCode(() => t.hsm.setQuorumPolicy(t.admin, { class: 'key.destroy', partition: 'p1', quorum: 3 }), 'ARGUMENTS_BAD', 'three officers do not exist');
    t.hsm.setQuorumPolicy(t.admin, { class: 'key.destroy', partition: 'p1', quorum: 2 });
    assert.equal(t.hsm.quorumPolicy(t.officer).partitions.p1?.['key.destroy']?.approverRole, 'officer');

    const key = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true } });
    const { request, digest } = await expectPending(() => t.hsm.destroyObject(t.user, key));
    assert.deepEqual(t.hsm.showQuorumRequest(t.officer, request).operation, { action: 'destroy', uid: key });
    await expectCode(() => t.hsm.showQuorumRequest(officer9, request), 'REQUEST_NOT_FOUND', "another partition's officer sees nothing");
    await expectCode(() => t.hsm.approveQuorumRequest(officer9, { request, digest }), 'REQUEST_NOT_FOUND');
    await t.hsm.approveQuorumRequest(t.officer, { request, digest });
    await t.hsm.getAttributes(t.user, key); // still there
    const done = await t.hsm.approveQuorumRequest(officer2, { request, digest });
    assert.equal(done.status, 'executed');
    await expectCode(() => t.hsm.getAttributes(t.user, key), 'OBJECT_NOT_FOUND', 'destroyed after approval');

    // Scheduling a deletion is a destroy with a delay: the same quorum (D-14 (8)).
    const key2 = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true } });
    const sched = await expectPending(() => t.hsm.scheduleDeletion(t.user, key2, 7));
    await t.hsm.approveQuorumRequest(t.officer, sched);
    await t.hsm.approveQuorumRequest(officer2, sched);
    assert.equal((await t.hsm.getAttributes(t.user, key2)).state, 'pending-deletion');

    // Session objects die with their session: no quorum for them.
    const temp = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32, encrypt: true, token: false } });
    await t.hsm.destroyObject(t.user, temp);
  } finally {
    await t.close();
  }
});

test('a quorum once set is changed only by a quorum (policy.change needs the M it replaces)', async () => {
  const t = await quorumHsm();
  try {
    const [a2, a3] = t.admins;
    t.hsm.setQuorumPolicy(t.admin, { class: 'partition.create', quorum: 2 });
    const { request, digest } = await expectPending(() => t.hsm.setQuorumPolicy(t.admin, { class: 'partition.create', quorum: 1 }), 'lowering the quorum');
    assert.equal(t.hsm.quorumPolicy(t.admin).classes['partition.create']?.quorum, 2, 'unchanged while pending');
    assert.equal(t.hsm.showQuorumRequest(a2, request).class, 'policy.change');
    await t.hsm.approveQuorumRequest(a2, { request, digest });
    const done = await t.hsm.approveQuorumRequest(a3, { request, digest });
    assert.equal(done.status, 'executed');
    assert.equal(t.hsm.quorumPolicy(t.admin).classes['partition.create']?.quorum, 1);
    t.hsm.createPartition(t.admin, { name: 'free' }); // no quorum any more
    await expectCode(() => t.hsm.setQuorumPolicy(t.user, { class: 'zeroize', quorum: 2 }), 'USER_TYPE_INVALID', 'users set no policy');
    await expectCode(() => t.hsm.setQuorumPolicy(t.admin, { class: 'zeroize', quorum: 2, approverRole: 'officer' }), 'ARGUMENTS_BAD', 'appliance rules have admin approvers');
    await expectCode(() => t.hsm.setQuorumPolicy(t.admin, { class: 'zeroize', partition: 'p1', quorum: 2 }), 'ARGUMENTS_BAD', 'zeroize is appliance-wide');
  } finally {
    await t.close();
  }
});

test('rejection closes a request; the requester may withdraw; list shows what the caller may see', async () => {
  const t = await quorumHsm();
  try {
    const [a2, a3] = t.admins;
    t.hsm.setQuorumPolicy(t.admin, { class: 'partition.create', quorum: 2 });
    const r1 = await expectPending(() => t.hsm.createPartition(t.admin, { name: 'no1' }));
    const r2 = await expectPending(() => t.hsm.createPartition(t.admin, { name: 'no2' }));
    assert.deepEqual(
      t.hsm.listQuorumRequests(a2, { status: 'pending' }).map((r) => r.id),
      [r2.request, r1.request],
    );
    assert.deepEqual(t.hsm.listQuorumRequests(t.user), [], 'a partition user sees no admin requests');
    const rejected = t.hsm.rejectQuorumRequest(a2, { request: r1.request, reason: 'not needed' });
    assert.equal(rejected.status, 'rejected');
    assert.equal(rejected.closedBy, 'admin2');
    await expectCode(() => t.hsm.approveQuorumRequest(a3, r1), 'REQUEST_CLOSED', 'approve after rejection');
    assert.equal(t.hsm.rejectQuorumRequest(t.admin, { request: r2.request }).status, 'rejected', 'the requester withdraws');
    await expectCode(() => t.hsm.rejectQuorumRequest(a3, { request: r2.request }), 'REQUEST_CLOSED');
    assert.ok(!t.hsm.listPartitions(t.admin).some((p) => p.name === 'no1' || p.name === 'no2'));
  } finally {
    await t.close();
  }
});

test('zeroize stays single-admin by default and takes a quorum only when the policy opts in', async () => {
  const t = await quorumHsm();
  try {
    const [a2, a3] = t.admins;
    assert.equal(t.hsm.quorumPolicy(t.admin).classes.zeroize, undefined, 'no zeroize rule by default');
    t.hsm.setQuorumPolicy(t.admin, { class: 'zeroize', quorum: 2 });
    const r = await expectPending(() => t.hsm.zeroize(t.admin));
    assert.equal(t.hsm.status().state, 'unsealed');
    await t.hsm.approveQuorumRequest(a2, r);
    const done = await t.hsm.approveQuorumRequest(a3, r);
    assert.equal(done.status, 'executed');
    assert.equal(t.hsm.status().state, 'sealed', 'the approved zeroize ran (response: seal)');
    assert.equal(t.hsm.status().tamper?.signal, 'zeroize');
  } finally {
    await t.close();
  }
});

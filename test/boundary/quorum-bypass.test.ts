// attacks.md D-14 (quorum bypass), each attempt refused: self-approval, the same person twice
// (also from a second session), an approval replayed onto another request, an expired request,
// a second run, approvers of the wrong role, and an approver revoked before execution.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectCode } from '../support/expect-code.js';
import { expectPending, quorumHsm } from './quorum-support.js';

test("D-14 (2): the requester's own approval does not count unless the policy says so", async () => {
  const t = await quorumHsm();
  try {
    const [a2] = t.admins;
    t.hsm.setQuorumPolicy(t.admin, { class: 'partition.create', quorum: 2 });
    const r = await expectPending(() => t.hsm.createPartition(t.admin, { name: 'self' }));
    await expectCode(() => t.hsm.approveQuorumRequest(t.admin, r), 'SELF_APPROVAL', 'requester approves');
    const again = await t.login('admin'); // another session of the same account is the same person
    await expectCode(() => t.hsm.approveQuorumRequest(again, r), 'SELF_APPROVAL', 'requester approves from a second session');
    assert.equal(t.hsm.showQuorumRequest(a2, r.request).approvals.length, 0);

    t.hsm.setQuorumPolicy(t.admin, { class: 'user.delete', quorum: 2, selfApproval: true });
    const s = await expectPending(() => t.hsm.deleteUser(t.admin, 'alice'));
    assert.equal((await t.hsm.approveQuorumRequest(t.admin, s)).approvals.length, 1, 'counts when the policy says so');
    assert.equal((await t.hsm.approveQuorumRequest(a2, s)).status, 'executed');
    assert.ok(!t.hsm.listUsers(t.admin).some((u) => u.name === 'alice'));
  } finally {
    await t.close();
  }
});

test('D-14 (1): the same person approving twice counts once, whatever the session', async () => {
  const t = await quorumHsm();
  try {
    const [a2, a3] = t.admins;
    t.hsm.setQuorumPolicy(t.admin, { class: 'partition.create', quorum: 2 });
    const r = await expectPending(() => t.hsm.createPartition(t.admin, { name: 'twice' }));
    await t.hsm.approveQuorumRequest(a2, r);
    await expectCode(() => t.hsm.approveQuorumRequest(a2, r), 'ALREADY_APPROVED', 'same session');
    const a2again = await t.login('admin2');
    await expectCode(() => t.hsm.approveQuorumRequest(a2again, r), 'ALREADY_APPROVED', 'second session of the same account');
    const shown = t.hsm.showQuorumRequest(a3, r.request);
    assert.equal(shown.status, 'pending');
    assert.deepEqual(shown.approvals.map((a) => a.approver), ['admin2']);
    assert.ok(!t.hsm.listPartitions(t.admin).some((p) => p.name === 'twice'));
  } finally {
    await t.close();
  }
});

test('D-14 (4, 5): an approval names one digest and cannot be replayed onto another or a changed request', async () => {
  const t = await quorumHsm();
  try {
    const [a2, a3] = t.admins;
    t.hsm.setQuorumPolicy(t.admin, { class: 'partition.create', quorum: 2 });
    const r1 = await expectPending(() => t.hsm.createPartition(t.admin, { name: 'alpha' }));
    // The same operation asked again is a new request with its own nonce, expiry and digest.
    const r1b = await expectPending(() => t.hsm.createPartition(t.admin, { name: 'alpha' }));
    assert.notEqual(r1.digest, r1b.digest);
    // A "changed" request (another target) is another digest.
    const r2 = await expectPending(() => t.hsm.createPartition(t.admin, { name: 'beta', fipsApprovedOnly: true }));
    await t.hsm.approveQuorumRequest(a2, r1);
    await expectCode(() => t.hsm.approveQuorumRequest(a3, { request: r2.request, digest: r1.digest }), 'APPROVAL_DIGEST_MISMATCH', 'r1 approval onto r2');
    await expectCode(() => t.hsm.approveQuorumRequest(a3, { request: r1b.request, digest: r1.digest }), 'APPROVAL_DIGEST_MISMATCH', 'r1 approval onto its twin');
    await expectCode(() => t.hsm.approveQuorumRequest(a3, { request: r1.request, digest: `${r1.digest.slice(0, 63)}${r1.digest.endsWith('0') ? '1' : '0'}` }), 'APPROVAL_DIGEST_MISMATCH', 'altered digest');
    await expectCode(() => t.hsm.approveQuorumRequest(a3, { request: r1.request } as never), 'ARGUMENTS_BAD', 'no digest');
    assert.equal(t.hsm.showQuorumRequest(a3, r2.request).approvals.length, 0);
    await expectCode(() => t.hsm.approveQuorumRequest(a3, { request: 'q-000000000000000000000000', digest: r1.digest }), 'REQUEST_NOT_FOUND');
    const refusals = t.hsm.listAudit(t.auditor).filter((a) => a.op === 'quorum.approve' && a.code === 'APPROVAL_DIGEST_MISMATCH');
    assert.equal(refusals.length, 3, 'each refused approval is audited');
  } finally {
    await t.close();
  }
});

test('D-14 (6): an expired request cannot be approved or run', async () => {
  const t = await quorumHsm();
  try {
    const [a2, a3] = t.admins;
    t.hsm.setQuorumPolicy(t.admin, { class: 'partition.create', quorum: 2 });
    t.hsm.setQuorumPolicy(t.admin, { expiryMs: 1000 });
    assert.equal(t.hsm.quorumPolicy(t.admin).expiryMs, 1000);
    const r = await expectPending(() => t.hsm.createPartition(t.admin, { name: 'late' }));
    await t.hsm.approveQuorumRequest(a2, r);
    await new Promise((ok) => setTimeout(ok, 1100));
    await expectCode(() => t.hsm.approveQuorumRequest(a3, r), 'REQUEST_EXPIRED', 'approve after expiry');
    assert.equal(t.hsm.showQuorumRequest(a3, r.request).status, 'expired');
    assert.ok(!t.hsm.listPartitions(t.admin).some((p) => p.name === 'late'));
    assert.ok(t.hsm.listAudit(t.auditor).some((a) => a.op === 'quorum.expire' && a.target === r.request));
    await expectCode(() => t.hsm.setQuorumPolicy(t.admin, { expiryMs: 10 }), 'ARGUMENTS_BAD', 'expiry below 1 s');
  } finally {
    await t.close();
  }
});

test('D-14 (6, D-16): approvers of the wrong role are refused; an approver revoked before execution no longer counts', async () => {
  const t = await quorumHsm();
  try {
    const [a2, a3, a4] = t.admins;
    t.hsm.setQuorumPolicy(t.admin, { class: 'partition.create', quorum: 2 });
    const r = await expectPending(() => t.hsm.createPartition(t.admin, { name: 'roles' }));
    await expectCode(() => t.hsm.approveQuorumRequest(t.auditor, r), 'USER_TYPE_INVALID', 'auditor sees but may not approve');
    await expectCode(() => t.hsm.approveQuorumRequest(t.officer, r), 'REQUEST_NOT_FOUND', 'an officer does not see an appliance request');
    await expectCode(() => t.hsm.approveQuorumRequest(t.user, r), 'REQUEST_NOT_FOUND', 'a user does not see an appliance request');
    await expectCode(() => t.hsm.createPartition(t.officer, { name: 'roles' }), 'USER_TYPE_INVALID', 'an officer cannot even request it');

    await t.hsm.approveQuorumRequest(a2, r);
    t.hsm.deleteUser(t.admin, 'admin2'); // user.delete has no quorum here
    const after = await t.hsm.approveQuorumRequest(a3, r);
    assert.equal(after.status, 'pending', "admin2's approval stopped counting when the account went");
    assert.ok(!t.hsm.listPartitions(t.admin).some((p) => p.name === 'roles'));
    assert.equal((await t.hsm.approveQuorumRequest(a4, r)).status, 'executed');
  } finally {
    await t.close();
  }
});

test('D-14 (6): a requester whose account changed before the last approval does not get the operation run', async () => {
  const t = await quorumHsm();
  try {
    const [a2, a3] = t.admins;
    t.hsm.setQuorumPolicy(t.admin, { class: 'partition.create', quorum: 2 });
    const r = await expectPending(() => t.hsm.createPartition(a2, { name: 'orphan' }));
    await t.hsm.approveQuorumRequest(a3, r);
    t.hsm.deleteUser(t.admin, 'admin2');
    const done = await t.hsm.approveQuorumRequest(t.admin, r);
    assert.equal(done.status, 'failed');
    assert.equal(done.error, 'USER_NOT_FOUND');
    assert.ok(!t.hsm.listPartitions(t.admin).some((p) => p.name === 'orphan'));
  } finally {
    await t.close();
  }
});

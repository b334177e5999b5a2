// Quorum approvals over REST: a gated call answers 403 QUORUM_REQUIRED with the request id and
// digest; approvers read the request and approve naming the digest; the second approval runs a
// 2-of-3 partition create once; each D-14 bypass gets its coded refusal and status.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD } from '../support/hsm.js';
import { restFixture } from './rest-fixture.js';

interface ErrorBody {
  error: { code: string; message: string; request?: string; digest?: string };
}
interface RequestBody {
  request: { id: string; status: string; digest: string; canonical: string; operation: Record<string, unknown>; approvals: { approver: string }[]; result?: unknown };
}

test('REST: 2-of-3 partition create through /v1/quorum, with the D-14 refusals coded', async () => {
  const f = await restFixture();
  try {
    for (const name of ['admin2', 'admin3', 'admin4']) {
      const r = await f.call('POST', '/v1/users', f.admin, { name, password: PASSWORD, role: 'admin' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    const [a2, a3, a4] = [await f.login('admin2'), await f.login('admin3'), await f.login('admin4')];
    const set = await f.call<{ policy: { classes: Record<string, { quorum: number }> } }>('PUT', '/v1/quorum/policy', f.admin, { class: 'partition.create', quorum: 2 });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.policy.classes['partition.create']?.quorum, 2);
    assert.equal((await f.call('PUT', '/v1/quorum/policy', f.user, { class: 'zeroize', quorum: 2 })).status, 403, 'a user sets no policy');

    const gated = await f.call<ErrorBody>('POST', '/v1/partitions', f.admin, { name: 'p2' });
    assert.equal(gated.status, 403);
    assert.equal(gated.body.error.code, 'QUORUM_REQUIRED');
    const id = gated.body.error.request!;
    const digest = gated.body.error.digest!;
    assert.match(id, /^q-[0-9a-f]{24}$/);

    const shown = await f.call<RequestBody>('GET', `/v1/quorum/requests/${id}`, a2);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.request.digest, digest);
    assert.deepEqual(shown.body.request.operation, { name: 'p2', label: 'p2', fipsApprovedOnly: false });
    assert.equal(JSON.parse(shown.body.request.canonical).id, id);

    const listed = await f.call<{ requests: { id: string }[] }>('GET', '/v1/quorum/requests?status=pending', a3);
    assert.deepEqual(listed.body.requests.map((r) => r.id), [id]);
    assert.equal((await f.call('GET', '/v1/quorum/requests?status=bogus', a3)).status, 400);

    const expectRefusal = async (token: string, body: unknown, status: number, code: string, what: string): Promise<void> => {
      const r = await f.call<ErrorBody>('POST', `/v1/quorum/requests/${id}/approve`, token, body);
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, code, what);
    };
    await expectRefusal(f.admin, { digest }, 403, 'SELF_APPROVAL', 'requester approves');
    await expectRefusal(a2, { digest: '0'.repeat(64) }, 409, 'APPROVAL_DIGEST_MISMATCH', 'another digest');
    await expectRefusal(f.auditor, { digest }, 403, 'USER_TYPE_INVALID', 'auditor approves');
    await expectRefusal(f.officer, { digest }, 404, 'REQUEST_NOT_FOUND', 'officer approves');
    await expectRefusal(a2, {}, 400, 'ARGUMENTS_BAD', 'no digest');

    const first = await f.call<RequestBody>('POST', `/v1/quorum/requests/${id}/approve`, a2, { digest });
    assert.equal(first.status, 200);
    assert.equal(first.body.request.status, 'pending');
    await expectRefusal(a2, { digest }, 409, 'ALREADY_APPROVED', 'approve twice');
    const parts = async (): Promise<string[]> => (await f.call<{ partitions: { name: string }[] }>('GET', '/v1/partitions', f.admin)).body.partitions.map((p) => p.name);
    assert.ok(!(await parts()).includes('p2'), 'not before the second approval');

    const second = await f.call<RequestBody>('POST', `/v1/quorum/requests/${id}/approve`, a3, { digest });
    assert.equal(second.status, 200);
    assert.equal(second.body.request.status, 'executed');
    assert.equal((second.body.request.result as { name: string }).name, 'p2');
    assert.ok((await parts()).includes('p2'));
    await expectRefusal(a4, { digest }, 409, 'REQUEST_CLOSED', 'approve after execution');

    // Reject: an approver closes another request; approving it then is refused.
    const other = await f.call<ErrorBody>('POST', '/v1/partitions', f.admin, { name: 'p3' });
    const otherId = other.body.error.request!;
    const rej = await f.call<RequestBody>('POST', `/v1/quorum/requests/${otherId}/reject`, a4, { reason: 'no' });
    assert.equal(rej.status, 200);
    assert.equal(rej.body.request.status, 'rejected');
    const late = await f.call<ErrorBody>('POST', `/v1/quorum/requests/${otherId}/approve`, a2, { digest: other.body.error.digest });
    assert.equal(late.status, 409);
    assert.equal(late.body.error.code, 'REQUEST_CLOSED');
    assert.equal((await f.call('GET', '/v1/quorum/requests/q-nothing', a2)).status, 404);

    const doc = await f.call<{ paths: Record<string, unknown> }>('GET', '/v1/openapi.json', undefined);
    assert.ok(doc.body.paths['/v1/quorum/requests/{id}/approve'], 'documented in OpenAPI');
  } finally {
    await f.close();
  }
});

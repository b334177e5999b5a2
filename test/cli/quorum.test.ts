// `coffer quorum` against a real dev server: a gated `partition create` exits 5 with
// QUORUM_REQUIRED and the request id; approvers show it and approve with the digest; the second
// approval creates the partition; approving without --digest is a usage error.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runCli, type TestServer, startTestServer } from './cli-harness.js';

let s: TestServer;

before(async () => {
  s = await startTestServer();
});

after(async () => {
  await s?.close();
});

const PASSWORD = 'quorum approver password 1';

test('coffer quorum: request, show, approve with the digest, run once', { timeout: 120_000 }, async () => {
  const hsm = s.running.hsm;
  const adminAccount = s.running.dev!.credentials.accounts.find((a) => a.role === 'admin')!;
  const admin = (await hsm.login({ user: adminAccount.name, password: adminAccount.password })).session;
  const tokens: Record<string, string> = {};
  for (const name of ['approver2', 'approver3']) {
    await hsm.createUser(admin, { name, password: PASSWORD, role: 'admin' });
    tokens[name] = s.running.tokens.issue((await hsm.login({ user: name, password: PASSWORD })).session).token;
  }
  tokens.admin = s.running.tokens.issue(admin).token;
  const as = (who: string): NodeJS.ProcessEnv => ({ ...s.env, COFFER_TOKEN: tokens[who] });

  const set = await runCli(['quorum', 'set-policy', '--class', 'partition.create', '--quorum', '2'], { env: as('admin') });
  assert.equal(set.code, 0, set.stderr);
  const policy = await runCli(['quorum', 'policy'], { env: as('admin') });
  assert.match(policy.stdout.toString(), /partition\.create\s+\(all\)\s+2\s+admin\s+false/);

  const gated = await runCli(['partition', 'create', '--name', 'quorum-made'], { env: as('admin') });
  assert.equal(gated.code, 5, gated.stderr);
  assert.match(gated.stderr, /\(QUORUM_REQUIRED\)/);
  assert.match(gated.stderr, /hint: the request awaits approvers/);
  const id = /request (q-[0-9a-f]{24})/.exec(gated.stderr)?.[1];
  assert.ok(id, gated.stderr);

  const list = await runCli(['quorum', 'list', '--status', 'pending', '--output', 'json'], { env: as('approver2') });
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual((JSON.parse(list.stdout.toString()) as { requests: { id: string }[] }).requests.map((r) => r.id), [id]);

  const show = await runCli(['quorum', 'show', id], { env: as('approver2') });
  assert.equal(show.code, 0, show.stderr);
  const digest = /^digest: +([0-9a-f]{64})$/m.exec(show.stdout.toString())?.[1];
  assert.ok(digest, show.stdout.toString());
  assert.match(show.stdout.toString(), /^operation: \{"name":"quorum-made"/m);

  const noDigest = await runCli(['quorum', 'approve', id], { env: as('approver2') });
  assert.equal(noDigest.code, 2, 'approve without --digest is a usage error');

  const self = await runCli(['quorum', 'approve', id, '--digest', digest], { env: as('admin') });
  assert.equal(self.code, 5);
  assert.match(self.stderr, /\(SELF_APPROVAL\)/);

  const first = await runCli(['quorum', 'approve', id, '--digest', digest], { env: as('approver2') });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout.toString(), /^status: +pending$/m);
  const second = await runCli(['quorum', 'approve', id, '--digest', digest, '--output', 'json'], { env: as('approver3') });
  assert.equal(second.code, 0, second.stderr);
  assert.equal((JSON.parse(second.stdout.toString()) as { request: { status: string } }).request.status, 'executed');
  assert.ok(hsm.listPartitions(admin).some((p) => p.name === 'quorum-made'));

  const again = await runCli(['quorum', 'approve', id, '--digest', digest], { env: as('approver2') });
  assert.equal(again.code, 5);
  assert.match(again.stderr, /\((ALREADY_APPROVED|REQUEST_CLOSED)\)/);
});

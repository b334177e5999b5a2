// `coffer user role` and `coffer partition delete` against a real dev server.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runCli, startTestServer, type TestServer } from './cli-harness.js';

let s: TestServer;
let adminEnv: NodeJS.ProcessEnv;

before(async () => {
  s = await startTestServer();
  const login = await fetch(`${s.addr}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'admin', password: s.password('admin') }) });
  const { token } = (await login.json()) as { token: string };
  adminEnv = { ...s.env, COFFER_TOKEN: token };
});
after(async () => s.close());

test('coffer user role changes a role and ends the account’s sessions; a user may not', async () => {
  const denied = await runCli(['user', 'role', 'officer', '--role', 'user'], { env: s.env });
  assert.equal(denied.code, 5, denied.stderr);
  const ok = await runCli(['user', 'role', 'dev', '--role', 'officer', '--output', 'json'], { env: adminEnv });
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout.toString()), { name: 'dev', role: 'officer' });
  const stale = await runCli(['key', 'list'], { env: s.env });
  assert.equal(stale.code, 3, 'the dev token’s session ended with the role change');
  const usage = await runCli(['user', 'role', 'dev'], { env: adminEnv });
  assert.equal(usage.code, 2, 'no --role is a usage error');
});

test('coffer partition delete needs --yes, refuses a partition with accounts, deletes an empty one', async () => {
  assert.equal((await runCli(['partition', 'create', '--name', 'scratch'], { env: adminEnv })).code, 0);
  assert.equal((await runCli(['partition', 'delete', '--name', 'scratch'], { env: adminEnv })).code, 2, 'no --yes');
  const busy = await runCli(['partition', 'delete', '--name', 'default', '--yes'], { env: adminEnv });
  assert.equal(busy.code, 5, busy.stderr);
  assert.match(busy.stderr, /ACTION_PROHIBITED/);
  const done = await runCli(['partition', 'delete', '--name', 'scratch', '--yes'], { env: adminEnv });
  assert.equal(done.code, 0, done.stderr);
  const gone = await runCli(['partition', 'delete', '--name', 'scratch', '--yes'], { env: adminEnv });
  assert.equal(gone.code, 4, 'deleted already: not found');
});

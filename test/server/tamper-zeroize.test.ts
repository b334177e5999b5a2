// Zeroize over REST and the CLI, and the self-test services of a running server (issue 4;
// attacks.md D-17, E-01, E-05, E-06, E-11): admin-only, the configured response, health saying
// what happened, and the error state refusing every front-end call.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { runCli } from '../cli/cli-harness.js';
import { tamperServer } from './tamper-fixture.js';

const KEY = Buffer.from('ZEROIZE-REST-MARKER-0123456789ab');

test('E-06: POST /v1/sys/zeroize with erase: admin only; the store is destroyed; health 501 says zeroize/erase; no key bytes remain', async () => {
  const s = await tamperServer({ response: 'erase' });
  try {
    const user = await s.login('user');
    const made = await s.call('POST', '/v1/keys/import', user, { template: { class: 'secret-key', keyType: 'aes', encrypt: true, value: KEY.toString('base64') } });
    assert.equal(made.status, 201);
    const refused = await s.call('POST', '/v1/sys/zeroize', user);
    assert.equal(refused.status, 403, 'a partition user may not zeroize');
    assert.equal((refused.body.error as { code: string }).code, 'USER_TYPE_INVALID');
    const admin = await s.login('admin');
    const z = await s.call('POST', '/v1/sys/zeroize', admin);
    assert.equal(z.status, 200, JSON.stringify(z.body));
    assert.equal(z.body.state, 'uninitialized');
    assert.deepEqual([(z.body.tamper as { signal: string }).signal, (z.body.tamper as { response: string }).response], ['zeroize', 'erase']);
    const health = await s.call('GET', '/v1/sys/health');
    assert.equal(health.status, 501);
    assert.equal((health.body.tamper as { signal: string }).signal, 'zeroize');
    const late = await s.call('POST', `/v1/keys/${(made.body.key as { uid: string }).uid}/encrypt`, user, { mechanism: 'AES-GCM', plaintext: 'aGk=' });
    assert.ok(late.status === 401 || late.status === 503, `old tokens get nothing: ${late.status}`);
    for (const f of [s.db, `${s.db}-wal`]) if (existsSync(f)) assert.equal(readFileSync(f).indexOf(KEY), -1, `${f} holds no key bytes`);
  } finally {
    await s.close();
  }
});

test('coffer zeroize --yes with seal: needs --yes, then seals; the dev key file unseals it again and the key still works', async () => {
  const s = await tamperServer({ response: 'seal' });
  try {
    const admin = await s.login('admin');
    const env = { COFFER_ADDR: s.running.address, COFFER_TOKEN: admin, XDG_CONFIG_HOME: `${s.dir}/config` };
    const noYes = await runCli(['zeroize'], { env });
    assert.equal(noYes.code, 2, 'zeroize without --yes is a usage error');
    const r = await runCli(['zeroize', '--yes', '--output', 'json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.toString()) as { state: string; tamper: { response: string } };
    assert.deepEqual([out.state, out.tamper.response], ['sealed', 'seal']);
    assert.equal((await s.call('GET', '/v1/sys/health')).status, 503);
  } finally {
    await s.close();
  }
});

test('E-11: POST /v1/sys/selftest and coffer selftest: admin runs every self-test, a user may not', async () => {
  const s = await tamperServer();
  try {
    const user = await s.login('user');
    assert.equal((await s.call('POST', '/v1/sys/selftest', user)).status, 403);
    const admin = await s.login('admin');
    const r = await s.call('POST', '/v1/sys/selftest', admin);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.failed, []);
    assert.equal(r.body.state, 'unsealed');
    const cli = await runCli(['selftest'], { env: { COFFER_ADDR: s.running.address, COFFER_TOKEN: admin, XDG_CONFIG_HOME: `${s.dir}/config` } });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout.toString(), /All \d+ self-tests passed/);
  } finally {
    await s.close();
  }
});

for (const kind of ['AES-GCM', 'software-integrity', 'random-health'] as const) {
  test(`E-01/E-05: a server whose ${kind} self-test fails at start answers only health (500, naming it); every other route is refused`, async () => {
    const s = await tamperServer({}, kind);
    try {
      const health = await s.call('GET', '/v1/sys/health');
      assert.equal(health.status, 500);
      assert.equal(health.body.state, 'error');
      assert.ok((health.body.selfTests as { failed: string[] }).failed.includes(kind));
      assert.match(health.body.error as string, new RegExp(kind));
      if (kind === 'software-integrity') assert.equal((health.body.tamper as { signal: string }).signal, 'software-integrity');
      const login = await s.call('POST', '/v1/auth/login', undefined, { user: 'admin', password: 'whatever-it-is' });
      assert.equal(login.status, 500);
      assert.equal((login.body.error as { code: string }).code, 'DEVICE_ERROR');
      const unseal = await s.call('POST', '/v1/sys/unseal', undefined, { share: 'AAAA' });
      assert.equal(unseal.status >= 400, true, 'no unsealing in the error state');
    } finally {
      await s.close();
    }
  });
}

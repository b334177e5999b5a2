import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRestApp } from '../../src/frontends/rest/app.js';
import { PASSWORD, testHsm } from '../support/hsm.js';

test('REST over a real socket: health, login, whoami, bad JSON, __proto__, unknown route', async () => {
  const t = await testHsm();
  const { app } = buildRestApp({ hsm: t.hsm });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    assert.equal((await fetch(`${base}/v1/sys/health`)).status, 200);
    const login = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'alice', password: PASSWORD }) });
    assert.equal(login.status, 200);
    const { token } = (await login.json()) as { token: string };
    const who = await fetch(`${base}/v1/auth/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(await who.json(), { user: 'alice', role: 'user', partition: 'p1' });
    const bad = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'ARGUMENTS_BAD');
    const proto = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"__proto__":{"x":1},"user":"a","password":"b"}' });
    assert.equal(proto.status, 400);
    const wrong = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'alice', password: 'nope-nope' }) });
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as { error: { code: string } }).error.code, 'PIN_INCORRECT');
    const none = await fetch(`${base}/v1/nothing`);
    assert.equal(none.status, 404);
    const noTok = await fetch(`${base}/v1/auth/whoami`);
    assert.equal(noTok.status, 401);
    const doc = (await (await fetch(`${base}/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    assert.ok(doc.paths['/v1/auth/login']);
  } finally {
    await app.close();
    await t.close();
  }
});

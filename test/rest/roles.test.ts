// Role and partition rules over a real socket, for every key route the REST table has: another
// partition's keys do not exist (404 for ids and aliases alike), officers and auditors use and
// make no keys, the admin addresses no keys, users administer nobody. Each refused request is
// one that succeeds for the key's owner, so the refusal is the rule, not a malformed call.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RouteDef } from '../../src/frontends/rest/route.js';
import { ALL_ROUTES } from '../../src/frontends/rest/routes/index.js';
import { PASSWORD } from '../support/hsm.js';
import { type KeyKit, keyIdRoutes, keyRequest, makeKeyKit, sendKeyRequest } from '../support/rest-key-kit.js';
import { expectCoded4xx, expectErrorCode, type RestServer, startRest } from '../support/rest-server.js';

let srv: RestServer;
let tok: { alice: string; officer: string; admin: string; auditor: string; bob: string; officer2: string };
let mine: KeyKit;
let theirs: KeyKit;

before(async () => {
  srv = await startRest({}, { rateLimit: { perSecond: 0, burst: 0 } });
  const admin = await srv.login('admin');
  assert.equal((await srv.call('POST', '/v1/partitions', admin, { name: 'p2' })).status, 201);
  for (const [name, role] of [
    ['bob', 'user'],
    ['officer2', 'officer'],
  ]) {
    const r = await srv.call('POST', '/v1/users', admin, { name, password: PASSWORD, role, partition: 'p2' });
    assert.equal(r.status, 201, r.text);
  }
  tok = { alice: await srv.login('alice'), officer: await srv.login('officer'), admin, auditor: await srv.login('auditor'), bob: await srv.login('bob'), officer2: await srv.login('officer2') };
  mine = await makeKeyKit(srv, tok.alice, tok.officer);
  theirs = await makeKeyKit(srv, tok.bob, tok.officer2);
});
after(async () => {
  await srv.close();
});

const KEY_ROUTES = keyIdRoutes(ALL_ROUTES);
const label = (r: RouteDef): string => `${r.method} ${r.url}`;
const NOT_FOUND = new Set(['OBJECT_NOT_FOUND', 'KEY_HANDLE_INVALID']);

/** Routes in an order their owner can run them all: lifecycle changes last. */
function ordered(kit: KeyKit): { route: RouteDef; req: NonNullable<ReturnType<typeof keyRequest>> }[] {
  const out = [];
  for (const route of KEY_ROUTES) {
    const req = keyRequest(route, kit);
    if (!req) {
      // A route added since the table: the coverage test below fails and names it.
      console.warn(`roles.test: no well-formed request for ${label(route)}; add one to test/support/rest-key-kit.ts`);
      continue;
    }
    out.push({ route, req });
  }
  return out.sort((a, b) => (a.req.late ?? 0) - (b.req.late ?? 0));
}

test('the key routes cover what the tables have', () => {
  assert.ok(KEY_ROUTES.length >= 19, `found ${KEY_ROUTES.length} /v1/keys/:id routes`);
  const unknown = KEY_ROUTES.filter((r) => !keyRequest(r, mine)).map(label);
  assert.deepEqual(unknown, [], 'every /v1/keys/:id route has a well-formed request in rest-key-kit.ts');
});

test("a user of p1 gets 404 for p2's keys at every key route (by uid and by alias), and the same requests work for p2's user", async () => {
  // Give bob's key an alias first, so the alias form can be tried too.
  const named = await srv.call('PUT', `/v1/keys/${theirs.aes}/aliases`, tok.bob, { aliases: ['shared-name'] });
  assert.equal(named.status, 200, named.text);

  for (const { route, req } of ordered(theirs)) {
    for (const id of [req.id, ...(req.id === theirs.aes ? ['alias/shared-name'] : [])]) {
      const r = await sendKeyRequest(srv, route, req, tok.alice, id);
      const code = expectCoded4xx(r, `alice → ${label(route)} on bob's ${id}`);
      assert.equal(r.status, 404, `alice → ${label(route)} on bob's ${id}: ${r.text}`);
      assert.ok(NOT_FOUND.has(code), `alice → ${label(route)}: ${code}`);
    }
  }
  // Also when the other partition's key is in the body: wrap it, or unwrap with it.
  const wrapRoute = KEY_ROUTES.find((r) => r.url.endsWith('/wrap'))!;
  const w = await srv.call(wrapRoute.method, `/v1/keys/${mine.kek}/wrap`, tok.alice, { key: theirs.extractable, mechanism: 'AES-KWP' });
  assert.equal(w.status, 404, `wrap bob's key under alice's kek: ${w.text}`);
  const wrapped = await srv.call('POST', `/v1/keys/${mine.kek}/wrap`, tok.alice, { key: mine.extractable, mechanism: 'AES-KWP' });
  assert.equal(wrapped.status, 200, wrapped.text);
  const unwrapBody = { mechanism: 'AES-KWP', wrapped: (wrapped.json as { wrapped: string }).wrapped, template: { class: 'secret-key', keyType: 'aes', encrypt: true, decrypt: true } };
  const u = await srv.call('POST', '/v1/keys/unwrap', tok.alice, { ...unwrapBody, unwrappingKey: theirs.kek });
  assert.equal(u.status, 404, `unwrap with bob's kek: ${u.text}`);
  assert.equal((await srv.call('POST', '/v1/keys/unwrap', tok.alice, { ...unwrapBody, unwrappingKey: mine.kek })).status, 201, 'the same unwrap with her own kek');

  // Aliases are per partition: alice may use the same name, and then it means her key.
  const mineNamed = await srv.call('PUT', `/v1/keys/${mine.aes}/aliases`, tok.alice, { aliases: ['shared-name'] });
  assert.equal(mineNamed.status, 200, mineNamed.text);
  const viaAlias = await srv.call('GET', `/v1/keys/${encodeURIComponent('alias/shared-name')}`, tok.alice);
  assert.equal((viaAlias.json as { key: { uid: string } }).key.uid, mine.aes);

  // Listing shows none of bob's objects.
  const theirIds = new Set(Object.values(theirs));
  const list = await srv.call('GET', '/v1/keys?limit=1000', tok.alice);
  assert.equal(list.status, 200);
  const listed = (list.json as { keys: { uid: string }[] }).keys.map((k) => k.uid);
  assert.ok(listed.length > 0 && listed.every((uid) => !theirIds.has(uid)), "alice's list has none of bob's keys");

  // The control: each of those requests is well formed, because bob can make it.
  for (const { route, req } of ordered(theirs)) {
    const r = await sendKeyRequest(srv, route, req, tok.bob);
    assert.ok(r.status >= 200 && r.status < 300, `bob → ${label(route)} on his own key: ${r.status} ${r.text.slice(0, 300)}`);
  }
});

test('an officer uses no keys: every key operation is 403 USER_TYPE_INVALID; it generates nothing either', async () => {
  let ops = 0;
  for (const { route, req } of ordered(mine)) {
    if (!route.tags.includes('key operations')) continue;
    expectErrorCode(await sendKeyRequest(srv, route, req, tok.officer), 403, 'USER_TYPE_INVALID', `officer → ${label(route)}`);
    ops++;
  }
  assert.ok(ops >= 10, `${ops} key operations tried`);
  expectErrorCode(await srv.call('POST', '/v1/keys', tok.officer, { template: { keyType: 'aes', valueLen: 32, encrypt: true } }), 403, 'USER_TYPE_INVALID', 'officer generates');
  // An officer may look at its partition's keys, but not at another partition's.
  assert.equal((await srv.call('GET', `/v1/keys/${mine.aes}`, tok.officer)).status, 200);
  assert.equal((await srv.call('GET', `/v1/keys/${theirs.aes}`, tok.officer)).status, 404);
});

test('an auditor creates and uses no keys', async () => {
  expectErrorCode(await srv.call('POST', '/v1/keys', tok.auditor, { template: { keyType: 'aes', valueLen: 32, encrypt: true } }), 403, 'USER_TYPE_INVALID', 'auditor generates');
  expectErrorCode(await srv.call('POST', '/v1/keys', tok.auditor, { template: { keyType: 'ec', curve: 'P-256', sign: true } }), 403, 'USER_TYPE_INVALID', 'auditor generates a pair');
  expectErrorCode(await srv.call('POST', '/v1/keys/import', tok.auditor, { template: { class: 'data', value: Buffer.from('x').toString('base64') } }), 403, 'USER_TYPE_INVALID', 'auditor imports');
  const wrapped = await srv.call('POST', `/v1/keys/${mine.kek}/wrap`, tok.alice, { key: mine.extractable, mechanism: 'AES-KWP' });
  const unwrap = { unwrappingKey: mine.kek, mechanism: 'AES-KWP', wrapped: (wrapped.json as { wrapped: string }).wrapped, template: { class: 'secret-key', keyType: 'aes', encrypt: true } };
  expectErrorCode(await srv.call('POST', '/v1/keys/unwrap', tok.auditor, unwrap), 403, 'USER_TYPE_INVALID', 'auditor unwraps');
  for (const { route, req } of ordered(mine)) {
    expectErrorCode(await sendKeyRequest(srv, route, req, tok.auditor), 403, 'USER_TYPE_INVALID', `auditor → ${label(route)}`);
  }
  expectErrorCode(await srv.call('POST', '/v1/users', tok.auditor, { name: 'eve', password: PASSWORD, role: 'user', partition: 'p1' }), 403, 'USER_TYPE_INVALID', 'auditor creates a user');
});

test('the admin addresses no keys: every key route is 403 USER_TYPE_INVALID', async () => {
  for (const { route, req } of ordered(mine)) {
    expectErrorCode(await sendKeyRequest(srv, route, req, tok.admin), 403, 'USER_TYPE_INVALID', `admin → ${label(route)}`);
  }
  expectErrorCode(await srv.call('GET', '/v1/keys', tok.admin), 403, 'USER_TYPE_INVALID', 'admin lists keys');
  expectErrorCode(await srv.call('POST', '/v1/keys', tok.admin, { template: { keyType: 'aes', valueLen: 32, encrypt: true } }), 403, 'USER_TYPE_INVALID', 'admin generates');
});

test('a user administers nobody; an officer only users of its own partition', async () => {
  const user = { name: 'eve', password: PASSWORD, role: 'user', partition: 'p1' };
  expectErrorCode(await srv.call('POST', '/v1/users', tok.alice, user), 403, 'USER_TYPE_INVALID', 'user creates a user');
  expectErrorCode(await srv.call('POST', '/v1/users', tok.alice, { ...user, role: 'admin', partition: undefined }), 403, 'USER_TYPE_INVALID', 'user creates an admin');
  expectErrorCode(await srv.call('GET', '/v1/users', tok.alice), 403, 'USER_TYPE_INVALID', 'user lists users');
  expectErrorCode(await srv.call('DELETE', '/v1/users/officer', tok.alice), 403, 'USER_TYPE_INVALID', 'user deletes the officer');
  expectErrorCode(await srv.call('POST', '/v1/users/officer/unlock', tok.alice), 403, 'USER_TYPE_INVALID', 'user unlocks');
  expectErrorCode(await srv.call('POST', '/v1/partitions', tok.alice, { name: 'p3' }), 403, 'USER_TYPE_INVALID', 'user creates a partition');
  expectErrorCode(await srv.call('POST', '/v1/partitions', tok.officer, { name: 'p3' }), 403, 'USER_TYPE_INVALID', 'officer creates a partition');

  expectErrorCode(await srv.call('POST', '/v1/users', tok.officer, { ...user, partition: 'p2' }), 403, 'USER_TYPE_INVALID', "officer creates a user in another partition");
  expectErrorCode(await srv.call('POST', '/v1/users', tok.officer, { ...user, role: 'officer' }), 403, 'USER_TYPE_INVALID', 'officer creates an officer');
  expectErrorCode(await srv.call('POST', '/v1/users', tok.officer, { name: 'eve', password: PASSWORD, role: 'admin' }), 403, 'USER_TYPE_INVALID', 'officer creates an admin');
  const r = await srv.call('DELETE', '/v1/users/bob', tok.officer);
  assert.ok(r.status === 404 || r.status === 403, `officer deletes a user of another partition: ${r.status} ${r.text}`);
  assert.equal((await srv.call('GET', '/v1/auth/whoami', tok.bob)).status, 200, 'bob is still there');
  assert.equal((await srv.call('POST', '/v1/users', tok.officer, user)).status, 201, 'an officer creates a user of its own partition');
});

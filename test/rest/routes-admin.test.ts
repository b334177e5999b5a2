// REST partitions and users over a real socket, and the role rules as the boundary answers
// them: another partition's keys do not exist, officers and auditors do not use or make keys,
// users do not administer.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PASSWORD } from '../support/hsm.js';
import { b64, expectError, type RestFixture, restFixture } from './rest-fixture.js';

type Key = Record<string, unknown> & { uid: string };

let f: RestFixture;
before(async () => {
  f = await restFixture();
});
after(async () => {
  await f.close();
});

test('partitions: the admin creates and lists; others see their own or are refused', async () => {
  const made = await f.call<{ partition: { name: string; label: string; fipsApprovedOnly: boolean } }>('POST', '/v1/partitions', f.admin, { name: 'fips-1', label: 'FIPS tenant', fipsApprovedOnly: true });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.deepEqual([made.body.partition.name, made.body.partition.label, made.body.partition.fipsApprovedOnly], ['fips-1', 'FIPS tenant', true]);
  expectError(await f.call('POST', '/v1/partitions', f.admin, { name: 'fips-1' }), 409, 'ALREADY_EXISTS', 'duplicate partition');
  expectError(await f.call('POST', '/v1/partitions', f.admin, { name: 'Bad Name' }), 400, 'ARGUMENTS_BAD', 'bad partition name');
  expectError(await f.call('POST', '/v1/partitions', f.user, { name: 'mine' }), 403, 'USER_TYPE_INVALID', 'a user creates no partition');
  const all = await f.call<{ partitions: { name: string }[] }>('GET', '/v1/partitions', f.admin);
  assert.deepEqual(all.body.partitions.map((p) => p.name).sort(), ['fips-1', 'p1']);
  const audit = await f.call<{ partitions: { name: string }[] }>('GET', '/v1/partitions', f.auditor);
  assert.equal(audit.body.partitions.length, 2);
  const own = await f.call<{ partitions: { name: string }[] }>('GET', '/v1/partitions', f.user);
  assert.deepEqual(own.body.partitions.map((p) => p.name), ['p1']);
});

test('users: create, list, lock and unlock, change password, delete', async () => {
  const made = await f.call<{ user: Record<string, unknown> }>('POST', '/v1/users', f.admin, { name: 'carol', password: PASSWORD, role: 'user', partition: 'p1' });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.deepEqual(made.body.user, { name: 'carol', role: 'user', partition: 'p1', failedLogins: 0, locked: false });
  expectError(await f.call('POST', '/v1/users', f.admin, { name: 'carol', password: PASSWORD, role: 'user', partition: 'p1' }), 409, 'ALREADY_EXISTS', 'duplicate account');
  expectError(await f.call('POST', '/v1/users', f.admin, { name: 'dan', password: PASSWORD, role: 'user', partition: 'nowhere' }), 404, 'PARTITION_NOT_FOUND', 'no such partition');
  expectError(await f.call('POST', '/v1/users', f.admin, { name: 'dan', password: PASSWORD, role: 'king' }), 400, 'ARGUMENTS_BAD', 'no such role');

  const list = await f.call<{ users: Record<string, unknown>[] }>('GET', '/v1/users', f.admin);
  assert.equal(list.status, 200);
  assert.ok(list.body.users.some((u) => u.name === 'carol'));
  assert.ok(list.body.users.every((u) => u.passwordHash === undefined), 'no password hash leaves');
  const officerList = await f.call<{ users: { partition?: string }[] }>('GET', '/v1/users', f.officer);
  assert.ok(officerList.body.users.every((u) => u.partition === 'p1'), 'an officer sees its partition only');
  expectError(await f.call('GET', '/v1/users', f.user), 403, 'USER_TYPE_INVALID', 'a user lists no accounts');

  // Five wrong passwords lock the account; the officer unlocks it.
  for (let i = 0; i < 5; i++) await f.call('POST', '/v1/auth/login', undefined, { user: 'carol', password: 'wrong password!' });
  expectError(await f.call('POST', '/v1/auth/login', undefined, { user: 'carol', password: PASSWORD }), 423, 'PIN_LOCKED', 'locked');
  assert.equal((await f.call('POST', '/v1/users/carol/unlock', f.officer)).status, 204);
  const carol = await f.login('carol');

  const newPassword = 'a different long passphrase';
  assert.equal((await f.call('PUT', '/v1/users/carol/password', carol, { password: newPassword })).status, 204, 'own password');
  expectError(await f.call('POST', '/v1/auth/login', undefined, { user: 'carol', password: PASSWORD }), 401, 'PIN_INCORRECT', 'old password');
  await f.login('carol', newPassword);
  expectError(await f.call('PUT', '/v1/users/alice/password', carol, { password: newPassword }), 404, 'USER_NOT_FOUND', "a user cannot set another's password");

  assert.equal((await f.call('DELETE', '/v1/users/carol', f.officer)).status, 204);
  expectError(await f.call('POST', '/v1/auth/login', undefined, { user: 'carol', password: newPassword }), 401, 'PIN_INCORRECT', 'deleted account');
  expectError(await f.call('DELETE', '/v1/users/carol', f.admin), 404, 'USER_NOT_FOUND', 'deleted twice');
  expectError(await f.call('DELETE', '/v1/users/admin', f.officer), 404, 'USER_NOT_FOUND', 'an officer does not see the admin');
});

test('roles over REST: partitions are walls, officers and auditors use no keys', async () => {
  const gen = await f.call<{ privateKey: Key; publicKey: Key }>('POST', '/v1/keys', f.user, { template: { keyType: 'ec', curve: 'P-256', sign: true } });
  assert.equal(gen.status, 201);
  const priv = gen.body.privateKey.uid;

  // A second partition with its own user, made by the admin over REST.
  assert.equal((await f.call('POST', '/v1/partitions', f.admin, { name: 'p2' })).status, 201);
  assert.equal((await f.call('POST', '/v1/users', f.admin, { name: 'bob', password: PASSWORD, role: 'user', partition: 'p2' })).status, 201);
  const bob = await f.login('bob');
  expectError(await f.call('GET', `/v1/keys/${priv}`, bob), 404, 'OBJECT_NOT_FOUND', "another partition's key does not exist");
  expectError(await f.call('POST', `/v1/keys/${priv}/sign`, bob, { mechanism: 'ECDSA-SHA256', data: b64('x') }), 404, 'KEY_HANDLE_INVALID', "another partition's key cannot sign");
  expectError(await f.call('DELETE', `/v1/keys/${priv}`, bob), 404, 'OBJECT_NOT_FOUND', "another partition's key cannot be destroyed");
  expectError(await f.call('GET', `/v1/keys/${gen.body.publicKey.uid}/public`, bob), 404, 'KEY_HANDLE_INVALID', "another partition's public key");
  const bobList = await f.call<{ keys: Key[] }>('GET', '/v1/keys', bob);
  assert.deepEqual(bobList.body.keys, [], "bob's partition is empty");
  const bobKey = await f.call<{ key: Key }>('POST', '/v1/keys', bob, { template: { keyType: 'aes', valueLen: 16, encrypt: true, decrypt: true } });
  expectError(await f.call('GET', `/v1/keys/${bobKey.body.key.uid}`, f.user), 404, 'OBJECT_NOT_FOUND', 'and the other way round');

  expectError(await f.call('POST', `/v1/keys/${priv}/sign`, f.officer, { mechanism: 'ECDSA-SHA256', data: b64('x') }), 403, 'USER_TYPE_INVALID', 'an officer cannot sign');
  expectError(await f.call('POST', '/v1/keys', f.officer, { template: { keyType: 'aes', valueLen: 32 } }), 403, 'USER_TYPE_INVALID', 'an officer does not generate');
  expectError(await f.call('POST', '/v1/keys', f.auditor, { template: { keyType: 'aes', valueLen: 32 } }), 403, 'USER_TYPE_INVALID', 'an auditor cannot create keys');
  expectError(await f.call('POST', '/v1/keys/import', f.auditor, { template: { class: 'data', value: b64('x') } }), 403, 'USER_TYPE_INVALID', 'an auditor imports nothing');
  expectError(await f.call('GET', '/v1/keys', f.auditor), 403, 'USER_TYPE_INVALID', 'an auditor lists no keys');
  expectError(await f.call('GET', `/v1/keys/${priv}`, f.admin), 403, 'USER_TYPE_INVALID', 'the admin addresses no keys');
  const officerView = await f.call<{ key: Key }>('GET', `/v1/keys/${priv}`, f.officer);
  assert.equal(officerView.status, 200, 'an officer may look at its partition’s keys');

  expectError(await f.call('GET', '/v1/keys', undefined), 401, 'UNAUTHENTICATED', 'no token');
  expectError(await f.call('GET', '/v1/keys', 'cft_forged'), 401, 'UNAUTHENTICATED', 'unknown token');
});

test('OpenAPI lists every new route with its schemas', async () => {
  const doc = (await (await fetch(`${f.base}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>> };
  for (const [path, method] of [
    ['/v1/partitions', 'post'],
    ['/v1/users/{name}/password', 'put'],
    ['/v1/keys', 'get'],
    ['/v1/keys/{id}', 'patch'],
    ['/v1/keys/{id}/encrypt', 'post'],
    ['/v1/keys/{id}/decapsulate', 'post'],
    ['/v1/random', 'post'],
    ['/v1/mechanisms', 'get'],
  ] as const) {
    const op = doc.paths[path]?.[method];
    assert.ok(op, `${method} ${path} documented`);
    assert.ok(Object.keys(op.responses).length >= 2, `${method} ${path} has a success and an error response`);
  }
});

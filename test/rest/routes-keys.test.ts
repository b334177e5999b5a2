// REST key management over a real socket: describe by uid and alias, PATCH attributes and state,
// tags, scheduled deletion and its cancellation, immediate deletion, public-key import, and a
// list walked page by page that returns every key exactly once.

import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { after, before, test } from 'node:test';
import { b64, expectError, type RestFixture, restFixture } from './rest-fixture.js';

type Key = Record<string, unknown> & { uid: string };

let f: RestFixture;
before(async () => {
  f = await restFixture();
});
after(async () => {
  await f.close();
});

async function aesKey(label: string): Promise<Key> {
  const r = await f.call<{ key: Key }>('POST', '/v1/keys', f.user, { template: { keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true, label } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.key;
}

test('a key’s life over REST: describe, alias, patch, disable, tags, schedule and cancel deletion, destroy', async () => {
  const key = await aesKey('life');
  assert.equal(key.state, 'enabled');
  assert.equal(key.currentVersion, 1);
  assert.equal(key.local, true);
  assert.equal(typeof key.id, 'string', 'CKA_ID is base64');
  for (const secretField of ['value', 'privateKey', 'secret']) assert.equal(key[secretField], undefined);

  const got = await f.call<{ key: Key }>('GET', `/v1/keys/${key.uid}`, f.user);
  assert.equal(got.body.key.uid, key.uid);

  const al = await f.call<{ key: Key }>('PUT', `/v1/keys/${key.uid}/aliases`, f.user, { aliases: ['app/orders', 'orders'] });
  assert.equal(al.status, 200, JSON.stringify(al.body));
  assert.deepEqual(al.body.key.aliases, ['app/orders', 'orders']);
  const byAlias = await f.call<{ key: Key }>('GET', `/v1/keys/${encodeURIComponent('alias/app/orders')}`, f.user);
  assert.equal(byAlias.status, 200, JSON.stringify(byAlias.body));
  assert.equal(byAlias.body.key.uid, key.uid);
  const enc = await f.call<{ ciphertext: string }>('POST', `/v1/keys/${encodeURIComponent('alias/orders')}/encrypt`, f.user, { mechanism: 'AES-GCM', plaintext: b64('via alias') });
  assert.equal(enc.status, 200, 'operations accept an alias too');
  const other = await aesKey('other');
  expectError(await f.call('PUT', `/v1/keys/${other.uid}/aliases`, f.user, { aliases: ['orders'] }), 409, 'ALREADY_EXISTS', 'alias taken');
  expectError(await f.call('GET', `/v1/keys/${encodeURIComponent('alias/nope')}`, f.user), 404, 'OBJECT_NOT_FOUND', 'unknown alias');

  const patched = await f.call<{ key: Key }>('PATCH', `/v1/keys/${key.uid}`, f.user, { attributes: { label: 'renamed' }, state: 'disabled' });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.equal(patched.body.key.label, 'renamed');
  assert.equal(patched.body.key.state, 'disabled');
  expectError(await f.call('POST', `/v1/keys/${key.uid}/encrypt`, f.user, { mechanism: 'AES-GCM', plaintext: b64('x') }), 409, 'KEY_STATE_INVALID', 'disabled key');
  expectError(await f.call('PATCH', `/v1/keys/${key.uid}`, f.user, { attributes: { sign: true } }), 400, 'ATTRIBUTE_READ_ONLY', 'a usage is never added after creation');
  expectError(await f.call('PATCH', `/v1/keys/${key.uid}`, f.user, {}), 400, 'ARGUMENTS_BAD', 'empty patch');
  expectError(await f.call('PATCH', `/v1/keys/${key.uid}`, f.user, { attributes: { bogus: 1 } }), 400, 'ATTRIBUTE_TYPE_INVALID', 'unknown attribute');
  assert.equal((await f.call<{ key: Key }>('PATCH', `/v1/keys/${key.uid}`, f.user, { state: 'enabled' })).body.key.state, 'enabled');

  const tags = await f.call<{ key: Key }>('PUT', `/v1/keys/${key.uid}/tags`, f.user, { tags: { team: 'payments', env: 'test' } });
  assert.deepEqual(tags.body.key.tags, { team: 'payments', env: 'test' });

  const sched = await f.call<{ deletionDate: string }>('POST', `/v1/keys/${key.uid}/schedule-deletion`, f.user, { days: 7 });
  assert.equal(sched.status, 200, JSON.stringify(sched.body));
  const days = (Date.parse(sched.body.deletionDate) - Date.now()) / 86_400_000;
  assert.ok(days > 6.9 && days <= 7, `deletion in 7 days (${days})`);
  assert.equal((await f.call<{ key: Key }>('GET', `/v1/keys/${key.uid}`, f.user)).body.key.state, 'pending-deletion');
  expectError(await f.call('POST', `/v1/keys/${key.uid}/encrypt`, f.user, { mechanism: 'AES-GCM', plaintext: b64('x') }), 409, 'KEY_STATE_INVALID', 'pending deletion');
  expectError(await f.call('POST', `/v1/keys/${key.uid}/schedule-deletion`, f.user, { days: 3 }), 400, 'ARGUMENTS_BAD', 'days below 7');
  const cancel = await f.call<{ key: Key }>('POST', `/v1/keys/${key.uid}/cancel-deletion`, f.user);
  assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
  assert.equal(cancel.body.key.state, 'disabled');
  assert.equal(cancel.body.key.deletionDate, undefined);
  const def = await f.call<{ deletionDate: string }>('POST', `/v1/keys/${other.uid}/schedule-deletion`, f.user);
  assert.equal(def.status, 200, JSON.stringify(def.body));
  assert.ok((Date.parse(def.body.deletionDate) - Date.now()) / 86_400_000 > 29.9, 'default waiting period is 30 days');

  const del = await f.call('DELETE', `/v1/keys/${key.uid}`, f.user);
  assert.equal(del.status, 204);
  expectError(await f.call('GET', `/v1/keys/${key.uid}`, f.user), 404, 'OBJECT_NOT_FOUND', 'destroyed');
  expectError(await f.call('DELETE', `/v1/keys/${key.uid}`, f.user), 404, 'OBJECT_NOT_FOUND', 'destroyed twice');
});

test('import a public key (SPKI) and verify a signature made outside', async () => {
  const pair = generateKeyPairSync('ed25519');
  const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
  const imp = await f.call<{ key: Key }>('POST', '/v1/keys/import', f.user, { template: { class: 'public-key', keyType: 'ec-edwards', publicKey: b64(spki), verify: true, label: 'partner' } });
  assert.equal(imp.status, 201, JSON.stringify(imp.body));
  assert.equal(imp.body.key.curve, 'Ed25519');
  const sig = nodeSign(null, Buffer.from('hello'), pair.privateKey);
  const v = await f.call('POST', `/v1/keys/${imp.body.key.uid}/verify`, f.user, { mechanism: 'EDDSA', data: b64('hello'), signature: b64(sig) });
  assert.deepEqual(v.body, { valid: true, approved: true });
  const pem = await f.call<{ pem: string }>('GET', `/v1/keys/${imp.body.key.uid}/public`, f.user);
  assert.equal(pem.body.pem, pair.publicKey.export({ format: 'pem', type: 'spki' }));
  expectError(await f.call('POST', '/v1/keys/import', f.user, { template: { class: 'public-key', keyType: 'ec', publicKey: 'bad base64' } }), 400, 'ARGUMENTS_BAD', 'bad bytes');
  expectError(await f.call('POST', '/v1/keys/import', f.user, {}), 400, 'ARGUMENTS_BAD', 'template missing');
});

test('GET /v1/keys: filters, and pagination walks every key exactly once', async () => {
  const made = new Set<string>();
  for (let i = 0; i < 23; i++) made.add((await aesKey('page')).uid);
  const mac = await f.call<{ key: Key }>('POST', '/v1/keys', f.user, { template: { keyType: 'generic-secret', valueLen: 32, sign: true, verify: true, label: 'page' } });
  made.add(mac.body.key.uid);

  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const q = `/v1/keys?label=page&limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await f.call<{ keys: Key[]; nextCursor?: string }>('GET', q, f.user);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.keys.length <= 5);
    seen.push(...r.body.keys.map((k) => k.uid));
    cursor = r.body.nextCursor;
    pages++;
  } while (cursor && pages < 20);
  assert.equal(pages, 5, '24 keys in pages of 5');
  assert.equal(seen.length, made.size, 'no key twice');
  assert.deepEqual(new Set(seen), made, 'every key once');

  const macs = await f.call<{ keys: Key[] }>('GET', '/v1/keys?label=page&keyType=generic-secret', f.user);
  assert.deepEqual(macs.body.keys.map((k) => k.uid), [mac.body.key.uid]);
  const secrets = await f.call<{ keys: Key[] }>('GET', '/v1/keys?class=secret-key&limit=1000', f.user);
  assert.ok(secrets.body.keys.length >= 24);
  assert.ok(secrets.body.keys.every((k) => k.class === 'secret-key'));

  const one = [...made][3]!;
  await f.call('PUT', `/v1/keys/${one}/aliases`, f.user, { aliases: ['listed'] });
  assert.deepEqual((await f.call<{ keys: Key[] }>('GET', '/v1/keys?alias=listed', f.user)).body.keys.map((k) => k.uid), [one]);
  await f.call('PATCH', `/v1/keys/${one}`, f.user, { state: 'disabled' });
  assert.deepEqual((await f.call<{ keys: Key[] }>('GET', '/v1/keys?label=page&state=disabled', f.user)).body.keys.map((k) => k.uid), [one]);

  expectError(await f.call('GET', '/v1/keys?limit=0', f.user), 400, 'ARGUMENTS_BAD', 'limit 0');
  expectError(await f.call('GET', '/v1/keys?limit=1001', f.user), 400, 'ARGUMENTS_BAD', 'limit 1001');
  expectError(await f.call('GET', '/v1/keys?cursor=garbage', f.user), 400, 'ARGUMENTS_BAD', 'forged cursor');
  expectError(await f.call('GET', '/v1/keys?keyType=rot13', f.user), 400, 'ATTRIBUTE_VALUE_INVALID', 'unknown key type');
  expectError(await f.call('GET', '/v1/keys?colour=red', f.user), 400, 'ARGUMENTS_BAD', 'unknown filter');
});

test('generate: bad requests get coded answers', async () => {
  expectError(await f.call('POST', '/v1/keys', f.user, { template: { keyType: 'aes', valueLen: 32 }, privateTemplate: {} }), 400, 'ARGUMENTS_BAD', 'both template forms');
  expectError(await f.call('POST', '/v1/keys', f.user, { template: { keyType: 'aes', valueLen: 7 } }), 400, 'KEY_SIZE_RANGE', 'AES-56');
  expectError(await f.call('POST', '/v1/keys', f.user, { template: { keyType: 'aes', value: b64('0123456789abcdef') } }), 400, 'ATTRIBUTE_READ_ONLY', 'value on generate');
  const r = await f.call('POST', '/v1/keys', f.user, { mechanism: 'NOPE-GEN', template: {} });
  expectError(r, 400, 'MECHANISM_INVALID', 'unknown mechanism');
});

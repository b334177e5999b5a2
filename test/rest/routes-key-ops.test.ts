// REST key operations over a real socket: sign/verify with PEM export checked by node:crypto,
// the versioned ciphertext envelope across a rotation, MACs, wrap/unwrap, derive, KEM, and the
// uniform failures and parameter errors.

import assert from 'node:assert/strict';
import { createHash, createHmac, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, verify as nodeVerify } from 'node:crypto';
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

test('EC P-256: generate a pair from one template, sign, verify, PEM verifies with node:crypto, JWK and DER', async () => {
  const gen = await f.call<{ privateKey: Key; publicKey: Key }>('POST', '/v1/keys', f.user, { template: { keyType: 'ec', curve: 'P-256', sign: true, label: 'ec-1' } });
  assert.equal(gen.status, 201, JSON.stringify(gen.body));
  const { privateKey, publicKey } = gen.body;
  assert.equal(privateKey.class, 'private-key');
  assert.equal(privateKey.sign, true);
  assert.equal(publicKey.class, 'public-key');
  assert.equal(publicKey.verify, true, 'the single template was split: verify mirrored onto the public half');
  assert.equal(privateKey.curve, 'P-256');
  assert.equal(publicKey.label, 'ec-1');
  assert.equal(privateKey.peer, publicKey.uid);

  const data = b64('message to sign');
  const sig = await f.call<{ signature: string; keyVersion: number }>('POST', `/v1/keys/${privateKey.uid}/sign`, f.user, { mechanism: 'ECDSA-SHA256', data });
  assert.equal(sig.status, 200, JSON.stringify(sig.body));
  assert.equal(sig.body.keyVersion, 1);
  const ok = await f.call('POST', `/v1/keys/${publicKey.uid}/verify`, f.user, { mechanism: 'ECDSA-SHA256', data, signature: sig.body.signature });
  assert.deepEqual(ok.body, { valid: true, approved: true });
  const bad = await f.call('POST', `/v1/keys/${publicKey.uid}/verify`, f.user, { mechanism: 'ECDSA-SHA256', data: b64('other'), signature: sig.body.signature });
  assert.deepEqual(bad.body, { valid: false, approved: true });
  const garbage = await f.call('POST', `/v1/keys/${publicKey.uid}/verify`, f.user, { mechanism: 'ECDSA-SHA256', data, signature: b64('not DER') });
  assert.deepEqual(garbage.body, { valid: false, approved: true }, 'a malformed signature is simply not valid');

  const pem = await f.call<{ format: string; pem: string }>('GET', `/v1/keys/${publicKey.uid}/public`, f.user);
  assert.equal(pem.status, 200);
  assert.equal(pem.body.format, 'pem');
  assert.match(pem.body.pem, /^-----BEGIN PUBLIC KEY-----\n/);
  const ko = createPublicKey(pem.body.pem);
  assert.ok(nodeVerify('sha256', Buffer.from('message to sign'), ko, Buffer.from(sig.body.signature, 'base64')), 'node:crypto verifies with the exported PEM');

  const fromPriv = await f.call<{ pem: string }>('GET', `/v1/keys/${privateKey.uid}/public?format=pem`, f.user);
  assert.equal(fromPriv.body.pem, pem.body.pem, 'the private half answers with its public key');
  const jwk = await f.call<{ jwk: Record<string, string> }>('GET', `/v1/keys/${publicKey.uid}/public?format=jwk`, f.user);
  assert.equal(jwk.body.jwk.kty, 'EC');
  assert.equal(jwk.body.jwk.crv, 'P-256');
  assert.equal(jwk.body.jwk.d, undefined);
  const der = await f.call<{ der: string }>('GET', `/v1/keys/${publicKey.uid}/public?format=der`, f.user);
  assert.deepEqual(createPublicKey({ key: Buffer.from(der.body.der, 'base64'), format: 'der', type: 'spki' }).export({ format: 'jwk' }), jwk.body.jwk);

  const sec = await f.call<{ key: Key }>('POST', '/v1/keys', f.user, { template: { keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true } });
  expectError(await f.call('GET', `/v1/keys/${sec.body.key.uid}/public`, f.user), 400, 'KEY_TYPE_INCONSISTENT', 'a secret key has no public key');
});

test('Ed25519 and RSA public keys as JWK; ML-DSA public key as PEM with its NIST OID', async () => {
  const ed = await f.call<{ publicKey: Key }>('POST', '/v1/keys', f.user, { template: { keyType: 'ec-edwards', curve: 'Ed25519', sign: true } });
  assert.equal(ed.status, 201, JSON.stringify(ed.body));
  const edJwk = await f.call<{ jwk: Record<string, string> }>('GET', `/v1/keys/${ed.body.publicKey.uid}/public?format=jwk`, f.user);
  assert.deepEqual([edJwk.body.jwk.kty, edJwk.body.jwk.crv], ['OKP', 'Ed25519']);

  const rsa = await f.call<{ publicKey: Key; privateKey: Key }>('POST', '/v1/keys', f.user, {
    mechanism: 'RSA-PKCS-KEY-PAIR-GEN',
    publicTemplate: { modulusBits: 2048, verify: true },
    privateTemplate: { sign: true },
  });
  assert.equal(rsa.status, 201, JSON.stringify(rsa.body));
  assert.equal(rsa.body.privateKey.keyType, 'rsa');
  const rsaJwk = await f.call<{ jwk: Record<string, string> }>('GET', `/v1/keys/${rsa.body.publicKey.uid}/public?format=jwk`, f.user);
  assert.equal(rsaJwk.body.jwk.kty, 'RSA');
  assert.equal(rsaJwk.body.jwk.e, 'AQAB');

  const ml = await f.call<{ publicKey: Key; privateKey: Key }>('POST', '/v1/keys', f.user, { template: { keyType: 'ml-dsa', parameterSet: 'ML-DSA-44', sign: true } });
  assert.equal(ml.status, 201, JSON.stringify(ml.body));
  const mlPem = await f.call<{ pem: string }>('GET', `/v1/keys/${ml.body.publicKey.uid}/public`, f.user);
  assert.equal(mlPem.status, 200, JSON.stringify(mlPem.body));
  const der = Buffer.from(mlPem.body.pem.replace(/-----[A-Z ]+-----|\n/g, ''), 'base64');
  // id-ml-dsa-44 = 2.16.840.1.101.3.4.3.17 (RFC 9881), no parameters; 1312-byte public key.
  assert.ok(der.includes(Buffer.from('300b0609608648016503040311', 'hex')), 'SPKI names id-ml-dsa-44');
  assert.ok(der.length > 1312);
  expectError(await f.call('GET', `/v1/keys/${ml.body.publicKey.uid}/public?format=jwk`, f.user), 400, 'KEY_TYPE_INCONSISTENT', 'no JWK for ML-DSA');
  const sig = await f.call<{ signature: string }>('POST', `/v1/keys/${ml.body.privateKey.uid}/sign`, f.user, { mechanism: 'ML-DSA', data: b64('pq'), params: { dsaContext: b64('ctx') } });
  assert.equal(sig.status, 200, JSON.stringify(sig.body));
  const v = await f.call('POST', `/v1/keys/${ml.body.publicKey.uid}/verify`, f.user, { mechanism: 'ML-DSA', data: b64('pq'), signature: sig.body.signature, params: { dsaContext: b64('ctx') } });
  assert.deepEqual(v.body, { valid: true, approved: true });
});

test('AES-GCM: encrypt gives a coffer:v1 envelope, decrypt reads it; after rotation old and new ciphertexts decrypt', async () => {
  const gen = await f.call<{ key: Key }>('POST', '/v1/keys', f.user, { template: { keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true, label: 'data-key' } });
  assert.equal(gen.status, 201, JSON.stringify(gen.body));
  const uid = gen.body.key.uid;
  const aad = b64('row 17');
  const enc1 = await f.call<{ ciphertext: string; keyVersion: number }>('POST', `/v1/keys/${uid}/encrypt`, f.user, { mechanism: 'aes-gcm', plaintext: b64('secret one'), params: { aad } });
  assert.equal(enc1.status, 200, JSON.stringify(enc1.body));
  assert.match(enc1.body.ciphertext, /^coffer:v1:AES-GCM:[A-Za-z0-9+/=]+$/, 'the envelope names version and canonical mechanism');
  assert.equal(enc1.body.keyVersion, 1);

  const rot = await f.call<{ version: number }>('POST', `/v1/keys/${uid}/rotate`, f.user);
  assert.deepEqual(rot.body, { version: 2 });
  const enc2 = await f.call<{ ciphertext: string; keyVersion: number }>('POST', `/v1/keys/${uid}/encrypt`, f.user, { mechanism: 'AES-GCM', plaintext: b64('secret two'), params: { aad } });
  assert.match(enc2.body.ciphertext, /^coffer:v2:AES-GCM:/);

  const dec1 = await f.call<{ plaintext: string }>('POST', `/v1/keys/${uid}/decrypt`, f.user, { ciphertext: enc1.body.ciphertext, params: { aad } });
  assert.equal(dec1.status, 200, JSON.stringify(dec1.body));
  assert.equal(Buffer.from(dec1.body.plaintext, 'base64').toString(), 'secret one', 'version 1 ciphertext still decrypts after rotation');
  const dec2 = await f.call<{ plaintext: string }>('POST', `/v1/keys/${uid}/decrypt`, f.user, { ciphertext: enc2.body.ciphertext, params: { aad } });
  assert.equal(Buffer.from(dec2.body.plaintext, 'base64').toString(), 'secret two');

  // Tampering, wrong aad, the wrong version: one uniform code.
  const tampered = enc1.body.ciphertext.slice(0, -6) + (enc1.body.ciphertext.endsWith('AAAA==') ? 'BBBB==' : 'AAAA==');
  expectError(await f.call('POST', `/v1/keys/${uid}/decrypt`, f.user, { ciphertext: enc1.body.ciphertext, params: { aad: b64('row 18') } }), 400, 'DECRYPT_FAILED', 'wrong aad');
  const wrongVersion = enc1.body.ciphertext.replace('coffer:v1:', 'coffer:v2:');
  expectError(await f.call('POST', `/v1/keys/${uid}/decrypt`, f.user, { ciphertext: wrongVersion, params: { aad } }), 400, 'DECRYPT_FAILED', 'wrong version');
  const t = await f.call('POST', `/v1/keys/${uid}/decrypt`, f.user, { ciphertext: tampered, params: { aad } });
  assert.equal(t.status, 400);
  assert.ok(['DECRYPT_FAILED', 'ARGUMENTS_BAD'].includes((t.body as { error: { code: string } }).error.code));
  expectError(await f.call('POST', `/v1/keys/${uid}/decrypt`, f.user, { ciphertext: 'coffer:v1:AES-GCM:%%%' }), 400, 'ARGUMENTS_BAD', 'malformed envelope');
  expectError(await f.call('POST', `/v1/keys/${uid}/decrypt`, f.user, { ciphertext: enc1.body.ciphertext, mechanism: 'AES-CBC-PAD' }), 400, 'ARGUMENTS_BAD', 'mechanism differs from the envelope');
  expectError(await f.call('POST', `/v1/keys/${uid}/decrypt`, f.user, { ciphertext: enc1.body.ciphertext, keyVersion: 2 }), 400, 'ARGUMENTS_BAD', 'version differs from the envelope');
  expectError(await f.call('POST', `/v1/keys/${uid}/decrypt`, f.user, { ciphertext: enc1.body.ciphertext, params: { aad, iv: b64('123456789012') } }), 400, 'MECHANISM_PARAM_INVALID', 'iv twice');
  expectError(await f.call('POST', `/v1/keys/${uid}/decrypt`, f.user, { ciphertext: b64('raw') }), 400, 'ARGUMENTS_BAD', 'raw ciphertext needs a mechanism');
  expectError(await f.call('POST', `/v1/keys/${uid}/encrypt`, f.user, { mechanism: 'AES-GCM', plaintext: b64('x'), params: { nonsense: 1 } }), 400, 'MECHANISM_PARAM_INVALID', 'unknown param name');
  expectError(await f.call('POST', `/v1/keys/${uid}/encrypt`, f.user, { mechanism: 'AES-GCM', plaintext: b64('x'), params: { aad: 'not base64!' } }), 400, 'MECHANISM_PARAM_INVALID', 'param bytes not base64');
  expectError(await f.call('POST', `/v1/keys/${uid}/encrypt`, f.user, { mechanism: 'AES-GCM', plaintext: b64('x'), extra: true }), 400, 'ARGUMENTS_BAD', 'unknown body field');

  // Raw form: base64 output with explicit mechanism, params and keyVersion.
  const raw = Buffer.from(enc1.body.ciphertext.split(':')[3]!, 'base64');
  const ivLen = raw[0]!;
  const dec = await f.call<{ plaintext: string }>('POST', `/v1/keys/${uid}/decrypt`, f.user, {
    mechanism: 'AES-GCM',
    keyVersion: 1,
    ciphertext: b64(raw.subarray(1 + ivLen)),
    params: { aad, iv: b64(raw.subarray(1, 1 + ivLen)) },
  });
  assert.equal(dec.status, 200, JSON.stringify(dec.body));
  assert.equal(Buffer.from(dec.body.plaintext, 'base64').toString(), 'secret one');
});

test('AES-CBC-PAD with the caller’s IV: the envelope carries it', async () => {
  const gen = await f.call<{ key: Key }>('POST', '/v1/keys', f.user, { template: { keyType: 'aes', valueLen: 16, encrypt: true, decrypt: true } });
  const iv = b64(Buffer.alloc(16, 7));
  const enc = await f.call<{ ciphertext: string }>('POST', `/v1/keys/${gen.body.key.uid}/encrypt`, f.user, { mechanism: 'AES-CBC-PAD', plaintext: b64('cbc text'), params: { iv } });
  assert.equal(enc.status, 200, JSON.stringify(enc.body));
  const dec = await f.call<{ plaintext: string }>('POST', `/v1/keys/${gen.body.key.uid}/decrypt`, f.user, { ciphertext: enc.body.ciphertext });
  assert.equal(dec.status, 200, JSON.stringify(dec.body));
  assert.equal(Buffer.from(dec.body.plaintext, 'base64').toString(), 'cbc text');
});

test('HMAC: mac and mac-verify with the key version; imported generic secret gives the known HMAC', async () => {
  const value = Buffer.alloc(32, 0x42);
  const imp = await f.call<{ key: Key }>('POST', '/v1/keys/import', f.user, { template: { class: 'secret-key', keyType: 'generic-secret', value: b64(value), sign: true, verify: true } });
  assert.equal(imp.status, 201, JSON.stringify(imp.body));
  const uid = imp.body.key.uid;
  assert.equal((imp.body.key as Record<string, unknown>).value, undefined, 'no material in a description');
  const mac = await f.call<{ mac: string; keyVersion: number }>('POST', `/v1/keys/${uid}/mac`, f.user, { mechanism: 'HMAC-SHA256', data: b64('abc') });
  assert.equal(mac.status, 200, JSON.stringify(mac.body));
  assert.equal(mac.body.mac, createHmac('sha256', value).update('abc').digest('base64'));
  assert.equal(mac.body.keyVersion, 1);
  assert.deepEqual((await f.call('POST', `/v1/keys/${uid}/mac-verify`, f.user, { mechanism: 'HMAC-SHA256', data: b64('abc'), mac: mac.body.mac, keyVersion: 1 })).body, { valid: true, approved: true });
  assert.deepEqual((await f.call('POST', `/v1/keys/${uid}/mac-verify`, f.user, { mechanism: 'HMAC-SHA256', data: b64('abd'), mac: mac.body.mac })).body, { valid: false, approved: true });
  expectError(await f.call('POST', `/v1/keys/${uid}/mac-verify`, f.user, { mechanism: 'HMAC-SHA256', data: b64('abc'), mac: mac.body.mac, keyVersion: 9 }), 400, 'ARGUMENTS_BAD', 'no such version');
  expectError(await f.call('POST', `/v1/keys/${uid}/mac`, f.user, { mechanism: 'ECDSA-SHA256', data: b64('abc') }), 400, 'MECHANISM_INVALID', 'a signature mechanism is no MAC');
});

test('wrap and unwrap an AES key over REST; derive with HKDF and ECDH; ML-KEM encapsulate/decapsulate agree', async () => {
  // A trusted wrapping key comes from the officer (clear-imported keys may wrap only when trusted).
  const kek = await f.call<{ key: Key }>('POST', '/v1/keys/import', f.officer, { template: { class: 'secret-key', keyType: 'aes', value: b64(Buffer.alloc(32, 9)), wrap: true, unwrap: true, trusted: true } });
  assert.equal(kek.status, 201, JSON.stringify(kek.body));
  const target = await f.call<{ key: Key }>('POST', '/v1/keys', f.user, { template: { keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true, extractable: true } });
  const w = await f.call<{ wrapped: string; params?: Record<string, string> }>('POST', `/v1/keys/${kek.body.key.uid}/wrap`, f.user, { key: target.body.key.uid, mechanism: 'AES-KWP' });
  assert.equal(w.status, 200, JSON.stringify(w.body));
  const un = await f.call<{ key: Key }>('POST', '/v1/keys/unwrap', f.user, {
    unwrappingKey: kek.body.key.uid,
    mechanism: 'AES-KWP',
    wrapped: w.body.wrapped,
    template: { class: 'secret-key', keyType: 'aes', encrypt: true, decrypt: true },
  });
  assert.equal(un.status, 201, JSON.stringify(un.body));
  assert.equal(un.body.key.local, false);
  const enc = await f.call<{ ciphertext: string }>('POST', `/v1/keys/${target.body.key.uid}/encrypt`, f.user, { mechanism: 'AES-GCM', plaintext: b64('same key') });
  const dec = await f.call<{ plaintext: string }>('POST', `/v1/keys/${un.body.key.uid}/decrypt`, f.user, { ciphertext: enc.body.ciphertext });
  assert.equal(Buffer.from(dec.body.plaintext, 'base64').toString(), 'same key', 'the unwrapped key is the wrapped one');
  const badUnwrap = await f.call('POST', '/v1/keys/unwrap', f.user, { unwrappingKey: kek.body.key.uid, mechanism: 'AES-KWP', wrapped: b64(Buffer.alloc(40)), template: { class: 'secret-key', keyType: 'aes' } });
  expectError(badUnwrap, 400, 'UNWRAP_FAILED', 'garbage unwrap');

  // HKDF from an imported secret: the derived key's HMAC matches one computed here.
  const ikm = Buffer.alloc(32, 1);
  const base = await f.call<{ key: Key }>('POST', '/v1/keys/import', f.user, { template: { class: 'secret-key', keyType: 'generic-secret', value: b64(ikm), derive: true } });
  const d = await f.call<{ key: Key }>('POST', `/v1/keys/${base.body.key.uid}/derive`, f.user, {
    mechanism: 'HKDF',
    params: { hash: 'SHA-256', salt: b64('salt'), info: b64('info') },
    template: { keyType: 'generic-secret', valueLen: 32, sign: true },
  });
  assert.equal(d.status, 201, JSON.stringify(d.body));
  const okm = Buffer.from(hkdfSync('sha256', ikm, 'salt', 'info', 32));
  const m = await f.call<{ mac: string }>('POST', `/v1/keys/${d.body.key.uid}/mac`, f.user, { mechanism: 'HMAC-SHA256', data: b64('probe') });
  assert.equal(m.body.mac, createHmac('sha256', okm).update('probe').digest('base64'));

  // ECDH: our P-256 private key with a peer generated here.
  const ours = await f.call<{ privateKey: Key; publicKey: Key }>('POST', '/v1/keys', f.user, { template: { keyType: 'ec', curve: 'P-256', derive: true } });
  assert.equal(ours.status, 201, JSON.stringify(ours.body));
  const peer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecdh = await f.call<{ key: Key }>('POST', `/v1/keys/${ours.body.privateKey.uid}/derive`, f.user, {
    mechanism: 'ECDH1-DERIVE',
    params: { publicData: b64(peer.publicKey.export({ format: 'der', type: 'spki' })) },
    template: { keyType: 'generic-secret', valueLen: 32, sign: true },
  });
  assert.equal(ecdh.status, 201, JSON.stringify(ecdh.body));
  const ourPem = (await f.call<{ pem: string }>('GET', `/v1/keys/${ours.body.publicKey.uid}/public`, f.user)).body.pem;
  const z = diffieHellman({ privateKey: peer.privateKey, publicKey: createPublicKey(ourPem) });
  const m2 = await f.call<{ mac: string }>('POST', `/v1/keys/${ecdh.body.key.uid}/mac`, f.user, { mechanism: 'HMAC-SHA256', data: b64('probe') });
  assert.equal(m2.body.mac, createHmac('sha256', z).update('probe').digest('base64'), 'ECDH raw shared secret as the key');

  // ML-KEM: both sides' keys give the same HMAC.
  const kem = await f.call<{ privateKey: Key; publicKey: Key }>('POST', '/v1/keys', f.user, { template: { keyType: 'ml-kem', parameterSet: 'ML-KEM-768', decapsulate: true } });
  assert.equal(kem.status, 201, JSON.stringify(kem.body));
  assert.equal(kem.body.publicKey.encapsulate, true);
  const tpl = { keyType: 'generic-secret', valueLen: 32, sign: true };
  const e = await f.call<{ ciphertext: string; key: Key }>('POST', `/v1/keys/${kem.body.publicKey.uid}/encapsulate`, f.user, { mechanism: 'ML-KEM', template: tpl });
  assert.equal(e.status, 201, JSON.stringify(e.body));
  const dk = await f.call<{ key: Key }>('POST', `/v1/keys/${kem.body.privateKey.uid}/decapsulate`, f.user, { mechanism: 'ML-KEM', ciphertext: e.body.ciphertext, template: tpl });
  assert.equal(dk.status, 201, JSON.stringify(dk.body));
  const ma = await f.call<{ mac: string }>('POST', `/v1/keys/${e.body.key.uid}/mac`, f.user, { mechanism: 'HMAC-SHA256', data: b64('probe') });
  const mb = await f.call<{ mac: string }>('POST', `/v1/keys/${dk.body.key.uid}/mac`, f.user, { mechanism: 'HMAC-SHA256', data: b64('probe') });
  assert.equal(ma.body.mac, mb.body.mac, 'encapsulated and decapsulated keys agree');
});

test('random, digest, mechanisms', async () => {
  const r = await f.call<{ random: string }>('POST', '/v1/random', f.user, { length: 48 });
  assert.equal(r.status, 200);
  assert.equal(Buffer.from(r.body.random, 'base64').length, 48);
  expectError(await f.call('POST', '/v1/random', f.user, { length: 0 }), 400, 'ARGUMENTS_BAD', 'length 0');
  const d = await f.call<{ digest: string }>('POST', '/v1/digest', f.user, { mechanism: 'SHA-256', data: b64('abc') });
  assert.equal(d.body.digest, createHash('sha256').update('abc').digest('base64'));
  expectError(await f.call('POST', '/v1/digest', f.user, { mechanism: 'NOPE', data: b64('abc') }), 400, 'MECHANISM_INVALID', 'unknown digest');
  const m = await f.call<{ mechanisms: { name: string; operations: string[]; approved: boolean }[] }>('GET', '/v1/mechanisms', f.user);
  assert.equal(m.status, 200);
  const gcm = m.body.mechanisms.find((x) => x.name === 'AES-GCM');
  assert.ok(gcm?.operations.includes('encrypt'));
  assert.equal(typeof gcm?.approved, 'boolean');
  assert.equal((await f.call('GET', '/v1/mechanisms', undefined)).status, 401);
});


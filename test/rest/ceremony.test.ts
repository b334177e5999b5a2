// The ceremony over REST on a real socket: init with custodians, unseal by shares from separate
// requests, SHARE_INVALID for bad shares, seal (admin only), rekey with its nonce, rotation.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { Hsm } from '../../src/boundary/api.js';
import { openShare } from '../../src/cli/share-envelope.js';
import { buildRestApp } from '../../src/frontends/rest/app.js';
import { PASSWORD, TEST_SCRYPT } from '../support/hsm.js';

type Json = Record<string, unknown>;

async function server(): Promise<{ call: (m: string, p: string, body?: unknown, token?: string) => Promise<{ status: number; body: Json }>; close: () => Promise<void> }> {
  const hsm = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT });
  const { app } = buildRestApp({ hsm, rateLimit: { perSecond: 0, burst: 0 } });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const call = async (method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: Json }> => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
  };
  return {
    call,
    close: async () => {
      await app.close();
      hsm.close();
    },
  };
}

const errCode = (r: { body: Json }): unknown => (r.body.error as { code?: string } | undefined)?.code;

test('REST ceremony: init 3-of-5 with custodians, unseal, seal, rekey, rotate', async () => {
  const { call, close } = await server();
  try {
    assert.equal((await call('GET', '/v1/sys/health')).status, 501);
    assert.equal((await call('POST', '/v1/sys/unseal', { share: 'AAAA' })).status, 503, 'nothing to unseal yet');
    const x = generateKeyPairSync('x25519');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const init = await call('POST', '/v1/sys/init', {
      shares: 5,
      threshold: 3,
      admin: { name: 'admin', password: PASSWORD },
      custodians: [
        { kind: 'x25519', publicKey: x.publicKey.export({ format: 'der', type: 'spki' }).toString('base64') },
        { kind: 'rsa-oaep', publicKey: rsa.publicKey.export({ format: 'der', type: 'spki' }).toString('base64') },
        null,
        { kind: 'passphrase', passphrase: 'a long custodian passphrase' },
      ],
    });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    const out = init.body.shares as { index: number; encoding: string; share: string }[];
    assert.deepEqual(out.map((s) => s.encoding), ['x25519', 'rsa-oaep-sha256', 'clear', 'scrypt', 'clear']);
    assert.equal((await call('POST', '/v1/sys/init', { shares: 1, threshold: 1, admin: { name: 'a2', password: PASSWORD } })).status, 409);
    assert.equal((await call('GET', '/v1/sys/health')).status, 503, 'sealed after init');
    assert.deepEqual((await call('GET', '/v1/sys/seal-status')).body, { initialized: true, state: 'sealed', shares: 5, threshold: 3, epoch: 1, unsealProgress: 0 });

    const clear = [
      await openShare(out[0]!.share, { identity: x.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string }),
      await openShare(out[1]!.share, { identity: rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string }),
      out[2]!.share,
      await openShare(out[3]!.share, { passphrase: 'a long custodian passphrase' }),
      out[4]!.share,
    ];
    const encrypted = await call('POST', '/v1/sys/unseal', { share: out[0]!.share });
    assert.equal(encrypted.status, 400);
    assert.equal(errCode(encrypted), 'SHARE_INVALID');
    const bad = Buffer.from(clear[2]!, 'base64');
    bad[0]! ^= 1;
    const corrupted = await call('POST', '/v1/sys/unseal', { share: bad.toString('base64') });
    assert.deepEqual([corrupted.status, errCode(corrupted)], [400, 'SHARE_INVALID']);
    assert.deepEqual((await call('POST', '/v1/sys/unseal', { share: clear[3] })).body, { progress: 1, threshold: 3, unsealed: false });
    assert.deepEqual((await call('POST', '/v1/sys/unseal', { share: clear[0] })).body, { progress: 2, threshold: 3, unsealed: false });
    assert.equal((await call('GET', '/v1/sys/seal-status')).body.unsealProgress, 2);
    assert.deepEqual((await call('POST', '/v1/sys/unseal', { share: clear[1] })).body, { progress: 3, threshold: 3, unsealed: true });
    assert.equal((await call('GET', '/v1/sys/health')).status, 200);

    const login = await call('POST', '/v1/auth/login', { user: 'admin', password: PASSWORD });
    const admin = login.body.token as string;
    assert.equal((await call('POST', '/v1/sys/seal')).status, 401, 'sealing needs a token');

    // Rekey to 2-of-3 authorised by three current shares with the nonce.
    const started = await call('POST', '/v1/sys/rekey/init', { shares: 3, threshold: 2 }, admin);
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const nonce = started.body.nonce as string;
    assert.equal((await call('POST', '/v1/sys/rekey', { share: clear[4], nonce: 'wrong' })).status, 400);
    await call('POST', '/v1/sys/rekey', { share: clear[4], nonce });
    await call('POST', '/v1/sys/rekey', { share: clear[2], nonce });
    const done = await call('POST', '/v1/sys/rekey', { share: clear[0], nonce });
    assert.equal(done.body.complete, true);
    const fresh = ((done.body.issued as Json).shares as { share: string }[]).map((s) => s.share);
    assert.equal(fresh.length, 3);

    const sealed = await call('POST', '/v1/sys/seal', undefined, admin);
    assert.deepEqual([sealed.status, sealed.body.state], [200, 'sealed']);
    assert.equal((await call('GET', '/v1/auth/whoami', undefined, admin)).status, 503, 'operations answer SEALED');
    const old = await call('POST', '/v1/sys/unseal', { share: clear[0] });
    assert.deepEqual([old.status, errCode(old)], [400, 'SHARE_INVALID'], 'old shares stop working after a rekey');
    await call('POST', '/v1/sys/unseal', { share: fresh[2] });
    assert.equal((await call('POST', '/v1/sys/unseal', { share: fresh[0] })).body.unsealed, true);

    // Rotation: new key, new shares (defaults to the current 2-of-3), old ones dead.
    const admin2 = (await call('POST', '/v1/auth/login', { user: 'admin', password: PASSWORD })).body.token as string;
    const rotated = await call('POST', '/v1/sys/rotate-master-key', {}, admin2);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.equal(rotated.body.threshold, 2);
    const newest = (rotated.body.shares as { share: string }[]).map((s) => s.share);
    await call('POST', '/v1/sys/seal', undefined, admin2);
    assert.equal(errCode(await call('POST', '/v1/sys/unseal', { share: fresh[1] })), 'SHARE_INVALID');
    await call('POST', '/v1/sys/unseal', { share: newest[1] });
    assert.equal((await call('POST', '/v1/sys/unseal', { share: newest[2] })).body.unsealed, true);
  } finally {
    await close();
  }
});

test('REST ceremony: bad init bodies are 400 and leave the module uninitialised', async () => {
  const { call, close } = await server();
  try {
    for (const body of [{ shares: 3, threshold: 4, admin: { name: 'a', password: PASSWORD } }, { shares: 17, threshold: 1, admin: { name: 'a', password: PASSWORD } }, { shares: 2, threshold: 1 }, { shares: 2, threshold: 1, admin: { name: 'a', password: PASSWORD }, custodians: [{ kind: 'x25519', publicKey: 'AAAA' }] }]) {
      const r = await call('POST', '/v1/sys/init', body);
      assert.equal(r.status, 400, JSON.stringify(body));
    }
    assert.equal((await call('GET', '/v1/sys/seal-status')).body.initialized, false);
  } finally {
    await close();
  }
});

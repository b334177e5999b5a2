// The boundary calls behind the KMS phase-2 operations, directly: ReEncrypt's usage checks on both
// keys, data key pair and shared secret refusals, the rotation schedule (automatic rotation with
// an explicit date, persisted), and a backup carrying the access-key index so that restored
// access keys still verify SigV4 signatures.

import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { Hsm, HsmError, SecretBytes } from '../../src/boundary/api.js';
import { PASSWORD, TEST_SCRYPT, testHsm } from '../support/hsm.js';

const DAY = 86_400_000;

function isCode(code: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof HsmError, `expected HsmError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

const aes = { token: true, keyType: 'aes' as const, valueLen: 32, encrypt: true, decrypt: true };

test('reEncrypt: needs decrypt on the source and encrypt on the destination; a failed source returns nothing', async () => {
  const t = await testHsm();
  try {
    const a = await t.hsm.generateKey(t.user, { template: aes });
    const b = await t.hsm.generateKey(t.user, { template: aes });
    const encOnly = await t.hsm.generateKey(t.user, { template: { ...aes, decrypt: false } });
    const decOnly = await t.hsm.generateKey(t.user, { template: { ...aes, encrypt: false } });
    const c = await t.hsm.encrypt(t.user, { key: a, mechanism: 'AES-GCM', data: Buffer.from('row'), params: { aad: Buffer.from('ctx') } });
    const source = { key: a, mechanism: 'AES-GCM', data: c.data, params: { iv: c.params!.iv!, aad: Buffer.from('ctx') } };
    const r = await t.hsm.reEncrypt(t.user, { source, destination: { key: b, mechanism: 'AES-GCM' } });
    assert.equal(Buffer.from(await t.hsm.decrypt(t.user, { key: b, mechanism: 'AES-GCM', data: r.data, params: r.params! })).toString(), 'row');
    await assert.rejects(t.hsm.reEncrypt(t.user, { source, destination: { key: decOnly, mechanism: 'AES-GCM' } }), isCode('KEY_FUNCTION_NOT_PERMITTED'));
    const c2 = await t.hsm.encrypt(t.user, { key: encOnly, mechanism: 'AES-GCM', data: Buffer.from('x') });
    await assert.rejects(t.hsm.reEncrypt(t.user, { source: { key: encOnly, mechanism: 'AES-GCM', data: c2.data, params: c2.params! }, destination: { key: b, mechanism: 'AES-GCM' } }), isCode('KEY_FUNCTION_NOT_PERMITTED'));
    await assert.rejects(t.hsm.reEncrypt(t.user, { source: { ...source, params: { iv: c.params!.iv!, aad: Buffer.from('other') } }, destination: { key: b, mechanism: 'AES-GCM' } }), isCode('DECRYPT_FAILED'));
    await assert.rejects(t.hsm.reEncrypt(t.user, undefined as never), isCode('ARGUMENTS_BAD'));
  } finally {
    await t.close();
  }
});

test('data key pairs and shared secrets: bad shapes, keys without the usage and derive-template keys are refused', async () => {
  const t = await testHsm();
  try {
    const k = await t.hsm.generateKey(t.user, { template: aes });
    const pair = (x: unknown) => t.hsm.insecureGenerateDataKeyPair(t.user, { key: k, mechanism: 'AES-GCM', pair: x as never, withPlaintext: true });
    await assert.rejects(pair({ keyType: 'rsa', modulusBits: 1024 }), isCode('ARGUMENTS_BAD'));
    await assert.rejects(pair({ keyType: 'ec', curve: 'Ed25519' }), isCode('ARGUMENTS_BAD'));
    const noEnc = await t.hsm.generateKey(t.user, { template: { ...aes, encrypt: false } });
    await assert.rejects(t.hsm.insecureGenerateDataKeyPair(t.user, { key: noEnc, mechanism: 'AES-GCM', pair: { keyType: 'ec', curve: 'P-256' }, withPlaintext: true }), isCode('KEY_FUNCTION_NOT_PERMITTED'));
    const without = await t.hsm.insecureGenerateDataKeyPair(t.user, { key: k, mechanism: 'AES-GCM', pair: { keyType: 'ec', curve: 'P-256' }, withPlaintext: false });
    assert.equal(without.privatePlaintext, undefined);

    const peer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'der', type: 'spki' });
    const signing = await t.hsm.generateKeyPair(t.user, { mechanism: 'EC-KEY-PAIR-GEN', publicTemplate: { curve: 'P-256', verify: true }, privateTemplate: { sign: true, derive: false } });
    await assert.rejects(t.hsm.insecureDeriveSharedSecret(t.user, { key: signing.privateKey, peerPublicKey: peer }), isCode('KEY_FUNCTION_NOT_PERMITTED'));
    const bound = await t.hsm.generateKeyPair(t.user, { mechanism: 'EC-KEY-PAIR-GEN', publicTemplate: { curve: 'P-256' }, privateTemplate: { derive: true, deriveTemplate: { sensitive: true, extractable: false } } });
    await assert.rejects(t.hsm.insecureDeriveSharedSecret(t.user, { key: bound.privateKey, peerPublicKey: peer }), isCode('ACTION_PROHIBITED'));
    const free = await t.hsm.generateKeyPair(t.user, { mechanism: 'EC-KEY-PAIR-GEN', publicTemplate: { curve: 'P-256' }, privateTemplate: { derive: true } });
    const z = await t.hsm.insecureDeriveSharedSecret(t.user, { key: free.privateKey, peerPublicKey: peer });
    assert.equal(z.length, 32);
    z.destroy();
  } finally {
    await t.close();
  }
});

test('rotation schedule: 90–2560 days on stored AES keys; rotateDueKeys rotates due, enabled keys once and moves the date', async () => {
  const t = await testHsm();
  try {
    const k = await t.hsm.generateKey(t.user, { template: aes });
    const hmac = await t.hsm.generateKey(t.user, { template: { token: true, keyType: 'generic-secret', valueLen: 32, sign: true, verify: true } });
    for (const d of [89, 2561, 1.5]) await assert.rejects(t.hsm.setRotationPeriod(t.user, k, d), isCode('ARGUMENTS_BAD'));
    await assert.rejects(t.hsm.setRotationPeriod(t.user, hmac, 90), isCode('KEY_TYPE_INCONSISTENT'));
    const t0 = new Date('2030-01-01T00:00:00Z');
    await t.hsm.setRotationPeriod(t.user, k, 100, t0);
    assert.equal((await t.hsm.rotationStatus(t.user, k)).nextRotation, new Date(t0.getTime() + 100 * DAY).toISOString());
    assert.equal(await t.hsm.rotateDueKeys(new Date(t0.getTime() + 99 * DAY)), 0);
    const due = new Date(t0.getTime() + 101 * DAY);
    assert.equal(await t.hsm.rotateDueKeys(due), 1);
    assert.equal(await t.hsm.rotateDueKeys(due), 0, 'not again in the same period');
    const st = await t.hsm.rotationStatus(t.user, k);
    assert.deepEqual(st.rotations.map((r) => [r.version, r.rotation]), [[2, 'automatic']]);
    assert.equal(st.nextRotation, new Date(due.getTime() + 100 * DAY).toISOString());
    assert.equal((await t.hsm.encrypt(t.user, { key: k, mechanism: 'AES-GCM', data: Buffer.from('x') })).keyVersion, 2);
    await t.hsm.rotateKey(t.user, k);
    assert.deepEqual((await t.hsm.rotationStatus(t.user, k)).rotations.map((r) => r.rotation), ['automatic', 'on-demand']);
    await t.hsm.setKeyState(t.user, k, 'disabled');
    assert.equal(await t.hsm.rotateDueKeys(new Date(due.getTime() + 1000 * DAY)), 0, 'a disabled key waits');
    await t.hsm.setKeyState(t.user, k, 'enabled');
    await t.hsm.setRotationPeriod(t.user, k, null);
    assert.equal((await t.hsm.rotationStatus(t.user, k)).periodDays, undefined);
    assert.equal(await t.hsm.rotateDueKeys(new Date(due.getTime() + 1000 * DAY)), 0);
  } finally {
    await t.close();
  }
});

test('backup carries the access-key index: after a restore into a new module the access key verifies SigV4 again', async () => {
  const master = SecretBytes.random(32);
  const src = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT });
  await src.initialize(SecretBytes.from(master.insecureBytes()), { name: 'admin', password: PASSWORD });
  const admin = (await src.login({ user: 'admin', password: PASSWORD })).session;
  src.createPartition(admin, { name: 'p1' });
  await src.createUser(admin, { name: 'alice', password: PASSWORD, role: 'user', partition: 'p1' });
  const alice = (await src.login({ user: 'alice', password: PASSWORD })).session;
  const k = await src.createAccessKey(alice);
  const secret = Buffer.from(k.secretAccessKey.insecureBytes());
  k.secretAccessKey.destroy();
  // A SigV4 claim signed the way a client does (AWS SigV4 "Derive a signing key").
  const claim = (() => {
    const stringToSign = 'AWS4-HMAC-SHA256\n20300101T000000Z\n20300101/eu-west-1/kms/aws4_request\nabc';
    let key: Buffer = Buffer.concat([Buffer.from('AWS4'), secret]);
    for (const part of ['20300101', 'eu-west-1', 'kms', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    return { accessKeyId: k.accessKeyId, date: '20300101', region: 'eu-west-1', service: 'kms', stringToSign, signature: createHmac('sha256', key).update(stringToSign).digest('hex') };
  })();
  assert.equal((await src.verifySigV4(claim)).user, 'alice');
  const out = await src.exportBackup(admin, { shares: 1, threshold: 1 });

  const dst = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT });
  await dst.initialize(master, { name: 'admin', password: PASSWORD });
  const dstAdmin = (await dst.login({ user: 'admin', password: PASSWORD })).session;
  await assert.rejects(dst.verifySigV4(claim), isCode('UNAUTHENTICATED'));
  await dst.restoreBackup(dstAdmin, { backup: out.backup });
  const who = await dst.verifySigV4(claim);
  assert.equal(who.user, 'alice');
  assert.equal(who.partition, 'p1');
  const alice2 = (await dst.login({ user: 'alice', password: PASSWORD })).session;
  assert.deepEqual((await dst.listAccessKeys(alice2)).map((x) => x.accessKeyId), [k.accessKeyId]);
  src.close();
  dst.close();
});

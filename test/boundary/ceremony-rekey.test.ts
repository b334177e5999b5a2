// Rekey (new shares of the same master key, authorised by M current shares), master-key rotation
// (new key: every key still works, old shares dead, on memory and SQLite across a reopen), and the
// custodian encryption round trips (X25519, RSA-OAEP, passphrase) against the custodian's side.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Hsm, type HsmOptions } from '../../src/boundary/api.js';
import { openShare, ShareFormatError, shareEncoding } from '../../src/cli/share-envelope.js';
import { expectCode } from '../support/expect-code.js';
import { PASSWORD, TEST_SCRYPT } from '../support/hsm.js';

const ADMIN = { name: 'admin', password: PASSWORD };
const DATA = Buffer.from('the same message before and after');

async function unsealWith(hsm: Hsm, shares: readonly string[]): Promise<void> {
  let last = { unsealed: false };
  for (const s of shares) last = await hsm.submitUnsealShare(s);
  assert.equal(last.unsealed, true, 'the shares unseal');
}

async function ready(n: number, m: number, store: HsmOptions['store'] = { kind: 'memory' }): Promise<{ hsm: Hsm; shares: string[]; admin: string }> {
  const hsm = await Hsm.open({ store, scrypt: TEST_SCRYPT });
  const shares = (await hsm.initializeWithShares({ shares: n, threshold: m, admin: ADMIN })).shares.map((s) => s.share);
  await unsealWith(hsm, shares.slice(0, m));
  const admin = (await hsm.login({ user: 'admin', password: PASSWORD })).session;
  return { hsm, shares, admin };
}

test('rekey 3-of-5 → 2-of-3: M current shares authorise it, the new shares unseal, the old ones stop', async () => {
  const { hsm, shares, admin } = await ready(5, 3);
  await expectCode(() => hsm.submitRekeyShare({ share: shares[0], nonce: 'x' }), 'ARGUMENTS_BAD', 'no rekey started');
  const start = hsm.rekeyInit(admin, { shares: 3, threshold: 2 });
  assert.deepEqual({ ...start, nonce: undefined }, { nonce: undefined, progress: 0, threshold: 3, newShares: 3, newThreshold: 2, complete: false });
  await expectCode(() => hsm.submitRekeyShare({ share: shares[0], nonce: 'not-the-nonce' }), 'ARGUMENTS_BAD');
  const other = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT });
  const foreign = (await other.initializeWithShares({ shares: 2, threshold: 2, admin: ADMIN })).shares[0]!.share;
  await expectCode(() => hsm.submitRekeyShare({ share: foreign, nonce: start.nonce }), 'SHARE_INVALID');
  other.close();
  assert.equal((await hsm.submitRekeyShare({ share: shares[4], nonce: start.nonce })).progress, 1);
  assert.equal((await hsm.submitRekeyShare({ share: shares[4], nonce: start.nonce })).progress, 1, 'a duplicate counts once');
  assert.equal((await hsm.submitRekeyShare({ share: shares[1], nonce: start.nonce })).complete, false);
  assert.equal(hsm.ceremonyStatus().rekey?.progress, 2);
  const done = await hsm.submitRekeyShare({ share: shares[3], nonce: start.nonce });
  assert.equal(done.complete, true);
  const fresh = done.issued!.shares.map((s) => s.share);
  assert.equal(fresh.length, 3);
  assert.equal(done.issued!.threshold, 2);
  assert.equal(done.issued!.epoch, 2);
  assert.equal(hsm.ceremonyStatus().rekey, undefined, 'no rekey in progress afterwards');
  await expectCode(() => hsm.submitRekeyShare({ share: shares[0], nonce: start.nonce }), 'ARGUMENTS_BAD', 'the completed rekey cannot be continued');
  hsm.seal();
  for (const s of shares) await expectCode(() => hsm.submitUnsealShare(s), 'SHARE_INVALID', 'old share');
  await unsealWith(hsm, [fresh[2]!, fresh[0]!]);
  hsm.close();
});

test('rekey: only an admin starts it; a restart or seal drops its progress; cancel zeroes it', async () => {
  const { hsm, shares, admin } = await ready(3, 2);
  hsm.createPartition(admin, { name: 'p1' });
  await hsm.createUser(admin, { name: 'alice', password: PASSWORD, role: 'user', partition: 'p1' });
  const user = (await hsm.login({ user: 'alice', password: PASSWORD })).session;
  await expectCode(() => hsm.rekeyInit(user, { shares: 2, threshold: 2 }), 'USER_TYPE_INVALID');
  await expectCode(() => hsm.rekeyInit(admin, { shares: 2, threshold: 3 }), 'ARGUMENTS_BAD');
  const a = hsm.rekeyInit(admin, { shares: 2, threshold: 2 });
  await hsm.submitRekeyShare({ share: shares[0], nonce: a.nonce });
  const b = hsm.rekeyInit(admin, { shares: 4, threshold: 2 });
  assert.notEqual(a.nonce, b.nonce);
  await expectCode(() => hsm.submitRekeyShare({ share: shares[1], nonce: a.nonce }), 'ARGUMENTS_BAD', 'a restarted rekey has a new nonce');
  assert.equal((await hsm.submitRekeyShare({ share: shares[1], nonce: b.nonce })).progress, 1, 'and starts from zero');
  hsm.rekeyCancel(admin);
  assert.equal(hsm.ceremonyStatus().rekey, undefined);
  const c = hsm.rekeyInit(admin, { shares: 2, threshold: 2 });
  await hsm.submitRekeyShare({ share: shares[1], nonce: c.nonce });
  hsm.seal();
  assert.equal(hsm.ceremonyStatus().rekey, undefined, 'seal drops the rekey');
  hsm.close();
});

for (const kind of ['memory', 'sqlite'] as const) {
  test(`rotateMasterKey (${kind}): every key works as before, the old shares stop, the new ones unseal after a reopen`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-rotate-'));
    const store: HsmOptions['store'] = kind === 'memory' ? { kind } : { kind, path: join(dir, 'c.db') };
    try {
      const r = await ready(5, 3, store);
      let { hsm, admin } = r;
      const { shares } = r;
      hsm.createPartition(admin, { name: 'p1' });
      hsm.createPartition(admin, { name: 'p2' });
      await hsm.createUser(admin, { name: 'alice', password: PASSWORD, role: 'user', partition: 'p1' });
      let user = (await hsm.login({ user: 'alice', password: PASSWORD })).session;
      const ed = await hsm.generateKeyPair(user, { mechanism: 'EC-EDWARDS-KEY-PAIR-GEN', publicTemplate: { curve: 'Ed25519' }, privateTemplate: { sign: true } });
      const aes = await hsm.generateKey(user, { template: { keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true } });
      const before = (await hsm.sign(user, { key: ed.privateKey, mechanism: 'EDDSA', data: DATA })).signature;
      const ct = await hsm.encrypt(user, { key: aes, mechanism: 'AES-GCM', data: DATA });

      const { sessions } = hsm.status();
      await expectCode(() => hsm.rotateMasterKey(user), 'USER_TYPE_INVALID', 'a user cannot rotate');
      const rotated = await hsm.rotateMasterKey(admin, { shares: 3, threshold: 2 });
      assert.equal(rotated.shares.length, 3);
      assert.equal(rotated.threshold, 2);
      assert.equal(hsm.status().sessions, sessions, 'rotation ends no session');
      const after = (await hsm.sign(user, { key: ed.privateKey, mechanism: 'EDDSA', data: DATA })).signature;
      assert.deepEqual(Buffer.from(after), Buffer.from(before), 'Ed25519 signs exactly as before');

      hsm.seal();
      for (const s of shares) await expectCode(() => hsm.submitUnsealShare(s), 'SHARE_INVALID', 'old share after rotation');
      const fresh = rotated.shares.map((s) => s.share);
      if (kind === 'sqlite') {
        hsm.close();
        hsm = await Hsm.open({ store, scrypt: TEST_SCRYPT });
      }
      await unsealWith(hsm, [fresh[1]!, fresh[2]!]);
      user = (await hsm.login({ user: 'alice', password: PASSWORD })).session;
      assert.deepEqual(Buffer.from((await hsm.sign(user, { key: ed.privateKey, mechanism: 'EDDSA', data: DATA })).signature), Buffer.from(before));
      const pt = await hsm.decrypt(user, { key: aes, mechanism: 'AES-GCM', data: ct.data, ...(ct.params ? { params: ct.params } : {}) });
      assert.deepEqual(Buffer.from(pt as Uint8Array), DATA, 'AES-GCM decrypts what it encrypted before the rotation');
      admin = (await hsm.login({ user: 'admin', password: PASSWORD })).session;
      assert.deepEqual(hsm.listPartitions(admin).map((p) => p.name).filter((n) => !n.startsWith('.')).sort(), ['p1', 'p2']);
      assert.equal(hsm.ceremonyStatus().epoch, 2);
      hsm.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('custodian shares round-trip: X25519, RSA-OAEP-SHA256 and passphrase open only with the right secret, then unseal', async () => {
  const x = generateKeyPairSync('x25519');
  const x2 = generateKeyPairSync('x25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = (k: typeof x.publicKey): Uint8Array => k.export({ format: 'der', type: 'spki' });
  const hsm = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT });
  const issued = await hsm.initializeWithShares({
    shares: 4,
    threshold: 3,
    admin: ADMIN,
    custodians: [
      { kind: 'x25519', publicKey: spki(x.publicKey) },
      { kind: 'rsa-oaep', publicKey: spki(rsa.publicKey) },
      { kind: 'passphrase', passphrase: 'correct horse battery staple' },
    ],
  });
  const [sx, sr, sp, clear] = issued.shares.map((s) => s.share) as [string, string, string, string];
  assert.deepEqual(issued.shares.map((s) => s.encoding), ['x25519', 'rsa-oaep-sha256', 'scrypt', 'clear']);
  assert.deepEqual([sx, sr, sp, clear].map(shareEncoding), ['x25519', 'rsa-oaep-sha256', 'scrypt', 'clear']);
  const pem = (k: typeof x.privateKey): string => k.export({ format: 'pem', type: 'pkcs8' }) as string;
  const opened = [
    await openShare(sx, { identity: pem(x.privateKey) }),
    await openShare(sr, { identity: rsa.privateKey.export({ format: 'der', type: 'pkcs8' }) }),
    await openShare(sp, { passphrase: 'correct horse battery staple' }),
  ];
  for (const o of opened) assert.equal(Buffer.from(o, 'base64').length, 33);
  // Wrong secrets, wrong kinds, missing secrets and tampering are refused.
  await assert.rejects(openShare(sx, { identity: pem(x2.privateKey) }), ShareFormatError);
  await assert.rejects(openShare(sr, { identity: pem(rsa2.privateKey) }), ShareFormatError);
  await assert.rejects(openShare(sr, { identity: pem(x.privateKey) }), ShareFormatError);
  await assert.rejects(openShare(sp, { passphrase: 'wrong horse battery staple' }), ShareFormatError);
  await assert.rejects(openShare(sx, {}), ShareFormatError);
  const flipped = Buffer.from(sx.slice(7), 'base64');
  flipped[40]! ^= 1;
  await assert.rejects(openShare(`x25519:${flipped.toString('base64')}`, { identity: pem(x.privateKey) }), ShareFormatError);
  await assert.rejects(openShare(`rot13:${clear}`, {}), ShareFormatError);
  // Custodian keys are checked at init: wrong type, short RSA, not SPKI.
  const fresh = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa1k = generateKeyPairSync('rsa', { modulusLength: 1024 });
  for (const c of [
    { kind: 'x25519' as const, publicKey: spki(rsa.publicKey) },
    { kind: 'rsa-oaep' as const, publicKey: spki(ec.publicKey) },
    { kind: 'rsa-oaep' as const, publicKey: spki(rsa1k.publicKey) },
    { kind: 'x25519' as const, publicKey: new Uint8Array(32) },
  ]) {
    await expectCode(() => fresh.initializeWithShares({ shares: 2, threshold: 2, admin: ADMIN, custodians: [c] }), 'ARGUMENTS_BAD', `${c.kind} custodian`);
  }
  assert.equal(fresh.status().state, 'uninitialized');
  fresh.close();
  await unsealWith(hsm, opened);
  hsm.close();
});

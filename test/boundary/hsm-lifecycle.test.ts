// Module lifecycle through the API: uninitialised → unsealed on initialise, sealed refuses
// everything with SEALED and forgets sessions, a wrong master key leaves it sealed, a restart on
// SQLite keeps keys (same Ed25519 signature), a failed self-test and tamper found while serving
// both put the module in the error state, where everything is refused with DEVICE_ERROR.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { type ErrorCode, Hsm, type HsmOptions, type MechanismParams, SecretBytes } from '../../src/boundary/api.js';
import { expectCode } from '../support/expect-code.js';
import { PASSWORD, TEST_SCRYPT } from '../support/hsm.js';
import { MASTER_BYTES, OTHER_MASTER_BYTES, tempDir } from '../support/store-fixtures.js';

const MSG = Buffer.from('lifecycle message');

function master(bytes: Uint8Array = MASTER_BYTES): SecretBytes {
  return SecretBytes.from(bytes);
}

/** Initialises `hsm` with an admin, a partition p1 and user alice; returns alice's session. */
async function setUp(hsm: Hsm): Promise<{ admin: string; user: string }> {
  await hsm.initialize(master(), { name: 'admin', password: PASSWORD });
  const admin = (await hsm.login({ user: 'admin', password: PASSWORD })).session;
  hsm.createPartition(admin, { name: 'p1' });
  await hsm.createUser(admin, { name: 'alice', password: PASSWORD, role: 'user', partition: 'p1' });
  const user = (await hsm.login({ user: 'alice', password: PASSWORD })).session;
  return { admin, user };
}

/** Every kind of call, each expected to be refused with `code` (state is checked before anything else). */
async function expectAllRefused(hsm: Hsm, s: { admin: string; user: string }, key: string, code: ErrorCode, when: string): Promise<void> {
  const calls: [string, () => unknown][] = [
    ['login', () => hsm.login({ user: 'alice', password: PASSWORD })],
    ['whoami', () => hsm.whoami(s.user)],
    ['generateKey', () => hsm.generateKey(s.user, { template: { keyType: 'aes', valueLen: 32 } })],
    ['generateKeyPair', () => hsm.generateKeyPair(s.user, { privateTemplate: { keyType: 'ec', curve: 'P-256' } })],
    ['createObject', () => hsm.createObject(s.user, { class: 'secret-key', keyType: 'aes', value: new Uint8Array(32) })],
    ['encrypt', () => hsm.encrypt(s.user, { key, mechanism: 'AES-GCM', data: MSG })],
    ['decrypt', () => hsm.decrypt(s.user, { key, mechanism: 'AES-GCM', data: MSG, params: { iv: new Uint8Array(12) } })],
    ['sign', () => hsm.sign(s.user, { key, mechanism: 'AES-CMAC', data: MSG })],
    ['verify', () => hsm.verify(s.user, { key, mechanism: 'AES-CMAC', data: MSG, signature: new Uint8Array(16) })],
    ['digest', () => hsm.digest(s.user, { mechanism: 'SHA256', data: MSG })],
    ['randomBytes', () => hsm.randomBytes(s.user, 16)],
    ['getAttributes', () => hsm.getAttributes(s.user, key)],
    ['findObjects', () => hsm.findObjects(s.user, {})],
    ['setAttributes', () => hsm.setAttributes(s.user, key, { label: 'x' })],
    ['rotateKey', () => hsm.rotateKey(s.user, key)],
    ['setKeyState', () => hsm.setKeyState(s.user, key, 'disabled')],
    ['destroyObject', () => hsm.destroyObject(s.user, key)],
    ['createPartition', () => hsm.createPartition(s.admin, { name: 'p9' })],
    ['createUser', () => hsm.createUser(s.admin, { name: 'bob', password: PASSWORD, role: 'user', partition: 'p1' })],
    ['listPartitions', () => hsm.listPartitions(s.admin)],
    ['purgeDueDeletions', () => hsm.purgeDueDeletions()],
  ];
  for (const [name, call] of calls) await expectCode(call, code, `${when}: ${name}`);
}

for (const kind of ['memory', 'sqlite'] as const) {
  test(`lifecycle (${kind}): uninitialized → unsealed → sealed refuses everything → wrong key stays sealed → unsealed again`, async () => {
    const dir = tempDir('coffer-lifecycle-');
    const store: HsmOptions['store'] = kind === 'memory' ? { kind } : { kind, path: `${dir.dir}/store.db` };
    const hsm = await Hsm.open({ store, scrypt: TEST_SCRYPT });
    try {
      assert.equal(hsm.status().state, 'uninitialized');
      await expectCode(() => hsm.login({ user: 'admin', password: PASSWORD }), 'NOT_INITIALIZED', 'login before initialise');
      await expectCode(() => hsm.unseal(master()), 'NOT_INITIALIZED', 'unseal before initialise');

      const s = await setUp(hsm);
      assert.equal(hsm.status().state, 'unsealed');
      assert.ok(hsm.status().selfTests.passed > 10, 'self-tests ran');
      assert.deepEqual(hsm.status().selfTests.failed, []);
      await expectCode(() => hsm.initialize(master(), { name: 'admin2', password: PASSWORD }), 'ALREADY_INITIALIZED');
      const key = await hsm.generateKey(s.user, { template: { keyType: 'aes', valueLen: 32 } });
      const enc = await hsm.encrypt(s.user, { key, mechanism: 'AES-GCM', data: MSG });
      assert.equal(hsm.status().sessions, 2);

      hsm.seal();
      assert.equal(hsm.status().state, 'sealed');
      assert.equal(hsm.status().sessions, 0, 'sealing ends every session');
      assert.equal(hsm.status().cachedKeys, 0, 'sealing empties the key cache');
      await expectAllRefused(hsm, s, key, 'SEALED', 'sealed');

      await expectCode(() => hsm.unseal(master(OTHER_MASTER_BYTES)), 'ARGUMENTS_BAD', 'unseal with the wrong master key');
      assert.equal(hsm.status().state, 'sealed', 'still sealed after a wrong master key');
      await expectCode(() => hsm.login({ user: 'alice', password: PASSWORD }), 'SEALED', 'login after the wrong key');

      hsm.unseal(master());
      assert.equal(hsm.status().state, 'unsealed');
      // Sessions from before the seal are gone for good.
      await expectCode(() => hsm.encrypt(s.user, { key, mechanism: 'AES-GCM', data: MSG }), 'SESSION_INVALID', 'old session after unseal');
      const user = (await hsm.login({ user: 'alice', password: PASSWORD })).session;
      const dec = await hsm.decrypt(user, { key, mechanism: 'AES-GCM', data: enc.data, params: enc.params! });
      assert.equal(Buffer.from(dec).toString(), MSG.toString(), 'the key survived seal/unseal');
    } finally {
      hsm.close();
      dir.cleanup();
    }
  });
}

test('a master key given to open() never initialises an empty store (that would leave it with no account)', async () => {
  const hsm = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT, masterKey: master() });
  try {
    assert.equal(hsm.status().state, 'uninitialized');
    const s = await setUp(hsm);
    assert.equal(hsm.status().state, 'unsealed');
    assert.equal(hsm.whoami(s.user).user, 'alice');
  } finally {
    hsm.close();
  }
});

test('restart on SQLite: close, reopen with the master key, keys are there and sign the same', async () => {
  const dir = tempDir('coffer-restart-');
  const path = `${dir.dir}/store.db`;
  try {
    const first = await Hsm.open({ store: { kind: 'sqlite', path }, scrypt: TEST_SCRYPT });
    let pair: { publicKey: string; privateKey: string };
    let aes: string;
    let sig1: Uint8Array;
    let ct: { data: Uint8Array; params?: MechanismParams };
    try {
      const s = await setUp(first);
      pair = await first.generateKeyPair(s.user, { privateTemplate: { keyType: 'ec-edwards', curve: 'Ed25519', label: 'signer' } });
      aes = await first.generateKey(s.user, { template: { keyType: 'aes', valueLen: 32, label: 'data key' } });
      await first.setAliases(s.user, aes, ['restart-aes']);
      sig1 = (await first.sign(s.user, { key: pair.privateKey, mechanism: 'EDDSA', data: MSG })).signature;
      ct = await first.encrypt(s.user, { key: aes, mechanism: 'AES-GCM', data: MSG });
    } finally {
      first.close();
    }

    const second = await Hsm.open({ store: { kind: 'sqlite', path }, scrypt: TEST_SCRYPT, masterKey: master() });
    try {
      assert.equal(second.status().state, 'unsealed', 'masterKey in the options unseals an initialised store');
      const user = (await second.login({ user: 'alice', password: PASSWORD })).session;
      const attrs = await second.getAttributes(user, pair.privateKey);
      assert.equal(attrs.label, 'signer');
      assert.equal(attrs.keyType, 'ec-edwards');
      const sig2 = (await second.sign(user, { key: pair.privateKey, mechanism: 'EDDSA', data: MSG })).signature;
      assert.equal(Buffer.from(sig2).toString('hex'), Buffer.from(sig1).toString('hex'), 'Ed25519 is deterministic: same key, same signature');
      assert.equal(await second.verify(user, { key: pair.publicKey, mechanism: 'EDDSA', data: MSG, signature: sig1 }), true);
      const dec = await second.decrypt(user, { key: 'alias/restart-aes', mechanism: 'AES-GCM', data: ct.data, params: ct.params! });
      assert.equal(Buffer.from(dec).toString(), MSG.toString());
      assert.deepEqual((await second.findObjects(user, {})).sort(), [pair.privateKey, pair.publicKey, aes].sort());
    } finally {
      second.close();
    }

    // Reopening with the wrong master key refuses and stays sealed.
    await expectCode(() => Hsm.open({ store: { kind: 'sqlite', path }, scrypt: TEST_SCRYPT, masterKey: master(OTHER_MASTER_BYTES) }), 'ARGUMENTS_BAD', 'open with the wrong key');
    const third = await Hsm.open({ store: { kind: 'sqlite', path }, scrypt: TEST_SCRYPT });
    try {
      assert.equal(third.status().state, 'sealed', 'an initialised store opens sealed without a key');
    } finally {
      third.close();
    }
  } finally {
    dir.cleanup();
  }
});

test('error state: a forced self-test failure names the mechanism and every operation is DEVICE_ERROR', async () => {
  const dir = tempDir('coffer-selftest-');
  const path = `${dir.dir}/store.db`;
  try {
    // A healthy, initialised store with a key, so refusals below are caused by the error state alone.
    const ok = await Hsm.open({ store: { kind: 'sqlite', path }, scrypt: TEST_SCRYPT });
    let s: { admin: string; user: string };
    let key: string;
    try {
      s = await setUp(ok);
      key = await ok.generateKey(s.user, { template: { keyType: 'aes', valueLen: 32 } });
    } finally {
      ok.close();
    }
    const bad = await Hsm.open({ store: { kind: 'sqlite', path }, scrypt: TEST_SCRYPT, masterKey: master(), forceSelfTestFailure: 'AES-GCM' });
    try {
      const st = bad.status();
      assert.equal(st.state, 'error');
      assert.match(st.error ?? '', /AES-GCM/, 'status names the failed self-test');
      assert.deepEqual(st.selfTests.failed, ['AES-GCM']);
      await expectAllRefused(bad, s, key, 'DEVICE_ERROR', 'error state');
      await expectCode(() => bad.unseal(master()), 'DEVICE_ERROR', 'unseal in the error state');
      await expectCode(() => bad.initialize(master(), { name: 'admin', password: PASSWORD }), 'DEVICE_ERROR', 'initialise in the error state');
      bad.seal(); // no way out of the error state but a restart
      assert.equal(bad.status().state, 'error');
    } finally {
      bad.close();
    }
    // Control: the same store without the forced failure serves again (the error was the self-test, not the store).
    const again = await Hsm.open({ store: { kind: 'sqlite', path }, scrypt: TEST_SCRYPT, masterKey: master() });
    try {
      assert.equal(again.status().state, 'unsealed');
    } finally {
      again.close();
    }
  } finally {
    dir.cleanup();
  }
});

test('error state on an uninitialised store too: initialise is refused', async () => {
  const hsm = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT, forceSelfTestFailure: 'EDDSA' });
  try {
    assert.equal(hsm.status().state, 'error');
    assert.match(hsm.status().error ?? '', /EDDSA/);
    await expectCode(() => hsm.initialize(master(), { name: 'admin', password: PASSWORD }), 'DEVICE_ERROR');
  } finally {
    hsm.close();
  }
});

test('tamper while running: an object row edited through a second connection → TAMPER_DETECTED, then the error state', async () => {
  const dir = tempDir('coffer-live-tamper-');
  const path = `${dir.dir}/store.db`;
  const hsm = await Hsm.open({ store: { kind: 'sqlite', path }, scrypt: TEST_SCRYPT });
  try {
    const s = await setUp(hsm);
    const key = await hsm.generateKey(s.user, { template: { keyType: 'aes', valueLen: 32, label: 'victim' } });
    const other = await hsm.generateKey(s.user, { template: { keyType: 'aes', valueLen: 32, label: 'bystander' } });
    await hsm.encrypt(s.user, { key, mechanism: 'AES-GCM', data: MSG });
    assert.equal((await hsm.getAttributes(s.user, key)).label, 'victim');

    // An attacker with file access flips an attribute in the row, leaving its MAC as it was.
    const db = new Database(path);
    try {
      const row = db.prepare('SELECT body FROM objects WHERE uid = ?').get(key) as { body: string } | undefined;
      assert.ok(row, 'the object row is in the database');
      assert.match(row.body, /"extractable":false/);
      const changes = db.prepare('UPDATE objects SET body = ? WHERE uid = ?').run(row.body.replace('"extractable":false', '"extractable":true'), key).changes;
      assert.equal(changes, 1);
    } finally {
      db.close();
    }

    await expectCode(() => hsm.getAttributes(s.user, key), 'TAMPER_DETECTED', 'reading the edited row');
    const st = hsm.status();
    assert.equal(st.state, 'error');
    assert.match(st.error ?? '', /tamper|row|integrity/i);
    assert.equal(st.sessions, 0, 'tamper ends every session');
    await expectAllRefused(hsm, s, other, 'DEVICE_ERROR', 'after tamper');
  } finally {
    hsm.close();
    dir.cleanup();
  }
});

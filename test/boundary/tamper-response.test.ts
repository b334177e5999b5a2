// Tamper signals and the configured response, through the Hsm (issue 4 "Tamper and zeroization";
// attacks.md D-17, E-06): one test per signal (store integrity, rollback, sensor, zeroize; the
// integrity test's signal is in selftest-error-state.test.ts) and per response (seal, erase).
// After 'seal' the keys come back with the master key; after 'erase' only from a backup.

import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Hsm, type HsmOptions, SecretBytes, type TamperResponse } from '../../src/boundary/api.js';
import { expectCode } from '../support/expect-code.js';
import { PASSWORD, TEST_SCRYPT } from '../support/hsm.js';
import { MASTER_BYTES, tempDir } from '../support/store-fixtures.js';

/** A distinctive key value: after an erase these bytes must appear nowhere in the store's files. */
const MARKER = Buffer.from('COFFER-ZEROIZE-MARKER-0123456789'.slice(0, 32));

interface Module {
  hsm: Hsm;
  dir: string;
  db: string;
  admin: string;
  user: string;
  key: string;
  cleanup(): void;
}

const mk = (): SecretBytes => SecretBytes.from(MASTER_BYTES);

async function open(dir: string, response: TamperResponse, extra: Partial<HsmOptions> = {}): Promise<Hsm> {
  return Hsm.open({ store: { kind: 'sqlite', path: join(dir, 'coffer.db') }, scrypt: TEST_SCRYPT, tamperResponse: response, masterKey: mk(), ...extra });
}

/** An initialised sqlite module with a partition, a user and one AES key holding MARKER. */
async function module(response: TamperResponse, extra: Partial<HsmOptions> = {}): Promise<Module> {
  const t = tempDir('coffer-tamper-hsm-');
  const hsm = await open(t.dir, response, extra);
  await hsm.initialize(mk(), { name: 'admin', password: PASSWORD });
  const admin = (await hsm.login({ user: 'admin', password: PASSWORD })).session;
  hsm.createPartition(admin, { name: 'p1' });
  await hsm.createUser(admin, { name: 'alice', password: PASSWORD, role: 'user', partition: 'p1' });
  await hsm.createUser(admin, { name: 'auditor', password: PASSWORD, role: 'auditor' });
  const user = (await hsm.login({ user: 'alice', password: PASSWORD })).session;
  const key = await hsm.createObject(user, { class: 'secret-key', keyType: 'aes', value: MARKER, encrypt: true, decrypt: true });
  return { hsm, dir: t.dir, db: join(t.dir, 'coffer.db'), admin, user, key, cleanup: t.cleanup };
}

async function usable(hsm: Hsm, key: string): Promise<void> {
  const user = (await hsm.login({ user: 'alice', password: PASSWORD })).session;
  const ct = await hsm.encrypt(user, { key, mechanism: 'AES-GCM', data: Buffer.from('still here') });
  assert.equal(Buffer.from(await hsm.decrypt(user, { key, mechanism: 'AES-GCM', data: ct.data, params: ct.params ?? {} })).toString(), 'still here');
}

/** After a response, the module answers nothing that needs keys, and says why in status. */
async function refusesAfter(m: Module, signal: string, response: TamperResponse): Promise<void> {
  const st = m.hsm.status();
  assert.equal(st.tamper?.signal, signal);
  assert.equal(st.tamper?.response, response);
  assert.equal(st.sessions, 0, 'every session ended');
  assert.equal(st.cachedKeys, 0, 'no unsealed key kept');
  await expectCode(() => m.hsm.encrypt(m.user, { key: m.key, mechanism: 'AES-GCM', data: new Uint8Array(1) }), st.state === 'error' ? 'DEVICE_ERROR' : st.state === 'sealed' ? 'SEALED' : 'NOT_INITIALIZED', 'encrypt after the response');
}

/** E-06: the store's files hold no trace of the key, no partition, no account; it is uninitialised. */
function assertErased(m: Module): void {
  for (const f of [m.db, `${m.db}-wal`, `${m.db}-shm`]) {
    if (existsSync(f)) assert.equal(readFileSync(f).indexOf(MARKER), -1, `${f} holds no key bytes`);
  }
  const db = new Database(m.db, { readonly: true });
  try {
    for (const t of ['partitions', 'users', 'objects', 'material', 'audit', 'header']) {
      assert.equal((db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n, 0, `${t} is empty`);
    }
  } finally {
    db.close();
  }
}

async function auditHas(hsm: Hsm, op: string, pattern: RegExp): Promise<void> {
  const auditor = (await hsm.login({ user: 'auditor', password: PASSWORD })).session;
  const rec = hsm.listAudit(auditor, 1, 10_000).find((r) => r.op === op && pattern.test(r.detail ?? ''));
  assert.ok(rec, `an audit record ${op} ${pattern}`);
}

test('signal zeroize, response seal: every key and session forgotten, audited; the master key brings the keys back', async () => {
  const m = await module('seal');
  try {
    await expectCode(() => m.hsm.zeroize(m.user), 'USER_TYPE_INVALID', 'a user may not zeroize');
    const r = await m.hsm.zeroize(m.admin);
    assert.equal(r.signal, 'zeroize');
    assert.equal(m.hsm.status().state, 'sealed');
    await refusesAfter(m, 'zeroize', 'seal');
    m.hsm.unseal(mk());
    await usable(m.hsm, m.key);
    await auditHas(m.hsm, 'module.zeroize', /requested by admin; response seal/);
    m.hsm.close();
  } finally {
    m.cleanup();
  }
});

test('E-06, D-17: signal zeroize, response erase: the store is emptied and scrubbed, the module uninitialised; the master key brings nothing back', async () => {
  const archive = join(tempDir('coffer-archive-').dir, 'audit-before-erase.jsonl');
  const m = await module('erase', { auditArchivePath: archive });
  try {
    await m.hsm.zeroize(m.admin);
    assert.equal(m.hsm.status().state, 'uninitialized');
    await refusesAfter(m, 'zeroize', 'erase');
    assert.equal(m.hsm.status().tamper?.auditArchive, archive);
    const archived = readFileSync(archive, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { op: string; detail?: string });
    assert.ok(archived.some((r) => r.op === 'module.zeroize' && /response erase/.test(r.detail ?? '')), 'the zeroize record was written before the erase and kept');
    assert.equal(readFileSync(archive).indexOf(MARKER), -1, 'the archive holds no key bytes');
    await expectCode(() => m.hsm.unseal(mk()), 'NOT_INITIALIZED', 'unseal after erase');
    m.hsm.close();
    assertErased(m);
    // A restart does not silently restore anything (D-17): the store is uninitialised.
    const again = await open(m.dir, 'erase');
    assert.equal(again.status().state, 'uninitialized');
    again.close();
  } finally {
    m.cleanup();
    rmSync(archive, { force: true });
  }
});

test('signal sensor, response seal: the enclosure sensor seals a serving module', async () => {
  const m = await module('seal');
  try {
    m.hsm.reportTamper('sensor file /run/coffer/lid changed');
    assert.equal(m.hsm.status().state, 'sealed');
    await refusesAfter(m, 'sensor', 'seal');
    m.hsm.unseal(mk());
    await auditHas(m.hsm, 'module.tamper', /sensor: sensor file \/run\/coffer\/lid changed; response seal/);
    await usable(m.hsm, m.key);
    m.hsm.close();
  } finally {
    m.cleanup();
  }
});

test('signal sensor, response erase: the enclosure sensor erases the store even while sealed', async () => {
  const m = await module('erase');
  try {
    m.hsm.seal();
    m.hsm.reportTamper('lid opened');
    assert.equal(m.hsm.status().state, 'uninitialized');
    await refusesAfter(m, 'sensor', 'erase');
    m.hsm.close();
    assertErased(m);
  } finally {
    m.cleanup();
  }
});

for (const response of ['seal', 'erase'] as const) {
  test(`signal store-integrity, response ${response}: a row edited under a serving module`, async () => {
    const m = await module(response);
    try {
      const db = new Database(m.db);
      db.prepare("UPDATE objects SET body = replace(body, '\"decrypt\":true', '\"decrypt\":false')").run();
      db.close();
      // The next read of the edited row finds it: error state, and the configured response.
      await expectCode(() => m.hsm.encrypt(m.user, { key: m.key, mechanism: 'AES-GCM', data: new Uint8Array(1) }), 'TAMPER_DETECTED', 'the read that finds the edit');
      assert.equal(m.hsm.status().state, 'error');
      await refusesAfter(m, 'store-integrity', response);
      m.hsm.close();
      if (response === 'erase') assertErased(m);
      else {
        // Sealed, not erased: the tampered store is still there, and refuses to unseal.
        const again = await open(m.dir, 'seal').catch((e: unknown) => e);
        assert.ok(again instanceof Error || (again as Hsm).status().state === 'error');
        if (!(again instanceof Error)) (again as Hsm).close();
      }
    } finally {
      m.cleanup();
    }
  });

  test(`signal rollback, response ${response}: an older copy of the store put back is refused at unseal`, async () => {
    const m = await module(response);
    try {
      m.hsm.close();
      const old = `${m.db}.old`;
      copyFileSync(m.db, old);
      const hsm = await open(m.dir, response);
      const admin = (await hsm.login({ user: 'admin', password: PASSWORD })).session;
      hsm.createPartition(admin, { name: 'p2' });
      hsm.close();
      copyFileSync(old, m.db);
      rmSync(`${m.db}-wal`, { force: true });
      const rolled = await Hsm.open({ store: { kind: 'sqlite', path: m.db }, scrypt: TEST_SCRYPT, tamperResponse: response });
      await expectCode(() => rolled.unseal(mk()), 'TAMPER_DETECTED', 'unseal of a rolled-back store');
      const st = rolled.status();
      assert.equal(st.state, 'error');
      assert.equal(st.tamper?.signal, 'rollback');
      assert.equal(st.tamper?.response, response);
      rolled.close();
      if (response === 'erase') assertErased({ ...m, db: m.db });
    } finally {
      m.cleanup();
    }
  });
}

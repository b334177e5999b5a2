// Tamper and rollback detection on the SQLite vault: each test edits the database file through a
// second better-sqlite3 connection (as an attacker with file access would) and expects unseal to
// refuse with TAMPER_DETECTED and stay sealed. Live edits under an unsealed vault are caught at read.

import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { isHsmError } from '../../src/boundary/errors.js';
import { SecretBytes } from '../../src/boundary/secret.js';
import type { Vault } from '../../src/boundary/store/types.js';
import { openVault } from '../../src/boundary/store/vault.js';
import { masterKey, OTHER_MASTER_BYTES, partition, secretValue, storedObject, tempDir } from '../support/store-fixtures.js';

interface Fixture {
  path: string;
  cleanup: () => void;
}

/** A closed store with two partitions, three keys (with material) and an audit record. */
function makeStore(): Fixture {
  const t = tempDir('coffer-tamper-');
  const path = `${t.dir}/store.db`;
  const vault = openVault({ kind: 'sqlite', path });
  vault.initialize(masterKey());
  vault.transaction(() => {
    vault.putPartition(partition('p1'));
    vault.putPartition(partition('p2'));
    vault.putObject(storedObject('k1', 'p1'), new Map([[1, SecretBytes.from(secretValue('k1'))]]));
    vault.putObject(storedObject('k2', 'p1', { extractable: true, sensitive: false }), new Map([[1, SecretBytes.from(secretValue('k2'))]]));
    vault.putObject(storedObject('k3', 'p2'), new Map([[1, SecretBytes.from(secretValue('k3'))]]));
  });
  vault.appendAudit({ actor: 'admin', op: 'setup', outcome: 'ok' });
  vault.close();
  return { path, cleanup: t.cleanup };
}

function edit(path: string, fn: (db: Database.Database) => void): void {
  const db = new Database(path);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

function expectTamper(path: string, what: RegExp): void {
  const vault = openVault({ kind: 'sqlite', path });
  try {
    assert.throws(
      () => vault.unseal(masterKey()),
      (e) => isHsmError(e, 'TAMPER_DETECTED') && what.test(e.message),
      `expected TAMPER_DETECTED matching ${what}`,
    );
    assert.equal(vault.unsealed, false, 'the vault stays sealed');
  } finally {
    vault.close();
  }
}

function tamperCase(name: string, what: RegExp, attack: (db: Database.Database) => void): void {
  test(`tamper: ${name}`, () => {
    const f = makeStore();
    try {
      // Control: the untouched store unseals, so the failure below is caused by the edit.
      const ok = openVault({ kind: 'sqlite', path: f.path });
      ok.unseal(masterKey());
      ok.close();
      edit(f.path, attack);
      expectTamper(f.path, what);
    } finally {
      f.cleanup();
    }
  });
}

tamperCase('an attribute edited in an object body (sensitive true→false)', /row edited \(objects\)/, (db) => {
  const { body } = db.prepare('SELECT body FROM objects WHERE uid = ?').get('k1') as { body: string };
  assert.match(body, /"sensitive":true/);
  db.prepare('UPDATE objects SET body = ? WHERE uid = ?').run(body.replace('"sensitive":true', '"sensitive":false'), 'k1');
});

tamperCase('an attribute edited in an object body (extractable false→true)', /row edited \(objects\)/, (db) => {
  const { body } = db.prepare('SELECT body FROM objects WHERE uid = ?').get('k1') as { body: string };
  db.prepare('UPDATE objects SET body = ? WHERE uid = ?').run(body.replace('"extractable":false', '"extractable":true'), 'k1');
});

tamperCase('two objects swapped (bodies and tags exchanged between uids)', /row edited \(objects\)/, (db) => {
  const a = db.prepare('SELECT body, tag FROM objects WHERE uid = ?').get('k1') as { body: string; tag: Buffer };
  const b = db.prepare('SELECT body, tag FROM objects WHERE uid = ?').get('k2') as { body: string; tag: Buffer };
  db.prepare('UPDATE objects SET body = ?, tag = ? WHERE uid = ?').run(b.body, b.tag, 'k1');
  db.prepare('UPDATE objects SET body = ?, tag = ? WHERE uid = ?').run(a.body, a.tag, 'k2');
});

tamperCase('two objects swapped (uids exchanged, rows otherwise intact)', /row edited \(objects\)/, (db) => {
  db.prepare("UPDATE objects SET uid = 'tmp' WHERE uid = 'k1'").run();
  db.prepare("UPDATE objects SET uid = 'k1' WHERE uid = 'k2'").run();
  db.prepare("UPDATE objects SET uid = 'k2' WHERE uid = 'tmp'").run();
});

tamperCase('an object row deleted', /row missing or added/, (db) => {
  assert.equal(db.prepare("DELETE FROM objects WHERE uid = 'k3'").run().changes, 1);
});

tamperCase('a material row deleted', /row missing or added/, (db) => {
  assert.equal(db.prepare("DELETE FROM material WHERE uid = 'k3'").run().changes, 1);
});

tamperCase('an audit record deleted', /row missing or added/, (db) => {
  assert.equal(db.prepare('DELETE FROM audit WHERE seq = 1').run().changes, 1);
});

tamperCase('a sealed-material blob swapped between two objects (with its tag)', /row edited \(material\)/, (db) => {
  const a = db.prepare("SELECT sealed, tag FROM material WHERE uid = 'k1'").get() as { sealed: Buffer; tag: Buffer };
  const b = db.prepare("SELECT sealed, tag FROM material WHERE uid = 'k2'").get() as { sealed: Buffer; tag: Buffer };
  db.prepare("UPDATE material SET sealed = ?, tag = ? WHERE uid = 'k1'").run(b.sealed, b.tag);
  db.prepare("UPDATE material SET sealed = ?, tag = ? WHERE uid = 'k2'").run(a.sealed, a.tag);
});

tamperCase('a sealed-material blob swapped between two objects (tags left)', /row edited \(material\)/, (db) => {
  const a = db.prepare("SELECT sealed FROM material WHERE uid = 'k1'").get() as { sealed: Buffer };
  const b = db.prepare("SELECT sealed FROM material WHERE uid = 'k3'").get() as { sealed: Buffer };
  db.prepare("UPDATE material SET sealed = ? WHERE uid = 'k1'").run(b.sealed);
  db.prepare("UPDATE material SET sealed = ? WHERE uid = 'k3'").run(a.sealed);
});

tamperCase('the header counter edited', /header/, (db) => {
  db.prepare('UPDATE header SET counter = counter + 1').run();
});

tamperCase('a partition key swapped between partitions', /row edited \(partitions\)/, (db) => {
  const a = db.prepare("SELECT wrapped_key, tag FROM partitions WHERE name = 'p1'").get() as { wrapped_key: Buffer; tag: Buffer };
  const b = db.prepare("SELECT wrapped_key, tag FROM partitions WHERE name = 'p2'").get() as { wrapped_key: Buffer; tag: Buffer };
  db.prepare("UPDATE partitions SET wrapped_key = ? WHERE name = 'p1'").run(b.wrapped_key);
  db.prepare("UPDATE partitions SET wrapped_key = ? WHERE name = 'p2'").run(a.wrapped_key);
});

tamperCase('a row added (a copy of an object under a new uid)', /row edited \(objects\)|row missing or added/, (db) => {
  db.prepare("INSERT INTO objects (uid, partition, revision, body, tag) SELECT 'k9', partition, revision, body, tag FROM objects WHERE uid = 'k1'").run();
});

function copyStore(from: string, to: string): void {
  for (const suffix of ['', '-wal', '-shm']) {
    rmSync(to + suffix, { force: true });
    if (existsSync(from + suffix)) copyFileSync(from + suffix, to + suffix);
  }
}

test('rollback: an older copy of the database put back is refused', () => {
  const f = makeStore();
  const backup = `${f.path}.old`;
  try {
    copyStore(f.path, backup); // the store is closed: this is a complete, self-consistent old copy
    const v = openVault({ kind: 'sqlite', path: f.path });
    v.unseal(masterKey());
    v.putObject(storedObject('k4', 'p1'), new Map([[1, SecretBytes.from(secretValue('k4'))]]));
    v.deleteObject('k2');
    v.close();
    copyStore(backup, f.path);
    // Control: the old copy is internally valid (its own header, tags and digest agree)…
    edit(f.path, (db) => assert.equal((db.prepare('SELECT COUNT(*) AS n FROM objects').get() as { n: number }).n, 3));
    // …but it is behind the anchor.
    expectTamper(f.path, /rollback/);
  } finally {
    f.cleanup();
  }
});

test('rollback anchor: a missing or edited anchor file is tamper; the wrong key is still told apart', () => {
  const f = makeStore();
  try {
    const anchor = `${f.path}.anchor`;
    const saved = `${anchor}.saved`;
    copyFileSync(anchor, saved);
    rmSync(anchor);
    expectTamper(f.path, /anchor missing/);
    copyFileSync(saved, anchor);
    // Control: with the anchor back, the store unseals.
    const ok = openVault({ kind: 'sqlite', path: f.path });
    ok.unseal(masterKey());
    ok.close();
    // One bit flipped in each slot's committed digest: no slot's MAC verifies.
    const bytes = readFileSync(anchor);
    bytes[30]! ^= 0x01;
    bytes[512 + 30]! ^= 0x01;
    writeFileSync(anchor, bytes);
    expectTamper(f.path, /anchor/);
    const v = openVault({ kind: 'sqlite', path: f.path });
    assert.throws(() => v.unseal(SecretBytes.from(OTHER_MASTER_BYTES)), (e) => isHsmError(e, 'ARGUMENTS_BAD'));
    v.close();
  } finally {
    f.cleanup();
  }
});

test('live tamper: an edit under a running, unsealed vault is caught when the row is read', () => {
  const f = makeStore();
  let vault: Vault | undefined;
  try {
    vault = openVault({ kind: 'sqlite', path: f.path });
    vault.unseal(masterKey());
    assert.ok(vault.getObject('k1'));
    edit(f.path, (db) => {
      const { body } = db.prepare("SELECT body FROM objects WHERE uid = 'k1'").get() as { body: string };
      db.prepare("UPDATE objects SET body = ? WHERE uid = 'k1'").run(body.replace('"sensitive":true', '"sensitive":false'));
    });
    assert.throws(() => vault?.getObject('k1'), (e) => isHsmError(e, 'TAMPER_DETECTED'));
    assert.throws(() => vault?.listObjects('p1'), (e) => isHsmError(e, 'TAMPER_DETECTED'));
    // A header rewound under the running vault is caught at the next write.
    edit(f.path, (db) => db.prepare('UPDATE header SET counter = counter - 1').run());
    assert.throws(() => vault?.putPartition(partition('p3')), (e) => isHsmError(e, 'TAMPER_DETECTED'));
  } finally {
    vault?.close();
    f.cleanup();
  }
});

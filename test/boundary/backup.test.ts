// Backup, restore and cloning through the boundary API (docs/backup.md; attacks.md D-18): a
// round trip of every key type with rotations, aliases and tags through an erase and a new master
// key; every key signs, verifies and decrypts exactly as before. Corrupted, truncated, wrongly
// keyed and misplaced restores are refused with a code and change nothing.

import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { type BackupExported, describeBackup, Hsm, HsmError, QuorumRequiredError, SecretBytes } from '../../src/boundary/api.js';
import { PASSWORD, TEST_SCRYPT, testHsm } from '../support/hsm.js';

function isCode(code: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof HsmError, `expected HsmError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

const DATA = Buffer.from('the same bytes before and after the backup');
const PROBE = Buffer.from('probe');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

interface Before {
  /** key label → what it must still do after the restore. */
  checks: ((hsm: Hsm, user: string) => Promise<void>)[];
  uids: Record<string, string>;
}

/** Keys of every type with rotations, aliases and tags, and what each produced before the backup. */
async function populate(hsm: Hsm, user: string): Promise<Before> {
  const checks: Before['checks'] = [];
  const uids: Record<string, string> = {};
  const tok = { token: true };

  // AES-256, rotated: ciphertexts of both versions still decrypt; alias and tags survive.
  const aes = await hsm.generateKey(user, { template: { ...tok, keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true, label: 'aes' } });
  uids.aes = aes;
  const c1 = await hsm.encrypt(user, { key: aes, mechanism: 'AES-GCM', data: DATA });
  await hsm.rotateKey(user, aes);
  const c2 = await hsm.encrypt(user, { key: aes, mechanism: 'AES-GCM', data: DATA });
  assert.equal(c2.keyVersion, 2);
  await hsm.setAliases(user, aes, ['orders/aes']);
  await hsm.setTags(user, aes, { team: 'payments', $b64: 'not bytes' });
  checks.push(async (h, u) => {
    for (const c of [c1, c2]) {
      const p: Parameters<Hsm['decrypt']>[1] = { key: 'alias/orders/aes', mechanism: 'AES-GCM', data: c.data, keyVersion: c.keyVersion };
      if (c.params) p.params = c.params;
      assert.equal(hex(await h.decrypt(u, p)), hex(DATA), `AES v${c.keyVersion} decrypts`);
    }
    const info = await h.getAttributes(u, aes);
    assert.deepEqual(info.versions, [1, 2]);
    assert.equal(info.currentVersion, 2);
    assert.deepEqual(info.aliases, ['orders/aes']);
    assert.deepEqual(info.tags, { team: 'payments', $b64: 'not bytes' });
    assert.equal(info.label, 'aes');
  });

  // Three-key TDES, CBC with padding.
  const des3 = await hsm.generateKey(user, { template: { ...tok, keyType: 'des3', encrypt: true, decrypt: true } });
  uids.des3 = des3;
  const iv = randomBytes(8);
  const cd = await hsm.encrypt(user, { key: des3, mechanism: 'DES3-CBC-PAD', data: DATA, params: { iv } });
  checks.push(async (h, u) => {
    assert.equal(hex(await h.decrypt(u, { key: des3, mechanism: 'DES3-CBC-PAD', data: cd.data, params: { iv } })), hex(DATA), 'DES3 decrypts');
  });

  // Generic secret (HMAC), imported with a known value, rotated: both versions' MACs are equal.
  const hmacValue = randomBytes(32);
  const hm = await hsm.createObject(user, { ...tok, class: 'secret-key', keyType: 'generic-secret', value: hmacValue, sign: true, verify: true });
  uids.hmac = hm;
  const m1 = await hsm.sign(user, { key: hm, mechanism: 'HMAC-SHA256', data: DATA });
  assert.equal(hex(m1.signature), createHmac('sha256', hmacValue).update(DATA).digest('hex'));
  await hsm.rotateKey(user, hm);
  const m2 = await hsm.sign(user, { key: hm, mechanism: 'HMAC-SHA256', data: DATA });
  checks.push(async (h, u) => {
    assert.equal(hex((await h.sign(u, { key: hm, mechanism: 'HMAC-SHA256', data: DATA })).signature), hex(m2.signature), 'HMAC v2 equal');
    assert.ok(await h.verify(u, { key: hm, mechanism: 'HMAC-SHA256', data: DATA, signature: m1.signature, keyVersion: 1 } as Parameters<Hsm['verify']>[1]), 'HMAC v1 verifies');
  });

  // RSA-2048: PKCS#1 v1.5 signatures are deterministic, so they must be equal; an OAEP pair decrypts.
  const rsa = await hsm.generateKeyPair(user, { publicTemplate: { ...tok, keyType: 'rsa', modulusBits: 2048 }, privateTemplate: { ...tok, keyType: 'rsa', sign: true } });
  uids.rsa = rsa.privateKey;
  const rs = await hsm.sign(user, { key: rsa.privateKey, mechanism: 'SHA256-RSA-PKCS', data: DATA });
  checks.push(async (h, u) => {
    assert.equal(hex((await h.sign(u, { key: rsa.privateKey, mechanism: 'SHA256-RSA-PKCS', data: DATA })).signature), hex(rs.signature), 'RSA PKCS#1 v1.5 equal');
    assert.ok(await h.verify(u, { key: rsa.publicKey, mechanism: 'SHA256-RSA-PKCS', data: DATA, signature: rs.signature }));
  });
  const oaep = await hsm.generateKeyPair(user, { publicTemplate: { ...tok, keyType: 'rsa', modulusBits: 2048 }, privateTemplate: { ...tok, keyType: 'rsa', decrypt: true } });
  const oc = await hsm.encrypt(user, { key: oaep.publicKey, mechanism: 'RSA-PKCS-OAEP', data: DATA, params: { hash: 'SHA-256' } });
  checks.push(async (h, u) => {
    assert.equal(hex(await h.decrypt(u, { key: oaep.privateKey, mechanism: 'RSA-PKCS-OAEP', data: oc.data, params: { hash: 'SHA-256' } })), hex(DATA), 'RSA-OAEP decrypts');
  });

  // EC P-256 ECDSA (randomised): the old signature verifies, a new one verifies with the same public key.
  const ec = await hsm.generateKeyPair(user, { publicTemplate: tok, privateTemplate: { ...tok, keyType: 'ec', curve: 'P-256', sign: true } });
  const es = await hsm.sign(user, { key: ec.privateKey, mechanism: 'ECDSA-SHA256', data: DATA });
  const ecPub = await hsm.getPublicKey(user, ec.publicKey);
  checks.push(async (h, u) => {
    assert.equal(hex(await h.getPublicKey(u, ec.publicKey)), hex(ecPub));
    assert.ok(await h.verify(u, { key: ec.publicKey, mechanism: 'ECDSA-SHA256', data: DATA, signature: es.signature }), 'old ECDSA verifies');
    const again = await h.sign(u, { key: ec.privateKey, mechanism: 'ECDSA-SHA256', data: DATA });
    assert.ok(await h.verify(u, { key: ec.publicKey, mechanism: 'ECDSA-SHA256', data: DATA, signature: again.signature }), 'new ECDSA verifies');
  });

  // Ed25519: deterministic (RFC 8032), equal.
  const ed = await hsm.generateKeyPair(user, { mechanism: 'EC-EDWARDS-KEY-PAIR-GEN', publicTemplate: { ...tok, curve: 'Ed25519' }, privateTemplate: { ...tok, sign: true } });
  const eds = await hsm.sign(user, { key: ed.privateKey, mechanism: 'EDDSA', data: DATA });
  checks.push(async (h, u) => {
    assert.equal(hex((await h.sign(u, { key: ed.privateKey, mechanism: 'EDDSA', data: DATA })).signature), hex(eds.signature), 'Ed25519 equal');
  });

  // X25519: the same peer gives the same shared secret (HMAC under the derived key equal).
  const xp = await hsm.generateKeyPair(user, { mechanism: 'EC-MONTGOMERY-KEY-PAIR-GEN', publicTemplate: { ...tok, curve: 'X25519' }, privateTemplate: { ...tok, derive: true } });
  const peer = generateKeyPairSync('x25519').publicKey.export({ format: 'der', type: 'spki' });
  const xmac = async (h: Hsm, u: string): Promise<string> => {
    const k = await h.deriveKey(u, { baseKey: xp.privateKey, mechanism: 'ECDH1-DERIVE', params: { publicData: peer }, template: { keyType: 'generic-secret', valueLen: 32, sign: true, token: false } });
    return hex((await h.sign(u, { key: k, mechanism: 'HMAC-SHA256', data: PROBE })).signature);
  };
  const xBefore = await xmac(hsm, user);
  checks.push(async (h, u) => assert.equal(await xmac(h, u), xBefore, 'X25519 agrees'));

  // ML-DSA-65, deterministic variant: equal.
  const md = await hsm.generateKeyPair(user, { publicTemplate: tok, privateTemplate: { ...tok, keyType: 'ml-dsa', parameterSet: 'ML-DSA-65', sign: true } });
  const mds = await hsm.sign(user, { key: md.privateKey, mechanism: 'ML-DSA', data: DATA, params: { deterministic: true } });
  checks.push(async (h, u) => {
    assert.equal(hex((await h.sign(u, { key: md.privateKey, mechanism: 'ML-DSA', data: DATA, params: { deterministic: true } })).signature), hex(mds.signature), 'ML-DSA equal');
  });

  // ML-KEM-768: a ciphertext made before the backup decapsulates after it to the same key.
  const kem = await hsm.generateKeyPair(user, { publicTemplate: tok, privateTemplate: { ...tok, keyType: 'ml-kem', parameterSet: 'ML-KEM-768', decapsulate: true } });
  const secretTpl = { keyType: 'generic-secret' as const, valueLen: 32, sign: true, token: false };
  const enc = await hsm.encapsulate(user, { key: kem.publicKey, mechanism: 'ML-KEM', template: secretTpl });
  const kemMac = hex((await hsm.sign(user, { key: enc.key, mechanism: 'HMAC-SHA256', data: PROBE })).signature);
  checks.push(async (h, u) => {
    const k = await h.decapsulate(u, { key: kem.privateKey, mechanism: 'ML-KEM', ciphertext: enc.ciphertext, template: secretTpl });
    assert.equal(hex((await h.sign(u, { key: k, mechanism: 'HMAC-SHA256', data: PROBE })).signature), kemMac, 'ML-KEM decapsulates to the same key');
  });

  // SLH-DSA-SHA2-128f, deterministic: equal.
  const slh = await hsm.generateKeyPair(user, { publicTemplate: tok, privateTemplate: { ...tok, keyType: 'slh-dsa', parameterSet: 'SLH-DSA-SHA2-128f', sign: true } });
  const ss = await hsm.sign(user, { key: slh.privateKey, mechanism: 'SLH-DSA', data: DATA, params: { deterministic: true } });
  checks.push(async (h, u) => {
    assert.equal(hex((await h.sign(u, { key: slh.privateKey, mechanism: 'SLH-DSA', data: DATA, params: { deterministic: true } })).signature), hex(ss.signature), 'SLH-DSA equal');
  });

  // A disabled key stays disabled.
  const off = await hsm.generateKey(user, { template: { ...tok, keyType: 'aes', valueLen: 16, encrypt: true, decrypt: true } });
  await hsm.setKeyState(user, off, 'disabled');
  checks.push(async (h, u) => assert.equal((await h.getAttributes(u, off)).state, 'disabled'));
  return { checks, uids };
}

/** What an admin sees of a module: restore refusals must leave it identical. */
async function observe(hsm: Hsm, admin: string): Promise<string> {
  const partitions = (await hsm.listPartitions(admin)).map((p) => p.name).sort();
  const users = (await hsm.listUsers(admin)).map((u) => `${u.name}:${u.role}`).sort();
  return JSON.stringify({ partitions, users });
}

async function freshModule(masterKey = SecretBytes.random(32)): Promise<{ hsm: Hsm; admin: string }> {
  const hsm = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT });
  await hsm.initialize(masterKey, { name: 'admin', password: PASSWORD });
  return { hsm, admin: (await hsm.login({ user: 'admin', password: PASSWORD })).session };
}

test('round trip: every key type, erase, a new master key, restore with 2 of 3 backup shares: every key works exactly as before', async () => {
  const t = await testHsm({ tamperResponse: 'erase' });
  const before = await populate(t.hsm, t.user);
  const out = await t.hsm.exportBackup(t.admin, { shares: 3, threshold: 2 });
  assert.equal(out.verified, true);
  assert.equal(out.shares.length, 3);
  assert.equal(out.threshold, 2);
  assert.equal(out.counts.partitions, 1);
  assert.equal(out.counts.users, 4);
  assert.ok(out.counts.objects >= 18, `objects ${out.counts.objects}`);
  assert.ok(out.counts.versions >= out.counts.objects - 9, 'private and secret keys have sealed versions');
  // No secret value appears in the file: the imported HMAC key's bytes are not in it.
  assert.deepEqual(describeBackup(out.backup).counts, out.counts);

  await t.hsm.zeroize(t.admin); // response 'erase': the store and its key hierarchy are gone
  assert.equal(t.hsm.status().state, 'uninitialized');
  await t.hsm.initialize(SecretBytes.random(32), { name: 'admin', password: PASSWORD });
  const admin = (await t.hsm.login({ user: 'admin', password: PASSWORD })).session;
  const restored = await t.hsm.restoreBackup(admin, { backup: out.backup, shares: [out.shares[2]!.share, out.shares[0]!.share] });
  assert.equal(restored.keySource, 'shares');
  assert.deepEqual(restored.skippedUsers, ['admin'], 'the new module keeps its own admin');
  assert.deepEqual(restored.counts, out.counts);

  // The restored account logs in with its old password, and each key does what it did.
  const user = (await t.hsm.login({ user: 'alice', password: PASSWORD })).session;
  for (const check of before.checks) await check(t.hsm, user);
  const auditor = (await t.hsm.login({ user: 'auditor', password: PASSWORD })).session;
  const audit = await t.hsm.listAudit(auditor);
  const rec = audit.find((r) => r.op === 'backup.restore');
  assert.ok(rec?.detail?.includes(`${out.chainHead.seq}:${out.chainHead.hash}`), 'the restore names the source chain head');
  await t.close();
});

test('a module with the same master key restores without shares; another master key needs the shares', async () => {
  const master = SecretBytes.random(32);
  const src = await freshModule(SecretBytes.from(master.insecureBytes()));
  src.hsm.createPartition(src.admin, { name: 'p1' });
  await src.hsm.createUser(src.admin, { name: 'alice', password: PASSWORD, role: 'user', partition: 'p1' });
  const alice = (await src.hsm.login({ user: 'alice', password: PASSWORD })).session;
  const ed = await src.hsm.generateKeyPair(alice, { mechanism: 'EC-EDWARDS-KEY-PAIR-GEN', publicTemplate: { curve: 'Ed25519' }, privateTemplate: { sign: true } });
  const sig = (await src.hsm.sign(alice, { key: ed.privateKey, mechanism: 'EDDSA', data: DATA })).signature;
  const out = await src.hsm.exportBackup(src.admin, { shares: 1, threshold: 1 });

  const other = await freshModule();
  const seen = await observe(other.hsm, other.admin);
  await assert.rejects(other.hsm.restoreBackup(other.admin, { backup: out.backup }), isCode('ARGUMENTS_BAD'));
  assert.equal(await observe(other.hsm, other.admin), seen);

  const same = await freshModule(master);
  const r = await same.hsm.restoreBackup(same.admin, { backup: out.backup });
  assert.equal(r.keySource, 'master-key');
  const a2 = (await same.hsm.login({ user: 'alice', password: PASSWORD })).session;
  assert.equal(hex((await same.hsm.sign(a2, { key: ed.privateKey, mechanism: 'EDDSA', data: DATA })).signature), hex(sig));
  for (const m of [src, other, same]) m.hsm.close();
});

test('corrupted, truncated, extended or wrongly keyed backups are refused with a code and change nothing', async () => {
  const t = await testHsm();
  await populate(t.hsm, t.user);
  const out = await t.hsm.exportBackup(t.admin, { shares: 3, threshold: 2 });
  const second = await t.hsm.exportBackup(t.admin, { shares: 3, threshold: 2 });
  await t.close();

  const target = await freshModule();
  const seen = await observe(target.hsm, target.admin);
  const shares = [out.shares[0]!.share, out.shares[1]!.share];
  const restore = (backup: Uint8Array, s: readonly unknown[] = shares) => target.hsm.restoreBackup(target.admin, { backup, shares: s });
  const flip = (at: number): Uint8Array => {
    const b = Uint8Array.from(out.backup);
    b[at]! ^= 0x01;
    return b;
  };
  const headerEnd = 12 + Buffer.from(out.backup).readUInt32BE(8);
  const cases: [string, Promise<unknown>, string][] = [
    ['flip a payload byte', restore(flip(headerEnd + 100)), 'BACKUP_INVALID'],
    ['flip the last byte (tag)', restore(flip(out.backup.length - 1)), 'BACKUP_INVALID'],
    ['flip the magic', restore(flip(0)), 'BACKUP_INVALID'],
    ['flip a header byte', restore(flip(headerEnd - 3)), 'BACKUP_INVALID'],
    ['truncate by one byte', restore(out.backup.subarray(0, out.backup.length - 1)), 'BACKUP_INVALID'],
    ['truncate to half', restore(out.backup.subarray(0, out.backup.length >> 1)), 'BACKUP_INVALID'],
    ['truncate inside the header', restore(out.backup.subarray(0, 40)), 'BACKUP_INVALID'],
    ['extend by one byte', restore(Buffer.concat([out.backup, Buffer.of(0)])), 'BACKUP_INVALID'],
    ['empty file', restore(new Uint8Array(0)), 'BACKUP_INVALID'],
    ['one share of two', restore(out.backup, [shares[0]]), 'SHARE_INVALID'],
    ['the same share twice', restore(out.backup, [shares[0], shares[0]]), 'SHARE_INVALID'],
    ["another backup's shares", restore(out.backup, [second.shares[0]!.share, second.shares[1]!.share]), 'SHARE_INVALID'],
    ['a share with one bit flipped', restore(out.backup, [shares[0], flipShare(shares[1]!)]), 'SHARE_INVALID'],
    ['no shares, another master key', restore(out.backup, []), 'ARGUMENTS_BAD'],
    ['a share that is not base64', restore(out.backup, ['not a share!', shares[1]]), 'SHARE_INVALID'],
    ['not bytes', target.hsm.restoreBackup(target.admin, { backup: 'abc' as unknown as Uint8Array, shares }), 'ARGUMENTS_BAD'],
  ];
  for (const [name, p, code] of cases) {
    await assert.rejects(p, isCode(code), name);
    assert.equal(await observe(target.hsm, target.admin), seen, `${name}: nothing changed`);
  }
  // The untouched file still restores: the refusals above left no partial state behind.
  const r = await restore(out.backup);
  assert.equal(r.counts.objects, out.counts.objects);
  target.hsm.close();
});

function flipShare(s: string): string {
  const b = Buffer.from(s, 'base64');
  b[0]! ^= 0x01;
  return b.toString('base64');
}

test('attacks.md D-18: backup and cloning need the admin, the backup key material, an empty module, and intact bytes', async () => {
  const t = await testHsm();
  await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true, token: true, label: 'Quarterly-Payroll-Key' } });
  // Request a backup as CU (partition user), as CO (officer), as auditor: refused.
  for (const s of [t.user, t.officer, t.auditor]) await assert.rejects(t.hsm.exportBackup(s, { shares: 1, threshold: 1 }), isCode('USER_TYPE_INVALID'));
  const out: BackupExported = await t.hsm.exportBackup(t.admin, { shares: 2, threshold: 2 });
  // Restore requires the admin too.
  for (const s of [t.user, t.officer, t.auditor]) {
    await assert.rejects(t.hsm.restoreBackup(s, { backup: out.backup, shares: out.shares.map((x) => x.share) }), isCode('USER_TYPE_INVALID'));
  }
  // Restore into an attacker-controlled instance (another master key) without the backup's own key material: refused.
  const attacker = await freshModule();
  await assert.rejects(attacker.hsm.restoreBackup(attacker.admin, { backup: out.backup }), isCode('ARGUMENTS_BAD'));
  await assert.rejects(attacker.hsm.restoreBackup(attacker.admin, { backup: out.backup, shares: [out.shares[0]!.share] }), isCode('SHARE_INVALID'));
  // Tampered backup bytes: integrity failure.
  const tampered = Uint8Array.from(out.backup);
  tampered[tampered.length - 20]! ^= 0x80;
  await assert.rejects(attacker.hsm.restoreBackup(attacker.admin, { backup: tampered, shares: out.shares.map((x) => x.share) }), isCode('BACKUP_INVALID'));
  // An old backup cannot be put back over live keys (D-12 rollback by restore): the source module holds keys.
  await assert.rejects(t.hsm.restoreBackup(t.admin, { backup: out.backup }), isCode('ALREADY_EXISTS'));
  // The clear header tells nothing but counts and the key-opening metadata.
  const head = Buffer.from(out.backup).subarray(12, 12 + Buffer.from(out.backup).readUInt32BE(8)).toString('utf8');
  assert.doesNotMatch(head, /alice|officer|"p1"|Quarterly-Payroll-Key|scrypt/, 'no names, labels or hashes in the clear header');
  // Every refusal is on the audit record.
  const records = await t.hsm.listAudit(t.auditor);
  const roleRefusals = records.filter((r) => r.op === 'authorise' && r.code === 'USER_TYPE_INVALID');
  assert.ok(roleRefusals.length >= 6, `role refusals audited: ${roleRefusals.length}`);
  assert.ok(records.some((r) => r.op === 'backup.restore' && r.outcome === 'refused' && r.code === 'ALREADY_EXISTS'), 'restore refusal audited');
  await t.close();
  attacker.hsm.close();
});

test('export verifies and audits; shares can go to custodians; the header is readable without a key', async () => {
  const t = await testHsm();
  const custodian = generateKeyPairSync('x25519');
  const out = await t.hsm.exportBackup(t.admin, {
    shares: 2,
    threshold: 1,
    custodians: [{ kind: 'x25519', publicKey: custodian.publicKey.export({ format: 'der', type: 'spki' }) }, null],
  });
  assert.equal(out.shares[0]!.encoding, 'x25519');
  assert.match(out.shares[0]!.share, /^x25519:/);
  assert.equal(out.shares[1]!.encoding, 'clear');
  const d = describeBackup(out.backup);
  assert.equal(d.backupId, out.backupId);
  assert.deepEqual(d.shares, { count: 2, threshold: 1 });
  assert.equal(d.masterKeyWrapped, true);
  const ops = (await t.hsm.listAudit(t.auditor)).map((r) => r.op);
  assert.ok(ops.includes('backup.snapshot') && ops.includes('backup.export'));
  // An encrypted share is refused with a hint to decrypt it first.
  const target = await freshModule();
  await assert.rejects(target.hsm.restoreBackup(target.admin, { backup: out.backup, shares: [out.shares[0]!.share] }), isCode('SHARE_INVALID'));
  const r = await target.hsm.restoreBackup(target.admin, { backup: out.backup, shares: [out.shares[1]!.share] });
  assert.equal(r.counts.partitions, 1);
  await assert.rejects(t.hsm.exportBackup(t.admin, { shares: 2, threshold: 3 }), isCode('ARGUMENTS_BAD'));
  await assert.rejects(t.hsm.exportBackup(t.admin, { shares: 17, threshold: 1 }), isCode('ARGUMENTS_BAD'));
  await t.close();
  target.hsm.close();
});

test('attacks.md D-18: with a backup.export quorum, export runs only after M other admins approve the exact request, once', async () => {
  const t = await testHsm();
  for (const name of ['admin2', 'admin3']) await t.hsm.createUser(t.admin, { name, password: PASSWORD, role: 'admin' });
  t.hsm.setQuorumPolicy(t.admin, { class: 'backup.export', quorum: 2 });
  const ask = { shares: 2, threshold: 2 };
  let pending: QuorumRequiredError | undefined;
  await assert.rejects(t.hsm.exportBackup(t.admin, ask), (e: unknown) => {
    assert.ok(e instanceof QuorumRequiredError, String(e));
    pending = e;
    return true;
  });
  // Asking for something else (other share counts) is not what was approved.
  for (const name of ['admin2', 'admin3']) {
    const s = (await t.hsm.login({ user: name, password: PASSWORD })).session;
    await t.hsm.approveQuorumRequest(s, { request: pending!.request, digest: pending!.digest });
  }
  await assert.rejects(t.hsm.exportBackup(t.admin, { shares: 3, threshold: 2 }), isCode('QUORUM_REQUIRED'));
  const out = await t.hsm.exportBackup(t.admin, ask);
  assert.equal(out.verified, true);
  // The approval is spent: the same call again needs a new quorum.
  await assert.rejects(t.hsm.exportBackup(t.admin, ask), isCode('QUORUM_REQUIRED'));
  await t.close();
});

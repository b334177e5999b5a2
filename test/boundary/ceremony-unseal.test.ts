// The Shamir ceremony through the boundary: init M-of-N, unseal by shares over separate calls in
// any order, wrong/corrupted/foreign shares refused with SHARE_INVALID, timeout and seal reset the
// progress, seal forgets keys and ends sessions.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Hsm, type HsmOptions, type SharesIssued } from '../../src/boundary/api.js';
import { expectCode } from '../support/expect-code.js';
import { PASSWORD, TEST_SCRYPT } from '../support/hsm.js';

const ADMIN = { name: 'admin', password: PASSWORD };

async function initialised(n: number, m: number, options: Partial<HsmOptions> = {}): Promise<{ hsm: Hsm; issued: SharesIssued; shares: string[] }> {
  const hsm = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT, ...options });
  const issued = await hsm.initializeWithShares({ shares: n, threshold: m, admin: ADMIN });
  return { hsm, issued, shares: issued.shares.map((s) => s.share) };
}

/** A share with one byte of its y-values flipped: still the right length and base64. */
function corrupt(share: string, at = 3): string {
  const b = Buffer.from(share, 'base64');
  b[at]! ^= 0x01;
  return b.toString('base64');
}

test('init 3-of-5 returns five distinct clear shares once and leaves the module sealed', async () => {
  const { hsm, issued, shares } = await initialised(5, 3);
  assert.equal(issued.threshold, 3);
  assert.deepEqual(issued.shares.map((s) => [s.index, s.encoding]), [1, 2, 3, 4, 5].map((i) => [i, 'clear']));
  assert.equal(new Set(shares).size, 5);
  for (const s of shares) assert.equal(Buffer.from(s, 'base64').length, 33);
  assert.equal(hsm.status().state, 'sealed');
  assert.deepEqual({ ...hsm.ceremonyStatus(), state: undefined }, { initialized: true, state: undefined, shares: 5, threshold: 3, epoch: 1, unsealProgress: 0 });
  await expectCode(() => hsm.initializeWithShares({ shares: 5, threshold: 3, admin: ADMIN }), 'ALREADY_INITIALIZED');
  await expectCode(() => hsm.login({ user: 'admin', password: PASSWORD }), 'SEALED');
  hsm.close();
});

test('any three of five unseal, in separate calls and any order; two do not', async () => {
  const { hsm, shares } = await initialised(5, 3);
  for (const pick of [[0, 1, 2], [4, 2, 0], [3, 1, 4], [2, 3, 4]]) {
    const a = await hsm.submitUnsealShare(shares[pick[0]!]);
    assert.deepEqual(a, { progress: 1, threshold: 3, unsealed: false });
    const b = await hsm.submitUnsealShare(shares[pick[1]!]);
    assert.deepEqual(b, { progress: 2, threshold: 3, unsealed: false }, 'two shares do not unseal');
    assert.equal(hsm.status().state, 'sealed');
    const c = await hsm.submitUnsealShare(shares[pick[2]!]);
    assert.deepEqual(c, { progress: 3, threshold: 3, unsealed: true }, `shares ${pick} unseal`);
    assert.equal(hsm.status().state, 'unsealed');
    await hsm.login({ user: 'admin', password: PASSWORD });
    hsm.seal();
  }
  hsm.close();
});

test('a duplicate share counts once', async () => {
  const { hsm, shares } = await initialised(5, 3);
  await hsm.submitUnsealShare(shares[0]);
  assert.equal((await hsm.submitUnsealShare(shares[0])).progress, 1);
  assert.equal((await hsm.submitUnsealShare(` ${shares[0]}\n`)).progress, 1, 'surrounding whitespace does not make a new share');
  assert.equal((await hsm.submitUnsealShare(Buffer.from(shares[0]!, 'base64'))).progress, 1, 'bytes or base64, the same share');
  assert.equal(hsm.status().state, 'sealed');
  hsm.close();
});

test('a corrupted share is refused at once with SHARE_INVALID and does not count', async () => {
  const { hsm, shares } = await initialised(5, 3);
  await hsm.submitUnsealShare(shares[0]);
  for (const at of [0, 16, 31, 32]) await expectCode(() => hsm.submitUnsealShare(corrupt(shares[1]!, at)), 'SHARE_INVALID', `byte ${at} flipped`);
  await expectCode(() => hsm.submitUnsealShare(shares[1]!.slice(0, -4)), 'SHARE_INVALID', 'truncated');
  await expectCode(() => hsm.submitUnsealShare('not base64 at all!'), 'SHARE_INVALID', 'garbage');
  await expectCode(() => hsm.submitUnsealShare(`x25519:${shares[1]}`), 'SHARE_INVALID', 'still encrypted');
  await expectCode(() => hsm.submitUnsealShare(42), 'ARGUMENTS_BAD', 'not a string');
  assert.equal(hsm.ceremonyStatus().unsealProgress, 1);
  await hsm.submitUnsealShare(shares[1]);
  assert.equal((await hsm.submitUnsealShare(shares[2])).unsealed, true);
  // The refusals made while sealed are on the record once the module can write one.
  const s = (await hsm.login({ user: 'admin', password: PASSWORD })).session;
  const s2 = await hsm.createUser(s, { name: 'aud', password: PASSWORD, role: 'auditor' }).then(() => hsm.login({ user: 'aud', password: PASSWORD }));
  const records = hsm.listAudit(s2.session);
  assert.ok(records.some((r) => r.op === 'ceremony.unseal' && /8 invalid share submissions refused while sealed/.test(r.detail ?? '')), 'refusals audited at unseal');
  hsm.close();
});

test("a share from another module is refused; so is a mix that would rebuild another module's key", async () => {
  const a = await initialised(3, 2);
  const b = await initialised(3, 2);
  await expectCode(() => a.hsm.submitUnsealShare(b.shares[0]), 'SHARE_INVALID');
  await a.hsm.submitUnsealShare(a.shares[0]);
  await expectCode(() => a.hsm.submitUnsealShare(b.shares[1]), 'SHARE_INVALID');
  assert.equal(a.hsm.status().state, 'sealed');
  a.hsm.close();
  b.hsm.close();
});

test('progress resets after the timeout and the partial shares are gone', async () => {
  const { hsm, shares } = await initialised(5, 3, { shareTimeoutMs: 60 });
  await hsm.submitUnsealShare(shares[0]);
  await hsm.submitUnsealShare(shares[1]);
  assert.equal(hsm.ceremonyStatus().unsealProgress, 2);
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(hsm.ceremonyStatus().unsealProgress, 0);
  assert.deepEqual(await hsm.submitUnsealShare(shares[2]), { progress: 1, threshold: 3, unsealed: false }, 'starts again from one');
  hsm.close();
});

test('seal resets progress, forgets every key and ends every session', async () => {
  const { hsm, shares } = await initialised(3, 2);
  await hsm.submitUnsealShare(shares[0]);
  await hsm.submitUnsealShare(shares[1]);
  const admin = (await hsm.login({ user: 'admin', password: PASSWORD })).session;
  hsm.createPartition(admin, { name: 'p1' });
  await hsm.createUser(admin, { name: 'alice', password: PASSWORD, role: 'user', partition: 'p1' });
  const user = (await hsm.login({ user: 'alice', password: PASSWORD })).session;
  const { privateKey } = await hsm.generateKeyPair(user, { mechanism: 'EC-EDWARDS-KEY-PAIR-GEN', publicTemplate: { curve: 'Ed25519' }, privateTemplate: { sign: true } });
  await hsm.sign(user, { key: privateKey, mechanism: 'EDDSA', data: Buffer.from('x') });
  assert.ok(hsm.status().cachedKeys > 0);
  await expectCode(() => hsm.sealModule(user), 'USER_TYPE_INVALID', 'only an admin seals');
  hsm.sealModule(admin);
  assert.equal(hsm.status().state, 'sealed');
  assert.equal(hsm.status().cachedKeys, 0);
  assert.equal(hsm.status().sessions, 0);
  await expectCode(() => hsm.sign(user, { key: privateKey, mechanism: 'EDDSA', data: Buffer.from('x') }), 'SEALED');
  // Progress started while sealed is dropped by a seal too.
  await hsm.submitUnsealShare(shares[2]);
  assert.equal(hsm.ceremonyStatus().unsealProgress, 1);
  hsm.seal();
  assert.equal(hsm.ceremonyStatus().unsealProgress, 0);
  await hsm.submitUnsealShare(shares[2]);
  assert.equal((await hsm.submitUnsealShare(shares[0])).unsealed, true);
  const again = (await hsm.login({ user: 'alice', password: PASSWORD })).session;
  assert.ok((await hsm.sign(again, { key: privateKey, mechanism: 'EDDSA', data: Buffer.from('x') })).signature.length === 64);
  hsm.close();
});

test('shares and threshold are validated before anything is created', async () => {
  const hsm = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT });
  for (const [n, m] of [[0, 0], [17, 2], [3, 4], [3, 0], [2.5, 1]] as const) {
    await expectCode(() => hsm.initializeWithShares({ shares: n, threshold: m, admin: ADMIN }), 'ARGUMENTS_BAD', `${m} of ${n}`);
  }
  await expectCode(() => hsm.initializeWithShares({ shares: 2, threshold: 1, admin: ADMIN, custodians: [{ kind: 'passphrase', passphrase: 'short' }] }), 'ARGUMENTS_BAD');
  await expectCode(() => hsm.initializeWithShares({ shares: 2, threshold: 1, admin: ADMIN, custodians: [null, null, null] }), 'ARGUMENTS_BAD');
  await expectCode(() => hsm.initializeWithShares({ shares: 2, threshold: 1, admin: { name: 'admin', password: 'x' } }), 'PIN_LEN_RANGE');
  assert.equal(hsm.status().state, 'uninitialized');
  hsm.close();
});

test('1-of-1 and 1-of-3 work (every share alone unseals); 16-of-16 works', async () => {
  const one = await initialised(1, 1);
  assert.equal((await one.hsm.submitUnsealShare(one.shares[0])).unsealed, true);
  one.hsm.close();
  const any = await initialised(3, 1);
  for (const s of any.shares) {
    assert.equal((await any.hsm.submitUnsealShare(s)).unsealed, true);
    any.hsm.seal();
  }
  any.hsm.close();
  const all = await initialised(16, 16);
  for (const [i, s] of all.shares.entries()) assert.equal((await all.hsm.submitUnsealShare(s)).unsealed, i === 15);
  all.hsm.close();
});

test('SQLite: shares unseal a reopened store; an edited share record is tamper at unseal', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-ceremony-'));
  try {
    const path = join(dir, 'c.db');
    let hsm = await Hsm.open({ store: { kind: 'sqlite', path }, scrypt: TEST_SCRYPT });
    const shares = (await hsm.initializeWithShares({ shares: 3, threshold: 2, admin: ADMIN })).shares.map((s) => s.share);
    hsm.close();
    hsm = await Hsm.open({ store: { kind: 'sqlite', path }, scrypt: TEST_SCRYPT });
    assert.equal(hsm.status().state, 'sealed');
    await hsm.submitUnsealShare(shares[2]);
    assert.equal((await hsm.submitUnsealShare(shares[1])).unsealed, true);
    hsm.close();
    // Widen the record's threshold behind the module's back: the row tag no longer verifies.
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path);
    const row = db.prepare("SELECT body FROM system WHERE name = 'ceremony'").get() as { body: string };
    db.prepare("UPDATE system SET body = ? WHERE name = 'ceremony'").run(row.body.replace('"threshold":2', '"threshold":3'));
    db.close();
    hsm = await Hsm.open({ store: { kind: 'sqlite', path }, scrypt: TEST_SCRYPT });
    for (const s of shares) {
      const r = await hsm.submitUnsealShare(s).catch((e: unknown) => e);
      if (r instanceof Error) {
        assert.equal((r as { code?: string }).code, 'TAMPER_DETECTED');
        break;
      }
    }
    assert.equal(hsm.status().state, 'error');
    hsm.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

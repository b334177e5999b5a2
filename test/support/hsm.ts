// Test support: an in-memory module with a partition and one account per role, plus helpers
// that prove a key's value through the HSM without ever reading it. Tests drive Coffer only
// through the boundary's one door (src/boundary/api.ts).

import { createHmac } from 'node:crypto';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hsm, type HsmOptions, type KeyType, SecretBytes, type Template } from '../../src/boundary/api.js';

export const PASSWORD = 'correct horse battery staple';
/** Cheap scrypt for tests only (production default is N=2^15). */
export const TEST_SCRYPT = { N: 1024, r: 8, p: 1 };

export interface TestHsm {
  hsm: Hsm;
  partition: string;
  /** Session of the partition user (uses keys). */
  user: string;
  /** Session of the partition officer (manages users and trust; cannot use keys). */
  officer: string;
  /** Session of the appliance admin. */
  admin: string;
  /** Session of the auditor. */
  auditor: string;
  close(): Promise<void>;
}

export async function testHsm(options: Partial<HsmOptions> = {}): Promise<TestHsm> {
  const hsm = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT, ...options });
  await hsm.initialize(SecretBytes.random(32), { name: 'admin', password: PASSWORD });
  const admin = (await hsm.login({ user: 'admin', password: PASSWORD })).session;
  hsm.createPartition(admin, { name: 'p1' });
  await hsm.createUser(admin, { name: 'officer', password: PASSWORD, role: 'officer', partition: 'p1' });
  await hsm.createUser(admin, { name: 'alice', password: PASSWORD, role: 'user', partition: 'p1' });
  await hsm.createUser(admin, { name: 'auditor', password: PASSWORD, role: 'auditor' });
  const officer = (await hsm.login({ user: 'officer', password: PASSWORD })).session;
  const user = (await hsm.login({ user: 'alice', password: PASSWORD })).session;
  const auditor = (await hsm.login({ user: 'auditor', password: PASSWORD })).session;
  return { hsm, partition: 'p1', user, officer, admin, auditor, close: async () => hsm.close() };
}

/** Clear import of a secret key by the partition user. */
export async function importSecret(t: TestHsm, keyType: KeyType, value: Uint8Array, usage: Template = {}): Promise<string> {
  return t.hsm.createObject(t.user, { class: 'secret-key', keyType, value, token: false, ...usage });
}

/** The officer loads a trusted wrapping key (a clear-imported key may wrap only when trusted: attacks.md A-12). */
export async function importTrustedWrapKey(t: TestHsm, keyType: KeyType, value: Uint8Array): Promise<string> {
  return t.hsm.createObject(t.officer, { class: 'secret-key', keyType, value, wrap: true, unwrap: true, trusted: true });
}

const PROBE = Buffer.from('coffer key-value probe');

/** Proves that key `uid` (generic-secret, sign:true) has value `expected`: HMAC-SHA256 in the HSM and here must agree. */
export async function expectKeyValue(t: TestHsm, uid: string, expected: Uint8Array, message?: string): Promise<void> {
  const { signature } = await t.hsm.sign(t.user, { key: uid, mechanism: 'HMAC-SHA256', data: PROBE });
  const want = createHmac('sha256', expected).update(PROBE).digest();
  assert.equal(Buffer.from(signature).toString('hex'), want.toString('hex'), message ?? `key ${uid} has the expected value`);
}

const here = dirname(fileURLToPath(import.meta.url));
/** dist/test/support → repository root → ../shared/vectors. */
export function vectorsDir(): string {
  return process.env.COFFER_VECTORS ?? resolve(here, '../../../../shared/vectors');
}

/**
 * Reads a Wycheproof file. Missing vectors fail the run under CI (CI=true) and skip loudly
 * elsewhere: the caller passes the test context's skip.
 */
export function loadWycheproof<T = WycheproofFile>(name: string, skip?: (why: string) => void): T | undefined {
  const path = join(vectorsDir(), 'wycheproof', name);
  if (!existsSync(path)) {
    const why = `Wycheproof vectors missing: ${path} (set COFFER_VECTORS)`;
    if (process.env.CI === 'true' || !skip) throw new Error(why);
    console.warn(`SKIPPED: ${why}`);
    skip(why);
    return undefined;
  }
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export interface WycheproofTest {
  tcId: number;
  comment: string;
  result: 'valid' | 'invalid' | 'acceptable';
  flags: string[];
  [field: string]: unknown;
}

export interface WycheproofFile {
  algorithm: string;
  numberOfTests: number;
  testGroups: { tests: WycheproofTest[]; [field: string]: unknown }[];
}

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

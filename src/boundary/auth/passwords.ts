// Password hashing with scrypt (RFC 7914) and constant-time comparison. Hashes are stored as
// `scrypt$N$r$p$salt$hash` (base64) so the cost can rise later without breaking old accounts.

import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { HsmError } from '../errors.js';

export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

/** ~50 ms on the development machine; OWASP's minimum for scrypt is N=2^17 with r=8 at p=1, or N=2^15 with p=3 (memory-bound alternatives). */
export const DEFAULT_SCRYPT: ScryptCost = { N: 2 ** 15, r: 8, p: 1 };

const MIN_PASSWORD = 8;
const MAX_PASSWORD = 1024;

function run(password: string, salt: Buffer, cost: ScryptCost, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, { N: cost.N, r: cost.r, p: cost.p, maxmem: 256 * cost.N * cost.r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export function checkPasswordPolicy(password: unknown): asserts password is string {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
    throw new HsmError('PIN_LEN_RANGE', `passwords are ${MIN_PASSWORD} to ${MAX_PASSWORD} characters`);
  }
}

export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_SCRYPT): Promise<string> {
  checkPasswordPolicy(password);
  const salt = randomBytes(16);
  const hash = await run(password, salt, cost, 32);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Constant-time check; a malformed stored hash is a bug in our store, so it throws TypeError. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw new TypeError('malformed password hash');
  const cost = { N: Number(parts[1]), r: Number(parts[2]), p: Number(parts[3]) };
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (typeof password !== 'string' || password.length > MAX_PASSWORD) {
    await run('', salt, cost, expected.length); // same work either way: no timing hint
    return false;
  }
  const actual = await run(password, salt, cost, expected.length);
  return timingSafeEqual(actual, expected);
}

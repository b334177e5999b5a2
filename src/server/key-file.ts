// The unseal key file: 32 random bytes, base64, mode 0600. It is the development stand-in for
// the Shamir ceremony (issue 4 replaces it): whoever can read it holds the master key, which is
// why every start-up that uses it says so.

import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { SecretBytes } from '../boundary/api.js';

export function readOrCreateKeyFile(path: string): { key: SecretBytes; created: boolean } {
  if (!existsSync(path)) {
    const key = SecretBytes.random(32);
    writeFileSync(path, `${key.insecureBytes().toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return { key, created: true };
  }
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) chmodSync(path, 0o600); // never leave the key readable by others
  const raw = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (raw.length !== 32) {
    raw.fill(0);
    throw new Error(`${path} does not hold a 32-byte base64 master key`);
  }
  const key = SecretBytes.from(raw);
  raw.fill(0);
  return { key, created: false };
}

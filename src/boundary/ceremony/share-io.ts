// Shamir shares in and out of the boundary, for the master-key ceremony and for backups alike:
// each share leaves once, as clear base64 or sealed to its custodian, and comes back as clear
// base64 (custodians decrypt on their own machines) into a SecretBytes.

import { type CustodianKey, sealShareFor } from './custodian-seal.js';
import { SHARE_BYTES } from './shamir.js';
import { HsmError } from '../errors.js';
import { SecretBytes } from '../secret.js';

export interface ShareOut {
  /** 1-based position, matching `custodians`. */
  index: number;
  encoding: 'clear' | 'x25519' | 'rsa-oaep-sha256' | 'scrypt';
  /** Clear: base64 of the share. Encrypted: `<encoding>:<base64>` (docs/ceremony.md, "Share formats"). */
  share: string;
}

/** Serialises each share once for output: clear base64, or sealed to its custodian. */
export async function issueShares(shares: readonly SecretBytes[], custodians: readonly (CustodianKey | undefined)[]): Promise<ShareOut[]> {
  const out: ShareOut[] = [];
  for (const [i, share] of shares.entries()) {
    const c = custodians[i];
    if (!c) {
      out.push({ index: i + 1, encoding: 'clear', share: share.insecureBytes().toString('base64') });
      continue;
    }
    const sealed = await sealShareFor(c, share);
    out.push({ index: i + 1, encoding: sealed.slice(0, sealed.indexOf(':')) as ShareOut['encoding'], share: sealed });
  }
  return out;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A clear share as base64 text or bytes; an encrypted one is refused with a hint (custodians decrypt first). */
export function decodeShare(input: unknown, decryptHint?: string): SecretBytes {
  if (input instanceof Uint8Array) {
    if (input.length !== SHARE_BYTES) throw new HsmError('SHARE_INVALID', `a share is ${SHARE_BYTES} bytes`);
    return SecretBytes.from(input);
  }
  if (typeof input !== 'string') throw new HsmError('ARGUMENTS_BAD', 'share must be base64 text');
  const text = input.trim();
  if (/^[a-z0-9-]+:/.test(text)) throw new HsmError('SHARE_INVALID', `this share is encrypted to its custodian: decrypt it first${decryptHint ? ` (${decryptHint})` : ''}`);
  if (!B64.test(text) || text.length > 64) throw new HsmError('SHARE_INVALID', 'a share is base64 text');
  const raw = Buffer.from(text, 'base64');
  if (raw.length !== SHARE_BYTES) {
    raw.fill(0);
    throw new HsmError('SHARE_INVALID', `a share is ${SHARE_BYTES} bytes`);
  }
  return SecretBytes.adopt(raw);
}

// The store's subkeys, each derived from the master key with its own HKDF-SHA256 label
// (RFC 5869) so no key serves two purposes. The master key itself is never kept: callers pass
// it to initialize/unseal, the subkeys live only while the vault is unsealed.

import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { HsmError } from '../errors.js';
import type { SecretBytes } from '../secret.js';

export const LABELS = {
  partitionWrap: 'coffer/v1/partition-wrap',
  storeMac: 'coffer/v1/store-mac',
  keyCheck: 'coffer/v1/key-check',
  anchorMac: 'coffer/v1/anchor-mac',
  backupWrap: 'coffer/v1/backup-wrap',
} as const;

export interface StoreKeys {
  /** AES-256-GCM key wrapping each partition's key. */
  partitionWrap: KeyObject;
  /** HMAC-SHA256 key for row tags, set digest members and the header tag. */
  storeMac: KeyObject;
  /** HMAC-SHA256 key for the rollback anchor file. */
  anchorMac: KeyObject;
  /** AES-256-GCM key sealing each backup's key, so a module with this master key restores without backup shares (docs/backup.md). */
  backupWrap: KeyObject;
  /** HMAC(HKDF(master, key-check), 'coffer'): compared with the header to recognise the master key. */
  keyCheck: Buffer;
}

function derive(master: Buffer, label: string): KeyObject {
  // RFC 5869 §2: empty salt (the master key is already uniformly random), label as info.
  const okm = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), label, 32));
  const key = createSecretKey(okm);
  okm.fill(0);
  return key;
}

export function deriveStoreKeys(masterKey: SecretBytes): StoreKeys {
  if (masterKey.length !== 32) throw new HsmError('ARGUMENTS_BAD', 'master key must be 32 bytes');
  const master = masterKey.insecureBytes();
  const check = derive(master, LABELS.keyCheck);
  return {
    partitionWrap: derive(master, LABELS.partitionWrap),
    storeMac: derive(master, LABELS.storeMac),
    anchorMac: derive(master, LABELS.anchorMac),
    backupWrap: derive(master, LABELS.backupWrap),
    keyCheck: createHmac('sha256', check).update('coffer').digest(),
  };
}

// Data keys for envelope encryption (AWS KMS GenerateDataKey): a fresh random key returned once in
// the clear and once encrypted under a master key. The only reveal is here, gated by the master
// key's encrypt usage (the encrypt runs through the full guard pipeline first) and audited.

import { randomBytes } from 'node:crypto';
import { HsmError } from '../errors.js';
import type { MechanismParams } from '../mechanisms/types.js';
import { SecretBytes } from '../secret.js';
import type { KeyRef, ModuleCore } from './core.js';
import type { Operations } from './operations.js';

export interface DataKey {
  /** The data key in the clear: the caller's to use and destroy. */
  plaintext: SecretBytes;
  /** The data key encrypted under `key`. */
  ciphertext: Uint8Array;
  params?: MechanismParams;
  keyVersion: number;
}

export class DataKeys {
  constructor(
    private readonly core: ModuleCore,
    private readonly ops: Operations,
  ) {}

  /** Generates `length` random bytes (1–1024, as AWS allows) and encrypts them under `key` with `mechanism`; returns both. */
  async insecureGenerateDataKey(session: string, input: { key: KeyRef; mechanism: string; length: number; params?: MechanismParams }): Promise<DataKey> {
    const s = this.core.session(session, 'user');
    if (!Number.isSafeInteger(input?.length) || input.length < 1 || input.length > 1024) throw new HsmError('ARGUMENTS_BAD', 'a data key is 1 to 1024 bytes');
    const plaintext = SecretBytes.from(randomBytes(input.length));
    try {
      // Encrypt first: a key without encrypt usage (or disabled, or another partition's) refuses here and nothing is revealed.
      const enc = await this.ops.encrypt(session, { key: input.key, mechanism: input.mechanism, data: plaintext.insecureBytes(), params: input.params ?? {} });
      this.core.audit({ actor: s.user, partition: s.partition, op: 'kms.data-key.reveal', target: input.key, outcome: 'ok', detail: `${input.length} bytes` });
      const out: DataKey = { plaintext, ciphertext: enc.data, keyVersion: enc.keyVersion };
      if (enc.params) out.params = enc.params;
      return out;
    } catch (e) {
      plaintext.destroy();
      throw e;
    }
  }
}

// Data keys for envelope encryption (AWS KMS GenerateDataKey): a fresh random key returned once in
// the clear and once encrypted under a master key. The only reveal is here, gated by the master
// key's encrypt usage (the encrypt runs through the full guard pipeline first) and audited.
// Also the other KMS operations whose intermediate secrets must stay inside: ReEncrypt (the
// plaintext is never returned), data key pairs (generated here) and ECDH shared secrets.

import { randomBytes } from 'node:crypto';
import { HsmError } from '../errors.js';
import type { MechanismParams } from '../mechanisms/types.js';
import { SecretBytes } from '../secret.js';
import type { KeyRef, ModuleCore } from './core.js';
import type { Curve } from '../types.js';
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

  /**
   * Decrypts under the source key and encrypts the result under the destination key in one call:
   * the plaintext never leaves the boundary (AWS KMS ReEncrypt). Both keys pass the full guard
   * pipeline with their own usage (decrypt, encrypt); the intermediate plaintext is zeroed.
   */
  async reEncrypt(
    session: string,
    input: { source: { key: KeyRef; mechanism: string; data: Uint8Array; params?: MechanismParams; keyVersion?: number }; destination: { key: KeyRef; mechanism: string; params?: MechanismParams } },
  ): Promise<{ data: Uint8Array; params?: MechanismParams; keyVersion: number }> {
    const s = this.core.session(session, 'user');
    if (typeof input?.source !== 'object' || typeof input.destination !== 'object' || input.source === null || input.destination === null) throw new HsmError('ARGUMENTS_BAD', 'source and destination are required');
    const plain = await this.ops.decrypt(session, input.source);
    try {
      const enc = await this.ops.encrypt(session, { key: input.destination.key, mechanism: input.destination.mechanism, data: plain, params: input.destination.params ?? {} });
      this.core.audit({ actor: s.user, partition: s.partition, op: 'kms.re-encrypt', target: String(input.destination.key).slice(0, 300), outcome: 'ok', detail: `from ${String(input.source.key).slice(0, 300)}` });
      const out: { data: Uint8Array; params?: MechanismParams; keyVersion: number } = { data: enc.data, keyVersion: enc.keyVersion };
      if (enc.params) out.params = enc.params;
      return out;
    } finally {
      plain.fill(0);
    }
  }

  /**
   * A fresh asymmetric key pair generated here (AWS KMS GenerateDataKeyPair): the private key as
   * PKCS#8 DER encrypted under `key`, the public key as SPKI DER, and the private key in the clear
   * once (omit it with `withPlaintext: false`). The pair is never stored.
   */
  async insecureGenerateDataKeyPair(
    session: string,
    input: { key: KeyRef; mechanism: string; params?: MechanismParams; pair: { keyType: 'rsa'; modulusBits: 2048 | 3072 | 4096 } | { keyType: 'ec'; curve: Curve }; withPlaintext: boolean },
  ): Promise<{ privatePlaintext?: SecretBytes; privateCiphertext: Uint8Array; publicKey: Uint8Array; params?: MechanismParams; keyVersion: number }> {
    const s = this.core.session(session, 'user');
    const p = input?.pair;
    const rsa = p?.keyType === 'rsa' && [2048, 3072, 4096].includes(p.modulusBits);
    const ec = p?.keyType === 'ec' && ['P-256', 'P-384', 'P-521', 'secp256k1'].includes(p.curve);
    if (!rsa && !ec) throw new HsmError('ARGUMENTS_BAD', 'a data key pair is RSA 2048/3072/4096 or EC P-256/P-384/P-521/secp256k1');
    const kt = this.core.keyTypeOf(p.keyType);
    const spec = kt.normalizeSpec(p.keyType === 'rsa' ? { keyType: 'rsa', modulusBits: p.modulusBits } : { keyType: 'ec', curve: p.curve });
    const gen = await kt.generatePair!(spec);
    try {
      // Encrypt first: a key without encrypt usage (or disabled, or another partition's) refuses here and nothing is revealed.
      const enc = await this.ops.encrypt(session, { key: input.key, mechanism: input.mechanism, data: gen.secret.insecureBytes(), params: input.params ?? {} });
      this.core.audit({ actor: s.user, partition: s.partition, op: input.withPlaintext ? 'kms.data-key-pair.reveal' : 'kms.data-key-pair', target: input.key, outcome: 'ok', detail: p.keyType === 'rsa' ? `rsa ${p.modulusBits}` : `ec ${p.curve}` });
      const out: { privatePlaintext?: SecretBytes; privateCiphertext: Uint8Array; publicKey: Uint8Array; params?: MechanismParams; keyVersion: number } = { privateCiphertext: enc.data, publicKey: gen.publicData, keyVersion: enc.keyVersion };
      if (enc.params) out.params = enc.params;
      if (input.withPlaintext === true) out.privatePlaintext = SecretBytes.from(gen.secret.insecureBytes());
      return out;
    } finally {
      gen.secret.destroy();
    }
  }

  /**
   * ECDH (SP 800-56A Rev 3 §5.7.1.2, the raw Z) between the partition's EC private key and a peer
   * public key, returned in the clear (AWS KMS DeriveSharedSecret). Needs the key's derive usage,
   * and is refused for a key whose derive template constrains what may be derived from it.
   */
  async insecureDeriveSharedSecret(session: string, input: { key: KeyRef; peerPublicKey: Uint8Array }): Promise<SecretBytes> {
    const g = this.core.guard(session, 'derive', input?.key, 'ECDH1-DERIVE', undefined);
    const o = g.resolved.object;
    if (o.attrs.keyType !== 'ec') throw this.core.refused(g.session, 'kms.derive-shared-secret', o.uid, new HsmError('KEY_TYPE_INCONSISTENT', 'ECDH needs an EC private key'));
    if (o.attrs.deriveTemplate) throw this.core.refused(g.session, 'kms.derive-shared-secret', o.uid, new HsmError('ACTION_PROHIBITED', 'a key with a derive template only derives keys'));
    if (!(input.peerPublicKey instanceof Uint8Array)) throw new HsmError('ARGUMENTS_BAD', 'the peer public key is required');
    const p = { publicData: input.peerPublicKey };
    this.core.approval(g, 'derive', p);
    // Z is the field size: 32, 48 and 66 bytes for P-256, P-384 and P-521 (SEC 1 §2.3.5).
    const length = { 'P-256': 32, 'P-384': 48, 'P-521': 66, secp256k1: 32 }[o.attrs.curve as string] ?? 32;
    const z = await this.core.execute(g, 'derive', (k) => g.mech.impl.derive!(k, p, length));
    this.core.audit({ actor: g.session.user, partition: o.partition, op: 'kms.shared-secret.reveal', target: o.uid, outcome: 'ok' });
    return z;
  }
}

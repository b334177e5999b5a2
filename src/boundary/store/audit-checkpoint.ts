// Signed audit checkpoints (docs/audit.md). A checkpoint record says "the chain's head was record
// `seq` with hash `head` at `time`", signed with the boundary's Ed25519 audit key; it is itself a
// chain record, so the next checkpoint covers it. Pure: hashing and Ed25519 only, no store.

import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { AuditCheckpoint, AuditEvent, AuditRecord } from './types.js';

export const CHECKPOINT_OP = 'audit.checkpoint';
const PAYLOAD_TYPE = 'coffer-audit-checkpoint/v1';

/** The exact bytes the signature covers: canonical JSON, so any verifier can rebuild them. */
export function checkpointPayload(cp: Omit<AuditCheckpoint, 'signature'>): Buffer {
  return Buffer.from(canonicalJson({ type: PAYLOAD_TYPE, seq: cp.seq, head: cp.head, time: cp.time, alg: cp.alg, keyId: cp.keyId }), 'utf8');
}

/** 16 hex digits of SHA-256 over the SPKI DER: names the key in each checkpoint. */
export function auditKeyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex').slice(0, 16);
}

/**
 * The checkpoint event for the chain head `head`. Synchronous Ed25519 signing on purpose: it runs
 * inside the store's synchronous write transaction, once per N records (~50 µs).
 */
export function checkpointEvent(head: Pick<AuditRecord, 'seq' | 'hash'>, privateKey: KeyObject, keyId: string): AuditEvent {
  const unsigned: Omit<AuditCheckpoint, 'signature'> = { seq: head.seq, head: head.hash, time: new Date().toISOString(), alg: 'Ed25519', keyId };
  const signature = sign(null, checkpointPayload(unsigned), privateKey).toString('base64'); // RFC 8032 §5.1.6 (pure Ed25519)
  return { actor: 'system', op: CHECKPOINT_OP, outcome: 'ok', checkpoint: { ...unsigned, signature } };
}

/** True if `cp` is well formed and its signature verifies under `publicKey`. Never throws for bad input. */
export function checkpointSignatureValid(cp: unknown, publicKey: KeyObject): boolean {
  if (typeof cp !== 'object' || cp === null) return false;
  const c = cp as Record<string, unknown>;
  if (!Number.isSafeInteger(c.seq) || typeof c.head !== 'string' || typeof c.time !== 'string' || c.alg !== 'Ed25519' || typeof c.keyId !== 'string' || typeof c.signature !== 'string') return false;
  const sig = Buffer.from(c.signature, 'base64');
  if (sig.length !== 64) return false; // RFC 8032 §5.1.7: a signature is 64 bytes
  try {
    return verify(null, checkpointPayload(c as unknown as AuditCheckpoint), publicKey, sig);
  } catch {
    return false;
  }
}

/** Parses an SPKI PEM (or DER) Ed25519 public key; anything else is a usage error for the caller. */
export function parseAuditPublicKey(pem: string | Uint8Array): KeyObject {
  const key = typeof pem === 'string' ? createPublicKey(pem) : createPublicKey({ key: Buffer.from(pem), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('the audit public key must be an Ed25519 key');
  return key;
}

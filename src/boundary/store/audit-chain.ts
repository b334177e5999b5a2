// The audit hash chain (DESIGN §3 Audit). Each record's hash is
// SHA-256(prevHash as 32 raw bytes ‖ UTF-8 canonical JSON of the record without `hash`);
// seq runs from 1 and the first record's prevHash is 64 zeros. verifyAuditChain is what an
// offline verifier runs over an exported log.

import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { AuditRecord } from './types.js';

export const GENESIS_HASH = '0'.repeat(64);

export function auditHash(record: Omit<AuditRecord, 'hash'>): string {
  const { hash: _ignored, ...rest } = record as AuditRecord;
  return createHash('sha256').update(Buffer.from(record.prevHash, 'hex')).update(canonicalJson(rest), 'utf8').digest('hex');
}

export type ChainVerdict = { ok: true; last?: { seq: number; hash: string } } | { ok: false; seq: number; reason: string };

/** Checks seq continuity, prevHash links and each hash; `after` is the record before the first one, if any. */
export function verifyAuditChain(records: readonly AuditRecord[], after?: { seq: number; hash: string }): ChainVerdict {
  let prev = after ?? { seq: 0, hash: GENESIS_HASH };
  for (const r of records) {
    if (r.seq !== prev.seq + 1) return { ok: false, seq: r.seq, reason: `expected seq ${prev.seq + 1}` };
    if (r.prevHash !== prev.hash) return { ok: false, seq: r.seq, reason: 'prevHash does not link' };
    if (auditHash(r) !== r.hash) return { ok: false, seq: r.seq, reason: 'hash mismatch' };
    prev = { seq: r.seq, hash: r.hash };
  }
  return prev.seq === 0 ? { ok: true } : { ok: true, last: prev };
}

// The audit log as JSON Lines and its offline verifier (docs/audit.md). One record per line, in
// the canonical JSON its hash covers (plus the hash). verifyAuditExport needs only the lines and
// the audit public key: SHA-256 and Ed25519, no store, no server, no secret.

import { HsmError } from '../errors.js';
import { CHECKPOINT_OP, checkpointSignatureValid, parseAuditPublicKey } from './audit-checkpoint.js';
import { auditHash, GENESIS_HASH } from './audit-chain.js';
import { canonicalJson } from './canonical-json.js';
import type { AuditRecord } from './types.js';

export function auditExportLine(record: AuditRecord): string {
  return canonicalJson(record);
}

export type AuditExportVerdict =
  | { ok: true; records: number; checkpoints: number; lastSeq: number; lastHash: string; lastCheckpointTime: string }
  | {
      ok: false;
      /** 1-based line of the first record where the chain breaks; lines + 1 when the tail is missing. */
      position: number;
      /** The seq that belongs at that position. */
      expectedSeq: number;
      reason: string;
      /** Records verified before the break. */
      records: number;
    };

export interface AuditVerifyOptions {
  /** The export must reach at least this seq (a head noted out of band: catches truncation back to an older checkpoint). */
  minSeq?: number;
}

const HEX64 = /^[0-9a-f]{64}$/;

function asRecord(v: unknown): AuditRecord | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const r = v as Record<string, unknown>;
  const ok =
    Number.isSafeInteger(r.seq) &&
    typeof r.time === 'string' &&
    typeof r.actor === 'string' &&
    typeof r.op === 'string' &&
    typeof r.outcome === 'string' &&
    typeof r.hash === 'string' &&
    typeof r.prevHash === 'string' &&
    HEX64.test(r.hash) &&
    HEX64.test(r.prevHash);
  return ok ? (v as AuditRecord) : undefined;
}

/**
 * Checks an export from its first record (seq 1) to its last, which must be a signed checkpoint
 * (the export endpoint always appends a fresh one): seq continuity, each prevHash link, each hash,
 * and every checkpoint's coverage and signature. Reports the first break with its position.
 */
export function verifyAuditExport(lines: string | readonly string[], publicKeyPem: string | Uint8Array, options: AuditVerifyOptions = {}): AuditExportVerdict {
  let key: ReturnType<typeof parseAuditPublicKey>;
  try {
    key = parseAuditPublicKey(publicKeyPem);
  } catch {
    throw new HsmError('ARGUMENTS_BAD', 'the audit public key must be an Ed25519 SPKI key (PEM)');
  }
  const all = typeof lines === 'string' ? lines.split('\n') : [...lines];
  if (all.length > 0 && all[all.length - 1] === '') all.pop(); // the final newline
  let prev = { seq: 0, hash: GENESIS_HASH };
  let checkpoints = 0;
  let lastCheckpoint: { line: number; time: string } | undefined;
  let lastWasCheckpoint = false;
  const broken = (position: number, reason: string): AuditExportVerdict => ({ ok: false, position, expectedSeq: prev.seq + 1, reason, records: prev.seq });
  for (let i = 0; i < all.length; i++) {
    const position = i + 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(all[i]!.replace(/\r$/, ''));
    } catch {
      return broken(position, 'not a JSON record');
    }
    const r = asRecord(parsed);
    if (!r) return broken(position, 'not an audit record (fields missing or of the wrong type)');
    const want = prev.seq + 1;
    if (r.seq > want) return broken(position, `record missing: expected seq ${want}, found ${r.seq}`);
    if (r.seq < want) return broken(position, `out of order or inserted: expected seq ${want}, found ${r.seq}`);
    if (r.prevHash !== prev.hash) return broken(position, 'does not link to the record before it (prevHash)');
    if (auditHash(r) !== r.hash) return broken(position, 'edited: the hash does not match the record');
    lastWasCheckpoint = r.op === CHECKPOINT_OP || r.checkpoint !== undefined;
    if (lastWasCheckpoint) {
      const cp = r.checkpoint;
      if (r.op !== CHECKPOINT_OP || typeof cp !== 'object' || cp === null) return broken(position, 'malformed checkpoint');
      // The checkpoint must name exactly the record before it: else the chain before it was rewritten.
      if (cp.seq !== prev.seq || cp.head !== prev.hash) return broken(position, 'the checkpoint does not cover the chain before it (records before it were rewritten)');
      if (!checkpointSignatureValid(cp, key)) return broken(position, 'the checkpoint signature does not verify with this audit public key');
      checkpoints++;
      lastCheckpoint = { line: position, time: cp.time };
    }
    prev = { seq: r.seq, hash: r.hash };
  }
  if (prev.seq === 0) return broken(1, 'the export holds no records');
  if (!lastWasCheckpoint || !lastCheckpoint) {
    const since = lastCheckpoint ? `after line ${lastCheckpoint.line}` : 'anywhere';
    return broken(all.length + 1, `truncated: the export does not end with a signed checkpoint (records ${since} are unsigned)`);
  }
  if (options.minSeq !== undefined && prev.seq < options.minSeq) return broken(all.length + 1, `truncated: the export ends at seq ${prev.seq}, before the expected seq ${options.minSeq}`);
  return { ok: true, records: prev.seq, checkpoints, lastSeq: prev.seq, lastHash: prev.hash, lastCheckpointTime: lastCheckpoint.time };
}

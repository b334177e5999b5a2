// Test support: the edits attacks.md D-11 makes to an exported audit log (JSON Lines), each
// returning the tampered lines and the 1-based line where a verifier must report the break.

import { createHash } from 'node:crypto';
import type { AuditRecord } from '../../src/boundary/api.js';
import { auditHash } from '../../src/boundary/store/audit-chain.js';

export interface Tampered {
  name: string;
  lines: string[];
  /** 1-based line of the first break; lines.length + 1 for a missing tail. */
  position: number;
}

const parse = (l: string): AuditRecord => JSON.parse(l) as AuditRecord;

/** The index (0-based) of a plain record in the middle, neither a checkpoint nor next to one. */
export function middleIndex(lines: readonly string[]): number {
  const ops = lines.map((l) => parse(l).op);
  for (let i = Math.floor(lines.length / 2); i < lines.length - 2; i++) {
    if (ops[i] !== 'audit.checkpoint' && ops[i + 1] !== 'audit.checkpoint' && ops[i - 1] !== 'audit.checkpoint') return i;
  }
  throw new Error('no plain record in the middle of the export');
}

/** (6): rewrite the chain from record `from` onward so every hash and link is right again. */
function rechain(records: AuditRecord[], from: number): string[] {
  for (let i = from; i < records.length; i++) {
    const r = records[i]!;
    r.seq = i + 1;
    r.prevHash = i === 0 ? '0'.repeat(64) : records[i - 1]!.hash;
    r.hash = auditHash(r);
  }
  return records.map((r) => JSON.stringify(r));
}

export function tamperings(lines: readonly string[]): Tampered[] {
  const i = middleIndex(lines);
  const n = lines.length;
  const lastCheckpointBeforeEnd = lines.slice(0, n - 1).map((l) => parse(l).op).lastIndexOf('audit.checkpoint');
  const nextCheckpoint = lines.findIndex((l, k) => k > i && parse(l).op === 'audit.checkpoint');
  const edited = parse(lines[i]!);
  edited.actor = `${edited.actor}-x`;
  const forged: AuditRecord = { ...parse(lines[i]!), op: 'key.generate', actor: 'mallory', outcome: 'ok' };
  const records = lines.map(parse);
  records.splice(i, 0, forged);
  const swapped = [...lines];
  [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
  const cases: Tampered[] = [
    { name: 'edit one field', lines: lines.map((l, k) => (k === i ? JSON.stringify(edited) : l)), position: i + 1 },
    { name: 'delete a record', lines: lines.filter((_, k) => k !== i), position: i + 1 },
    { name: 'swap two records', lines: swapped, position: i + 1 },
    { name: 'insert a copy of a record', lines: [...lines.slice(0, i), lines[i - 3]!, ...lines.slice(i)], position: i + 1 },
    { name: 'truncate the tail', lines: lines.slice(0, n - 1), position: n },
    // The inserted record and the rewritten records after it all link; the next signed checkpoint does not.
    { name: 'insert a forged record and recompute the chain', lines: rechain(records, i), position: nextCheckpoint + 2 },
  ];
  // Only when an earlier checkpoint exists (periodic, or from a seal or an earlier export).
  if (lastCheckpointBeforeEnd > 0) cases.push({ name: 'truncate back past the last checkpoint', lines: lines.slice(0, lastCheckpointBeforeEnd), position: lastCheckpointBeforeEnd + 1 });
  return cases;
}

/** A fingerprint of bytes that must never appear in an export (E-07). */
export function forms(secret: Uint8Array): string[] {
  const b = Buffer.from(secret);
  return [b.toString('hex'), b.toString('base64'), b.toString('base64url'), createHash('sha256').update(b).digest('hex')];
}

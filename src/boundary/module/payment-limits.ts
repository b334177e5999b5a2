// Verification attempt limits per PAN for PIN and card-verification checks (attacks.md C-11, C-13):
// after `limit` consecutive failures for one PAN in one partition, further checks are refused until an
// officer resets them. Counters are system records in the Vault (MAC'd and covered by the set digest
// like every row), so they survive a restart and are shared by every session and every process on the
// store. A record is named by HMAC(partition subkey, PAN): the PAN itself is never stored.

import { HsmError } from '../errors.js';
import type { ModuleCore } from './core.js';

export const MAX_FAILURES = 5;
export type AttemptKind = 'pin' | 'cvv';
const KINDS: readonly AttemptKind[] = ['pin', 'cvv'];

export class AttemptLimits {
  constructor(private readonly core: ModuleCore) {}

  #name(partition: string, kind: AttemptKind, pan: string): string {
    const id = this.core.vault.partitionDigest(partition, 'payment attempt counter', Buffer.from(`${kind}\u0000${pan}`, 'utf8'));
    return `payment.attempts/${partition}/${id.toString('hex')}`;
  }

  /** Named under the partition key too, so a partition deleted and created again under the same name starts afresh. */
  #limitName(partition: string): string {
    return `payment.attempt-limit/${partition}/${this.core.vault.partitionDigest(partition, 'payment attempt limit', new Uint8Array(0)).toString('hex')}`;
  }

  /** The partition's limit: MAX_FAILURES unless an officer set another (setLimit). */
  limit(partition: string): number {
    const r = this.core.vault.getSystemRecord(this.#limitName(partition));
    const n = r ? (JSON.parse(r.body) as { limit: number }).limit : MAX_FAILURES;
    return Number.isSafeInteger(n) && n > 0 ? n : MAX_FAILURES;
  }

  setLimit(partition: string, limit: unknown): void {
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 20) throw new HsmError('ARGUMENTS_BAD', 'the attempt limit is 1-20');
    this.core.vault.transaction(() => this.core.vault.putSystemRecord(this.#limitName(partition), JSON.stringify({ limit })));
  }

  failures(partition: string, kind: AttemptKind, pan: string): number {
    const r = this.core.vault.getSystemRecord(this.#name(partition, kind, pan));
    return r ? (JSON.parse(r.body) as { failures: number }).failures : 0;
  }

  check(partition: string, kind: AttemptKind, pan: string): void {
    if (this.failures(partition, kind, pan) >= this.limit(partition)) {
      throw new HsmError('LIMIT_EXCEEDED', 'too many failed verifications for this PAN');
    }
  }

  /** A success clears the count (written only if there was one); a failure adds one, durably, before the answer leaves. */
  record(partition: string, kind: AttemptKind, pan: string, ok: boolean): void {
    const name = this.#name(partition, kind, pan);
    // Calls are synchronous from check to here, so the read is current; a clean success writes nothing.
    const r = this.core.vault.getSystemRecord(name);
    const n = r ? (JSON.parse(r.body) as { failures: number }).failures : 0;
    if (ok && n === 0) return;
    this.core.vault.transaction(() => this.core.vault.putSystemRecord(name, JSON.stringify({ failures: ok ? 0 : n + 1 })));
  }

  /** Officer: clears one PAN's counter (both kinds unless one is named). */
  reset(partition: string, pan: string, kind?: unknown): void {
    if (kind !== undefined && !KINDS.includes(kind as AttemptKind)) throw new HsmError('ARGUMENTS_BAD', 'kind is pin or cvv');
    const kinds = kind === undefined ? KINDS : [kind as AttemptKind];
    this.core.vault.transaction(() => {
      for (const k of kinds) {
        const name = this.#name(partition, k, pan);
        if (this.core.vault.getSystemRecord(name)) this.core.vault.putSystemRecord(name, JSON.stringify({ failures: 0 }));
      }
    });
  }
}

// Per-key usage counters (issue 4: "per-key counters always"). Every use is counted in memory on
// the hot path; a timer (unref'd) writes the counts into each object's meta.usage in one store
// transaction every few seconds, and seal/close flush the rest. A crash loses at most one interval.

import type { Vault } from '../store/types.js';
import type { StoredObject } from '../types.js';
import type { Resolved } from './core.js';

export class UsageCounters {
  /** uid → operation → uses not yet in the store. */
  readonly #pending = new Map<string, Map<string, number>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly vault: Vault,
    private readonly guard: <T>(fn: () => T) => T,
    private readonly intervalMs: number,
  ) {
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) throw new RangeError('usageFlushMs must be a positive integer');
  }

  count(r: Resolved, op: string): void {
    if (r.sessionOwned) {
      // Session objects never reach the store: their copy in the session is the record.
      const usage = r.object.meta.usage;
      usage[op] = (usage[op] ?? 0) + 1;
      return;
    }
    let ops = this.#pending.get(r.object.uid);
    if (!ops) {
      ops = new Map();
      this.#pending.set(r.object.uid, ops);
    }
    ops.set(op, (ops.get(op) ?? 0) + 1);
  }

  /** The object's stored counts plus those still in memory. */
  of(o: StoredObject): Record<string, number> {
    const out: Record<string, number> = { ...o.meta.usage };
    for (const [op, n] of this.#pending.get(o.uid) ?? []) out[op] = (out[op] ?? 0) + n;
    return out;
  }

  get pendingKeys(): number {
    return this.#pending.size;
  }

  /**
   * Adds the pending counts to the stored objects in one transaction; returns how many objects
   * changed. Counts of objects gone from the store are dropped. On failure nothing is lost: the
   * counts stay pending for the next flush.
   */
  flush(): number {
    if (this.#pending.size === 0 || !this.vault.unsealed) return 0;
    let written = 0;
    this.vault.transaction(() => {
      for (const [uid, ops] of this.#pending) {
        const o = this.vault.getObject(uid);
        if (!o) continue;
        const usage = { ...o.meta.usage };
        for (const [op, n] of ops) usage[op] = (usage[op] ?? 0) + n;
        // Counters are not attributes: no revision bump, so cached keys stay valid.
        this.vault.putObject({ ...o, meta: { ...o.meta, usage } });
        written++;
      }
    });
    this.#pending.clear();
    return written;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      try {
        this.guard(() => this.flush());
      } catch {
        // Kept pending; guardStore has already acted on tamper, and seal/close flush again.
      }
    }, this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

// Verification attempt limits per PAN for PIN and card-verification checks (attacks.md C-11, C-13):
// after MAX_FAILURES consecutive failures for one PAN in one partition, further checks are refused.
// In memory for this phase: a restart clears them, and they are not shared across nodes.

import { HsmError } from '../errors.js';

export const MAX_FAILURES = 5;

export class AttemptLimits {
  readonly #failures = new Map<string, number>();

  static #key(partition: string, kind: string, pan: string): string {
    return `${partition}\u0000${kind}\u0000${pan}`;
  }

  check(partition: string, kind: string, pan: string): void {
    if ((this.#failures.get(AttemptLimits.#key(partition, kind, pan)) ?? 0) >= MAX_FAILURES) {
      throw new HsmError('LIMIT_EXCEEDED', 'too many failed verifications for this PAN');
    }
  }

  record(partition: string, kind: string, pan: string, ok: boolean): void {
    const k = AttemptLimits.#key(partition, kind, pan);
    if (ok) this.#failures.delete(k);
    else this.#failures.set(k, (this.#failures.get(k) ?? 0) + 1);
  }
}

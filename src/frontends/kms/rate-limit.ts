// Per-access-key request rate limit for the KMS endpoint: a token bucket per access key id,
// counted after the signature is verified (a forged request cannot drain someone else's bucket).
// Over the limit the caller gets AWS's ThrottlingException (status 400), which the SDKs retry with backoff.

import { KmsError } from './errors.js';

export interface RateLimit {
  /** Sustained requests per second per access key. */
  perSecond: number;
  /** Requests allowed at once above the sustained rate. */
  burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 2000, burst: 4000 };

export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly limit: RateLimit = DEFAULT_RATE_LIMIT) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new RangeError('the rate limit needs perSecond > 0 and burst >= 1');
  }

  /** Takes one token for `key` or throws ThrottlingException. */
  take(key: string, nowMs: number): void {
    const b = this.#buckets.get(key) ?? { tokens: this.limit.burst, at: nowMs };
    b.tokens = Math.min(this.limit.burst, b.tokens + (Math.max(0, nowMs - b.at) * this.limit.perSecond) / 1000);
    b.at = nowMs;
    if (b.tokens < 1) {
      this.#buckets.set(key, b);
      // AWS's wording (KMS developer guide, "Throttling AWS KMS requests").
      throw new KmsError('ThrottlingException', 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.');
    }
    b.tokens -= 1;
    this.#buckets.set(key, b);
  }

  /** Drops buckets that have refilled completely (they hold no state worth keeping). */
  sweep(nowMs: number): void {
    for (const [k, b] of this.#buckets) if (b.tokens + ((nowMs - b.at) * this.limit.perSecond) / 1000 >= this.limit.burst) this.#buckets.delete(k);
  }
}

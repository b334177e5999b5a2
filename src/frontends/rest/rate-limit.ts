// A per-token token bucket: `perSecond` sustained, `burst` at once. Over the limit is a coded
// 429 (LIMIT_EXCEEDED), never a crash or a queue. Buckets of idle tokens are dropped.

export interface RateLimitConfig {
  perSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  readonly #cfg: RateLimitConfig;
  readonly #buckets = new Map<string, Bucket>();

  constructor(cfg: RateLimitConfig) {
    this.#cfg = cfg;
  }

  /** Takes one request's worth from `key`'s bucket; false when empty. */
  take(key: string, now = Date.now()): boolean {
    if (this.#cfg.perSecond <= 0) return true;
    const b = this.#buckets.get(key) ?? { tokens: this.#cfg.burst, at: now };
    b.tokens = Math.min(this.#cfg.burst, b.tokens + ((now - b.at) / 1000) * this.#cfg.perSecond);
    b.at = now;
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    this.#buckets.set(key, b);
    if (this.#buckets.size > 100_000) this.#prune(now);
    return ok;
  }

  #prune(now: number): void {
    for (const [k, b] of this.#buckets) if (now - b.at > 60_000) this.#buckets.delete(k);
  }
}

// Bearer tokens for the REST front end: 256-bit random values handed to the caller once and
// kept only as SHA-256 hashes, each bound to one boundary session, with an expiry; revoked on
// logout or expiry (which also ends the boundary session).

import { createHash, randomBytes } from 'node:crypto';

interface Entry {
  session: string;
  expiresAt: number;
}

export class TokenStore {
  readonly #byHash = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #onExpire: (session: string) => void;

  constructor(ttlMs: number, onExpire: (session: string) => void) {
    this.#ttlMs = ttlMs;
    this.#onExpire = onExpire;
  }

  static hash(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  issue(session: string): { token: string; expiresAt: Date } {
    const token = `cft_${randomBytes(32).toString('base64url')}`;
    const expiresAt = Date.now() + this.#ttlMs;
    this.#byHash.set(TokenStore.hash(token), { session, expiresAt });
    return { token, expiresAt: new Date(expiresAt) };
  }

  /** The session of a live token, or undefined (unknown, revoked or expired). */
  resolve(token: string): string | undefined {
    const h = TokenStore.hash(token);
    const e = this.#byHash.get(h);
    if (!e) return undefined;
    if (Date.now() >= e.expiresAt) {
      this.#byHash.delete(h);
      this.#onExpire(e.session);
      return undefined;
    }
    return e.session;
  }

  revoke(token: string): string | undefined {
    const h = TokenStore.hash(token);
    const e = this.#byHash.get(h);
    this.#byHash.delete(h);
    return e?.session;
  }

  /** Drops expired tokens (called periodically) and ends their sessions. */
  sweep(now = Date.now()): number {
    let n = 0;
    for (const [h, e] of this.#byHash) {
      if (now >= e.expiresAt) {
        this.#byHash.delete(h);
        this.#onExpire(e.session);
        n++;
      }
    }
    return n;
  }

  get size(): number {
    return this.#byHash.size;
  }
}

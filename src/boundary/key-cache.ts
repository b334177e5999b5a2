// A bounded LRU cache of unsealed keys (DESIGN §5): operations never re-unseal or re-parse a
// key on the hot path, and the number of unsealed keys in memory stays under a configured cap
// however many are stored. Evicted keys have their raw secret bytes zeroed.

import { wipeNonces } from './mechanisms/ecdsa-nonces.js';
import type { LoadedKey } from './types.js';

/** Zeroes what a key holds in our memory (its KeyObjects OpenSSL clears when freed). */
function destroy(key: LoadedKey): void {
  key.secret?.destroy();
  key.scalar?.destroy();
}

export class KeyCache {
  readonly #max: number;
  readonly #entries = new Map<string, LoadedKey>();
  /** Keys an operation is using right now: eviction defers their zeroisation until release. */
  readonly #inUse = new Map<LoadedKey, number>();
  readonly #evicted = new Set<LoadedKey>();

  constructor(maxEntries: number) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError('cache size must be a positive integer');
    this.#max = maxEntries;
  }

  static key(uid: string, version: number, revision: number): string {
    return `${uid}:${version}:${revision}`;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): LoadedKey | undefined {
    const hit = this.#entries.get(key);
    if (hit) {
      // Map keeps insertion order: re-inserting marks it most recently used.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, value: LoadedKey): void {
    const old = this.#entries.get(key);
    if (old && old !== value) this.#retire(old);
    this.#entries.delete(key);
    this.#entries.set(key, value);
    while (this.#entries.size > this.#max) {
      const [oldest, loaded] = this.#entries.entries().next().value as [string, LoadedKey];
      this.#entries.delete(oldest);
      this.#retire(loaded);
    }
  }

  /** Marks a key as in use by an operation, so eviction does not zero it underneath. */
  acquire(key: LoadedKey): void {
    this.#inUse.set(key, (this.#inUse.get(key) ?? 0) + 1);
  }

  release(key: LoadedKey): void {
    const n = (this.#inUse.get(key) ?? 1) - 1;
    if (n > 0) {
      this.#inUse.set(key, n);
      return;
    }
    this.#inUse.delete(key);
    if (this.#evicted.delete(key)) destroy(key);
  }

  #retire(key: LoadedKey): void {
    if (this.#inUse.has(key)) this.#evicted.add(key);
    else destroy(key);
  }

  /** Drops every cached version of one object (on change or destruction). */
  forget(uid: string): void {
    const prefix = `${uid}:`;
    for (const [k, v] of this.#entries) {
      if (k.startsWith(prefix)) {
        this.#entries.delete(k);
        this.#retire(v);
      }
    }
  }

  /** Drops every key; the precomputed ECDSA nonces go too (seal, error state, tamper, zeroize). */
  clear(): void {
    for (const v of this.#entries.values()) this.#retire(v);
    this.#entries.clear();
    wipeNonces();
  }
}

// Raw secret bytes live only in SecretBytes: it copies in, redacts itself wherever it could be
// printed or serialised, and zero-fills on destroy(). Reading the bytes needs an explicit,
// greppable call (`insecureBytes`). JavaScript cannot promise the engine made no other copy
// (see SECURITY.md); this type makes accidental leaks through logs and JSON impossible.

import { createSecretKey, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';

const REDACTED = '[SecretBytes: redacted]';

export class SecretBytes {
  #bytes: Buffer;
  #destroyed = false;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** Copies `bytes` in; the caller may (and should) zero its own copy afterwards. */
  static from(bytes: Uint8Array): SecretBytes {
    const own = Buffer.alloc(bytes.length);
    own.set(bytes);
    return new SecretBytes(own);
  }

  /** Takes ownership of `bytes` without copying and zero-fills the caller's view on destroy. */
  static adopt(bytes: Buffer): SecretBytes {
    return new SecretBytes(bytes);
  }

  static random(length: number): SecretBytes {
    return new SecretBytes(randomBytes(length));
  }

  get length(): number {
    return this.#bytes.length;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** The plaintext bytes, for code inside the boundary that must hand them to a primitive. */
  insecureBytes(): Buffer {
    if (this.#destroyed) throw new TypeError('SecretBytes used after destroy()');
    return this.#bytes;
  }

  /** A node KeyObject over a copy of the bytes (KeyObjects keep their own copy in OpenSSL memory). */
  toKeyObject(): KeyObject {
    return createSecretKey(this.insecureBytes());
  }

  equals(other: SecretBytes): boolean {
    const a = this.insecureBytes();
    const b = other.insecureBytes();
    return a.length === b.length && timingSafeEqual(a, b);
  }

  destroy(): void {
    if (!this.#destroyed) {
      this.#bytes.fill(0);
      this.#destroyed = true;
    }
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }
}

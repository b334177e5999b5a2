// Known-answer comparison for the symmetric families' self-tests (DESIGN §3 Self-tests).
// A mismatch throws a plain Error naming the mechanism; the caller moves the module to `error`.

import { SecretBytes } from '../secret.js';

export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

type Answer = Uint8Array | SecretBytes | boolean;

function bytesOf(a: Uint8Array | SecretBytes): Buffer {
  return a instanceof SecretBytes ? a.insecureBytes() : Buffer.from(a.buffer, a.byteOffset, a.length);
}

export function expectKat(name: string, actual: Answer, expected: Answer): void {
  const ok =
    typeof actual === 'boolean' || typeof expected === 'boolean' ? actual === expected : bytesOf(actual).equals(bytesOf(expected));
  if (!ok) throw new Error(`self-test failed: ${name}`);
}

/** Calls an optional implementation function that a descriptor must have; its absence is our bug. */
export function required<T>(fn: T | undefined, what: string): T {
  if (fn === undefined) throw new TypeError(`${what} is missing from its descriptor`);
  return fn;
}

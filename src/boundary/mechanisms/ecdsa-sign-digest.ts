// ECDSA signing of a caller-given digest (FIPS 186-5 §6.4.1) with OpenSSL doing R = k·G. Two ways
// to k, one way to s:
// - signDigest: k is RFC 6979 §3.2 deterministic (HMAC-DRBG on node's createHmac, the curve's usual
//   hash), so the output is byte-identical to @noble/curves' sign(digest, d, { prehash: false })
//   with its default low-S. The known-answer self-test and the reference tests use it.
// - signDigestPooled: k is random (FIPS 186-5 §6.3.1 / A.3.1) and precomputed with k⁻¹ and r by
//   ecdsa-nonces.ts, so a signature costs two multiplications mod n. CKM_ECDSA signs this way.
// The HMAC-DRBG state and k's and d's bytes are zeroed before returning; the scalars as BigInt
// (k, k⁻¹, d) cannot be erased, as in noble (SECURITY.md).

import { createHmac } from 'node:crypto';
import type { IField } from '@noble/curves/abstract/modular.js';
import { intInto, type Nonce, type NonceCurve, nonceOf, takeNonce, toInt } from './ecdsa-nonces.js';

export interface DigestCurve {
  /** OpenSSL's curve name for createECDH. */
  openssl: string;
  /** RFC 6979 §3.2's hash, the one @noble/curves pairs with the curve (nist.js, secp256k1.js). */
  hmac: 'sha256' | 'sha384' | 'sha512';
  /** The scalar field: order n, its bit length (qlen) and byte length. */
  Fn: IField<bigint>;
}

/** RFC 6979 §2.3.2 bits2int: the leftmost qlen bits of the input as an integer. */
function bits2int(bytes: Uint8Array, qlen: number): bigint {
  const n = toInt(bytes);
  const excess = bytes.length * 8 - qlen;
  return excess > 0 ? n >> BigInt(excess) : n;
}

function hmac(hash: string, key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac(hash, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

const ZERO = Uint8Array.of(0x00);
const ONE = Uint8Array.of(0x01);

/** FIPS 186-5 §6.4.1 steps 1–4: e, the leftmost qlen bits of the digest, mod n (RFC 6979's bits2int(h1) mod n). */
function eOf(curve: DigestCurve, digest: Uint8Array): bigint {
  return curve.Fn.create(bits2int(digest, curve.Fn.BITS));
}

/** d from its order-length big-endian bytes; throws unless 1 ≤ d < n. */
export function scalarOf(curve: DigestCurve, dBytes: Uint8Array): bigint {
  if (dBytes.length !== curve.Fn.BYTES) throw new RangeError('private scalar has the wrong length');
  const d = toInt(dBytes);
  if (d === 0n || d >= curve.Fn.ORDER) throw new RangeError('private scalar outside [1, n-1]');
  return d;
}

/**
 * FIPS 186-5 §6.4.1 steps 9–10: s = k⁻¹(e + r·d) mod n, low-S (s and n − s both verify, §6.4.2;
 * s ≤ n/2 is noble's canonical default). Undefined when s = 0, which needs another k.
 */
function complete(n: bigint, d: bigint, e: bigint, nonce: Nonce): { r: bigint; s: bigint } | undefined {
  const s = (nonce.kinv * ((e + nonce.r * d) % n)) % n;
  if (s === 0n) return undefined;
  return { r: nonce.r, s: s > n >> 1n ? n - s : s };
}

/** The curve as ecdsa-nonces.ts needs it, built once per DigestCurve. */
const nonceCurves = new WeakMap<DigestCurve, NonceCurve>();

/**
 * Signs `digest` with d (1 ≤ d < n, from scalarOf) and a fresh random nonce, by default a
 * precomputed one from the pool: returns (r, s) with s ≤ n/2. A digest longer than qlen bits is cut to its leftmost qlen bits.
 */
export function signDigestPooled(curve: DigestCurve, d: bigint, digest: Uint8Array, nonces: (c: NonceCurve) => Nonce = takeNonce): { r: bigint; s: bigint } {
  let nc = nonceCurves.get(curve);
  if (!nc) {
    nc = { openssl: curve.openssl, order: curve.Fn.ORDER, bytes: curve.Fn.BYTES };
    nonceCurves.set(curve, nc);
  }
  const e = eOf(curve, digest);
  for (;;) {
    const sig = complete(nc.order, d, e, nonces(nc));
    if (sig) return sig;
  }
}

/**
 * Signs `digest` with the private scalar `dBytes` (exactly Fn.BYTES long, 1 ≤ d < n) and RFC 6979's
 * deterministic k: returns (r, s) with s ≤ n/2. A digest longer than qlen bits is cut to its
 * leftmost qlen bits (FIPS 186-5 §6.4.1 step 4). Throws on a scalar outside [1, n−1].
 */
export function signDigest(curve: DigestCurve, dBytes: Uint8Array, digest: Uint8Array): { r: bigint; s: bigint } {
  const { Fn, hmac: hash } = curve;
  const n = Fn.ORDER;
  const rlen = Fn.BYTES;
  const d = scalarOf(curve, dBytes);
  // RFC 6979 §3.2 a: h1 is the given digest; e = bits2int(h1) mod n is also FIPS 186-5's e.
  const e = eOf(curve, digest);
  const h1 = intInto(e, new Uint8Array(rlen)); // bits2octets(h1) = int2octets(bits2int(h1) mod n)
  // §3.2 b, c: V = 0x01…, K = 0x00… (hlen bytes).
  const hlen = hash === 'sha256' ? 32 : hash === 'sha384' ? 48 : 64;
  let V: Buffer = Buffer.alloc(hlen, 0x01);
  let K: Buffer = Buffer.alloc(hlen, 0x00);
  let T: Buffer | undefined;
  // Replaces K or V with a new HMAC output, zeroing the old one.
  const next = (old: Buffer, fresh: Buffer): Buffer => {
    old.fill(0);
    return fresh;
  };
  const nc = { openssl: curve.openssl, order: n, bytes: rlen };
  try {
    // §3.2 d–g: K = HMAC_K(V‖0x00‖int2octets(x)‖bits2octets(h1)), V = HMAC_K(V), then again with 0x01.
    K = next(K, hmac(hash, K, V, ZERO, dBytes, h1));
    V = next(V, hmac(hash, K, V));
    K = next(K, hmac(hash, K, V, ONE, dBytes, h1));
    V = next(V, hmac(hash, K, V));
    for (let attempt = 0; attempt < 1000; attempt++) {
      // §3.2 h.1–h.2: T = V‖V‖… until it has at least qlen bits.
      const blocks = Math.ceil(rlen / hlen);
      T = Buffer.alloc(blocks * hlen);
      for (let b = 0; b < blocks; b++) {
        V = next(V, hmac(hash, K, V));
        V.copy(T, b * hlen);
      }
      // §3.2 h.3: k = bits2int(T); retry on k outside [1, n−1], r = 0 or s = 0.
      const k = bits2int(T, Fn.BITS);
      T.fill(0);
      if (k !== 0n && k < n) {
        const nonce = nonceOf(nc, k);
        const sig = nonce && complete(n, d, e, nonce);
        if (sig) return sig;
      }
      // §3.2 h.3: K = HMAC_K(V‖0x00), V = HMAC_K(V).
      K = next(K, hmac(hash, K, V, ZERO));
      V = next(V, hmac(hash, K, V));
    }
    throw new Error('RFC 6979: no valid k after 1000 attempts');
  } finally {
    K.fill(0);
    V.fill(0);
    T?.fill(0);
    h1.fill(0);
  }
}

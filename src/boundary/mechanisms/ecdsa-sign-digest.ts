// ECDSA signing of a caller-given digest (FIPS 186-5 §6.4.1) with OpenSSL doing R = k·G: k is
// RFC 6979 §3.2 deterministic (HMAC-DRBG on node's createHmac, the curve's usual hash), so the
// output is byte-identical to @noble/curves' sign(digest, d, { prehash: false }) with its default
// low-S. The HMAC-DRBG state, k's bytes and d's seed bytes are zeroed before returning; the
// scalars as BigInt (k, d, and the blinded products) cannot be erased, as in noble (SECURITY.md).

import { createECDH, createHmac, type ECDH, randomBytes } from 'node:crypto';
import type { IField } from '@noble/curves/abstract/modular.js';

export interface DigestCurve {
  /** OpenSSL's curve name for createECDH. */
  openssl: string;
  /** RFC 6979 §3.2's hash, the one @noble/curves pairs with the curve (nist.js, secp256k1.js). */
  hmac: 'sha256' | 'sha384' | 'sha512';
  /** The scalar field: order n, its bit length (qlen) and byte length. */
  Fn: IField<bigint>;
}

/** Big-endian bytes → integer, 8 bytes at a time, so no secret ever becomes a hex string. */
function toInt(bytes: Uint8Array): bigint {
  let n = 0n;
  let i = 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (; i + 8 <= bytes.length; i += 8) n = (n << 64n) | view.getBigUint64(i);
  for (; i < bytes.length; i++) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/** Integer → `out` big-endian, left-padded (RFC 6979 §2.3.3 int2octets when out is rlen bytes). */
function intInto(n: bigint, out: Uint8Array): Uint8Array {
  let v = n;
  for (let i = out.length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
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

/**
 * One ECDH object per curve, reused: constructing one costs more than P-256's k·G itself. Signing
 * is synchronous, so no two signatures share it at once. It keeps the last k inside OpenSSL until
 * the next signature on the curve replaces it (node swaps in a new EC_KEY and OpenSSL clears the
 * old scalar on free): no wider exposure than the KeyObject holding d in the same process.
 */
const ecdhByCurve = new Map<string, ECDH>();

function ecdhOf(name: string): ECDH {
  let ecdh = ecdhByCurve.get(name);
  if (!ecdh) {
    ecdh = createECDH(name);
    ecdhByCurve.set(name, ecdh);
  }
  return ecdh;
}

const ZERO = Uint8Array.of(0x00);
const ONE = Uint8Array.of(0x01);

/**
 * Signs `digest` with the private scalar `dBytes` (exactly Fn.BYTES long, 1 ≤ d < n): returns
 * (r, s) with s ≤ n/2. A digest longer than qlen bits is cut to its leftmost qlen bits (FIPS
 * 186-5 §6.4.1 step 4). Throws on a scalar outside [1, n−1].
 */
export function signDigest(curve: DigestCurve, dBytes: Uint8Array, digest: Uint8Array): { r: bigint; s: bigint } {
  const { Fn, hmac: hash } = curve;
  const n = Fn.ORDER;
  const rlen = Fn.BYTES;
  if (dBytes.length !== rlen) throw new RangeError('private scalar has the wrong length');
  const d = toInt(dBytes);
  if (d === 0n || d >= n) throw new RangeError('private scalar outside [1, n-1]');
  // RFC 6979 §3.2 a: h1 is the given digest; e = bits2int(h1) mod n is also FIPS 186-5's e.
  const e = Fn.create(bits2int(digest, Fn.BITS));
  const h1 = intInto(e, new Uint8Array(rlen)); // bits2octets(h1) = int2octets(bits2int(h1) mod n)
  // §3.2 b, c: V = 0x01…, K = 0x00… (hlen bytes).
  const hlen = hash === 'sha256' ? 32 : hash === 'sha384' ? 48 : 64;
  let V: Buffer = Buffer.alloc(hlen, 0x01);
  let K: Buffer = Buffer.alloc(hlen, 0x00);
  const kBytes = new Uint8Array(rlen);
  let T: Buffer | undefined;
  // Replaces K or V with a new HMAC output, zeroing the old one.
  const next = (old: Buffer, fresh: Buffer): Buffer => {
    old.fill(0);
    return fresh;
  };
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
        // R = k·G by OpenSSL: the public key of the ECDH key pair whose private key is k (SEC 1 §2.3.3, 0x04‖x‖y).
        const ecdh = ecdhOf(curve.openssl);
        ecdh.setPrivateKey(intInto(k, kBytes));
        kBytes.fill(0);
        const R = ecdh.getPublicKey();
        const fieldLen = (R.length - 1) / 2;
        const r = Fn.create(toInt(R.subarray(1, 1 + fieldLen))); // FIPS 186-5 §6.4.1 step 8: r = x mod n
        if (r !== 0n) {
          // s = k⁻¹(e + r·d) mod n, computed as (b·k)⁻¹(b·e + b·d·r) with a random b ∈ [1, n−1] so the
          // variable-time inversion only ever sees a value independent of k (as noble does).
          const b = Fn.create(toInt(randomBytes(rlen + 16))) || 1n;
          const s = Fn.mul(Fn.inv(Fn.mul(b, k)), Fn.add(Fn.mul(b, e), Fn.mul(Fn.mul(b, d), r)));
          // Low-S, as noble's default: s and n − s both verify (FIPS 186-5 §6.4.2), s ≤ n/2 is canonical.
          if (s !== 0n) return { r, s: s > n >> 1n ? n - s : s };
        }
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
    kBytes.fill(0);
    h1.fill(0);
  }
}

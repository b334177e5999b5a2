// Precomputed ECDSA per-message secrets for CKM_ECDSA. k, k⁻¹ and r = (k·G).x mod n do not depend
// on the message or the key, so they may be computed ahead of the signature (FIPS 186 (1994)
// Appendix 3.2, "precomputing one or more k and r values"; FIPS 186-4 §4.5: k and k⁻¹ "may be
// pre-computed" when their confidentiality and integrity are protected). A worker thread fills a
// pool per curve in batches; a signature takes one entry, which is zeroed as it is read and never
// handed out twice. With an empty pool (the first signature on a curve, or a burst faster than the
// worker) the entry is computed in line by the same function. k comes from node's DRBG by FIPS
// 186-5 Appendix A.3.1 (N + 64 random bits reduced mod n − 1, plus 1). The pools live in this
// process only, are wiped with the key cache (seal, error state, tamper, zeroize), and a batch
// that arrives after a wipe is zeroed unread.

import { createECDH, type ECDH, randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { invert } from '@noble/curves/abstract/modular.js';

/** What the nonce arithmetic needs of a curve; plain data, so it crosses to the worker as is. */
export interface NonceCurve {
  /** OpenSSL's curve name for createECDH. */
  openssl: string;
  /** The group order n. */
  order: bigint;
  /** Byte length of n (rlen). */
  bytes: number;
}

/** One per-message secret: r = (k·G).x mod n and k⁻¹ mod n. */
export interface Nonce {
  r: bigint;
  kinv: bigint;
}

/** Big-endian bytes → integer, 8 bytes at a time, so no secret ever becomes a hex string. */
export function toInt(bytes: Uint8Array): bigint {
  let n = 0n;
  let i = 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (; i + 8 <= bytes.length; i += 8) n = (n << 64n) | view.getBigUint64(i);
  for (; i < bytes.length; i++) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/** Integer → `out` big-endian, left-padded (RFC 6979 §2.3.3 int2octets when out is rlen bytes), 8 bytes at a time. */
export function intInto(n: bigint, out: Uint8Array): Uint8Array {
  let v = n;
  let i = out.length;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (; i >= 8; i -= 8) {
    view.setBigUint64(i - 8, BigInt.asUintN(64, v));
    v >>= 64n;
  }
  for (; i > 0; i--) {
    out[i - 1] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * One ECDH object per curve and thread, reused: constructing one costs more than P-256's k·G
 * itself. It keeps the last k inside OpenSSL until the next one replaces it (node swaps in a new
 * EC_KEY and OpenSSL clears the old scalar on free).
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

/** x mod n of a SEC 1 §2.3.3 uncompressed point 0x04‖x‖y. */
function xOf(curve: NonceCurve, point: Uint8Array): bigint {
  return toInt(point.subarray(1, 1 + (point.length - 1) / 2)) % curve.order;
}

/** r = (k·G).x mod n, with OpenSSL doing k·G (the public key of the ECDH key whose private key is k). */
export function rOf(curve: NonceCurve, k: bigint): bigint {
  const kBytes = intInto(k, new Uint8Array(curve.bytes));
  try {
    const ecdh = ecdhOf(curve.openssl);
    ecdh.setPrivateKey(kBytes);
    return xOf(curve, ecdh.getPublicKey());
  } finally {
    kBytes.fill(0);
  }
}

/** FIPS 186-5 A.3.1: c of N + 64 random bits gives k = (c mod (n−1)) + 1, uniform in [1, n−1] to within 2⁻⁶⁴. */
function scalarFrom(curve: NonceCurve, c: Uint8Array): bigint {
  return (toInt(c) % (curve.order - 1n)) + 1n;
}

/** A uniform integer in [1, n−1] from the DRBG (scalarFrom over bytes + 8 fresh random bytes). */
function randomScalar(curve: NonceCurve): bigint {
  const c = randomBytes(curve.bytes + 8);
  const k = scalarFrom(curve, c);
  c.fill(0);
  return k;
}

/**
 * The nonce for a given k (1 ≤ k < n), or undefined when r = 0 and another k is needed. k⁻¹ is
 * computed as (b·k)⁻¹·b with a random b, so the variable-time Euclid never sees k itself.
 */
export function nonceOf(curve: NonceCurve, k: bigint): Nonce | undefined {
  const n = curve.order;
  const r = rOf(curve, k);
  if (r === 0n) return undefined;
  const b = randomScalar(curve);
  return { r, kinv: (invert((b * k) % n, n) * b) % n };
}

/**
 * `count` fresh nonces as r‖k⁻¹ pairs, each value big-endian in `bytes` bytes. The k⁻¹ come from
 * Montgomery's batch inversion (one inversion for the batch), and that one inversion is blinded by
 * a random factor so the variable-time Euclid only sees a value independent of the k's.
 */
export function computeNonces(curve: NonceCurve, count: number): Uint8Array<ArrayBuffer> {
  const { order: n, bytes } = curve;
  const out = new Uint8Array(count * 2 * bytes);
  const ks: bigint[] = [];
  const prefix: bigint[] = [];
  // The batch's random bits in one DRBG call (a call per k was a fifth of the batch's cost).
  const stride = bytes + 8;
  const seed = randomBytes(stride * count);
  let drawn = 0;
  try {
    while (ks.length < count) {
      // Another k is needed only after an r = 0, which has probability about 2⁻²⁵⁶.
      const k = drawn < count ? scalarFrom(curve, seed.subarray(drawn * stride, ++drawn * stride)) : randomScalar(curve);
      const r = rOf(curve, k);
      if (r === 0n) continue; // FIPS 186-5 §6.4.1 step 8: choose another k
      const i = ks.length;
      intInto(r, out.subarray(2 * bytes * i, 2 * bytes * i + bytes));
      prefix.push(((i === 0 ? 1n : prefix[i - 1]!) * k) % n);
      ks.push(k);
    }
    const blind = randomScalar(curve);
    let inv = (invert((prefix[count - 1]! * blind) % n, n) * blind) % n; // (k₀·…·k_{count−1})⁻¹
    for (let i = count - 1; i >= 0; i--) {
      const kinv = i === 0 ? inv : (inv * prefix[i - 1]!) % n;
      inv = (inv * ks[i]!) % n;
      intInto(kinv, out.subarray(2 * bytes * i + bytes, 2 * bytes * (i + 1)));
    }
    return out;
  } finally {
    seed.fill(0);
    // The bigints themselves cannot be erased (SECURITY.md); drop every reference at once.
    ks.length = 0;
    prefix.length = 0;
  }
}

/** Nonces per refill: about 4 ms of worker time on P-256, 6 KiB of pool. */
const BATCH = 128;
/** After this many worker failures the pool stops asking and every nonce is computed in line. */
const MAX_WORKER_FAILURES = 3;

interface Pool {
  curve: NonceCurve;
  /** Batches of r‖k⁻¹ pairs; `at` is the next unread pair of batches[0]. */
  batches: Uint8Array[];
  at: number;
  /** Pairs left in all batches. */
  left: number;
  /** A refill has been asked of the worker and has not come back. */
  pending: boolean;
}

const pools = new Map<string, Pool>();
/** Bumped by every wipe: a batch asked for before it is zeroed on arrival instead of pooled. */
let generation = 0;
let worker: Worker | undefined;
let workerFailures = 0;

interface Reply {
  openssl: string;
  generation: number;
  nonces: Uint8Array;
}

function workerFailed(w: Worker): void {
  if (worker !== w) return;
  worker = undefined;
  workerFailures++;
  for (const p of pools.values()) p.pending = false;
}

function workerOf(): Worker | undefined {
  if (worker || workerFailures >= MAX_WORKER_FAILURES) return worker;
  const w = new Worker(new URL('./ecdsa-nonce-worker.js', import.meta.url));
  w.on('message', (m: Reply) => {
    const pool = pools.get(m.openssl);
    if (!pool || m.generation !== generation) {
      m.nonces.fill(0);
      return;
    }
    pool.pending = false;
    pool.batches.push(m.nonces);
    pool.left += m.nonces.length / (2 * pool.curve.bytes);
    if (pool.left < BATCH) refill(pool);
  });
  w.on('error', () => workerFailed(w));
  w.on('exit', () => workerFailed(w));
  w.unref(); // never what keeps the process alive; after the listeners, which would ref it again
  worker = w;
  return w;
}

function refill(pool: Pool): void {
  if (pool.pending) return;
  const w = workerOf();
  if (!w) return;
  pool.pending = true;
  const { openssl, order, bytes } = pool.curve;
  w.postMessage({ curve: { openssl, order, bytes }, count: BATCH, generation });
}

/** The next pooled pair, zeroed in the pool as it is read; undefined when the pool is empty. */
function takePooled(pool: Pool): Nonce | undefined {
  const batch = pool.batches[0];
  if (!batch) return undefined;
  const { bytes } = pool.curve;
  const pair = batch.subarray(pool.at * 2 * bytes, (pool.at + 1) * 2 * bytes);
  const nonce = { r: toInt(pair.subarray(0, bytes)), kinv: toInt(pair.subarray(bytes)) };
  pair.fill(0);
  pool.left--;
  if (++pool.at * 2 * bytes === batch.length) {
    pool.batches.shift();
    pool.at = 0;
  }
  return nonce;
}

/** A fresh nonce for one signature: from the pool, or computed in line when it is empty. */
export function takeNonce(curve: NonceCurve): Nonce {
  let pool = pools.get(curve.openssl);
  if (!pool) {
    pool = { curve, batches: [], at: 0, left: 0, pending: false };
    pools.set(curve.openssl, pool);
  }
  const pooled = takePooled(pool);
  if (pool.left < BATCH) refill(pool);
  return pooled ?? inlineNonce(curve);
}

/** A fresh nonce computed in line, outside the pool: the empty pool's fallback, and the self-test's (so start-up starts no worker). */
export function inlineNonce(curve: NonceCurve): Nonce {
  const one = computeNonces(curve, 1);
  try {
    return { r: toInt(one.subarray(0, curve.bytes)), kinv: toInt(one.subarray(curve.bytes)) };
  } finally {
    one.fill(0);
  }
}

/** Zeroes every pooled nonce; batches in flight are zeroed when they arrive. */
export function wipeNonces(): void {
  generation++;
  for (const pool of pools.values()) {
    for (const b of pool.batches) b.fill(0);
    pool.batches = [];
    pool.at = 0;
    pool.left = 0;
    pool.pending = false;
  }
}

/** Pooled nonces per curve (tests and diagnostics; counts only). */
export function pooledNonces(openssl: string): number {
  return pools.get(openssl)?.left ?? 0;
}

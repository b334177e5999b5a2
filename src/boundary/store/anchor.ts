// The rollback anchor: a small file beside the database holding the last committed header
// counter and set digest (and, mid-commit, the pending ones), MAC'd under a master-key subkey.
// Two 512-byte slots are written alternately with pwrite + fdatasync, so a torn write can only
// damage the slot being written; the reader takes the valid slot with the highest sequence.
// It detects an older database copy put back; it cannot detect the database and the anchor
// being replaced together (there is no hardware monotonic counter).

import { createHmac, type KeyObject, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, existsSync, fdatasyncSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { HsmError } from '../errors.js';

export interface AnchorPoint {
  counter: number;
  setDigest: Uint8Array;
}

export interface AnchorState {
  committed: AnchorPoint;
  /** Written before the database commit, cleared after it (a crash leaves it set). */
  pending?: AnchorPoint;
}

const MAGIC = Buffer.from('CFA1', 'latin1');
const SLOT_BYTES = 512;
const DIGEST_BYTES = 32;
// magic 4 ‖ seq 8 ‖ committed 8 ‖ digest 32 ‖ hasPending 1 ‖ pending 8 ‖ digest 32 ‖ mac 32
const BODY_BYTES = 4 + 8 + 8 + DIGEST_BYTES + 1 + 8 + DIGEST_BYTES;
const RECORD_BYTES = BODY_BYTES + 32;

function encodeBody(seq: number, state: AnchorState): Buffer {
  const b = Buffer.alloc(BODY_BYTES);
  MAGIC.copy(b, 0);
  b.writeBigUInt64BE(BigInt(seq), 4);
  b.writeBigUInt64BE(BigInt(state.committed.counter), 12);
  Buffer.from(state.committed.setDigest).copy(b, 20);
  if (state.pending) {
    b[52] = 1;
    b.writeBigUInt64BE(BigInt(state.pending.counter), 53);
    Buffer.from(state.pending.setDigest).copy(b, 61);
  }
  return b;
}

function mac(key: KeyObject, body: Buffer): Buffer {
  return createHmac('sha256', key).update('coffer/anchor').update(body).digest();
}

function decodeSlot(key: KeyObject, slot: Buffer): { seq: number; state: AnchorState } | undefined {
  if (slot.length < RECORD_BYTES || !slot.subarray(0, 4).equals(MAGIC)) return undefined;
  const body = slot.subarray(0, BODY_BYTES);
  if (!timingSafeEqual(mac(key, body), slot.subarray(BODY_BYTES, RECORD_BYTES))) return undefined;
  const state: AnchorState = {
    committed: { counter: Number(body.readBigUInt64BE(12)), setDigest: Uint8Array.from(body.subarray(20, 52)) },
  };
  if (body[52] === 1) state.pending = { counter: Number(body.readBigUInt64BE(53)), setDigest: Uint8Array.from(body.subarray(61, 93)) };
  return { seq: Number(body.readBigUInt64BE(4)), state };
}

export class Anchor {
  readonly path: string;
  #fd: number | undefined;
  #seq = 0;

  constructor(path: string) {
    this.path = path;
  }

  exists(): boolean {
    return existsSync(this.path);
  }

  /**
   * The newest valid state, or undefined when there is no anchor file at all. A file without a
   * valid slot (edited, or MAC'd under another master key) is tamper.
   */
  load(key: KeyObject): AnchorState | undefined {
    if (!this.exists()) return undefined;
    const fd = this.#open(false);
    const buf = Buffer.alloc(2 * SLOT_BYTES);
    const n = readSync(fd, buf, 0, buf.length, 0);
    let best: { seq: number; state: AnchorState } | undefined;
    for (let slot = 0; slot < 2; slot++) {
      if (n < slot * SLOT_BYTES + RECORD_BYTES) continue;
      const got = decodeSlot(key, buf.subarray(slot * SLOT_BYTES, (slot + 1) * SLOT_BYTES));
      if (got && (!best || got.seq > best.seq)) best = got;
    }
    if (!best) throw new HsmError('TAMPER_DETECTED', 'anchor file invalid');
    this.#seq = best.seq;
    return best.state;
  }

  /** Starts a fresh anchor (initialisation): any earlier file's slots are discarded. */
  reset(): void {
    this.#close();
    this.#fd = this.#open(true);
    this.#seq = 0;
  }

  /** Durably records `state` in the slot not holding the newest record. */
  write(key: KeyObject, state: AnchorState): void {
    const fd = this.#fd ?? this.#open(false);
    const seq = this.#seq + 1;
    const body = encodeBody(seq, state);
    const record = Buffer.concat([body, mac(key, body)]);
    writeSync(fd, record, 0, record.length, (seq % 2) * SLOT_BYTES);
    fdatasyncSync(fd);
    this.#seq = seq;
  }

  close(): void {
    this.#close();
  }

  #open(truncate: boolean): number {
    if (this.#fd !== undefined && !truncate) return this.#fd;
    const created = !this.exists();
    const flags = constants.O_RDWR | constants.O_CREAT | (truncate ? constants.O_TRUNC : 0);
    this.#fd = openSync(this.path, flags, 0o600);
    if (created || truncate) {
      fsyncSync(this.#fd);
      syncDirectory(dirname(this.path)); // the new directory entry must survive a crash too
    }
    return this.#fd;
  }

  #close(): void {
    if (this.#fd !== undefined) {
      closeSync(this.#fd);
      this.#fd = undefined;
    }
  }
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

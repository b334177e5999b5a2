// Host-command framing (the de-facto payShield TCP framing): every message is a 2-byte big-endian
// length followed by that many bytes. The reader reassembles frames from arbitrary TCP chunks and
// never buffers more than one frame's worth; a declared length over the limit is a fatal framing
// error, since the stream cannot be resynchronised after it.

export const LENGTH_PREFIX = 2;

export class FrameTooLarge extends Error {
  override readonly name = 'FrameTooLarge';
  constructor(readonly declared: number) {
    super(`declared frame length ${declared} exceeds the limit`);
  }
}

/** Accumulates TCP chunks and yields complete frame bodies in order. */
export class FrameReader {
  // Chunks are joined only once a whole frame is there, so a peer trickling a large frame byte by
  // byte costs linear, not quadratic, copying.
  #chunks: Buffer[] = [];
  #length = 0;

  constructor(private readonly maxBody: number) {}

  /** Bytes received but not yet part of a complete frame (a truncated frame when the peer hangs up). */
  get pending(): number {
    return this.#length;
  }

  /** Adds a chunk; returns every frame body completed by it. Throws FrameTooLarge (then the connection must close). */
  push(chunk: Buffer): Buffer[] {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    const out: Buffer[] = [];
    while (this.#length >= LENGTH_PREFIX) {
      const first = this.#chunks[0] as Buffer;
      const len = first.length >= LENGTH_PREFIX ? first.readUInt16BE(0) : this.#join().readUInt16BE(0);
      if (len > this.maxBody) throw new FrameTooLarge(len);
      if (this.#length < LENGTH_PREFIX + len) break;
      const buf = this.#join();
      out.push(buf.subarray(LENGTH_PREFIX, LENGTH_PREFIX + len));
      const rest = buf.subarray(LENGTH_PREFIX + len);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#length = rest.length;
    }
    return out;
  }

  #join(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#length)];
    return this.#chunks[0] as Buffer;
  }
}

/** Prefixes a body with its 2-byte big-endian length; a body over 65535 bytes is our bug. */
export function encodeFrame(body: Buffer): Buffer {
  return encodeFrameParts([body]);
}

/** The frame of a body given in parts, built in one allocation and one copy of each part (no concat chain). */
export function encodeFrameParts(parts: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const p of parts) length += p.length;
  if (length > 0xffff) throw new RangeError('host-command frame body over 65535 bytes');
  const out = Buffer.allocUnsafe(LENGTH_PREFIX + length);
  out.writeUInt16BE(length, 0);
  let at = LENGTH_PREFIX;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

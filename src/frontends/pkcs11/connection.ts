// One client connection (reference §2): the version byte, then frames processed strictly one
// at a time, each answered by one contiguous reply frame with the request's code. A frame that
// cannot be a request of this protocol closes this connection only; malformed arguments of a
// known call get CKR_DEVICE_ERROR and the connection stays (reference §2.4, attacks.md A-24).

import type { Socket } from 'node:net';
import { Application, ckrOf, type FrontEndContext } from './application.js';
import { type Dialect, decodeArgs, decodeHead, encodeError, encodeFrame, encodeReply, FRAME_HEADER } from './codec.js';
import { CKR } from './constants.js';
import type { Handler } from './general-calls.js';
import { handlerTable } from './handlers.js';
import { Reader } from './wire.js';

/** Highest protocol version served: 2 is p11-kit 0.25.6+ (reference §9). */
export const MAX_VERSION = 2;
/** Frames larger than this close the connection (p11-kit sets no limit; reference §2.2 advises one). */
export const MAX_FRAME = 16 * 1024 * 1024;
/** Frames read ahead of processing before the socket is paused. */
const MAX_QUEUED = 32;

export type Log = (msg: string, fields?: Record<string, unknown>) => void;

export class Connection {
  readonly app: Application;
  #buf: Buffer = Buffer.alloc(0);
  #dialect: Dialect | undefined;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #closed = false;
  readonly #handlers: ReadonlyMap<string, Handler>;

  constructor(
    private readonly socket: Socket,
    ctx: FrontEndContext,
    private readonly log: Log,
  ) {
    this.app = new Application(ctx);
    this.#handlers = handlerTable(() => this.dialect);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('close', () => this.#end());
    socket.on('error', () => this.#end());
  }

  get dialect(): Dialect {
    return this.#dialect ?? { version: 0, clientVersion: 0 };
  }

  #end(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#buf = Buffer.alloc(0);
    // Queued work sees #closed and stops; state goes once the last in-flight call returns.
    this.#queue = this.#queue.then(() => this.app.finalize());
  }

  close(why: string): void {
    if (!this.#closed) this.log('pkcs11: closing connection', { why });
    this.#end();
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    if (!this.#dialect) {
      if (this.#buf.length < 1) return;
      const clientVersion = this.#buf[0]!;
      // Reference §2.1: answer min(client, ours) at once; the client blocks on this byte.
      this.#dialect = { version: Math.min(clientVersion, MAX_VERSION), clientVersion };
      this.socket.write(Uint8Array.of(this.#dialect.version));
      this.#buf = this.#buf.subarray(1);
    }
    while (this.#buf.length >= FRAME_HEADER) {
      const code = this.#buf.readUInt32BE(0);
      const optionsLength = this.#buf.readUInt32BE(4);
      const bodyLength = this.#buf.readUInt32BE(8);
      if (optionsLength + bodyLength > MAX_FRAME) {
        this.close('frame too large');
        return;
      }
      const total = FRAME_HEADER + optionsLength + bodyLength;
      if (this.#buf.length < total) break;
      const body = new Uint8Array(this.#buf.subarray(FRAME_HEADER + optionsLength, total));
      this.#buf = this.#buf.subarray(total);
      this.#enqueue(code, body);
    }
  }

  #enqueue(code: number, body: Uint8Array): void {
    this.#queued++;
    if (this.#queued > MAX_QUEUED) this.socket.pause();
    this.#queue = this.#queue
      .then(() => (this.#closed ? undefined : this.#process(code, body)))
      .catch((e: unknown) => {
        this.log('pkcs11: internal error', { error: e instanceof Error ? e.name : 'unknown' });
        this.close('internal error');
      })
      .finally(() => {
        this.#queued--;
        if (this.#queued <= MAX_QUEUED && !this.#closed) this.socket.resume();
      });
  }

  async #process(code: number, body: Uint8Array): Promise<void> {
    const reply = await this.answer(body);
    if (reply === undefined) return this.close('not a p11-kit request');
    if (!this.#closed) this.socket.write(encodeFrame(code, reply));
  }

  /** The reply body for a request body, or undefined when the connection must close. Never throws. */
  async answer(body: Uint8Array): Promise<Uint8Array | undefined> {
    const r = new Reader(body);
    let call: ReturnType<typeof decodeHead>;
    try {
      call = decodeHead(r);
    } catch {
      return undefined; // not our protocol: p11-kit's server drops the connection too (reference §2.4)
    }
    let args: ReturnType<typeof decodeArgs>;
    try {
      args = decodeArgs(call, r, this.dialect);
    } catch {
      return encodeError(CKR.DEVICE_ERROR);
    }
    if (!this.app.initialized && call.name !== 'C_Initialize') return encodeError(CKR.CRYPTOKI_NOT_INITIALIZED);
    const handler = this.#handlers.get(call.name);
    if (!handler) return encodeError(CKR.FUNCTION_NOT_SUPPORTED);
    try {
      return encodeReply(call, await handler(this.app, args), this.dialect);
    } catch (e) {
      const { ckr, internal } = ckrOf(e);
      if (internal) this.log('pkcs11: call failed', { call: call.name, error: e instanceof Error ? `${e.name}: ${e.message}` : 'unknown' });
      return encodeError(ckr);
    }
  }
}

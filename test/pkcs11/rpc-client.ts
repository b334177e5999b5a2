// A minimal p11-kit RPC client for tests: speaks the wire protocol from the same call table,
// so tests can send what p11-kit-client.so 0.24 cannot (protocol 2 mechanisms, malformed
// frames) and read replies field by field.

import { connect, type Socket } from 'node:net';
import { readAttributes, type WireAttribute, writeAttributes } from '../../src/frontends/pkcs11/attribute-wire.js';
import { callByName, signatureParts } from '../../src/frontends/pkcs11/calls.js';
import { Reader, Writer } from '../../src/frontends/pkcs11/wire.js';

export type Mech = { type: number; param?: Uint8Array };
export type Reply = { ok: true; values: unknown[] } | { ok: false; ckr: number };

export class RpcClient {
  #buf = Buffer.alloc(0);
  #waiters: ((b: Buffer) => void)[] = [];
  #code = 0x10;
  closed = false;
  version = -1;

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, c]);
      this.#pump();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.#waiters.splice(0)) w(Buffer.alloc(0));
    });
  }

  #pump(): void {
    if (this.version < 0 && this.#buf.length >= 1) {
      this.version = this.#buf[0]!;
      this.#buf = this.#buf.subarray(1);
    }
    while (this.#waiters.length > 0 && this.#buf.length >= 12) {
      const total = 12 + this.#buf.readUInt32BE(4) + this.#buf.readUInt32BE(8);
      if (this.#buf.length < total) return;
      const frame = this.#buf.subarray(0, total);
      this.#buf = this.#buf.subarray(total);
      this.#waiters.shift()!(frame);
    }
  }

  static async open(path: string, clientVersion = 0): Promise<RpcClient> {
    const socket = connect(path);
    await new Promise<void>((res, rej) => socket.once('connect', res).once('error', rej));
    const c = new RpcClient(socket);
    socket.write(Uint8Array.of(clientVersion));
    await new Promise<void>((res) => {
      const tick = (): void => (c.version >= 0 || c.closed ? res() : void setTimeout(tick, 2));
      tick();
    });
    return c;
  }

  /** Sends a raw body in a frame; resolves with the reply frame (empty if the server closed). */
  raw(body: Uint8Array): Promise<Buffer> {
    const code = this.#code++;
    const opts = Buffer.from('client');
    const head = Buffer.alloc(12);
    head.writeUInt32BE(code, 0);
    head.writeUInt32BE(opts.length, 4);
    head.writeUInt32BE(body.length, 8);
    const p = new Promise<Buffer>((res) => this.#waiters.push(res));
    this.socket.write(Buffer.concat([head, opts, body]));
    this.#pump();
    return p;
  }

  /** Encodes a request from the call table, sends it and decodes the reply. */
  async call(name: string, ...args: unknown[]): Promise<Reply> {
    const row = callByName(name);
    const w = new Writer().u32(row.id).byteArray(Buffer.from(row.request, 'latin1'));
    for (const [i, p] of signatureParts(row.request).entries()) {
      const v = args[i];
      switch (p) {
        case 'y':
          w.u8(v as number);
          break;
        case 'u':
          w.u64(v as number | bigint);
          break;
        case 'z':
        case 's':
          w.byteArray(v as Uint8Array);
          break;
        case 'ay':
          v === null ? w.u8(0).u32(0) : w.u8(1).byteArray(v as Uint8Array);
          break;
        case 'fy':
        case 'fu':
          w.u32(v as number);
          break;
        case 'aA':
          writeAttributes(w, v as WireAttribute[], Math.max(this.version, 0));
          break;
        case 'fA': {
          const list = v as [number, number][];
          w.u32(list.length);
          for (const [t, c] of list) w.u32(t).u32(c);
          break;
        }
        case 'M': {
          const m = v as Mech;
          w.u32(m.type);
          if (m.param) w.raw(m.param);
          break;
        }
        default:
          throw new TypeError(`letter ${p}`);
      }
    }
    const frame = await this.raw(w.finish());
    if (frame.length === 0) throw new Error('connection closed');
    const r = new Reader(new Uint8Array(frame.subarray(12 + frame.readUInt32BE(4))));
    const id = r.u32();
    const sig = Buffer.from(r.byteArray() ?? []).toString('latin1');
    if (id === 0) return { ok: false, ckr: Number(r.u64()) };
    if (id !== row.id || sig !== row.response) throw new Error(`bad reply ${id} ${sig}`);
    const values: unknown[] = [];
    for (const p of signatureParts(row.response)) {
      switch (p) {
        case 'y':
          values.push(r.u8());
          break;
        case 'u':
          values.push(r.u64());
          break;
        case 'v':
          values.push([r.u8(), r.u8()]);
          break;
        case 's':
        case 'z':
          values.push(r.byteArray());
          break;
        case 'ay': {
          const valid = r.u8();
          values.push(valid ? { data: r.byteArray() } : { length: r.u32() });
          break;
        }
        case 'au': {
          const valid = r.u8();
          const n = r.u32();
          const items: bigint[] = [];
          if (valid) for (let i = 0; i < n; i++) items.push(r.u64());
          values.push(valid ? { items } : { count: n });
          break;
        }
        case 'aA':
          values.push(readAttributes(r, Math.max(this.version, 0)));
          break;
        default:
          throw new TypeError(`reply letter ${p}`);
      }
    }
    return { ok: true, values };
  }

  close(): void {
    this.socket.destroy();
  }
}

export const HANDSHAKE = Buffer.from('PRIVATE-GNOME-KEYRING-PKCS11-PROTOCOL-V-1');

export async function initialized(path: string, clientVersion = 0): Promise<RpcClient> {
  const c = await RpcClient.open(path, clientVersion);
  const r = await c.call('C_Initialize', HANDSHAKE, 0, Uint8Array.of(0));
  if (!r.ok) throw new Error(`C_Initialize: 0x${r.ckr.toString(16)}`);
  return c;
}

/** A CK_ATTRIBUTE for templates: ulong, bool or bytes by the type's wire class. */
export const ulongAttr = (type: number, v: number): WireAttribute => ({ type, length: 8, value: { kind: 'ulong', v: BigInt(v) } });
export const boolAttr = (type: number, v: boolean): WireAttribute => ({ type, length: 1, value: { kind: 'byte', v: v ? 1 : 0 } });
export const bytesAttr = (type: number, v: Uint8Array): WireAttribute => ({ type, length: v.length, value: { kind: 'bytes', v } });

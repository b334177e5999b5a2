// Test support: a host-command client over a real TCP (or TLS) socket, as a switch would be: it
// frames each request with the 2-byte length and reads whole response frames back in order.

import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface HostClient {
  socket: Socket;
  /** Sends header + command body; resolves with the response body as latin1 text. */
  send(body: string | Buffer): Promise<string>;
  /** Writes raw bytes (no framing) for malformed-frame tests. */
  raw(bytes: Buffer): void;
  /** The next response frame (after raw writes). */
  next(): Promise<string>;
  /** Resolves when the server closes the connection. */
  closed(): Promise<void>;
  close(): void;
}

export function frame(body: string | Buffer): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  const head = Buffer.alloc(2);
  head.writeUInt16BE(b.length);
  return Buffer.concat([head, b]);
}

export async function hostClient(port: number, tls?: { ca: Buffer }): Promise<HostClient> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = tls ? tlsConnect({ host: '127.0.0.1', port, ca: tls.ca, servername: 'localhost' }) : tcpConnect({ host: '127.0.0.1', port });
    s.once(tls ? 'secureConnect' : 'connect', () => resolve(s));
    s.once('error', reject);
  });
  let buf = Buffer.alloc(0);
  const frames: string[] = [];
  const waiters: ((f: string) => void)[] = [];
  const isClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const f = buf.subarray(2, 2 + buf.readUInt16BE(0)).toString('latin1');
      buf = buf.subarray(2 + buf.readUInt16BE(0));
      const w = waiters.shift();
      if (w) w(f);
      else frames.push(f);
    }
  });
  const next = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const f = frames.shift();
      if (f !== undefined) return resolve(f);
      waiters.push(resolve);
      isClosed.then(() => reject(new Error('connection closed before a response')));
    });
  return {
    socket,
    send(body) {
      socket.write(frame(body));
      return next();
    },
    raw(bytes) {
      socket.write(bytes);
    },
    next,
    closed: () => isClosed,
    close: () => socket.destroy(),
  };
}

/** A key field in Coffer's reference form: 'R' + 2-digit length + id or alias/<name>. */
export const keyRef = (ref: string): string => `R${String(ref.length).padStart(2, '0')}${ref}`;

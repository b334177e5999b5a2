// The host-command listener: TCP (or TLS) on the configured port, payShield framing, one boundary
// session for the whole listener, logged in as the configured partition account so that account's
// roles and policy apply to every command. Each connection answers its frames in order (pipelining
// allowed, bounded); a bad frame costs only its own connection, never the server or another client.

import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { type Hsm, isHsmError } from '../../boundary/api.js';
import type { CommandContext } from './command.js';
import { dispatchFrame } from './dispatch.js';
import { FrameReader, FrameTooLarge } from './frame.js';
import { HostError } from './host-error.js';

export type Log = (msg: string, fields?: Record<string, unknown>) => void;

export interface HostCmdOptions {
  hsm: Hsm;
  host: string;
  port: number;
  /** Length of the message header every request starts with and every response echoes (default 4). */
  headerLength?: number;
  /** The partition account the port acts as; `partition`, if given, must be the account's. */
  account: { user: string; password: string; partition?: string };
  tls?: { key: Buffer; cert: Buffer };
  /** Largest frame body accepted; a longer declared length closes the connection (default 32768). */
  maxFrameBytes?: number;
  /** Frames read ahead of the one being answered before the connection stops reading (default 64). */
  maxPipelined?: number;
  log?: Log;
}

export interface HostCmdServer {
  address: string;
  port: number;
  connections(): number;
  close(): Promise<void>;
}

/** Codes after which logging in again cannot help; retrying would only lock the account. */
const FATAL_LOGIN = new Set(['PIN_INCORRECT', 'PIN_LOCKED', 'USER_TYPE_INVALID']);

/** The listener's one boundary session: logged in lazily (the module may still be sealed), again when it ends. */
class PortSession implements CommandContext {
  #session: Promise<string> | undefined;
  #fatal: string | undefined;

  constructor(
    readonly hsm: Hsm,
    private readonly account: HostCmdOptions['account'],
    private readonly log: Log,
  ) {}

  async login(): Promise<string> {
    if (this.#fatal) throw new Error(this.#fatal);
    this.#session ??= this.hsm.login({ user: this.account.user, password: this.account.password }).then(
      (r) => {
        if (r.role !== 'user' || (this.account.partition !== undefined && r.partition !== this.account.partition)) {
          this.hsm.logout(r.session);
          this.#fatal = `host-command account ${this.account.user} is not a user of partition ${this.account.partition ?? '(any)'}`;
          throw new Error(this.#fatal);
        }
        return r.session;
      },
      (e: unknown) => {
        this.#session = undefined;
        if (isHsmError(e) && FATAL_LOGIN.has(e.code)) {
          this.#fatal = `host-command account ${this.account.user} cannot log in (${e.code}); fix [hostcmd] and restart`;
          this.log(this.#fatal);
        }
        throw e;
      },
    );
    return this.#session;
  }

  async call<T>(fn: (session: string) => Promise<T>): Promise<T> {
    const s = await this.login().catch((e: unknown) => {
      if (isHsmError(e)) throw e;
      throw new HostError('17', 'the port cannot act as its account'); // misconfigured: "not authorised"
    });
    try {
      return await fn(s);
    } catch (e) {
      if (!isHsmError(e) || (e.code !== 'SESSION_INVALID' && e.code !== 'USER_NOT_LOGGED_IN')) throw e;
      // The session idled out or the module was sealed and unsealed: log in once more and retry once.
      if (this.#session) {
        const stale = await this.#session.catch(() => undefined);
        if (stale === s) this.#session = undefined;
      }
      return fn(await this.login());
    }
  }

  close(): void {
    const s = this.#session;
    this.#session = undefined;
    s?.then((id) => this.hsm.logout(id)).catch(() => {});
  }
}

export async function startHostCmdServer(o: HostCmdOptions): Promise<HostCmdServer> {
  const log: Log = o.log ?? (() => {});
  const headerLength = o.headerLength ?? 4;
  const maxFrame = o.maxFrameBytes ?? 32_768;
  const maxPipelined = o.maxPipelined ?? 64;
  const port = new PortSession(o.hsm, o.account, log);
  // A wrong password or account is a configuration error: say so at start rather than on the first command.
  if (o.hsm.status().state === 'unsealed')
    await port.login().catch((e: unknown) => {
      throw new Error(`[hostcmd] account ${o.account.user} cannot log in: ${e instanceof Error ? e.message : String(e)}`);
    });
  const ctx: CommandContext = port;
  const fault = (e: unknown, command: string): void => log('hostcmd: internal error answering a command', { command, error: e instanceof Error ? e.name : typeof e });
  const sockets = new Set<Socket>();

  const serve = (socket: Socket): void => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const reader = new FrameReader(maxFrame);
    // Frames are answered one at a time, in arrival order; reading stops while maxPipelined wait.
    const queue: Buffer[] = [];
    let draining = false;
    // Answers finished in the same tick (pipelined requests) leave in one writev: the socket is corked
    // at the first and uncorked once the tick's microtasks have run, so no answer waits past its tick.
    let corked = false;
    const uncork = (): void => {
      corked = false;
      socket.uncork();
    };
    const send = (frame: Buffer): void => {
      if (!corked) {
        corked = true;
        socket.cork();
        process.nextTick(uncork);
      }
      socket.write(frame);
    };
    const drain = async (): Promise<void> => {
      draining = true;
      for (let body = queue.shift(); body !== undefined; body = queue.shift()) {
        try {
          const frame = await dispatchFrame(body, headerLength, ctx, fault);
          if (!socket.destroyed) send(frame);
        } catch (e) {
          fault(e, 'write');
        }
        if (queue.length < maxPipelined && socket.isPaused() && !socket.destroyed) socket.resume();
      }
      draining = false;
    };
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = reader.push(chunk);
      } catch (e) {
        // A length over the limit: the stream cannot be resynchronised, so this connection ends.
        if (e instanceof FrameTooLarge) log('hostcmd: frame over the size limit; closing the connection', { declared: e.declared, remote: socket.remoteAddress });
        socket.destroy();
        return;
      }
      for (const f of frames) queue.push(f);
      if (queue.length >= maxPipelined) socket.pause();
      if (!draining && queue.length > 0) void drain();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  };

  let server: Server;
  if (o.tls) {
    const tlsServer = createTlsServer({ key: o.tls.key, cert: o.tls.cert, minVersion: 'TLSv1.2' }, serve);
    // A failed handshake is that client's problem only.
    tlsServer.on('tlsClientError', () => {});
    server = tlsServer;
  } else server = createTcpServer(serve);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => log('hostcmd: listener error', { code: (e as NodeJS.ErrnoException).code }));
  const addr = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    address: `${o.tls ? 'tls' : 'tcp'}://${addr.address}:${addr.port}`,
    port: addr.port,
    connections: () => sockets.size,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          port.close();
          resolve();
        });
      });
      return closing;
    },
  };
}

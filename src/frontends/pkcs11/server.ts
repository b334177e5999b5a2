// The PKCS#11 front end's listener: a unix socket that p11-kit-client.so connects to
// (P11_KIT_SERVER_ADDRESS=unix:path=…). Each connection is one PKCS#11 application with its own
// state (reference §1); a failing connection never disturbs another.

import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import type { Hsm } from '../../boundary/api.js';
import { Connection, type Log } from './connection.js';
import { SlotTable } from './slots.js';

export interface Pkcs11Options {
  hsm: Hsm;
  socketPath: string;
  /** Partitions exposed as slots, in slot-list order. */
  partitions: readonly string[];
  /** Accounts a bare-password PIN logs in as (user for CKU_USER, officer for CKU_SO). */
  defaultAccounts?: { user?: string; officer?: string };
  /** Socket file mode (default 0660: owner and group, attacks.md A-22 g). */
  mode?: number;
  log?: Log;
}

export interface Pkcs11Server {
  socketPath: string;
  connections(): number;
  close(): Promise<void>;
}

function removeStaleSocket(path: string): void {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket`);
  unlinkSync(path);
}

export async function startPkcs11Server(o: Pkcs11Options): Promise<Pkcs11Server> {
  const log: Log = o.log ?? (() => {});
  const ctx = { hsm: o.hsm, slots: new SlotTable(o.partitions), defaultAccounts: { ...o.defaultAccounts }, locked: new Set<string>() };
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    new Connection(socket, ctx, log);
  });
  removeStaleSocket(o.socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(o.socketPath, o.mode ?? 0o660);
  server.on('error', (e) => log('pkcs11: listener error', { code: (e as NodeJS.ErrnoException).code }));
  let closing: Promise<void> | undefined;
  return {
    socketPath: o.socketPath,
    connections: () => sockets.size,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

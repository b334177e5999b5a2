// Test support for driving Coffer through the real p11-kit-client.so with pkcs11js: the module
// loaded once per process with CKF_OS_LOCKING_OK, a fixture server in a worker thread (pkcs11js
// blocks its thread), and helpers that turn a thrown Pkcs11Error into its CKR number.

import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import pkcs11js from 'pkcs11js';
import { P11_KIT_CLIENT } from './p11-fixture.js';

export { pkcs11js };
export type Handle = Buffer;
export type P11 = pkcs11js.PKCS11;

/** Loads p11-kit-client.so pointed at `address` (the variable is read at load, so set it first). */
export function loadClient(address: string): P11 {
  process.env.P11_KIT_SERVER_ADDRESS = address;
  const p = new pkcs11js.PKCS11();
  p.load(P11_KIT_CLIENT);
  p.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  return p;
}

/** The CKR a PKCS#11 call returned: 0 when it succeeded, else the code of the thrown error. */
export function rv(fn: () => unknown): number {
  try {
    fn();
    return 0;
  } catch (e) {
    const code = ckrOf(e);
    if (code === undefined) throw e;
    return code;
  }
}

/**
 * The CKR carried by an error pkcs11js threw. Most methods throw a Pkcs11Error; a few
 * (C_CreateObject, C_GenerateKey …) throw a plain Error whose message is `CKR_NAME:<decimal>`.
 */
export function ckrOf(e: unknown): number | undefined {
  if (e instanceof pkcs11js.Pkcs11Error) return e.code;
  const m = e instanceof Error ? /CKR_[A-Z0-9_]+:(\d+)/.exec(e.message) : null;
  return m ? Number(m[1]) : undefined;
}

/** Asserts a call fails with exactly `want`; names the code it got instead. */
export function refused(fn: () => unknown, want: number, what: string): void {
  const got = rv(fn);
  assert.equal(hex(got), hex(want), `${what}: expected ${hex(want)}, got ${hex(got)}`);
}

export const hex = (n: number): string => `0x${n.toString(16)}`;

export interface WorkerServer {
  socket: string;
  address: string;
  /** Has the officer import a trusted AES wrapping key with this value; resolves to its uid. */
  trustedAes(value: Uint8Array): Promise<string>;
  close(): Promise<void>;
}

/** Starts the in-memory fixture (partition p1, alice, officer) in a worker thread. */
export async function workerServer(): Promise<WorkerServer> {
  const w = new Worker(new URL('./p11-server-worker.js', import.meta.url));
  const next = (kind: string): Promise<Record<string, unknown>> =>
    new Promise((res, rej) => {
      const on = (m: Record<string, unknown>): void => {
        if (m.kind !== kind) return;
        w.off('message', on);
        res(m);
      };
      w.on('message', on);
      w.once('error', rej);
    });
  const ready = await next('ready');
  const socket = ready.socket as string;
  return {
    socket,
    address: `unix:path=${socket}`,
    async trustedAes(value) {
      const p = next('trusted-aes');
      w.postMessage({ kind: 'trusted-aes', value });
      return (await p).uid as string;
    },
    async close() {
      const p = next('closed');
      w.postMessage({ kind: 'close' });
      await p;
      await w.terminate();
    },
  };
}

/** Reads one attribute; the CKR if the token refuses it. */
export function readAttr(p: P11, s: Handle, o: Handle, type: number): Buffer | number {
  try {
    const [a] = p.C_GetAttributeValue(s, o, [{ type }]);
    return a!.value;
  } catch (e) {
    const code = ckrOf(e);
    if (code === undefined) throw e;
    return code;
  }
}

/** A CK_BBOOL attribute read back as a boolean (fails the test if the token refuses it). */
export function readBool(p: P11, s: Handle, o: Handle, type: number): boolean {
  const v = readAttr(p, s, o, type);
  if (typeof v === 'number') assert.fail(`attribute ${hex(type)}: ${hex(v)}`);
  return v[0] === 1;
}

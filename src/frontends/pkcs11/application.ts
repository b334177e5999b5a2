// One PKCS#11 application: the state of one client connection (reference §1, §5): its
// sessions, object handles, login per slot and active operations. Handlers are looked up by
// call name from the table in handlers.ts; nothing here touches key material, and every
// decision about keys is the boundary's.

import { randomInt } from 'node:crypto';
import { type Hsm, HsmError, type MechanismParams } from '../../boundary/api.js';
import { CKR, CKS } from './constants.js';
import type { LengthRule } from './signature-length.js';
import type { Slot, SlotTable } from './slots.js';

/** A PKCS#11 return value raised by the front end itself. */
export class CkrError extends Error {
  override readonly name = 'CkrError';
  constructor(
    readonly ckr: number,
    detail?: string,
  ) {
    super(detail ?? `CKR 0x${ckr.toString(16)}`);
  }
}

export interface Login {
  userType: number;
  /** The boundary session of the logged-in account. */
  session: string;
}

export type OperationKind = 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'digest' | 'find';

export interface ActiveOperation {
  kind: Exclude<OperationKind, 'find'>;
  mechanism: string;
  params: MechanismParams;
  /** Key uid (absent for digest). */
  key?: string;
  /** Multi-part input gathered by *Update, processed at *Final. */
  parts: Uint8Array[];
  size: number;
  /** Set once *Update has been called: single-part calls are then refused (PKCS#11 v3.0 §5.8). */
  multi: boolean;
  /** Output computed for a size query, handed out unchanged when the caller comes back with a buffer. */
  pending?: { input: Uint8Array; output: Uint8Array };
  /** Verify only: the signature length the mechanism and key define (signature-length.ts). */
  signatureLength?: LengthRule;
}

export interface P11Session {
  handle: number;
  slot: Slot;
  rw: boolean;
  op?: ActiveOperation;
  find?: { handles: number[]; pos: number };
}

export interface FrontEndContext {
  hsm: Hsm;
  slots: SlotTable;
  /** Account used when a PIN has no `<account>:` part, by user type (CKU_SO = 0, CKU_USER = 1). */
  defaultAccounts: { user?: string; officer?: string };
  /** Accounts the boundary has reported locked (PIN_LOCKED), for CKF_*_PIN_LOCKED; cleared by a good login. */
  locked: Set<string>;
}

/** Bytes one multi-part operation may gather before it is refused (the boundary's own limit is lower for most mechanisms). */
export const MAX_MULTIPART = 16 * 1024 * 1024;

function freshHandle(taken: { has(n: number): boolean }): number {
  // Unpredictable per-connection handles (attacks.md A-22 c): guessing another connection's handle gives nothing anyway.
  for (;;) {
    const h = randomInt(1, 0x7fffffff);
    if (!taken.has(h)) return h;
  }
}

export class Application {
  initialized = false;
  readonly sessions = new Map<number, P11Session>();
  /** Login state per slot id, shared by all sessions of this application on that slot (PKCS#11 v3.0 §5.6). */
  readonly logins = new Map<number, Login>();
  readonly #handleToUid = new Map<number, string>();
  readonly #uidToHandle = new Map<string, number>();

  constructor(readonly ctx: FrontEndContext) {}

  get hsm(): Hsm {
    return this.ctx.hsm;
  }

  slot(id: number): Slot {
    const s = this.ctx.slots.get(id);
    if (!s) throw new CkrError(CKR.SLOT_ID_INVALID);
    return s;
  }

  session(handle: number): P11Session {
    const s = this.sessions.get(handle);
    if (!s) throw new CkrError(CKR.SESSION_HANDLE_INVALID);
    return s;
  }

  openSession(slot: Slot, rw: boolean): number {
    const handle = freshHandle(this.sessions);
    this.sessions.set(handle, { handle, slot, rw });
    return handle;
  }

  sessionState(s: P11Session): number {
    const login = this.logins.get(s.slot.id);
    if (!login) return s.rw ? CKS.RW_PUBLIC : CKS.RO_PUBLIC;
    if (login.userType === 0) return CKS.RW_SO;
    return s.rw ? CKS.RW_USER : CKS.RO_USER;
  }

  /** The boundary session behind a PKCS#11 session, or CKR_USER_NOT_LOGGED_IN. */
  boundary(s: P11Session): string {
    const login = this.logins.get(s.slot.id);
    if (!login) throw new CkrError(CKR.USER_NOT_LOGGED_IN);
    return login.session;
  }

  /** A handle for an object uid, stable for the life of this connection. */
  handleFor(uid: string): number {
    let h = this.#uidToHandle.get(uid);
    if (h === undefined) {
      h = freshHandle(this.#handleToUid);
      this.#handleToUid.set(h, uid);
      this.#uidToHandle.set(uid, h);
    }
    return h;
  }

  uidFor(handle: number, ckr: number = CKR.OBJECT_HANDLE_INVALID): string {
    const uid = this.#handleToUid.get(handle);
    if (uid === undefined) throw new CkrError(ckr);
    return uid;
  }

  forgetObject(handle: number): void {
    const uid = this.#handleToUid.get(handle);
    this.#handleToUid.delete(handle);
    if (uid !== undefined) this.#uidToHandle.delete(uid);
  }

  closeSession(handle: number): void {
    this.sessions.delete(handle);
  }

  /** Ends the login on `slotId`: the boundary session closes and every session's operation there ends (attacks.md A-22 d). */
  logout(slotId: number): void {
    const login = this.logins.get(slotId);
    if (!login) return;
    this.logins.delete(slotId);
    for (const s of this.sessions.values()) {
      if (s.slot.id === slotId) {
        delete s.op;
        delete s.find;
      }
    }
    try {
      this.hsm.logout(login.session);
    } catch {
      // already expired or closed in the boundary: nothing left to end
    }
  }

  /** C_Finalize or connection end: everything of this application goes (reference §2.4, §5). */
  finalize(): void {
    for (const id of [...this.logins.keys()]) this.logout(id);
    this.sessions.clear();
    this.#handleToUid.clear();
    this.#uidToHandle.clear();
    this.initialized = false;
  }
}

/** Maps any error to the CKR the client gets; `internal` marks our own bugs (logged, never detailed to the client). */
export function ckrOf(e: unknown): { ckr: number; internal: boolean } {
  if (e instanceof CkrError) return { ckr: e.ckr, internal: false };
  if (e instanceof HsmError) {
    // The boundary session ended under us (idle timeout, lockout): to PKCS#11 that is a lost login.
    if (e.code === 'SESSION_INVALID') return { ckr: CKR.USER_NOT_LOGGED_IN, internal: false };
    return { ckr: e.ckr, internal: false };
  }
  return { ckr: CKR.GENERAL_ERROR, internal: true };
}

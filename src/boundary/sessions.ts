// Authenticated sessions: who is calling, in which role and partition. A session also owns the
// session objects (CKA_TOKEN=false) it created, which live only in memory and die with it.
// Handles are 256-bit random values; a session ends on logout, idle expiry, or when its
// account is deleted or locked (attacks.md D-15: no stale privileges).

import { randomBytes } from 'node:crypto';
import { HsmError } from './errors.js';
import type { SecretBytes } from './secret.js';
import type { Role, StoredObject } from './types.js';

export interface SessionObject {
  object: StoredObject;
  /** Serialised secret per key version. */
  material: Map<number, SecretBytes>;
}

export interface Session {
  readonly handle: string;
  readonly user: string;
  readonly role: Role;
  readonly partition: string | undefined;
  readonly createdAt: number;
  lastUsed: number;
  readonly objects: Map<string, SessionObject>;
}

export class SessionTable {
  readonly #sessions = new Map<string, Session>();
  readonly #idleMs: number;

  constructor(idleMs: number) {
    this.#idleMs = idleMs;
  }

  open(user: string, role: Role, partition: string | undefined): Session {
    const now = Date.now();
    const s: Session = { handle: randomBytes(32).toString('base64url'), user, role, partition, createdAt: now, lastUsed: now, objects: new Map() };
    this.#sessions.set(s.handle, s);
    return s;
  }

  get(handle: unknown): Session {
    const s = typeof handle === 'string' ? this.#sessions.get(handle) : undefined;
    if (!s) throw new HsmError('SESSION_INVALID');
    const now = Date.now();
    if (now - s.lastUsed > this.#idleMs) {
      this.close(s.handle);
      throw new HsmError('SESSION_INVALID', 'the session expired');
    }
    s.lastUsed = now;
    return s;
  }

  close(handle: string): void {
    const s = this.#sessions.get(handle);
    if (!s) return;
    this.#sessions.delete(handle);
    for (const o of s.objects.values()) for (const m of o.material.values()) m.destroy();
    s.objects.clear();
  }

  /** Ends every session of an account (deleted, locked, role changed). */
  closeUser(user: string): void {
    for (const s of [...this.#sessions.values()]) if (s.user === user) this.close(s.handle);
  }

  closeAll(): void {
    for (const h of [...this.#sessions.keys()]) this.close(h);
  }

  get size(): number {
    return this.#sessions.size;
  }
}

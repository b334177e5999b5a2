
import { checkPasswordPolicy, hashPassword, verifyPassword } from '../auth/passwords.js';
import { HsmError } from '../errors.js';
import type { AuditRecord } from '../store/types.js';
import type { PartitionRecord, Role, UserRecord } from '../types.js';
import { isSystemPartition } from './audit-trail.js';
import { DUMMY_HASH, NAME, PARTITION, checkName, now, type LoginResult, type ModuleCore } from './core.js';
import { quorumGate, registerQuorumExecutor } from './quorum-requests.js';
import type { Session } from '../sessions.js';

export class Accounts {
  constructor(private readonly core: ModuleCore) {
    // Approved quorum requests run here as their requester, re-checked against the store as it is then (module/quorum.ts).
    registerQuorumExecutor(core, 'partition.create', (s, op) => this.#createPartition(s, this.#checkPartition(op as unknown as PartitionInput)));
    registerQuorumExecutor(core, 'user.create', (s, op, sealed) => this.#putNewUser(s, this.#checkNewUser(s, op as unknown as NewUser), sealed.passwordHash!));
    registerQuorumExecutor(core, 'user.delete', (s, op) => this.#deleteUser(s, this.#checkDeletion(s, op.name as string)));
    registerQuorumExecutor(core, 'partition.delete', (s, op) => this.#deletePartition(s, this.#checkPartitionDeletion(op.name as string)));
    registerQuorumExecutor(core, 'user.role', (s, op) => this.#changeRole(s, this.#checkRoleChange(s, op as unknown as RoleChange)));
  }



  async login(input: { user: string; password: string }): Promise<LoginResult> {
    this.core.checkReady();
    if (typeof input?.user !== 'string' || typeof input.password !== 'string') throw new HsmError('ARGUMENTS_BAD', 'user and password are required');
    const user = NAME.test(input.user) ? this.core.guardStore(() => this.core.vault.getUser(input.user)) : undefined;
    if (!user) {
      await verifyPassword(input.password, DUMMY_HASH); // same cost as a real check: no account enumeration by timing
      this.core.audit({ actor: input.user.slice(0, 64), op: 'login', outcome: 'refused', code: 'PIN_INCORRECT', detail: 'no such account' });
      throw new HsmError('PIN_INCORRECT');
    }
    if (user.locked) {
      this.core.audit({ actor: user.name, op: 'login', outcome: 'refused', code: 'PIN_LOCKED' });
      throw new HsmError('PIN_LOCKED');
    }
    const ok = await verifyPassword(input.password, user.passwordHash);
    // Re-read: another login may have counted a failure while scrypt ran.
    const fresh = this.core.vault.getUser(user.name) ?? user;
    if (!ok) {
      const failed = fresh.failedLogins + 1;
      const locked = failed >= this.core.lockout;
      this.core.vault.transaction(() => {
        this.core.vault.putUser({ ...fresh, failedLogins: failed, locked });
        this.core.vault.appendAudit({ actor: user.name, op: 'login', outcome: 'refused', code: locked ? 'PIN_LOCKED' : 'PIN_INCORRECT', detail: `failure ${failed} of ${this.core.lockout}` });
      });
      if (locked) this.core.sessions.closeUser(user.name);
      throw new HsmError(locked ? 'PIN_LOCKED' : 'PIN_INCORRECT');
    }
    if (fresh.locked) throw new HsmError('PIN_LOCKED');
    this.core.vault.transaction(() => {
      if (fresh.failedLogins !== 0) this.core.vault.putUser({ ...fresh, failedLogins: 0 });
      this.core.vault.appendAudit({ actor: user.name, partition: user.partition, op: 'login', outcome: 'ok' });
    });
    const s = this.core.sessions.open(user.name, user.role, user.partition);
    const result: LoginResult = { session: s.handle, role: user.role };
    if (user.partition) result.partition = user.partition;
    return result;
  }

  logout(session: string): void {
    const s = this.core.sessions.get(session);
    for (const uid of s.objects.keys()) this.core.cache.forget(uid);
    this.core.sessions.close(s.handle);
    this.core.audit({ actor: s.user, partition: s.partition, op: 'logout', outcome: 'ok' });
  }

  /** Who a session is: for front ends that show it. */
  whoami(session: string): { user: string; role: Role; partition?: string } {
    this.core.checkReady();
    const s = this.core.sessions.get(session);
    return s.partition ? { user: s.user, role: s.role, partition: s.partition } : { user: s.user, role: s.role };
  }

  createPartition(session: string, input: PartitionInput): PartitionRecord {
    const s = this.core.session(session, 'admin');
    const op = this.#checkPartition(input);
    quorumGate(this.core, s, 'partition.create', op);
    return this.#createPartition(s, op);
  }

  #checkPartition(input: PartitionInput): { name: string; label: string; fipsApprovedOnly: boolean } {
    if (typeof input?.name !== 'string' || !PARTITION.test(input.name)) throw new HsmError('ARGUMENTS_BAD', 'partition names are lower-case letters, digits and dashes');
    if (this.core.vault.getPartition(input.name)) throw new HsmError('ALREADY_EXISTS', `partition ${input.name}`);
    return { name: input.name, label: typeof input.label === 'string' ? input.label.slice(0, 64) : input.name, fipsApprovedOnly: input.fipsApprovedOnly === true };
  }

  #createPartition(s: Session, op: { name: string; label: string; fipsApprovedOnly: boolean }): PartitionRecord {
    const p: PartitionRecord = { ...op, createdAt: now() };
    this.core.vault.transaction(() => {
      this.core.vault.putPartition(p);
      this.core.vault.appendAudit({ actor: s.user, op: 'partition.create', target: p.name, outcome: 'ok' });
    });
    return p;
  }

  /**
   * Deletes a partition and every key in it (admin; quorum-gated as `partition.delete`). A
   * partition that still has accounts is refused: their deletion is its own, audited decision.
   */
  deletePartition(session: string, name: string): void {
    const s = this.core.session(session, 'admin');
    const p = this.#checkPartitionDeletion(name);
    quorumGate(this.core, s, 'partition.delete', { name: p });
    this.#deletePartition(s, p);
  }

  #checkPartitionDeletion(name: unknown): string {
    if (typeof name !== 'string' || !PARTITION.test(name) || !this.core.vault.getPartition(name)) throw new HsmError('PARTITION_NOT_FOUND');
    if (this.core.vault.listUsers().some((u) => u.partition === name)) throw new HsmError('ACTION_PROHIBITED', 'the partition still has accounts: delete them first');
    return name;
  }

  #deletePartition(s: Session, name: string): void {
    const keys = this.core.vault.countObjects(name);
    this.core.vault.transaction(() => {
      this.core.vault.deletePartition(name);
      this.core.vault.appendAudit({ actor: s.user, op: 'partition.delete', target: name, outcome: 'ok', detail: `${keys} objects destroyed` });
    });
    this.core.aliases.delete(name);
  }

  listPartitions(session: string): PartitionRecord[] {
    const s = this.core.session(session);
    // The system partition (module/audit-trail.ts) holds the module's own keys: nobody's tenant.
    const all = this.core.guardStore(() => this.core.vault.listPartitions()).filter((p) => !isSystemPartition(p.name));
    return s.role === 'admin' || s.role === 'auditor' ? all : all.filter((p) => p.name === s.partition);
  }

  async createUser(session: string, input: NewUser & { password: string }): Promise<void> {
    const s = this.core.session(session, 'admin', 'officer');
    checkName(input?.name);
    checkPasswordPolicy(input.password);
    const op = this.#checkNewUser(s, input);
    const hash = await hashPassword(input.password, this.core.scrypt);
    // The request holds the scrypt hash, never the password (module/quorum-requests.ts).
    quorumGate(this.core, s, 'user.create', op, { partition: op.partition, sealed: { passwordHash: hash } });
    this.#putNewUser(s, op, hash);
  }

  #checkNewUser(s: Session, input: NewUser): { name: string; role: Role; partition?: string } {
    checkName(input?.name);
    const role = input.role;
    if (!['admin', 'auditor', 'officer', 'user'].includes(role)) throw new HsmError('ARGUMENTS_BAD', 'role must be admin, auditor, officer or user');
    const partitionRole = role === 'officer' || role === 'user';
    if (s.role === 'officer' && (role !== 'user' || input.partition !== s.partition)) {
      throw new HsmError('USER_TYPE_INVALID', 'an officer creates users of its own partition only');
    }
    // The name pattern also keeps accounts out of the system partition, whose keys no caller may use.
    if (partitionRole && (typeof input.partition !== 'string' || !PARTITION.test(input.partition) || !this.core.vault.getPartition(input.partition))) throw new HsmError('PARTITION_NOT_FOUND');
    if (!partitionRole && input.partition !== undefined) throw new HsmError('ARGUMENTS_BAD', 'appliance roles belong to no partition');
    if (this.core.vault.getUser(input.name)) throw new HsmError('ALREADY_EXISTS', `account ${input.name}`);
    return partitionRole ? { name: input.name, role, partition: input.partition! } : { name: input.name, role };
  }

  #putNewUser(s: Session, op: { name: string; role: Role; partition?: string }, hash: string): void {
    const { name, role } = op;
    const u: UserRecord = { name, role, passwordHash: hash, failedLogins: 0, locked: false, createdAt: now() };
    if (op.partition !== undefined) u.partition = op.partition;
    this.core.vault.transaction(() => {
      this.core.vault.putUser(u);
      this.core.vault.appendAudit({ actor: s.user, partition: u.partition, op: 'user.create', target: u.name, outcome: 'ok', detail: `role ${role}` });
    });
  }

  listUsers(session: string): Omit<UserRecord, 'passwordHash'>[] {
    const s = this.core.session(session, 'admin', 'officer');
    return this.core.vault
      .listUsers()
      .filter((u) => s.role === 'admin' || u.partition === s.partition)
      .map(({ passwordHash: _omit, ...rest }) => rest);
  }

  deleteUser(session: string, name: string): void {
    const s = this.core.session(session, 'admin', 'officer');
    const u = this.#checkDeletion(s, name);
    quorumGate(this.core, s, 'user.delete', { name: u.name }, { partition: u.partition });
    this.#deleteUser(s, u);
  }

  #checkDeletion(s: Session, name: string): UserRecord {
    const u = this.core.manageableUser(s, name);
    if (u.name === s.user) throw new HsmError('ACTION_PROHIBITED', 'an account cannot delete itself');
    return u;
  }

  #deleteUser(s: Session, u: UserRecord): void {
    this.core.vault.transaction(() => {
      this.core.vault.deleteUser(u.name);
      this.core.vault.appendAudit({ actor: s.user, partition: u.partition, op: 'user.delete', target: u.name, outcome: 'ok' });
    });
    this.core.sessions.closeUser(u.name);
  }

  /**
   * Changes an account's role (admin; quorum-gated as `user.role`). Its sessions end at once, so
   * no session keeps the old role's privileges (attacks.md D-15, D-16).
   */
  changeUserRole(session: string, input: RoleChange): void {
    const s = this.core.session(session, 'admin');
    const change = this.#checkRoleChange(s, input);
    quorumGate(this.core, s, 'user.role', { name: change.user.name, role: change.role, ...(change.partition ? { partition: change.partition } : {}) }, change.partition ? { partition: change.partition } : {});
    this.#changeRole(s, change);
  }

  #checkRoleChange(s: Session, input: RoleChange): { user: UserRecord; role: Role; partition: string | undefined } {
    const user = this.core.manageableUser(s, input?.name);
    if (user.name === s.user) throw new HsmError('ACTION_PROHIBITED', 'an account cannot change its own role');
    const role = input.role;
    if (!['admin', 'auditor', 'officer', 'user'].includes(role)) throw new HsmError('ARGUMENTS_BAD', 'role must be admin, auditor, officer or user');
    const partitionRole = role === 'officer' || role === 'user';
    const partition = partitionRole ? (input.partition ?? user.partition) : undefined;
    if (partitionRole && (typeof partition !== 'string' || !PARTITION.test(partition) || !this.core.vault.getPartition(partition))) throw new HsmError('PARTITION_NOT_FOUND');
    if (!partitionRole && input.partition !== undefined) throw new HsmError('ARGUMENTS_BAD', 'appliance roles belong to no partition');
    if (role === user.role && partition === user.partition) throw new HsmError('ARGUMENTS_BAD', 'the account already has that role');
    return { user, role, partition };
  }

  #changeRole(s: Session, c: { user: UserRecord; role: Role; partition: string | undefined }): void {
    const { partition: _old, ...rest } = c.user;
    const next: UserRecord = c.partition ? { ...rest, role: c.role, partition: c.partition } : { ...rest, role: c.role };
    this.core.vault.transaction(() => {
      this.core.vault.putUser(next);
      this.core.vault.appendAudit({ actor: s.user, partition: c.partition ?? c.user.partition, op: 'user.role', target: c.user.name, outcome: 'ok', detail: `${c.user.role} → ${c.role}` });
    });
    this.core.sessions.closeUser(c.user.name);
  }

  unlockUser(session: string, name: string): void {
    const s = this.core.session(session, 'admin', 'officer');
    const u = this.core.manageableUser(s, name);
    this.core.vault.transaction(() => {
      this.core.vault.putUser({ ...u, locked: false, failedLogins: 0 });
      this.core.vault.appendAudit({ actor: s.user, partition: u.partition, op: 'user.unlock', target: u.name, outcome: 'ok' });
    });
  }

  async changePassword(session: string, input: { name?: string; password: string }): Promise<void> {
    const s = this.core.session(session);
    const target = input.name ?? s.user;
    const u = target === s.user ? this.core.vault.getUser(s.user) : s.role === 'admin' || s.role === 'officer' ? this.core.manageableUser(s, target) : undefined;
    if (!u) throw new HsmError('USER_NOT_FOUND');
    checkPasswordPolicy(input.password);
    const hash = await hashPassword(input.password, this.core.scrypt);
    this.core.vault.transaction(() => {
      this.core.vault.putUser({ ...u, passwordHash: hash, failedLogins: 0, locked: false });
      this.core.vault.appendAudit({ actor: s.user, partition: u.partition, op: 'user.password', target: u.name, outcome: 'ok' });
    });
    if (u.name !== s.user) this.core.sessions.closeUser(u.name);
  }

  listAudit(session: string, fromSeq = 1, limit = 1000): AuditRecord[] {
    this.core.session(session, 'auditor');
    if (!Number.isSafeInteger(fromSeq) || fromSeq < 1 || !Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) throw new HsmError('ARGUMENTS_BAD', 'fromSeq ≥ 1, 1 ≤ limit ≤ 10000');
    return this.core.guardStore(() => this.core.vault.listAudit(fromSeq, limit));
  }
}

interface PartitionInput {
  name: string;
  label?: string;
  fipsApprovedOnly?: boolean;
}

interface RoleChange {
  name: string;
  role: Role;
  /** For officer/user: the partition (default: the account's current one). */
  partition?: string;
}

interface NewUser {
  name: string;
  role: Role;
  partition?: string;
}

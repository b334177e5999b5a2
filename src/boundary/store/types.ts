// The sealed store's contract. A Vault keeps partitions, users, objects and audit records in a
// StorageBackend (SQLite or memory), sealing key material under per-partition keys that are
// themselves wrapped under the master key, and detecting any edit, swap, deletion or rollback
// of stored records as tamper. All calls are synchronous (better-sqlite3 is); writes made inside
// one `transaction` commit atomically and durably before it returns.

import type { SecretBytes } from '../secret.js';
import type { PartitionRecord, StoredObject, UserRecord } from '../types.js';

export interface AuditEvent {
  /** Account name, or 'system'. */
  actor: string;
  partition?: string;
  /** What was attempted: 'login', 'key.generate', 'sign', 'tamper' … */
  op: string;
  /** Object uid, account name or partition the event concerns. */
  target?: string;
  outcome: 'ok' | 'refused' | 'failed';
  /** HsmError code when refused or failed. */
  code?: string;
  /** Cause for the auditor's eyes only (never a secret). */
  detail?: string;
}

export interface AuditRecord extends AuditEvent {
  seq: number;
  time: string;
  /** SHA-256 over the previous record's hash and this record's canonical JSON (hex). */
  hash: string;
  prevHash: string;
}

export interface Vault {
  readonly initialized: boolean;
  readonly unsealed: boolean;
  /** Store must be empty. Creates the header from the master key; leaves the vault unsealed. */
  initialize(masterKey: SecretBytes): void;
  /**
   * Checks the master key (wrong key: HsmError('ARGUMENTS_BAD', 'wrong master key')), then the
   * whole store's integrity (any failure: HsmError('TAMPER_DETECTED', <what>)), and unseals.
   */
  unseal(masterKey: SecretBytes): void;
  /** Forgets the master key and every partition key. */
  seal(): void;
  /** Runs fn atomically; nested calls join the outer transaction. */
  transaction<T>(fn: () => T): T;

  putPartition(partition: PartitionRecord): void;
  getPartition(name: string): PartitionRecord | undefined;
  listPartitions(): PartitionRecord[];
  deletePartition(name: string): void;

  putUser(user: UserRecord): void;
  getUser(name: string): UserRecord | undefined;
  listUsers(): UserRecord[];
  deleteUser(name: string): void;

  /**
   * Inserts or updates an object. `material` maps key version → serialised secret for versions
   * not yet stored; stored versions keep their sealed material (re-sealed when the bound
   * attributes change). Bumps nothing itself: the caller sets `revision`.
   */
  putObject(object: StoredObject, material?: ReadonlyMap<number, SecretBytes>): void;
  getObject(uid: string): StoredObject | undefined;
  listObjects(partition: string): StoredObject[];
  /** Unseals one version's secret (caller destroys it). Undefined for public-only objects. */
  loadSecret(object: StoredObject, version: number): SecretBytes | undefined;
  deleteObject(uid: string): void;
  countObjects(partition?: string): number;

  appendAudit(event: AuditEvent): AuditRecord;
  listAudit(fromSeq?: number, limit?: number): AuditRecord[];

  close(): void;
}

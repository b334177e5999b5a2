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
  /** Present on 'audit.checkpoint' records only (docs/audit.md). */
  checkpoint?: AuditCheckpoint;
}

/** A signed statement "the chain's head was record `seq` with hash `head` at `time`" (docs/audit.md). */
export interface AuditCheckpoint {
  seq: number;
  head: string;
  time: string;
  alg: 'Ed25519';
  /** First 16 hex digits of SHA-256 over the audit public key's SPKI DER. */
  keyId: string;
  /** base64 Ed25519 signature over checkpointPayload() of the fields above. */
  signature: string;
}

/** Asked after each appended record, inside its transaction: an event to append right after it, if any. */
export type AuditHook = (record: AuditRecord) => AuditEvent | undefined;

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

  /** The module's own records ('system' table), tagged and covered by the set digest like every row. */
  putSystemRecord(name: string, body: string, blob?: Uint8Array | null): void;
  getSystemRecord(name: string): { body: string; blob: Uint8Array | null } | undefined;
  /**
   * HMAC-SHA-256 of `data` under a subkey of one partition's key (HKDF-SHA-256 with `label`): names a record
   * by a value that must not be stored, such as a PAN (payment attempt counters). Stable across master-key rotation.
   */
  partitionDigest(partition: string, label: string, data: Uint8Array): Buffer;
  /** A system record's body read while sealed, UNVERIFIED (no MAC key yet): a hint, never an authority. */
  peekSystemRecord(name: string): string | undefined;
  /** True if `masterKey` is this store's master key (compares the header's key check; works sealed). */
  matchesMasterKey(masterKey: SecretBytes): boolean;
  /**
   * Replaces the master key in one transaction: partition keys re-wrapped, every row re-tagged,
   * new key check; `within` runs inside it with the new keys (its writes commit with it).
   */
  rotateMasterKey(newKey: SecretBytes, within?: () => void): void;

  /** Seals a backup's key under a master-key subkey (docs/backup.md); `aad` names the backup. */
  sealBackupKey(key: SecretBytes, aad: string): Uint8Array;
  /** Opens what sealBackupKey made; undefined when it does not open (another master key, or edited). */
  openBackupKey(sealed: Uint8Array, aad: string): SecretBytes | undefined;

  appendAudit(event: AuditEvent): AuditRecord;
  /** Installs (or with undefined removes) the module's checkpoint hook; a record the hook returns is not itself offered to it. */
  setAuditHook(hook: AuditHook | undefined): void;
  listAudit(fromSeq?: number, limit?: number): AuditRecord[];

  /**
   * Tamper response 'erase' and zeroize (attacks.md D-17, E-06): seals, then deletes every row and
   * the header and scrubs freed space, so the store is uninitialised and its keys are gone for good.
   */
  erase(): void;

  close(): void;
}

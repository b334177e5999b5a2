// The sealed store: a Vault over a StorageBackend. Master key → HKDF subkeys → per-partition
// AES-256 keys (wrapped) → each object version's secret sealed with AES-256-GCM, bound to the
// object's identity and security attributes. Every row carries an HMAC tag, the header commits
// to the set of rows (XOR-MAC) and to a monotonic counter mirrored in the rollback anchor.
// Invariant: outside a transaction, header.counter is the last committed counter and
// header.setDigest is the XOR of the member hashes of exactly the rows in the store.

import { createHmac, hkdfSync, type KeyObject, timingSafeEqual } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { HsmError } from '../errors.js';
import type { SecretBytes } from '../secret.js';
import type { PartitionRecord, StoredObject, UserRecord } from '../types.js';
import { Anchor, type AnchorState } from './anchor.js';
import { auditHash, GENESIS_HASH } from './audit-chain.js';
import { type HeaderRow, materialKey, type Row, type StorageBackend, TABLES, type Table } from './backend.js';
import { decodeJson, encodeJson } from './json-codec.js';
import { materialAad, newPartitionKey, openPartitionKey, partitionKeyAad, seal, unseal } from './material-seal.js';
import { MemoryBackend } from './memory.js';
import { DIGEST_BYTES, headerTag, memberHash, rowTag, xorInto } from './row-mac.js';
import { SqliteBackend } from './sqlite.js';
import { deriveStoreKeys, type StoreKeys } from './store-keys.js';
import type { AuditEvent, AuditHook, AuditRecord, Vault } from './types.js';

export type VaultOptions = { kind: 'memory' } | { kind: 'sqlite'; path: string; anchorPath?: string };

const FORMAT = 1;
const DEFAULT_AUDIT_LIMIT = 1000;

interface Tx {
  /** Header as read at the start of the outermost transaction. */
  header: Omit<HeaderRow, 'tag'>;
  /** Running set digest, updated per row change. */
  digest: Buffer;
  dirty: boolean;
}

export function openVault(options: VaultOptions): Vault {
  if (options.kind === 'memory') return new StoreVault(new MemoryBackend(), undefined);
  if (options.kind === 'sqlite') {
    const path = isAbsolute(options.path) ? options.path : resolve(options.path);
    return new StoreVault(new SqliteBackend(path), new Anchor(options.anchorPath ?? `${path}.anchor`));
  }
  throw new TypeError('openVault: unknown kind');
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Decoded objects kept in memory at most (the key cache holds the unsealed material separately). */
const OBJECT_CACHE = 10_000;

/** Freezes plain objects and arrays all the way down (typed arrays cannot be frozen): cached rows are shared. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

class StoreVault implements Vault {
  readonly #objects = new Map<string, StoredObject>();
  #objectsMarker = -1;
  readonly #backend: StorageBackend;
  readonly #anchor: Anchor | undefined;
  #keys: StoreKeys | undefined;
  readonly #partitionKeys = new Map<string, KeyObject>();
  #tx: Tx | undefined;
  /** Counter and digest of the last commit this process made or verified. */
  #committed: { counter: number; setDigest: Buffer } | undefined;
  #closed = false;
  #auditHook: AuditHook | undefined;

  constructor(backend: StorageBackend, anchor: Anchor | undefined) {
    this.#backend = backend;
    this.#anchor = anchor;
  }

  get initialized(): boolean {
    return !this.#closed && this.#backend.readHeader() !== undefined;
  }

  get unsealed(): boolean {
    return this.#keys !== undefined;
  }

  // ---- seal state ----------------------------------------------------------------------------

  initialize(masterKey: SecretBytes): void {
    this.#requireOpen();
    if (this.#backend.readHeader() !== undefined) throw new HsmError('ALREADY_INITIALIZED');
    for (const t of TABLES) if (this.#backend.count(t) > 0) throw new HsmError('ALREADY_INITIALIZED', 'store not empty');
    const keys = deriveStoreKeys(masterKey);
    this.#anchor?.reset();
    this.#keys = keys;
    const zero = Buffer.alloc(DIGEST_BYTES);
    this.#committed = { counter: 0, setDigest: zero };
    try {
      // Counter 0 is "empty"; the commit below writes header counter 1 through the normal protocol.
      this.#run(() => this.#markDirty(), { format: FORMAT, counter: 0, setDigest: zero, keyCheck: keys.keyCheck });
    } catch (e) {
      this.seal();
      throw e;
    }
  }

  unseal(masterKey: SecretBytes): void {
    this.#requireOpen();
    const header = this.#backend.readHeader();
    if (!header) throw new HsmError('NOT_INITIALIZED');
    const keys = deriveStoreKeys(masterKey);
    if (!equalBytes(keys.keyCheck, header.keyCheck)) throw new HsmError('ARGUMENTS_BAD', 'wrong master key');
    if (header.format !== FORMAT || !equalBytes(headerTag(keys.storeMac, header), header.tag)) throw new HsmError('TAMPER_DETECTED', 'header');
    this.#verifyAllRows(keys.storeMac, header.setDigest);
    if (this.#anchor) this.#reconcileAnchor(keys.anchorMac, header);
    this.#partitionKeys.clear();
    this.#committed = { counter: header.counter, setDigest: Buffer.from(header.setDigest) };
    this.#keys = keys;
  }

  seal(): void {
    this.#objects.clear();
    this.#keys = undefined;
    this.#committed = undefined;
    this.#partitionKeys.clear(); // KeyObjects cannot be zeroed from JS; dropping them frees them with the GC
  }

  erase(): void {
    this.#requireOpen();
    this.seal();
    this.#backend.erase();
    this.#anchor?.reset(); // the anchor's MAC key came from the master key, which is gone
  }

  close(): void {
    if (this.#closed) return;
    this.seal();
    this.#anchor?.close();
    this.#backend.close();
    this.#closed = true;
  }

  /** Streams every table: each row's tag must verify and the member hashes must XOR to the header's digest. */
  #verifyAllRows(macKey: KeyObject, expected: Uint8Array): void {
    const acc = Buffer.alloc(DIGEST_BYTES);
    for (const table of TABLES) {
      for (const row of this.#backend.iterate(table)) {
        if (!equalBytes(rowTag(macKey, table, row), row.tag)) throw new HsmError('TAMPER_DETECTED', `row edited (${table})`);
        xorInto(acc, memberHash(macKey, table, row.key, row.tag));
      }
    }
    if (!equalBytes(acc, expected)) throw new HsmError('TAMPER_DETECTED', 'row missing or added');
  }

  /** The database must be at the anchor's committed point, or at its pending one after a crash mid-commit. */
  #reconcileAnchor(anchorMac: KeyObject, header: HeaderRow): void {
    const anchor = this.#anchor!;
    const state = anchor.load(anchorMac);
    if (!state) throw new HsmError('TAMPER_DETECTED', 'anchor missing');
    const at = (p: AnchorState['committed'] | undefined): boolean =>
      p !== undefined && p.counter === header.counter && equalBytes(p.setDigest, header.setDigest);
    if (at(state.committed)) {
      if (state.pending) anchor.write(anchorMac, { committed: state.committed }); // crash before the DB commit
      return;
    }
    if (at(state.pending)) {
      anchor.write(anchorMac, { committed: state.pending! }); // crash after the DB commit: finalise
      return;
    }
    if (header.counter < state.committed.counter) throw new HsmError('TAMPER_DETECTED', 'rollback');
    throw new HsmError('TAMPER_DETECTED', 'store does not match its anchor');
  }

  // ---- transactions --------------------------------------------------------------------------

  transaction<T>(fn: () => T): T {
    this.#requireUnsealed();
    if (this.#tx) return fn(); // nested: join the outer transaction
    return this.#run(fn, undefined);
  }

  #run<T>(fn: () => T, fresh: Omit<HeaderRow, 'tag'> | undefined): T {
    const keys = this.#keys!;
    const committed = this.#committed!;
    this.#backend.begin();
    let done = false;
    let next: Omit<HeaderRow, 'tag'> | undefined;
    let result: T;
    try {
      const header = fresh ?? this.#readHeaderChecked(keys, committed.counter);
      this.#tx = { header, digest: Buffer.from(header.setDigest), dirty: false };
      result = fn();
      if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
        throw new TypeError('transaction callback must be synchronous');
      }
      if (this.#tx.dirty) {
        next = { format: header.format, counter: header.counter + 1, setDigest: this.#tx.digest, keyCheck: header.keyCheck };
        this.#backend.writeHeader({ ...next, tag: headerTag(keys.storeMac, next) });
        // Commit protocol step 1: the anchor learns the pending point before the database commits.
        this.#anchor?.write(keys.anchorMac, { committed, pending: { counter: next.counter, setDigest: next.setDigest } });
      }
      this.#backend.commit();
      done = true;
    } finally {
      this.#tx = undefined;
      if (!done) {
        this.#backend.rollback();
        this.#partitionKeys.clear(); // keys of partitions created in the rolled-back transaction
        this.#objects.clear(); // decoded rows of the rolled-back transaction
      }
    }
    if (next) {
      this.#committed = { counter: next.counter, setDigest: Buffer.from(next.setDigest) };
      // Step 3: the commit is durable; the anchor moves its committed point.
      this.#anchor?.write(keys.anchorMac, { committed: this.#committed });
    }
    return result;
  }

  /** The header at the start of a write: its tag must verify and it must be the one this process last committed. */
  #readHeaderChecked(keys: StoreKeys, expectedCounter: number): Omit<HeaderRow, 'tag'> {
    const h = this.#backend.readHeader();
    if (!h || !equalBytes(headerTag(keys.storeMac, h), h.tag)) throw new HsmError('TAMPER_DETECTED', 'header');
    if (h.counter !== expectedCounter) throw new HsmError('TAMPER_DETECTED', h.counter < expectedCounter ? 'rollback' : 'header');
    return h;
  }

  #markDirty(): void {
    this.#tx!.dirty = true;
  }

  #write<T>(fn: () => T): T {
    return this.transaction(fn);
  }

  // ---- rows ----------------------------------------------------------------------------------

  #read(table: Table, key: string): Row | undefined {
    const row = this.#backend.get(table, key);
    if (row) this.#check(table, row);
    return row;
  }

  #check(table: Table, row: Row): void {
    if (!equalBytes(rowTag(this.#keys!.storeMac, table, row), row.tag)) throw new HsmError('TAMPER_DETECTED', `row edited (${table})`);
  }

  #put(table: Table, row: Omit<Row, 'tag'>): void {
    const tx = this.#tx!;
    const mac = this.#keys!.storeMac;
    const old = this.#read(table, row.key);
    if (old) xorInto(tx.digest, memberHash(mac, table, old.key, old.tag));
    const tag = rowTag(mac, table, row);
    this.#backend.put(table, { ...row, tag });
    xorInto(tx.digest, memberHash(mac, table, row.key, tag));
    tx.dirty = true;
  }

  #remove(table: Table, key: string): boolean {
    const tx = this.#tx!;
    const old = this.#read(table, key);
    if (!old) return false;
    xorInto(tx.digest, memberHash(this.#keys!.storeMac, table, old.key, old.tag));
    this.#backend.delete(table, key);
    tx.dirty = true;
    return true;
  }

  #list(table: Table, group: string): Row[] {
    const rows = this.#backend.listByGroup(table, group);
    for (const r of rows) this.#check(table, r);
    return rows;
  }

  #all(table: Table): Row[] {
    const rows: Row[] = [];
    for (const r of this.#backend.iterate(table)) {
      this.#check(table, r);
      rows.push(r);
    }
    return rows;
  }

  // ---- partitions ----------------------------------------------------------------------------

  #partitionKey(name: string): KeyObject {
    const cached = this.#partitionKeys.get(name);
    if (cached) return cached;
    const row = this.#read('partitions', name);
    if (!row?.blob) throw new HsmError('PARTITION_NOT_FOUND');
    const key = openPartitionKey(this.#keys!.partitionWrap, name, row.blob);
    this.#partitionKeys.set(name, key);
    return key;
  }

  putPartition(partition: PartitionRecord): void {
    this.#requireUnsealed();
    if (typeof partition.name !== 'string' || partition.name === '') throw new TypeError('partition name must be a non-empty string');
    this.#write(() => {
      const old = this.#read('partitions', partition.name);
      let wrapped = old?.blob ?? null;
      if (!wrapped) {
        // A partition's key is generated once, when the partition is first stored.
        const fresh = newPartitionKey(this.#keys!.partitionWrap, partition.name);
        wrapped = fresh.wrapped;
        this.#partitionKeys.set(partition.name, fresh.key);
      }
      this.#put('partitions', { key: partition.name, group: '', body: encodeJson(partition), blob: wrapped, revision: null });
    });
  }

  getPartition(name: string): PartitionRecord | undefined {
    this.#requireUnsealed();
    const row = this.#read('partitions', name);
    return row ? this.#decode<PartitionRecord>(row, 'name', name) : undefined;
  }

  listPartitions(): PartitionRecord[] {
    this.#requireUnsealed();
    return this.#all('partitions').map((r) => this.#decode<PartitionRecord>(r, 'name', r.key));
  }

  /** Deletes the partition, its key and every object in it (their material would be unreadable anyway). */
  deletePartition(name: string): void {
    this.#requireUnsealed();
    this.#write(() => {
      for (const obj of this.#list('objects', name)) this.#deleteObjectRows(obj.key);
      this.#remove('partitions', name);
      this.#partitionKeys.delete(name);
    });
  }

  // ---- users ---------------------------------------------------------------------------------

  putUser(user: UserRecord): void {
    this.#requireUnsealed();
    if (typeof user.name !== 'string' || user.name === '') throw new TypeError('user name must be a non-empty string');
    this.#write(() => this.#put('users', { key: user.name, group: user.partition ?? '', body: encodeJson(user), blob: null, revision: null }));
  }

  getUser(name: string): UserRecord | undefined {
    this.#requireUnsealed();
    const row = this.#read('users', name);
    return row ? this.#decode<UserRecord>(row, 'name', name) : undefined;
  }

  listUsers(): UserRecord[] {
    this.#requireUnsealed();
    return this.#all('users').map((r) => this.#decode<UserRecord>(r, 'name', r.key));
  }

  deleteUser(name: string): void {
    this.#requireUnsealed();
    this.#write(() => this.#remove('users', name));
  }

  // ---- objects -------------------------------------------------------------------------------

  putObject(object: StoredObject, material?: ReadonlyMap<number, SecretBytes>): void {
    this.#requireUnsealed();
    if (typeof object.uid !== 'string' || object.uid === '') throw new TypeError('object uid must be a non-empty string');
    if (!Number.isSafeInteger(object.revision)) throw new TypeError('object revision must be an integer');
    this.#forgetObject(object.uid);
    this.#write(() => {
      const newKey = this.#partitionKey(object.partition); // PARTITION_NOT_FOUND if absent
      const oldRow = this.#read('objects', object.uid);
      if (oldRow) {
        const old = this.#decode<StoredObject>(oldRow, 'uid', object.uid);
        this.#resealIfRebound(old, object, newKey);
      }
      this.#put('objects', { key: object.uid, group: object.partition, body: encodeJson(object), blob: null, revision: object.revision });
      for (const [version, secret] of material ?? []) {
        if (!Number.isSafeInteger(version) || version < 0) throw new TypeError('key version must be a non-negative integer');
        const key = materialKey(object.uid, version);
        // Rotation appends; a stored version is never overwritten (STYLE §10).
        if (this.#backend.get('material', key)) throw new TypeError(`material for version ${version} is already stored`);
        const sealed = seal(newKey, secret.insecureBytes(), materialAad(object, version));
        this.#put('material', { key, group: object.uid, body: '', blob: sealed, revision: null });
      }
    });
  }

  /** When the bound attributes (or the partition) change, every stored version is re-sealed under the new binding. */
  #resealIfRebound(old: StoredObject, next: StoredObject, newKey: KeyObject): void {
    const rows = this.#list('material', old.uid);
    if (rows.length === 0) return;
    const rebound = rows.some((r) => {
      const v = this.#versionOf(r);
      return materialAad(old, v) !== materialAad(next, v);
    });
    if (!rebound && old.partition === next.partition) return;
    const oldKey = this.#partitionKey(old.partition);
    for (const r of rows) {
      const v = this.#versionOf(r);
      const secret = unseal(oldKey, r.blob!, materialAad(old, v), 'sealed material');
      try {
        this.#put('material', { key: r.key, group: r.group, body: '', blob: seal(newKey, secret.insecureBytes(), materialAad(next, v)), revision: null });
      } finally {
        secret.destroy();
      }
    }
  }

  #versionOf(row: Row): number {
    return Number(row.key.slice(row.key.lastIndexOf('#') + 1));
  }

  getObject(uid: string): StoredObject | undefined {
    this.#requireUnsealed();
    // DESIGN §5: hot metadata comes from memory. Decoded objects are kept (frozen) until this
    // process changes them or another connection commits to the file, which drops them all, so
    // a live edit of the database is still verified, and caught, on the next read.
    const marker = this.#backend.externalChanges();
    if (marker !== this.#objectsMarker) {
      this.#objects.clear();
      this.#objectsMarker = marker;
    }
    const hit = this.#objects.get(uid);
    if (hit) {
      this.#objects.delete(uid);
      this.#objects.set(uid, hit);
      return hit;
    }
    const row = this.#read('objects', uid);
    if (!row) return undefined;
    const obj = deepFreeze(this.#decodeObject(row));
    this.#objects.set(uid, obj);
    if (this.#objects.size > OBJECT_CACHE) this.#objects.delete(this.#objects.keys().next().value as string);
    return obj;
  }

  listObjects(partition: string): StoredObject[] {
    this.#requireUnsealed();
    return this.#list('objects', partition).map((r) => this.#decodeObject(r));
  }

  loadSecret(object: StoredObject, version: number): SecretBytes | undefined {
    this.#requireUnsealed();
    const row = this.#read('material', materialKey(object.uid, version));
    if (!row?.blob) return undefined;
    // Bind to the stored object, not the caller's copy: the store is the authority on attributes.
    const stored = this.getObject(object.uid);
    if (!stored) throw new HsmError('TAMPER_DETECTED', 'material without its object');
    return unseal(this.#partitionKey(stored.partition), row.blob, materialAad(stored, version), 'sealed material');
  }

  deleteObject(uid: string): void {
    this.#requireUnsealed();
    this.#write(() => this.#deleteObjectRows(uid));
  }

  #deleteObjectRows(uid: string): void {
    this.#forgetObject(uid);
    for (const m of this.#list('material', uid)) this.#remove('material', m.key);
    this.#remove('objects', uid);
  }

  countObjects(partition?: string): number {
    this.#requireUnsealed();
    return this.#backend.count('objects', partition);
  }

  // ---- audit ---------------------------------------------------------------------------------

  appendAudit(event: AuditEvent): AuditRecord {
    this.#requireUnsealed();
    return this.#write(() => {
      const record = this.#appendAuditRow(event);
      // A checkpoint the module asks for joins the record's transaction, so neither commits alone.
      const follow = this.#auditHook?.(record);
      if (follow) this.#appendAuditRow(follow);
      return record;
    });
  }

  setAuditHook(hook: AuditHook | undefined): void {
    this.#auditHook = hook;
  }

  #appendAuditRow(event: AuditEvent): AuditRecord {
    const last = this.#backend.lastAudit();
    let prev = { seq: 0, hash: GENESIS_HASH };
    if (last) {
      this.#check('audit', last);
      const r = decodeJson<AuditRecord>(last.body);
      prev = { seq: r.seq, hash: r.hash };
    }
    const base: Omit<AuditRecord, 'hash'> = {
      seq: prev.seq + 1,
      time: new Date().toISOString(),
      prevHash: prev.hash,
      actor: event.actor,
      op: event.op,
      outcome: event.outcome,
    };
    if (event.partition !== undefined) base.partition = event.partition;
    if (event.target !== undefined) base.target = event.target;
    if (event.code !== undefined) base.code = event.code;
    if (event.detail !== undefined) base.detail = event.detail;
    if (event.checkpoint !== undefined) base.checkpoint = event.checkpoint;
    const record: AuditRecord = { ...base, hash: auditHash(base) };
    this.#put('audit', { key: String(record.seq), group: '', body: encodeJson(record), blob: null, revision: null });
    return record;
  }

  listAudit(fromSeq = 1, limit = DEFAULT_AUDIT_LIMIT): AuditRecord[] {
    this.#requireUnsealed();
    return this.#backend.auditRange(fromSeq, limit).map((r) => {
      this.#check('audit', r);
      return decodeJson<AuditRecord>(r.body);
    });
  }

  // ---- system records and master-key rotation ------------------------------------------------

  putSystemRecord(name: string, body: string, blob: Uint8Array | null = null): void {
    this.#requireUnsealed();
    if (typeof name !== 'string' || name === '') throw new TypeError('system record name must be a non-empty string');
    this.#write(() => this.#put('system', { key: name, group: '', body, blob, revision: null }));
  }

  getSystemRecord(name: string): { body: string; blob: Uint8Array | null } | undefined {
    this.#requireUnsealed();
    const row = this.#read('system', name);
    return row ? { body: row.body, blob: row.blob } : undefined;
  }

  partitionDigest(partition: string, label: string, data: Uint8Array): Buffer {
    this.#requireUnsealed();
    // A subkey, not the partition key itself: the sealing key is used for nothing but sealing.
    const sub = Buffer.from(hkdfSync('sha256', this.#partitionKey(partition), Buffer.alloc(0), `coffer partition digest: ${label}`, 32));
    try {
      return createHmac('sha256', sub).update(data).digest();
    } finally {
      sub.fill(0);
    }
  }

  peekSystemRecord(name: string): string | undefined {
    this.#requireOpen();
    // Unverified: there is no MAC key while sealed. Unseal verifies the row with all the others.
    return this.#backend.get('system', name)?.body;
  }

  matchesMasterKey(masterKey: SecretBytes): boolean {
    this.#requireOpen();
    const header = this.#backend.readHeader();
    if (!header) throw new HsmError('NOT_INITIALIZED');
    return equalBytes(deriveStoreKeys(masterKey).keyCheck, header.keyCheck);
  }

  /**
   * One write transaction: every row is verified under the old store MAC key and re-tagged under
   * the new one, every partition key re-wrapped, `within` runs with the new keys in force, and the
   * header gets the new key check. Sealed material is untouched (it is under the partition keys).
   */
  rotateMasterKey(newKey: SecretBytes, within?: () => void): void {
    this.#objects.clear();
    this.#requireUnsealed();
    if (this.#tx) throw new TypeError('rotateMasterKey cannot join another transaction');
    const old = this.#keys!;
    const next = deriveStoreKeys(newKey);
    const committed = this.#committed!;
    this.#backend.begin();
    let done = false;
    let point: { counter: number; setDigest: Buffer } | undefined;
    try {
      const header = this.#readHeaderChecked(old, committed.counter);
      const before = Buffer.alloc(DIGEST_BYTES);
      const digest = Buffer.alloc(DIGEST_BYTES);
      for (const table of TABLES) {
        // Collected per table first: better-sqlite3 cannot write while a read cursor is open.
        for (const row of [...this.#backend.iterate(table)]) {
          this.#check(table, row); // a tampered row is never laundered under the new key
          xorInto(before, memberHash(old.storeMac, table, row.key, row.tag));
          let blob = row.blob;
          if (table === 'partitions' && blob) {
            const raw = unseal(old.partitionWrap, blob, partitionKeyAad(row.key), 'partition key');
            try {
              blob = seal(next.partitionWrap, raw.insecureBytes(), partitionKeyAad(row.key));
            } finally {
              raw.destroy();
            }
          }
          const fresh = { key: row.key, group: row.group, body: row.body, blob, revision: row.revision };
          const tag = rowTag(next.storeMac, table, fresh);
          this.#backend.put(table, { ...fresh, tag });
          xorInto(digest, memberHash(next.storeMac, table, row.key, tag));
        }
      }
      if (!equalBytes(before, header.setDigest)) throw new HsmError('TAMPER_DETECTED', 'row missing or added');
      this.#keys = next;
      this.#tx = { header, digest, dirty: true };
      within?.();
      const nh = { format: header.format, counter: header.counter + 1, setDigest: this.#tx.digest, keyCheck: next.keyCheck };
      this.#backend.writeHeader({ ...nh, tag: headerTag(next.storeMac, nh) });
      // The pending point goes under the NEW anchor key into the slot not holding the newest
      // record: after a crash before the commit the old key still finds its committed slot, after
      // it the new key finds the pending point and finalises it.
      this.#anchor?.write(next.anchorMac, { committed, pending: { counter: nh.counter, setDigest: nh.setDigest } });
      this.#backend.commit();
      point = { counter: nh.counter, setDigest: Buffer.from(nh.setDigest) };
      done = true;
    } finally {
      this.#tx = undefined;
      if (!done) {
        this.#backend.rollback();
        this.#keys = old;
        this.#partitionKeys.clear();
      }
    }
    this.#committed = point!;
    this.#anchor?.write(next.anchorMac, { committed: this.#committed });
  }

  // ---- backup key wrap -----------------------------------------------------------------------

  sealBackupKey(key: SecretBytes, aad: string): Uint8Array {
    this.#requireUnsealed();
    return seal(this.#keys!.backupWrap, key.insecureBytes(), aad);
  }

  openBackupKey(sealed: Uint8Array, aad: string): SecretBytes | undefined {
    this.#requireUnsealed();
    try {
      return unseal(this.#keys!.backupWrap, sealed, aad, 'backup key');
    } catch {
      return undefined; // not this master key's (or edited): the caller asks for the backup's shares
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  #decode<T>(row: Row, field: 'name' | 'uid', expected: string): T {
    const value = decodeJson<T>(row.body);
    // The tag already vouches for the row; this catches a body stored under the wrong key by our own code.
    if ((value as Record<string, unknown>)[field] !== expected) throw new TypeError(`stored record does not match its key ${expected}`);
    return value;
  }

  /** Every write to an object row passes here: its decoded copy is dropped before the write. */
  #forgetObject(uid: string): void {
    this.#objects.delete(uid);
  }

  #decodeObject(row: Row): StoredObject {
    const obj = this.#decode<StoredObject>(row, 'uid', row.key);
    if (obj.partition !== row.group) throw new TypeError('stored object does not match its partition column');
    return obj;
  }

  #requireOpen(): void {
    if (this.#closed) throw new TypeError('vault is closed');
  }

  #requireUnsealed(): void {
    this.#requireOpen();
    if (!this.#keys) throw new HsmError(this.#backend.readHeader() ? 'SEALED' : 'NOT_INITIALIZED');
  }
}

// The row-level storage interface under the Vault. A backend stores opaque rows and a header;
// it knows nothing of keys, MACs or sealing (the Vault computes every tag). Rows are addressed by
// table and a text primary key; `group` is the one indexed column (an object's partition, a
// material row's uid, a user's partition). All calls are synchronous; begin/commit/rollback bracket
// one atomic, durable write transaction and never nest (the Vault does the nesting).

// 'system' holds the module's own records (the share check of the Shamir ceremony …), keyed by name.
export const TABLES = ['partitions', 'users', 'objects', 'material', 'audit', 'system'] as const;
export type Table = (typeof TABLES)[number];

export interface Row {
  /** Primary key as text: partition or user name, object uid, `${uid}#${version}` (material), decimal seq (audit), record name (system). */
  key: string;
  /** Indexed grouping column: objects → partition, material → uid, users → partition or ''; '' elsewhere. */
  group: string;
  /** JSON text of the record (json-codec); '' for material rows. */
  body: string;
  /** Binary payload: a partition's wrapped key, a material row's sealed blob, a system record's optional blob; null elsewhere. */
  blob: Uint8Array | null;
  /** Objects' revision column; null elsewhere. */
  revision: number | null;
  /** HMAC-SHA256 over table, key and every field above (row-mac.ts). */
  tag: Uint8Array;
}

export interface HeaderRow {
  format: number;
  /** Monotonic: +1 per committed write transaction. */
  counter: number;
  /** XOR over all rows of HMAC(storeMacKey, 'member' ‖ table ‖ key ‖ tag). */
  setDigest: Uint8Array;
  /** HMAC(HKDF(master, 'coffer/v1/key-check'), 'coffer'): recognises the right master key. */
  keyCheck: Uint8Array;
  tag: Uint8Array;
}

export interface StorageBackend {
  readonly kind: 'memory' | 'sqlite';
  /** Starts a write transaction (SQLite: BEGIN IMMEDIATE). */
  begin(): void;
  /** Commits durably (SQLite: WAL with synchronous=FULL). */
  commit(): void;
  /** Discards everything since begin(). */
  rollback(): void;
  readonly inTransaction: boolean;

  readHeader(): HeaderRow | undefined;
  writeHeader(header: HeaderRow): void;

  get(table: Table, key: string): Row | undefined;
  /** Insert or replace. */
  put(table: Table, row: Row): void;
  /** True if a row was deleted. */
  delete(table: Table, key: string): boolean;
  /** Rows whose group equals `group`, in key order (material: version order). */
  listByGroup(table: Table, group: string): Row[];
  /** Streams every row of a table without holding them all in memory. */
  iterate(table: Table): IterableIterator<Row>;
  count(table: Table, group?: string): number;
  /** Audit rows with seq ≥ fromSeq, ascending, at most `limit`. */
  auditRange(fromSeq: number, limit: number): Row[];
  /** The audit row with the highest seq. */
  lastAudit(): Row | undefined;
  /** Deletes every row and the header in one transaction and overwrites the freed space (SQLite: secure_delete, VACUUM, WAL truncated). */
  erase(): void;
  /**
   * A number that changes when another connection or process commits to the store (SQLite's
   * data_version); constant where nothing else can write. Lets the Vault keep decoded rows.
   */
  externalChanges(): number;
  close(): void;
}

/** Material rows are keyed by uid and version; this is their text key. */
export function materialKey(uid: string, version: number): string {
  return `${uid}#${version}`;
}

export function splitMaterialKey(key: string): { uid: string; version: number } {
  const at = key.lastIndexOf('#');
  const version = Number(key.slice(at + 1));
  if (at < 0 || !Number.isSafeInteger(version)) throw new TypeError('malformed material key');
  return { uid: key.slice(0, at), version };
}

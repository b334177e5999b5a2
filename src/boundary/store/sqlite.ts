// SQLite StorageBackend (better-sqlite3): one table per record kind with its natural columns,
// journal_mode=WAL and synchronous=FULL so a returned commit survives power loss. Every row
// carries the Vault's tag; this file only maps Rows to columns and back. Scans use .iterate() so
// a store of 100,000 objects is never held in memory at once.

import Database from 'better-sqlite3';
import { type HeaderRow, type Row, type StorageBackend, splitMaterialKey, TABLES, type Table } from './backend.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS header (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  format INTEGER NOT NULL, counter INTEGER NOT NULL, set_digest BLOB NOT NULL, key_check BLOB NOT NULL, tag BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS partitions (name TEXT PRIMARY KEY, body TEXT NOT NULL, wrapped_key BLOB NOT NULL, tag BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, partition TEXT NOT NULL, body TEXT NOT NULL, tag BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS objects (uid TEXT PRIMARY KEY, partition TEXT NOT NULL, revision INTEGER NOT NULL, body TEXT NOT NULL, tag BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS objects_partition ON objects (partition);
CREATE TABLE IF NOT EXISTS material (uid TEXT NOT NULL, version INTEGER NOT NULL, sealed BLOB NOT NULL, tag BLOB NOT NULL, PRIMARY KEY (uid, version));
CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, body TEXT NOT NULL, tag BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS system (name TEXT PRIMARY KEY, body TEXT NOT NULL, blob BLOB, tag BLOB NOT NULL);
`;

/** Each table's columns as the generic Row fields k, g, body, blob, rev, tag. */
const SELECT: Record<Table, string> = {
  partitions: `SELECT name AS k, '' AS g, body, wrapped_key AS blob, NULL AS rev, tag FROM partitions`,
  users: `SELECT name AS k, partition AS g, body, NULL AS blob, NULL AS rev, tag FROM users`,
  objects: `SELECT uid AS k, partition AS g, body, NULL AS blob, revision AS rev, tag FROM objects`,
  material: `SELECT uid || '#' || version AS k, uid AS g, '' AS body, sealed AS blob, NULL AS rev, tag FROM material`,
  audit: `SELECT CAST(seq AS TEXT) AS k, '' AS g, body, NULL AS blob, NULL AS rev, tag FROM audit`,
  system: `SELECT name AS k, '' AS g, body, blob, NULL AS rev, tag FROM system`,
};
const WHERE_KEY: Record<Table, string> = {
  partitions: 'name = @key',
  users: 'name = @key',
  objects: 'uid = @key',
  material: 'uid = @uid AND version = @version',
  audit: 'seq = @seq',
  system: 'name = @key',
};
const WHERE_GROUP: Record<Table, string> = {
  partitions: "'' = @group",
  users: 'partition = @group',
  objects: 'partition = @group',
  material: 'uid = @group',
  audit: "'' = @group",
  system: "'' = @group",
};
const ORDER: Record<Table, string> = {
  partitions: 'name',
  users: 'name',
  objects: 'uid',
  material: 'version',
  audit: 'seq',
  system: 'name',
};
const UPSERT: Record<Table, string> = {
  partitions: 'INSERT OR REPLACE INTO partitions (name, body, wrapped_key, tag) VALUES (@key, @body, @blob, @tag)',
  users: 'INSERT OR REPLACE INTO users (name, partition, body, tag) VALUES (@key, @group, @body, @tag)',
  objects: 'INSERT OR REPLACE INTO objects (uid, partition, revision, body, tag) VALUES (@key, @group, @rev, @body, @tag)',
  material: 'INSERT OR REPLACE INTO material (uid, version, sealed, tag) VALUES (@uid, @version, @blob, @tag)',
  audit: 'INSERT OR REPLACE INTO audit (seq, body, tag) VALUES (@seq, @body, @tag)',
  system: 'INSERT OR REPLACE INTO system (name, body, blob, tag) VALUES (@key, @body, @blob, @tag)',
};

interface RawRow {
  k: string;
  g: string;
  body: string;
  blob: Buffer | null;
  rev: number | null;
  tag: Buffer;
}

interface RawHeader {
  format: number;
  counter: number;
  set_digest: Buffer;
  key_check: Buffer;
  tag: Buffer;
}

function fromRaw(r: RawRow): Row {
  return { key: r.k, group: r.g, body: r.body, blob: r.blob, revision: r.rev, tag: r.tag };
}

type KeyParams = { key: string } | { uid: string; version: number } | { seq: number };

function keyParams(table: Table, key: string): KeyParams {
  if (table === 'material') return splitMaterialKey(key);
  if (table === 'audit') return { seq: Number(key) };
  return { key };
}

function asBuffer(b: Uint8Array | null): Buffer | null {
  return b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export class SqliteBackend implements StorageBackend {
  readonly kind = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #stmts = new Map<string, Database.Statement>();

  constructor(path: string) {
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    // synchronous=FULL: in WAL mode the WAL is fsynced at every commit, so a committed write
    // transaction survives power loss (NORMAL would only guarantee consistency, not durability).
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('foreign_keys = OFF');
    this.#db.exec(SCHEMA);
  }

  #stmt(sql: string): Database.Statement {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  get inTransaction(): boolean {
    return this.#db.inTransaction;
  }

  begin(): void {
    // IMMEDIATE takes the write lock now, so the header read at the start is the one we update.
    this.#stmt('BEGIN IMMEDIATE').run();
  }

  commit(): void {
    this.#stmt('COMMIT').run();
  }

  rollback(): void {
    if (this.#db.inTransaction) this.#stmt('ROLLBACK').run();
  }

  readHeader(): HeaderRow | undefined {
    const h = this.#stmt('SELECT format, counter, set_digest, key_check, tag FROM header WHERE id = 1').get() as RawHeader | undefined;
    if (!h) return undefined;
    return { format: h.format, counter: h.counter, setDigest: h.set_digest, keyCheck: h.key_check, tag: h.tag };
  }

  writeHeader(header: HeaderRow): void {
    this.#stmt(
      'INSERT OR REPLACE INTO header (id, format, counter, set_digest, key_check, tag) VALUES (1, @format, @counter, @setDigest, @keyCheck, @tag)',
    ).run({
      format: header.format,
      counter: header.counter,
      setDigest: asBuffer(header.setDigest),
      keyCheck: asBuffer(header.keyCheck),
      tag: asBuffer(header.tag),
    });
  }

  get(table: Table, key: string): Row | undefined {
    const r = this.#stmt(`${SELECT[table]} WHERE ${WHERE_KEY[table]}`).get(keyParams(table, key)) as RawRow | undefined;
    return r ? fromRaw(r) : undefined;
  }

  put(table: Table, row: Row): void {
    this.#stmt(UPSERT[table]).run({
      ...keyParams(table, row.key),
      key: row.key,
      group: row.group,
      body: row.body,
      blob: asBuffer(row.blob),
      rev: row.revision,
      tag: asBuffer(row.tag),
    });
  }

  delete(table: Table, key: string): boolean {
    // SQL table names are the Table names themselves (a closed union, never caller input).
    return this.#stmt(`DELETE FROM ${table} WHERE ${WHERE_KEY[table]}`).run(keyParams(table, key)).changes > 0;
  }

  listByGroup(table: Table, group: string): Row[] {
    const rows = this.#stmt(`${SELECT[table]} WHERE ${WHERE_GROUP[table]} ORDER BY ${ORDER[table]}`).all({ group }) as RawRow[];
    return rows.map(fromRaw);
  }

  *iterate(table: Table): IterableIterator<Row> {
    for (const r of this.#stmt(`${SELECT[table]} ORDER BY ${ORDER[table]}`).iterate() as IterableIterator<RawRow>) yield fromRaw(r);
  }

  count(table: Table, group?: string): number {
    const r =
      group === undefined
        ? (this.#stmt(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number })
        : (this.#stmt(`SELECT COUNT(*) AS n FROM ${table} WHERE ${WHERE_GROUP[table]}`).get({ group }) as { n: number });
    return r.n;
  }

  auditRange(fromSeq: number, limit: number): Row[] {
    const rows = this.#stmt(`${SELECT.audit} WHERE seq >= @from ORDER BY seq LIMIT @limit`).all({ from: fromSeq, limit }) as RawRow[];
    return rows.map(fromRaw);
  }

  lastAudit(): Row | undefined {
    const r = this.#stmt(`${SELECT.audit} ORDER BY seq DESC LIMIT 1`).get() as RawRow | undefined;
    return r ? fromRaw(r) : undefined;
  }

  erase(): void {
    // secure_delete makes SQLite overwrite deleted content with zeros; VACUUM rewrites the file
    // without free pages, and the WAL (which holds old page images) is checkpointed and truncated.
    this.#db.pragma('secure_delete = ON');
    this.#db.transaction(() => {
      for (const t of TABLES) this.#db.prepare(`DELETE FROM ${t}`).run();
      this.#db.prepare('DELETE FROM header').run();
    })();
    this.#db.exec('VACUUM');
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
  }

  externalChanges(): number {
    return this.#stmt('PRAGMA data_version').pluck().get() as number;
  }

  close(): void {
    if (this.#db.open) {
      if (this.#db.inTransaction) this.#stmt('ROLLBACK').run();
      this.#db.close();
    }
  }
}

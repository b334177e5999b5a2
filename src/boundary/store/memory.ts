// In-memory StorageBackend for tests and dev mode: one Map per table plus an undo log, so a
// rolled-back transaction leaves the maps exactly as they were. Rows are copied in and out, so a
// caller holding a returned row cannot change what is stored. No durability, no anchor.

import { type HeaderRow, type Row, type StorageBackend, TABLES, type Table } from './backend.js';

type Undo = () => void;

function copyRow(row: Row): Row {
  return { ...row, blob: row.blob ? Uint8Array.from(row.blob) : null, tag: Uint8Array.from(row.tag) };
}

function copyHeader(h: HeaderRow): HeaderRow {
  return { ...h, setDigest: Uint8Array.from(h.setDigest), keyCheck: Uint8Array.from(h.keyCheck), tag: Uint8Array.from(h.tag) };
}

export class MemoryBackend implements StorageBackend {
  readonly kind = 'memory' as const;
  readonly #tables = new Map<Table, Map<string, Row>>(TABLES.map((t) => [t, new Map<string, Row>()]));
  #header: HeaderRow | undefined;
  #undo: Undo[] | undefined;
  #closed = false;
  /** Key of the newest audit row, kept as rows are appended so lastAudit is O(1); null = unknown, rescan. */
  #auditLast: string | null = null;

  get inTransaction(): boolean {
    return this.#undo !== undefined;
  }

  #open(): void {
    if (this.#closed) throw new TypeError('memory backend is closed');
  }

  #table(table: Table): Map<string, Row> {
    this.#open();
    const t = this.#tables.get(table);
    if (!t) throw new TypeError(`unknown table ${table}`);
    return t;
  }

  #log(undo: Undo): void {
    if (!this.#undo) throw new TypeError('write outside a transaction');
    this.#undo.push(undo);
  }

  begin(): void {
    this.#open();
    if (this.#undo) throw new TypeError('memory backend: transaction already open');
    this.#undo = [];
  }

  commit(): void {
    if (!this.#undo) throw new TypeError('memory backend: no transaction');
    this.#undo = undefined;
  }

  rollback(): void {
    const undo = this.#undo;
    if (!undo) throw new TypeError('memory backend: no transaction');
    for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
    this.#undo = undefined;
  }

  readHeader(): HeaderRow | undefined {
    this.#open();
    return this.#header ? copyHeader(this.#header) : undefined;
  }

  writeHeader(header: HeaderRow): void {
    this.#open();
    const before = this.#header;
    this.#log(() => {
      this.#header = before;
    });
    this.#header = copyHeader(header);
  }

  get(table: Table, key: string): Row | undefined {
    const row = this.#table(table).get(key);
    return row ? copyRow(row) : undefined;
  }

  put(table: Table, row: Row): void {
    const t = this.#table(table);
    const before = t.get(row.key);
    this.#log(() => {
      if (table === 'audit') this.#auditLast = null;
      return before ? t.set(row.key, before) : t.delete(row.key);
    });
    t.set(row.key, copyRow(row));
    if (table === 'audit' && this.#auditLast !== null && Number(row.key) > Number(this.#auditLast)) this.#auditLast = row.key;
  }

  delete(table: Table, key: string): boolean {
    const t = this.#table(table);
    const before = t.get(key);
    if (!before) return false;
    this.#log(() => t.set(key, before));
    if (table === 'audit') this.#auditLast = null;
    return t.delete(key);
  }

  listByGroup(table: Table, group: string): Row[] {
    const rows = [...this.#table(table).values()].filter((r) => r.group === group).map(copyRow);
    if (table === 'material') return rows.sort((a, b) => versionOf(a.key) - versionOf(b.key));
    return rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  *iterate(table: Table): IterableIterator<Row> {
    for (const row of [...this.#table(table).values()]) yield copyRow(row);
  }

  count(table: Table, group?: string): number {
    const t = this.#table(table);
    if (group === undefined) return t.size;
    let n = 0;
    for (const r of t.values()) if (r.group === group) n++;
    return n;
  }

  auditRange(fromSeq: number, limit: number): Row[] {
    return [...this.#table('audit').values()]
      .filter((r) => Number(r.key) >= fromSeq)
      .sort((a, b) => Number(a.key) - Number(b.key))
      .slice(0, limit)
      .map(copyRow);
  }

  lastAudit(): Row | undefined {
    const t = this.#table('audit');
    if (this.#auditLast === null) {
      let best: Row | undefined;
      for (const r of t.values()) if (!best || Number(r.key) > Number(best.key)) best = r;
      if (!best) return undefined;
      this.#auditLast = best.key;
    }
    const row = t.get(this.#auditLast);
    return row ? copyRow(row) : undefined;
  }

  erase(): void {
    this.#open();
    if (this.#undo) throw new TypeError('memory backend: erase inside a transaction');
    for (const t of this.#tables.values()) {
      for (const r of t.values()) {
        r.blob?.fill(0);
        r.tag.fill(0);
      }
      t.clear();
    }
    this.#auditLast = null;
    this.#header = undefined;
  }

  externalChanges(): number {
    return 0; // nothing outside this process can write an in-memory store
  }

  close(): void {
    this.#closed = true;
  }
}

function versionOf(key: string): number {
  return Number(key.slice(key.lastIndexOf('#') + 1));
}

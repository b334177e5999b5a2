// Decimalisation tables for IBM 3624 PIN verification, registered by a partition officer only and
// referred to by name afterwards: a caller never supplies a table inline, which defeats the
// decimalisation-table attack (attacks.md C-01). Tables are checked for a sane digit distribution too.

import { HsmError } from '../../errors.js';

/** 16 decimal digits, one per hex nibble 0-F. */
export type DecimalisationTable = readonly number[];

/**
 * Parses a 16-digit table and refuses degenerate ones (fewer than 8 distinct digits or a digit used
 * more than 4 times). The distribution check is defence in depth; the real defence is that only an
 * officer registers tables (C-01 [inference]: a single-digit substitution can pass this check).
 */
export function parseDecimalisationTable(s: unknown): DecimalisationTable {
  if (typeof s !== 'string' || !/^[0-9]{16}$/.test(s)) throw new HsmError('ATTRIBUTE_VALUE_INVALID', 'a decimalisation table is 16 decimal digits');
  const t = [...s].map(Number);
  const counts = new Map<number, number>();
  for (const d of t) counts.set(d, (counts.get(d) ?? 0) + 1);
  if (counts.size < 8 || [...counts.values()].some((c) => c > 4)) throw new HsmError('ATTRIBUTE_VALUE_INVALID', 'decimalisation table too uneven');
  return Object.freeze(t);
}

/** Per-partition registry: name → table. In memory for this phase (lost on restart; re-register at start-up). */
export class DecimalisationTables {
  readonly #tables = new Map<string, DecimalisationTable>();

  register(partition: string, name: string, table: string): void {
    if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,32}$/.test(name)) throw new HsmError('ARGUMENTS_BAD', 'table name is 1-32 letters, digits, _ . -');
    const key = `${partition}\u0000${name}`;
    if (this.#tables.has(key)) throw new HsmError('ALREADY_EXISTS', 'a table with that name exists');
    this.#tables.set(key, parseDecimalisationTable(table));
  }

  get(partition: string, name: unknown): DecimalisationTable {
    const t = typeof name === 'string' ? this.#tables.get(`${partition}\u0000${name}`) : undefined;
    if (!t) throw new HsmError('MECHANISM_PARAM_INVALID', 'no such decimalisation table');
    return t;
  }
}

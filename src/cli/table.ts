// Plain-text tables and key/value listings for `--output table`. Values are made printable: a
// name or label from the server must not inject terminal control sequences.

function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = Array.isArray(v) ? v.map(cell).join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** Columns in order; header in upper case; every row padded to the widest cell. */
export function renderTable(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  const header = columns.map((c) => c.toUpperCase());
  const body = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((_, k) => Math.max(header[k]!.length, ...body.map((r) => r[k]!.length)));
  const line = (cells: string[]): string => cells.map((c, k) => (k === cells.length - 1 ? c : c.padEnd(widths[k]!))).join('  ').trimEnd();
  return [line(header), ...body.map(line)].join('\n');
}

/** `name: value` lines, names aligned, skipping undefined values. */
export function renderRecord(record: Record<string, unknown>, order: readonly string[] = [], onlyOrdered = false): string {
  const rest = onlyOrdered ? [] : Object.keys(record).filter((k) => !order.includes(k));
  const keys = [...order.filter((k) => k in record), ...rest].filter((k) => record[k] !== undefined);
  const width = Math.max(0, ...keys.map((k) => k.length)) + 1;
  return keys.map((k) => `${`${k}:`.padEnd(width)} ${cell(record[k])}`).join('\n');
}

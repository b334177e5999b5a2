// Throughput measurement for the benchmark: keeps `concurrency` operations in flight for a fixed
// wall-clock time and counts completions, so async crypto spreads over libuv's thread pool (both
// cores) the way a loaded server would. A failed operation aborts the run: figures from a
// benchmark that errors are meaningless.

import { performance } from 'node:perf_hooks';

export interface Measurement {
  ops: number;
  seconds: number;
  opsPerSecond: number;
}

/** Runs `op` with `concurrency` in flight for `seconds` (after a short warm-up) and reports ops/s. */
export async function measure(seconds: number, concurrency: number, op: () => Promise<unknown>): Promise<Measurement> {
  await runFor(Math.min(0.5, seconds / 4), concurrency, op); // warm-up: JIT, key cache, thread pool
  return runFor(seconds, concurrency, op);
}

async function runFor(seconds: number, concurrency: number, op: () => Promise<unknown>): Promise<Measurement> {
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let ops = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await op();
      ops++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - start) / 1000;
  return { ops, seconds: elapsed, opsPerSecond: ops / elapsed };
}

export interface Row {
  operation: string;
  coffer: number;
  openssl?: number;
}

/** A plain-text table: operation, Coffer ops/s, openssl ops/s, Coffer/openssl ratio. */
export function formatTable(rows: readonly Row[]): string {
  const header = ['operation', 'Coffer ops/s', 'openssl ops/s', 'ratio'];
  const body = rows.map((r) => [
    r.operation,
    fmt(r.coffer),
    r.openssl === undefined ? '—' : fmt(r.openssl),
    r.openssl === undefined ? '—' : (r.coffer / r.openssl).toFixed(3),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

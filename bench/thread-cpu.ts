// CPU time of the calling process's main thread, read from Linux /proc (Node 20 has no
// per-thread CPU clock). The benchmark reports it per request because, unlike throughput, CPU time
// moves little when other work on the host takes the cores: it is the figure to compare runs by.

import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux ABI Node supports (proc(5))

/** The main thread's CPU seconds so far, from /proc/self/task/<pid>/stat utime+stime (proc(5)); NaN off Linux. */
export function mainThreadSeconds(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the parenthesised command name start at state (field 3): utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

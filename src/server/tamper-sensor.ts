// The enclosure tamper sensor ([tamper] sensor_file): the file's appearance, disappearance or a
// change of its mtime, size or content is the "enclosure opened" signal. fs.watch on the parent
// directory reports changes at once where the platform supports it; a periodic stat catches what
// watch misses (network filesystems, a directory that is replaced). The state at start is the
// baseline, so an operator clears an alarm by restarting after the investigation.

import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, statSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

/** Sensor files are tiny (a flag or a counter); only this much is hashed. */
const MAX_CONTENT = 64 * 1024;

export interface TamperSensor {
  close(): void;
}

function fingerprint(path: string): string {
  try {
    const st = statSync(path);
    const fd = readFileSync(path).subarray(0, MAX_CONTENT);
    return `present:${st.mtimeMs}:${st.size}:${createHash('sha256').update(fd).digest('hex')}`;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'absent' : `unreadable:${code ?? 'error'}`;
  }
}

function describe(before: string, after: string): string {
  if (before === 'absent') return 'appeared';
  if (after === 'absent') return 'disappeared';
  return 'changed';
}

/** Calls `onSignal` once per observed change of `path` (never for the state at start). */
export function watchTamperSensor(path: string, pollMs: number, onSignal: (detail: string) => void): TamperSensor {
  let baseline = fingerprint(path);
  let closed = false;
  const check = (): void => {
    if (closed) return;
    const now = fingerprint(path);
    if (now === baseline) return;
    const what = describe(baseline, now);
    baseline = now;
    onSignal(`sensor file ${path} ${what}`);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, name) => {
      if (name === null || name === basename(path)) check();
    });
    watcher.on('error', () => {
      watcher?.close(); // the poll below keeps watching
      watcher = undefined;
    });
  } catch {
    watcher = undefined; // no such directory yet, or no inotify: the poll alone watches
  }
  const timer = setInterval(check, pollMs);
  timer.unref();
  return {
    close() {
      closed = true;
      clearInterval(timer);
      watcher?.close();
    },
  };
}

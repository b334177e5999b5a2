// The modules the benchmark measures: an in-memory one for crypto throughput, and one on the
// SQLite backend in a fresh temporary directory for durable key creation. Both are set up by the
// test support module (partition p1, a logged-in user) and reached only through the boundary API.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hsm } from '../src/boundary/api.js';
import { testHsm } from '../test/support/hsm.js';

export interface BenchHsm {
  hsm: Hsm;
  /** The partition user's session. */
  session: string;
  close(): Promise<void>;
}

export async function memoryHsm(): Promise<BenchHsm> {
  const t = await testHsm();
  return { hsm: t.hsm, session: t.user, close: () => t.close() };
}

export async function sqliteHsm(): Promise<BenchHsm> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-bench-'));
  const t = await testHsm({ store: { kind: 'sqlite', path: join(dir, 'coffer.sqlite') } });
  return {
    hsm: t.hsm,
    session: t.user,
    close: async () => {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Crash safety: a child process writes to a SQLite vault in a loop and is SIGKILLed at a random
// moment, over and over on the same store. After every kill the store must unseal cleanly (the
// anchor protocol tolerates a crash between any two steps) and hold every uid the child reported
// as committed.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { openVault } from '../../src/boundary/store/vault.js';
import { CRASH_PARTITION, READY } from '../support/crash-child.js';
import { MASTER_BYTES, masterKey, secretValue, tempDir } from '../support/store-fixtures.js';

const CHILD = fileURLToPath(new URL('../support/crash-child.js', import.meta.url));
const ROUNDS = 20;

/**
 * Runs the child and SIGKILLs it `afterMs` after it is ready (or after spawn when `fromSpawn`, which
 * also lands kills inside initialisation, unseal and anchor finalisation). Timing from readiness
 * keeps the test meaningful on a loaded machine where node start-up alone can take 400 ms.
 */
function runAndKill(path: string, keyFile: string, afterMs: number, fromSpawn: boolean): Promise<{ uids: string[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, path, keyFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      timer ??= setTimeout(() => child.kill('SIGKILL'), afterMs);
    };
    if (fromSpawn) arm();
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.startsWith(`${READY}\n`)) arm();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const limit = setTimeout(() => child.kill('SIGKILL'), 30_000); // a child that never gets ready
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      clearTimeout(limit);
      // Only complete lines count: a uid is reported after its commit, and a partial line was cut by the kill.
      const lines = out.split('\n').filter((l) => l !== READY);
      lines.pop();
      resolve({ uids: lines, stderr });
    });
  });
}

/** Whether the newest anchor slot records a pending commit (anchor.ts layout: seq at 4, hasPending at 52). */
function pendingInAnchor(file: string): boolean {
  if (!existsSync(file)) return false;
  const bytes = readFileSync(file);
  let best = { seq: -1n, pending: false };
  for (const off of [0, 512]) {
    if (bytes.length < off + 125) continue;
    const seq = bytes.readBigUInt64BE(off + 4);
    if (seq > best.seq) best = { seq, pending: bytes[off + 52] === 1 };
  }
  return best.pending;
}

test(`crash safety: ${ROUNDS} random SIGKILLs, every reported commit survives and the store unseals cleanly`, async () => {
  const t = tempDir('coffer-crash-');
  try {
    const path = `${t.dir}/store.db`;
    const keyFile = `${t.dir}/master.key`;
    writeFileSync(keyFile, MASTER_BYTES, { mode: 0o600 });
    const reported: string[] = [];
    let midCommit = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const { uids, stderr } = await runAndKill(path, keyFile, randomInt(50, 401), round % 4 === 0);
      assert.equal(stderr, '', `child round ${round} wrote to stderr:\n${stderr}`);
      reported.push(...uids);
      if (pendingInAnchor(`${path}.anchor`)) midCommit++;
      const vault = openVault({ kind: 'sqlite', path });
      try {
        if (!vault.initialized) continue; // killed before initialisation committed
        vault.unseal(masterKey()); // throws TAMPER_DETECTED if the crash left header, rows and anchor disagreeing
        for (const uid of reported) {
          const obj = vault.getObject(uid);
          assert.ok(obj, `round ${round}: committed uid ${uid} is missing`);
        }
        for (const uid of uids.slice(-3)) {
          const s = vault.loadSecret(vault.getObject(uid)!, 1);
          assert.deepEqual(Uint8Array.from(s!.insecureBytes()), secretValue(uid));
          s!.destroy();
        }
        assert.ok(vault.countObjects(CRASH_PARTITION) >= reported.length);
      } finally {
        vault.close();
      }
    }
    assert.ok(reported.length > 0, 'the child committed something in 20 rounds');
    process.stdout.write(`# crash test: ${reported.length} committed objects over ${ROUNDS} kills, ${midCommit} of them mid-commit\n`);
  } finally {
    t.cleanup();
  }
});

// Crash safety through the whole API (the acceptance test): a child process generating
// AES keys as fast as it can is SIGKILLed at a random moment 100–500 ms into its burst, 20 times
// on the same SQLite store. After every kill the module must open and unseal cleanly (no tamper
// verdict, no error state) and every key whose generateKey had resolved must exist and encrypt.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Hsm, SecretBytes } from '../../src/boundary/api.js';
import { CRASH_USER } from '../support/hsm-crash-child.js';
import { PASSWORD, TEST_SCRYPT } from '../support/hsm.js';
import { MASTER_BYTES, tempDir } from '../support/store-fixtures.js';

const CHILD = fileURLToPath(new URL('../support/hsm-crash-child.js', import.meta.url));
const ROUNDS = 20;
const MSG = Buffer.from('crash test');

interface Round {
  uids: string[];
  ready: boolean;
  stderr: string;
  signal: NodeJS.Signals | null;
}

/** Runs the child until `afterMs` past its "ready" line, then SIGKILLs it; returns the uids it reported. */
function runAndKill(path: string, keyFile: string, afterMs: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, path, keyFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    // Safety net: a child that never gets ready is killed too, and the round then fails on `ready`.
    const deadline = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (!timer && out.startsWith('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(deadline);
      if (timer) clearTimeout(timer);
      // Only complete lines count: a partial last line was cut by the kill.
      const lines = out.split('\n');
      lines.pop();
      const ready = lines[0] === 'ready';
      resolve({ uids: ready ? lines.slice(1) : [], ready, stderr, signal });
    });
  });
}

function master(): SecretBytes {
  return SecretBytes.from(MASTER_BYTES);
}

test(`crash safety through the API: ${ROUNDS} SIGKILLs during key generation lose no acknowledged key`, { timeout: 170_000 }, async () => {
  const t = tempDir('coffer-hsm-crash-');
  const started = Date.now();
  try {
    const path = `${t.dir}/store.db`;
    const keyFile = `${t.dir}/master.key`;
    writeFileSync(keyFile, MASTER_BYTES, { mode: 0o600 });
    // Set-up in-process: the store, an admin, a partition and the child's account.
    const setup = await Hsm.open({ store: { kind: 'sqlite', path }, scrypt: TEST_SCRYPT });
    try {
      await setup.initialize(master(), { name: 'admin', password: PASSWORD });
      const admin = (await setup.login({ user: 'admin', password: PASSWORD })).session;
      setup.createPartition(admin, { name: 'crash' });
      await setup.createUser(admin, { name: CRASH_USER, password: PASSWORD, role: 'user', partition: 'crash' });
    } finally {
      setup.close();
    }

    const reported: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const r = await runAndKill(path, keyFile, randomInt(100, 501));
      assert.equal(r.stderr, '', `round ${round}: the child wrote to stderr:\n${r.stderr}`);
      assert.ok(r.ready, `round ${round}: the child opened the store and logged in`);
      assert.equal(r.signal, 'SIGKILL', `round ${round}: the child died by SIGKILL`);
      reported.push(...r.uids);

      const hsm = await Hsm.open({ store: { kind: 'sqlite', path }, scrypt: TEST_SCRYPT, masterKey: master() });
      try {
        const st = hsm.status();
        assert.equal(st.state, 'unsealed', `round ${round}: the store unseals cleanly after the kill (${st.error ?? ''})`);
        const { session } = await hsm.login({ user: CRASH_USER, password: PASSWORD });
        for (const uid of reported) {
          const a = await hsm.getAttributes(session, uid).catch((e: unknown) => assert.fail(`round ${round}: acknowledged key ${uid} is missing: ${String(e)}`));
          assert.equal(a.keyType, 'aes');
          assert.equal(a.valueLen, 32);
          const enc = await hsm.encrypt(session, { key: uid, mechanism: 'AES-GCM', data: MSG });
          const dec = await hsm.decrypt(session, { key: uid, mechanism: 'AES-GCM', data: enc.data, params: enc.params! });
          assert.equal(Buffer.from(dec).toString(), MSG.toString(), `round ${round}: key ${uid} works`);
        }
        // At most the one key whose commit raced the kill exists beyond what was reported.
        const found = await hsm.findObjects(session, {});
        assert.ok(found.length >= reported.length && found.length <= reported.length + round + 1, `round ${round}: ${found.length} stored, ${reported.length} reported`);
      } finally {
        hsm.close();
      }
    }
    assert.ok(reported.length >= ROUNDS, `the child acknowledged ${reported.length} keys over ${ROUNDS} rounds`);
    process.stdout.write(`# hsm crash test: ${reported.length} acknowledged keys over ${ROUNDS} kills in ${Date.now() - started} ms\n`);
  } finally {
    t.cleanup();
  }
});

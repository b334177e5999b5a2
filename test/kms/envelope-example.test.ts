// Runs docs/kms.md's worked example (src/examples/envelope-sqlite/main.ts) as a user would, a
// separate node process with SDK credentials in its environment, against a dev server, and
// checks what it prints and what it left in the SQLite file.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startTestServer, type TestServer } from '../cli/cli-harness.js';

/** dist/test/kms/ → dist/src/examples/envelope-sqlite/main.js */
const EXAMPLE = fileURLToPath(new URL('../../src/examples/envelope-sqlite/main.js', import.meta.url));

let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.close();
});

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [EXAMPLE, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

interface Summary {
  keyArn: string;
  rotations: string[];
  rows: { id: number; text: string; keyVersion: number }[];
  movedRow: string;
}

test('envelope-encrypted SQLite rows: old rows decrypt after RotateKeyOnDemand, new rows use the new version, ReEncrypt re-wraps a row, a moved row does not decrypt', { timeout: 120_000 }, async () => {
  const k = await server.running.hsm.createAccessKey(server.running.dev!.userSession);
  const secret = Buffer.from(k.secretAccessKey.insecureBytes()).toString('ascii');
  k.secretAccessKey.destroy();
  const dbPath = join(server.dir, 'orders.db');
  const env = {
    COFFER_ADDR: server.addr,
    AWS_ACCESS_KEY_ID: k.accessKeyId,
    AWS_SECRET_ACCESS_KEY: secret,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const r = await run([dbPath], env);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as Summary;

  assert.match(s.keyArn, /^arn:aws:kms:us-east-1:[^:]+:key\/[0-9a-f]{32}$/);
  assert.deepEqual(s.rotations, ['ON_DEMAND']);
  assert.deepEqual(
    s.rows,
    [
      { id: 1, text: 'order 1: 1 × espresso', keyVersion: 2 }, // re-wrapped with ReEncrypt, body untouched
      { id: 2, text: 'order 2: 2 × espresso', keyVersion: 1 },
      { id: 3, text: 'order 3: 3 × espresso', keyVersion: 1 },
      { id: 4, text: 'order 4: 4 × cortado', keyVersion: 2 },
      { id: 5, text: 'order 5: 5 × cortado', keyVersion: 2 },
    ],
  );
  assert.equal(s.movedRow, 'InvalidCiphertextException');
  assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'the access key secret is never printed');

  // What is on disk: five rows, each with its own wrapped key and IV, and no plaintext anywhere in the file.
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db.prepare('SELECT id, wrapped_key, iv, body FROM orders ORDER BY id').all() as { id: number; wrapped_key: Buffer; iv: Buffer; body: Buffer }[];
    assert.deepEqual(rows.map((x) => x.id), [1, 2, 3, 4, 5]);
    assert.equal(new Set(rows.map((x) => x.wrapped_key.toString('hex'))).size, 5, 'a data key per row');
    assert.equal(new Set(rows.map((x) => x.iv.toString('hex'))).size, 5);
  } finally {
    db.close();
  }
  const file = readFileSync(dbPath);
  for (const word of ['espresso', 'cortado', 'order 1']) assert.equal(file.indexOf(word), -1, `"${word}" is not in the database file`);

  // A second run (a new table file) reuses alias/orders and its key instead of creating another.
  const again = await run([join(server.dir, 'orders-2.db')], env);
  assert.equal(again.code, 0, again.stderr);
  const s2 = JSON.parse(again.stdout) as Summary;
  assert.equal(s2.keyArn, s.keyArn);
  assert.deepEqual(s2.rotations, ['ON_DEMAND', 'ON_DEMAND']);
  assert.deepEqual(s2.rows.map((x) => x.keyVersion), [3, 2, 2, 3, 3]);
});

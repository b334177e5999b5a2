// `coffer audit export|public-key|verify` against a real server: an export of a real session
// verifies offline (server stopped, no address, no token), and each tampering of attacks.md D-11
// makes `coffer audit verify` exit 1 naming the line where the chain breaks; usage errors exit 2.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { tamperings } from '../support/audit-tamper.js';
import { runCli, startTestServer } from './cli-harness.js';

test('coffer audit verify: a real export verifies offline; every tampering exits 1 at the right line', { timeout: 120_000 }, async (t) => {
  const s = await startTestServer();
  // Our own directory: the server's goes with it when it stops.
  const dir = mkdtempSync(join(tmpdir(), 'coffer-audit-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const exportFile = join(dir, 'audit.jsonl');
  const pemFile = join(dir, 'audit.pem');
  try {
    // A real session: a key made and used, a failed login.
    const created = await runCli(['key', 'create', '--type', 'ec', '--label', 'audit-demo', '--output', 'json'], { env: s.env });
    assert.equal(created.code, 0, created.stderr);
    const bad = await runCli(['login', '--user', 'dev', '--password-stdin'], { env: s.env, input: 'not-the-password' });
    assert.equal(bad.code, 3);
    const login = await fetch(`${s.addr}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'auditor', password: s.password('auditor') }) });
    const { token } = (await login.json()) as { token: string };
    const auditorEnv = { ...s.env, COFFER_TOKEN: token };

    const list = await runCli(['audit', 'list', '--limit', '5', '--output', 'json'], { env: auditorEnv });
    assert.equal(list.code, 0, list.stderr);
    assert.equal((JSON.parse(list.stdout.toString()) as { records: unknown[] }).records.length, 5);
    const denied = await runCli(['audit', 'export', '-o', join(dir, 'nope.jsonl')], { env: s.env });
    assert.equal(denied.code, 5, 'the partition user may not export');

    const pub = await runCli(['audit', 'public-key', '-o', pemFile], { env: auditorEnv });
    assert.equal(pub.code, 0, pub.stderr);
    const exp = await runCli(['audit', 'export', '-o', exportFile], { env: auditorEnv });
    assert.equal(exp.code, 0, exp.stderr);
  } finally {
    await s.close().catch(() => {});
  }
  // From here on there is no server: verification is offline.
  const offline = { XDG_CONFIG_HOME: join(dir, 'none') };
  const lines = readFileSync(exportFile, 'utf8').split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 10);

  const ok = await runCli(['audit', 'verify', exportFile, '--key', pemFile], { env: offline });
  assert.equal(ok.code, 0, ok.stderr + ok.stdout.toString());
  assert.match(ok.stdout.toString(), /^OK: \d+ records/);

  for (const c of tamperings(lines)) {
    const file = join(dir, `tampered-${c.name.replace(/\W+/g, '-')}.jsonl`);
    writeFileSync(file, `${c.lines.join('\n')}\n`);
    const r = await runCli(['audit', 'verify', file, '--key', pemFile, '--output', 'json'], { env: offline });
    assert.equal(r.code, 1, `${c.name}: exit 1 (${r.stderr})`);
    const verdict = JSON.parse(r.stdout.toString()) as { ok: boolean; position: number; reason: string };
    assert.equal(verdict.position, c.position, `${c.name}: line ${c.position}, got ${verdict.position} (${verdict.reason})`);
    const table = await runCli(['audit', 'verify', file, '--key', pemFile], { env: offline });
    assert.match(table.stdout.toString(), new RegExp(`^BROKEN at line ${c.position} `), c.name);
  }

  const otherPem = join(dir, 'other.pem');
  writeFileSync(otherPem, generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }));
  const wrongKey = await runCli(['audit', 'verify', exportFile, '--key', otherPem], { env: offline });
  assert.equal(wrongKey.code, 1, 'another key: broken');
  assert.match(wrongKey.stdout.toString(), /signature/);

  const notEd = join(dir, 'rsa.pem');
  writeFileSync(notEd, generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }));
  for (const args of [['audit', 'verify', exportFile], ['audit', 'verify', '--key', pemFile], ['audit', 'verify', join(dir, 'missing.jsonl'), '--key', pemFile], ['audit', 'verify', exportFile, '--key', notEd]]) {
    const r = await runCli(args, { env: offline });
    assert.equal(r.code, 2, `${args.join(' ')}: usage error (${r.stderr})`);
  }
});

// attacks.md D-11: audit-log tampering, truncation and injection, against a real export. Steps
// (1)–(3) and (6) are found by the chain and the signed checkpoints, (4)–(5) by the closing
// checkpoint and a head noted out of band (--min-seq), (7) by JSON escaping; (8) is in
// audit-fail-closed.test.ts. The auditor reads and exports but cannot modify; no secret is logged.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { type AuditRecord, verifyAuditExport } from '../../src/boundary/api.js';
import { expectCode } from '../support/expect-code.js';
import { forms, tamperings } from '../support/audit-tamper.js';
import { testHsm } from '../support/hsm.js';

async function realExport(every = 7): Promise<{ lines: string[]; pem: string; secret: Uint8Array; close: () => Promise<void> }> {
  const t = await testHsm({ auditCheckpointEvery: every });
  const secret = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
  const key = await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'generic-secret', value: secret, token: true, sign: true, auditUse: true });
  for (let i = 0; i < 12; i++) await t.hsm.sign(t.user, { key, mechanism: 'HMAC-SHA256', data: Buffer.from([i]) });
  // (7) a caller-chosen name that looks like a record and a line break
  const injected = 'x"}\n{"seq":1,"op":"forged","actor":"admin"}\u001b[2J';
  await expectCode(() => t.hsm.login({ user: injected, password: 'wrong password!' }), 'PIN_INCORRECT');
  await expectCode(() => t.hsm.login({ user: 'alice', password: 'wrong password!' }), 'PIN_INCORRECT');
  const lines = t.hsm.exportAudit(t.auditor);
  return { lines, pem: t.hsm.auditPublicKey(t.auditor).publicKey, secret, close: () => t.close() };
}

test('attacks.md D-11 (1)–(4), (6): every edit of a real export is reported at the first broken record', async () => {
  const ex = await realExport();
  try {
    assert.ok(verifyAuditExport(ex.lines, ex.pem).ok, 'the untouched export verifies');
    for (const c of tamperings(ex.lines)) {
      const v = verifyAuditExport(c.lines, ex.pem);
      assert.equal(v.ok, false, `${c.name}: detected`);
      if (!v.ok) assert.equal(v.position, c.position, `${c.name}: reported at line ${c.position}, got ${v.position} (${v.reason})`);
    }
  } finally {
    await ex.close();
  }
});

test('attacks.md D-11: the wrong public key fails at the first checkpoint', async () => {
  const ex = await realExport();
  try {
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const v = verifyAuditExport(ex.lines, other);
    const first = ex.lines.findIndex((l) => (JSON.parse(l) as AuditRecord).op === 'audit.checkpoint');
    assert.equal(v.ok, false);
    if (!v.ok) {
      assert.equal(v.position, first + 1);
      assert.match(v.reason, /signature/);
    }
  } finally {
    await ex.close();
  }
});

test('attacks.md D-11 (4)–(5): a log cut back to an older checkpoint, or an older copy, fails against the head noted at export', async () => {
  const ex = await realExport();
  try {
    const head = (JSON.parse(ex.lines[ex.lines.length - 1]!) as AuditRecord).seq;
    const cps = ex.lines.map((l, i) => ((JSON.parse(l) as AuditRecord).op === 'audit.checkpoint' ? i : -1)).filter((i) => i >= 0);
    const older = ex.lines.slice(0, cps[cps.length - 2]! + 1);
    // On its own an older prefix that ends at a checkpoint is a valid log: that is the known limit
    // of hash chains (Ma & Tsudik). The head recorded outside the module (D-12) catches it.
    assert.ok(verifyAuditExport(older, ex.pem).ok);
    const v = verifyAuditExport(older, ex.pem, { minSeq: head });
    assert.equal(v.ok, false);
    if (!v.ok) {
      assert.equal(v.position, older.length + 1);
      assert.match(v.reason, /truncated/);
    }
    assert.ok(verifyAuditExport(ex.lines, ex.pem, { minSeq: head }).ok);
  } finally {
    await ex.close();
  }
});

test('attacks.md D-11 (7): caller-chosen strings cannot forge a line; E-07: no secret in the log', async () => {
  const ex = await realExport();
  try {
    const records = ex.lines.map((l) => JSON.parse(l) as AuditRecord);
    assert.ok(records.every((r, i) => r.seq === i + 1), 'one record per line, in order');
    assert.ok(!records.some((r) => r.op === 'forged'));
    const refused = records.find((r) => r.op === 'login' && r.actor.startsWith('x"}'));
    assert.ok(refused, 'the refused login is on the record, escaped inside its field');
    assert.ok(ex.lines.every((l) => !l.includes('\n') && !l.includes('\u001b')), 'no raw newline or escape character in any line');
    const text = ex.lines.join('\n');
    for (const f of forms(ex.secret)) assert.ok(!text.includes(f), 'the key value appears in no form');
  } finally {
    await ex.close();
  }
});

test('attacks.md D-11: the auditor reads and exports but has no way to modify; other roles cannot export', async () => {
  const t = await testHsm();
  try {
    await expectCode(() => t.hsm.generateKey(t.auditor, { template: { keyType: 'aes', valueLen: 32 } }), 'USER_TYPE_INVALID');
    await expectCode(() => t.hsm.createPartition(t.auditor, { name: 'p9' }), 'USER_TYPE_INVALID');
    for (const s of [t.user, t.officer, t.admin]) await expectCode(() => t.hsm.exportAudit(s), 'USER_TYPE_INVALID');
    assert.ok(t.hsm.exportAudit(t.auditor).length > 0);
  } finally {
    await t.close();
  }
});

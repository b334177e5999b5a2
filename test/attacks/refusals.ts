// Shared assertions for the attack tests: a refused call must fail with one exact HsmError code
// and leave an audit record for it (attacks.md §0: every refused call is audited). Only the
// boundary's one door is used.

import assert from 'node:assert/strict';
import { HsmError } from '../../src/boundary/api.js';
import type { TestHsm } from '../support/hsm.js';

function lastSeq(t: TestHsm): number {
  let from = 1;
  let last = 0;
  for (;;) {
    const page = t.hsm.listAudit(t.auditor, from, 10_000);
    if (page.length === 0) return last;
    last = page[page.length - 1]!.seq;
    from = last + 1;
  }
}

/**
 * Runs `call`, expects HsmError(`code`), and expects an audit record after it with that code
 * for an op matching `op` (outcome 'refused', or 'failed' for refusals found while executing).
 */
export async function refuses(t: TestHsm, what: string, call: () => Promise<unknown>, code: HsmError['code'], op?: string | RegExp): Promise<void> {
  const before = lastSeq(t);
  await assert.rejects(call(), (e: unknown) => {
    assert.ok(e instanceof HsmError, `${what}: expected HsmError, got ${String(e)}`);
    assert.equal(e.code, code, `${what}: expected ${code}, got ${e.code} (${e.message})`);
    return true;
  });
  const records = t.hsm.listAudit(t.auditor, before + 1, 10_000);
  const hit = records.find(
    (r) => (r.outcome === 'refused' || r.outcome === 'failed') && r.code === code && (op === undefined || (typeof op === 'string' ? r.op === op : op.test(r.op))),
  );
  assert.ok(hit, `${what}: no audit record of the refusal (${code}${op ? ` on ${String(op)}` : ''}); got ${JSON.stringify(records.map((r) => [r.op, r.outcome, r.code]))}`);
}

/** The attributes the caller can read back, as a plain record. */
export async function attrsOf(t: TestHsm, uid: string, session = t.user): Promise<Record<string, unknown>> {
  return (await t.hsm.getAttributes(session, uid)) as unknown as Record<string, unknown>;
}

// REST /v1/audit: auditors list (paged) and export (JSON Lines closed by a signed checkpoint);
// auditors and admins read the public key; partition roles are refused; the export verifies.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { verifyAuditExport } from '../../src/boundary/api.js';
import { type RestFixture, restFixture } from './rest-fixture.js';

let f: RestFixture;
before(async () => {
  f = await restFixture();
});
after(async () => {
  await f.close();
});

test('GET /v1/audit pages by fromSeq and limit for the auditor only', async () => {
  const page = await f.call<{ records: { seq: number }[]; nextFromSeq?: number }>('GET', '/v1/audit?fromSeq=2&limit=3', f.auditor);
  assert.equal(page.status, 200);
  assert.deepEqual(page.body.records.map((r) => r.seq), [2, 3, 4]);
  assert.equal(page.body.nextFromSeq, 5);
  for (const token of [f.user, f.officer, f.admin]) assert.equal((await f.call('GET', '/v1/audit', token)).status, 403);
  assert.equal((await f.call('GET', '/v1/audit?limit=0', f.auditor)).status, 400);
  assert.equal((await f.call('GET', '/v1/audit?limit=abc', f.auditor)).status, 400);
});

test('GET /v1/audit/export is JSON Lines that verifies with GET /v1/audit/public-key', async () => {
  const key = await f.call<{ publicKey: string; keyId: string }>('GET', '/v1/audit/public-key', f.admin);
  assert.equal(key.status, 200);
  assert.match(key.body.publicKey, /^-----BEGIN PUBLIC KEY-----/);
  assert.match(key.body.keyId, /^[0-9a-f]{16}$/);
  assert.deepEqual((await f.call('GET', '/v1/audit/public-key', f.auditor)).body, key.body);
  for (const token of [f.user, f.officer]) assert.equal((await f.call('GET', '/v1/audit/public-key', token)).status, 403);

  const res = await fetch(`${f.base}/v1/audit/export`, { headers: { authorization: `Bearer ${f.auditor}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/);
  const text = await res.text();
  const verdict = verifyAuditExport(text, key.body.publicKey);
  assert.ok(verdict.ok, JSON.stringify(verdict));
  const denied = await fetch(`${f.base}/v1/audit/export`, { headers: { authorization: `Bearer ${f.admin}` } });
  assert.equal(denied.status, 403);
});

test('GET /v1/keys/{id} shows the key\'s usage counters, unflushed ones included', async () => {
  const created = await f.call<{ key: { uid: string } }>('POST', '/v1/keys', f.user, { template: { keyType: 'generic-secret', valueLen: 32, sign: true, token: true } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const uid = created.body.key.uid;
  for (let i = 0; i < 2; i++) assert.equal((await f.call('POST', `/v1/keys/${uid}/sign`, f.user, { mechanism: 'HMAC-SHA256', data: Buffer.from('x').toString('base64') })).status, 200);
  const shown = await f.call<{ key: { usage: Record<string, number> } }>('GET', `/v1/keys/${uid}`, f.user);
  assert.deepEqual(shown.body.key.usage, { sign: 2 });
});

// The enclosure sensor on a running server ([tamper] sensor_file; attacks.md D-17): the file's
// appearance, then a change, triggers the configured response: seal (health 503, keys refused,
// the master key brings them back) or erase (health 501, no key bytes left in the store files).

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, tamperServer } from './tamper-fixture.js';

const KEY = Buffer.from('SENSOR-MARKER-KEY-BYTES-0123456789').subarray(0, 32);

async function withKey(s: Awaited<ReturnType<typeof tamperServer>>): Promise<{ user: string; id: string }> {
  const user = await s.login('user');
  const made = await s.call('POST', '/v1/keys/import', user, { template: { class: 'secret-key', keyType: 'aes', encrypt: true, decrypt: true, value: KEY.toString('base64') } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return { user, id: (made.body.key as { uid: string }).uid };
}

test('sensor → seal: the sensor file appears under a serving server; health 503 with the tamper, sessions gone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-lid-'));
  const sensor = join(dir, 'lid-open');
  const s = await tamperServer({ response: 'seal', sensorFile: sensor, pollSeconds: 1 });
  try {
    const { user, id } = await withKey(s);
    assert.equal((await s.call('POST', `/v1/keys/${id}/encrypt`, user, { mechanism: 'AES-GCM', plaintext: 'aGk=' })).status, 200);
    writeFileSync(sensor, 'opened\n');
    await eventually(async () => (await s.call('GET', '/v1/sys/health')).status === 503);
    const health = await s.call('GET', '/v1/sys/health');
    assert.equal(health.body.state, 'sealed');
    assert.deepEqual([(health.body.tamper as { signal: string }).signal, (health.body.tamper as { response: string }).response], ['sensor', 'seal']);
    const after = await s.call('POST', `/v1/keys/${id}/encrypt`, user, { mechanism: 'AES-GCM', plaintext: 'aGk=' });
    assert.ok(after.status === 401 || after.status === 503, `the old token no longer works: ${after.status}`);
    // A change of the file (not only its appearance) is a signal too.
    const before = (health.body.tamper as { at: string }).at;
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(sensor, 'opened again\n');
    await eventually(() => (s.running.hsm.status().tamper?.at ?? '') > before);
  } finally {
    await s.close();
  }
});

test('sensor → erase: the store is destroyed; health 501; no key bytes remain in the files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-lid-'));
  const sensor = join(dir, 'lid-open');
  const s = await tamperServer({ response: 'erase', sensorFile: sensor, pollSeconds: 1 });
  try {
    await withKey(s);
    writeFileSync(sensor, '1');
    await eventually(async () => (await s.call('GET', '/v1/sys/health')).status === 501);
    const health = await s.call('GET', '/v1/sys/health');
    assert.equal(health.body.state, 'uninitialized');
    assert.equal((health.body.tamper as { response: string }).response, 'erase');
    for (const f of [s.db, `${s.db}-wal`]) if (existsSync(f)) assert.equal(readFileSync(f).indexOf(KEY), -1, `${f} holds no key bytes`);
    const archive = s.running.hsm.status().tamper?.auditArchive;
    assert.ok(archive && existsSync(archive), 'the audit records were kept beside the store before the erase');
    assert.match(readFileSync(archive, 'utf8'), /"op":"module.tamper"/);
  } finally {
    await s.close();
  }
});

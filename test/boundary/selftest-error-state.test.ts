// Self-tests and the error state (issue 4; attacks.md E-01, E-02, E-05, E-11, D-19): each kind of
// self-test can be forced to fail, and each failure latches the error state in which every
// operation is refused with DEVICE_ERROR, status names the failed test, and the audit log
// records it (written when the master key is next presented, since a sealed store takes no records).

import assert from 'node:assert/strict';
import { createCipheriv, createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Hsm, type HsmOptions, SecretBytes } from '../../src/boundary/api.js';
import { expectCode } from '../support/expect-code.js';
import { importSecret, PASSWORD, TEST_SCRYPT, testHsm } from '../support/hsm.js';

const KINDS = ['AES-GCM', 'SHA-256', 'HMAC-SHA256', 'ECDSA-SHA256', 'software-integrity', 'random-health'] as const;

/** A tiny "installation": src/ files and the manifest scripts/write-manifest.mjs would write. */
function fakeInstall(): { root: string; file: string } {
  const root = mkdtempSync(join(tmpdir(), 'coffer-install-'));
  mkdirSync(join(root, 'src', 'boundary'), { recursive: true });
  const files: Record<string, string> = { 'src/boundary/hsm.js': 'export const x = 1;\n', 'src/main.js': 'console.log(1);\n' };
  const digests: Record<string, string> = {};
  for (const [rel, text] of Object.entries(files)) {
    writeFileSync(join(root, rel), text);
    digests[rel] = createHash('sha256').update(text).digest('hex');
  }
  writeFileSync(join(root, 'manifest.json'), JSON.stringify({ format: 1, algorithm: 'sha256', files: digests }));
  return { root, file: join(root, 'src/boundary/hsm.js') };
}

/** An initialised sqlite store with one key, closed; returns what reopening needs. */
async function initialisedStore(): Promise<{ dir: string; store: HsmOptions['store']; masterKey: () => SecretBytes }> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-selftest-'));
  const store = { kind: 'sqlite' as const, path: join(dir, 'coffer.db') };
  const mk = SecretBytes.random(32);
  const bytes = Uint8Array.from(mk.insecureBytes());
  const hsm = await Hsm.open({ store, scrypt: TEST_SCRYPT });
  await hsm.initialize(mk, { name: 'admin', password: PASSWORD });
  const admin = (await hsm.login({ user: 'admin', password: PASSWORD })).session;
  await hsm.createUser(admin, { name: 'auditor', password: PASSWORD, role: 'auditor' });
  hsm.close();
  return { dir, store, masterKey: () => SecretBytes.from(bytes) };
}

for (const kind of KINDS) {
  test(`E-01/E-02: a forced ${kind} self-test failure latches the error state; status names it; every service refuses with DEVICE_ERROR`, async () => {
    const s = await initialisedStore();
    try {
      const hsm = await Hsm.open({ store: s.store, scrypt: TEST_SCRYPT, forceSelfTestFailure: kind, masterKey: s.masterKey() });
      const st = hsm.status();
      assert.equal(st.state, 'error');
      assert.ok(st.selfTests.failed.includes(kind), `failed list names ${kind}: ${st.selfTests.failed.join(',')}`);
      assert.match(st.error ?? '', new RegExp(`self-test failed: .*${kind}`));
      // E-05: nothing answers but status: login, unseal, initialise are refused too.
      await expectCode(() => hsm.login({ user: 'admin', password: PASSWORD }), 'DEVICE_ERROR', 'login');
      await expectCode(() => hsm.unseal(s.masterKey()), 'DEVICE_ERROR', 'unseal');
      await expectCode(() => hsm.digest('any', { mechanism: 'SHA256', data: new Uint8Array(1) }), 'DEVICE_ERROR', 'digest');
      await expectCode(() => hsm.encrypt('any', { key: 'k', mechanism: 'AES-GCM', data: new Uint8Array(1) }), 'DEVICE_ERROR', 'encrypt');
      await expectCode(() => hsm.randomBytes('any', 16), 'DEVICE_ERROR', 'random');
      if (kind === 'software-integrity') assert.equal(st.tamper?.signal, 'software-integrity', 'a failed integrity test is also a tamper signal');
      hsm.close();
      // The audit log records it: the failure was written with the master key given at open.
      const again = await Hsm.open({ store: s.store, scrypt: TEST_SCRYPT, masterKey: s.masterKey() });
      assert.equal(again.status().state, 'unsealed', 'a restart with passing self-tests serves again');
      const auditor = (await again.login({ user: 'auditor', password: PASSWORD })).session;
      const records = again.listAudit(auditor);
      const rec = records.find((r) => r.op === 'module.error');
      assert.ok(rec, 'a module.error record exists');
      assert.equal(rec.code, 'DEVICE_ERROR');
      assert.match(rec.detail ?? '', new RegExp(kind));
      again.close();
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });
}

test('E-05/D-19: an on-demand integrity failure while serving latches the error state: sessions end, keys refuse, tamper response seals', async () => {
  const inst = fakeInstall();
  try {
    const t = await testHsm({ integrity: { root: inst.root, enforce: true } });
    const key = await importSecret(t, 'aes', new Uint8Array(32).fill(1), { encrypt: true, decrypt: true });
    const ct = await t.hsm.encrypt(t.user, { key, mechanism: 'AES-GCM', data: new Uint8Array(4) });
    writeFileSync(inst.file, 'export const x = "replaced";\n'); // D-19: a module file replaced under a running server
    const r = await t.hsm.runSelfTests(t.admin);
    assert.deepEqual(r.failed, ['software-integrity']);
    const st = t.hsm.status();
    assert.equal(st.state, 'error');
    assert.equal(st.tamper?.signal, 'software-integrity');
    assert.equal(st.tamper?.response, 'seal');
    assert.equal(st.sessions, 0, 'every session ended');
    await expectCode(() => t.hsm.decrypt(t.user, { key, mechanism: 'AES-GCM', data: ct.data, params: ct.params ?? {} }), 'DEVICE_ERROR', 'decrypt after the failure');
    await expectCode(() => t.hsm.login({ user: 'alice', password: PASSWORD }), 'DEVICE_ERROR', 'login after the failure');
    await t.close();
  } finally {
    rmSync(inst.root, { recursive: true, force: true });
  }
});

test('D-19/E-01: software-integrity: a changed, added or removed installed file fails the start-up test; a clean install passes', async () => {
  const inst = fakeInstall();
  try {
    const ok = await Hsm.open({ store: { kind: 'memory' }, integrity: { root: inst.root, enforce: true } });
    assert.equal(ok.status().state, 'uninitialized');
    assert.equal(ok.status().selfTests.failed.length, 0);
    ok.close();

    writeFileSync(inst.file, 'export const x = 2; // patched\n');
    const changed = await Hsm.open({ store: { kind: 'memory' }, integrity: { root: inst.root, enforce: true } });
    assert.equal(changed.status().state, 'error');
    assert.match(changed.status().error ?? '', /software-integrity.*digest mismatch: src\/boundary\/hsm\.js/);
    changed.close();

    writeFileSync(inst.file, 'export const x = 1;\n');
    writeFileSync(join(inst.root, 'src', 'evil.js'), 'process.exit(0);\n');
    const added = await Hsm.open({ store: { kind: 'memory' }, integrity: { root: inst.root, enforce: true } });
    assert.match(added.status().error ?? '', /not in the manifest: src\/evil\.js/);
    added.close();

    unlinkSync(join(inst.root, 'src', 'evil.js'));
    unlinkSync(join(inst.root, 'src', 'main.js'));
    const removed = await Hsm.open({ store: { kind: 'memory' }, integrity: { root: inst.root, enforce: true } });
    assert.match(removed.status().error ?? '', /file missing: src\/main\.js/);
    removed.close();
  } finally {
    rmSync(inst.root, { recursive: true, force: true });
  }
});

test('software-integrity: a missing manifest is a warning when not enforced (dev) and a failure when enforced (production)', async () => {
  const inst = fakeInstall();
  try {
    unlinkSync(join(inst.root, 'manifest.json'));
    const dev = await Hsm.open({ store: { kind: 'memory' }, integrity: { root: inst.root, enforce: false } });
    assert.equal(dev.status().state, 'uninitialized');
    assert.match((dev.status().warnings ?? []).join(' '), /no manifest\.json/);
    dev.close();
    const prod = await Hsm.open({ store: { kind: 'memory' }, integrity: { root: inst.root, enforce: true } });
    assert.equal(prod.status().state, 'error');
    assert.match(prod.status().error ?? '', /software-integrity/);
    prod.close();
  } finally {
    rmSync(inst.root, { recursive: true, force: true });
  }
});

test('software-integrity: the real build passes against the manifest npm run build writes', async (t) => {
  const { checkSoftwareIntegrity } = await import('../../src/boundary/api.js');
  const r = checkSoftwareIntegrity();
  if (!r.ok && r.missing) {
    t.skip('no dist/manifest.json: built with tsc alone, not npm run build');
    return;
  }
  assert.ok(r.ok, `integrity of this build: ${r.ok ? '' : r.detail}`);
});

test('E-11: on-demand self-tests: admin only, audited, results in status', async () => {
  const t = await testHsm();
  await expectCode(() => t.hsm.runSelfTests(t.user), 'USER_TYPE_INVALID', 'a user may not run self-tests');
  const before = t.hsm.status().selfTests.at;
  const r = await t.hsm.runSelfTests(t.admin);
  assert.equal(r.failed.length, 0);
  assert.ok(r.passed > 10);
  assert.notEqual(t.hsm.status().selfTests.at, undefined);
  assert.ok((t.hsm.status().selfTests.at ?? '') >= (before ?? ''));
  const records = t.hsm.listAudit(t.auditor);
  assert.ok(records.some((x) => x.op === 'module.selftest' && x.outcome === 'ok'), 'the run is audited');
  assert.equal(t.hsm.status().state, 'unsealed');
  await t.close();
});

test('E-11: no crypto output while on-demand self-tests run', async () => {
  const t = await testHsm();
  const run = t.hsm.runSelfTests(t.admin);
  await expectCode(() => t.hsm.digest(t.user, { mechanism: 'SHA256', data: new Uint8Array(1) }), 'DEVICE_ERROR', 'digest during the run');
  await run;
  assert.equal((await t.hsm.digest(t.user, { mechanism: 'SHA256', data: new Uint8Array(1) })).length, 32);
  await t.close();
});

test('E-03: pairwise consistency on unwrap: a wrapped private key whose embedded public half is not its own is refused, no object made', async () => {
  const t = await testHsm();
  const kekBytes = new Uint8Array(32).fill(7);
  const kek = await t.hsm.createObject(t.officer, { class: 'secret-key', keyType: 'aes', value: kekBytes, wrap: true, unwrap: true, trusted: true });
  const a = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const b = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const mixed = createPrivateKey({ key: { ...a, x: b.x, y: b.y }, format: 'jwk' }).export({ format: 'der', type: 'pkcs8' });
  const before = (await t.hsm.findObjects(t.user, {})).length;
  const wrap = (data: Uint8Array): Uint8Array => {
    const c = createCipheriv('id-aes256-wrap-pad', kekBytes, Buffer.from('A65959A6', 'hex')); // RFC 5649 §3 alternative IV
    return Buffer.concat([c.update(data), c.final()]);
  };
  for (const [what, blob] of [['mismatched public half', mixed], ['garbage', new Uint8Array(40).fill(0x30)]] as const) {
    await expectCode(() => t.hsm.unwrapKey(t.user, { unwrappingKey: kek, mechanism: 'AES-KWP', wrapped: wrap(blob), template: { class: 'private-key', keyType: 'ec', sign: true } }), 'UNWRAP_FAILED', what);
  }
  assert.equal((await t.hsm.findObjects(t.user, {})).length, before, 'no object was made');
  assert.equal(t.hsm.status().state, 'unsealed');
  await t.close();
});

// Backup over REST and the CLI (docs/backup.md): POST /v1/sys/backup and /v1/sys/restore on real
// sockets, roles and codes at the door, a restore into an empty server that signs as before, and
// `coffer backup export|inspect|restore` against a running dev server.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Hsm, SecretBytes } from '../../src/boundary/api.js';
import { buildRestApp } from '../../src/frontends/rest/app.js';
import { runCli, startTestServer } from '../cli/cli-harness.js';
import { PASSWORD, TEST_SCRYPT } from '../support/hsm.js';
import { restFixture } from './rest-fixture.js';

type Exported = { backup: string; backupId: string; shares: { share: string }[]; threshold: number; verified: boolean; counts: { objects: number } };
type ErrorBody = { error: { code: string } };

test('REST: admin exports, other roles are 403, an empty server restores with the shares and the key signs as before', async () => {
  const f = await restFixture();
  const target = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT });
  await target.initialize(SecretBytes.random(32), { name: 'admin', password: PASSWORD });
  const { app } = buildRestApp({ hsm: target, rateLimit: { perSecond: 0, burst: 0 } });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const key = await f.call<{ privateKey: { uid: string } }>('POST', '/v1/keys', f.user, { template: { keyType: 'ec-edwards', curve: 'Ed25519', sign: true } });
    assert.equal(key.status, 201, JSON.stringify(key.body));
    const data = Buffer.from('backup over REST').toString('base64');
    const sig = await f.call<{ signature: string }>('POST', `/v1/keys/${key.body.privateKey.uid}/sign`, f.user, { mechanism: 'EDDSA', data });
    assert.equal(sig.status, 200, JSON.stringify(sig.body));

    for (const token of [f.user, f.officer, f.auditor]) {
      const r = await f.call<ErrorBody>('POST', '/v1/sys/backup', token, { shares: 1, threshold: 1 });
      assert.equal(r.status, 403, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'USER_TYPE_INVALID');
    }
    assert.equal((await f.call('POST', '/v1/sys/backup', undefined, {})).status, 401);
    const out = await f.call<Exported>('POST', '/v1/sys/backup', f.admin, { shares: 3, threshold: 2 });
    assert.equal(out.status, 200, JSON.stringify(out.body));
    assert.equal(out.body.verified, true);
    assert.equal(out.body.shares.length, 3);

    const call = async <T>(path: string, token: string, body: unknown): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as T };
    };
    const login = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'admin', password: PASSWORD }) });
    const admin = ((await login.json()) as { token: string }).token;
    const shares = out.body.shares.slice(0, 2).map((s) => s.share);

    const bytes = Buffer.from(out.body.backup, 'base64');
    bytes[bytes.length - 5]! ^= 1;
    const corrupt = await call<ErrorBody>('/v1/sys/restore', admin, { backup: bytes.toString('base64'), shares });
    assert.equal(corrupt.status, 400);
    assert.equal(corrupt.body.error.code, 'BACKUP_INVALID');
    const noShares = await call<ErrorBody>('/v1/sys/restore', admin, { backup: out.body.backup });
    assert.equal(noShares.status, 400);
    assert.equal(noShares.body.error.code, 'ARGUMENTS_BAD');
    const oneShare = await call<ErrorBody>('/v1/sys/restore', admin, { backup: out.body.backup, shares: shares.slice(0, 1) });
    assert.equal(oneShare.body.error.code, 'SHARE_INVALID');

    const ok = await call<{ keySource: string; counts: { objects: number } }>('/v1/sys/restore', admin, { backup: out.body.backup, shares });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.keySource, 'shares');
    assert.equal(ok.body.counts.objects, out.body.counts.objects);
    const again = await call<ErrorBody>('/v1/sys/restore', admin, { backup: out.body.backup, shares });
    assert.equal(again.status, 409, 'a second restore onto a module with keys is refused');
    assert.equal(again.body.error.code, 'ALREADY_EXISTS');

    const ulogin = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'alice', password: PASSWORD }) });
    const alice = ((await ulogin.json()) as { token: string }).token;
    const sig2 = await call<{ signature: string }>(`/v1/keys/${key.body.privateKey.uid}/sign`, alice, { mechanism: 'EDDSA', data });
    assert.equal(sig2.status, 200, JSON.stringify(sig2.body));
    assert.equal(sig2.body.signature, sig.body.signature, 'Ed25519 signature equal after the restore');
  } finally {
    await app.close();
    target.close();
    await f.close();
  }
});

test('CLI: coffer backup export writes a 0600 file and the shares, inspect reads it offline, a damaged file is BACKUP_INVALID, restore refuses a non-empty server', { timeout: 120_000 }, async (t) => {
  const s = await startTestServer();
  const dir = mkdtempSync(join(tmpdir(), 'coffer-backup-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const created = await runCli(['key', 'create', '--type', 'aes', '--label', 'backup-demo', '--output', 'json'], { env: s.env });
    assert.equal(created.code, 0, created.stderr);
    const login = await fetch(`${s.addr}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'admin', password: s.password('admin') }) });
    const adminEnv = { ...s.env, COFFER_TOKEN: ((await login.json()) as { token: string }).token };
    const file = join(dir, 'coffer.backup');
    const shareDir = join(dir, 'shares');

    const denied = await runCli(['backup', 'export', '-o', join(dir, 'nope.backup')], { env: s.env });
    assert.equal(denied.code, 5, denied.stderr);
    const custodian = generateKeyPairSync('x25519');
    const pubFile = join(dir, 'custodian.pub.pem');
    const idFile = join(dir, 'custodian.key.pem');
    writeFileSync(pubFile, custodian.publicKey.export({ format: 'pem', type: 'spki' }));
    writeFileSync(idFile, custodian.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const exp = await runCli(['backup', 'export', '-o', file, '--shares', '3', '--threshold', '2', '--custodian-key', pubFile, '--share-dir', shareDir, '--output', 'json'], { env: adminEnv });
    assert.equal(exp.code, 0, exp.stderr);
    const summary = JSON.parse(exp.stdout.toString()) as { backupId: string; verified: boolean; shares: { file: string }[] };
    assert.equal(summary.verified, true);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(summary.shares.length, 3);

    const offline = { PATH: process.env.PATH, XDG_CONFIG_HOME: join(dir, 'config'), COFFER_ADDR: 'http://127.0.0.1:1' };
    const inspect = await runCli(['backup', 'inspect', '-i', file, '--output', 'json'], { env: offline });
    assert.equal(inspect.code, 0, inspect.stderr);
    const d = JSON.parse(inspect.stdout.toString()) as { backupId: string; shares: { threshold: number } };
    assert.equal(d.backupId, summary.backupId);
    assert.equal(d.shares.threshold, 2);

    const damaged = join(dir, 'damaged.backup');
    const b = readFileSync(file);
    writeFileSync(damaged, b.subarray(0, 30));
    const shareArgs = summary.shares.slice(0, 2).flatMap((x) => ['--share-file', x.file]);
    const bad = await runCli(['backup', 'inspect', '-i', damaged], { env: offline });
    assert.equal(bad.code, 5, bad.stderr);
    assert.match(bad.stderr, /BACKUP_INVALID/);
    const badInspect = await runCli(['backup', 'inspect', '-i', join(dir, 'nope')], { env: offline });
    assert.equal(badInspect.code, 2);
    assert.match(readFileSync(summary.shares[0]!.file, 'utf8'), /^x25519:/, 'share 1 is sealed to its custodian');
    const noId = await runCli(['backup', 'restore', '-i', file, ...shareArgs], { env: adminEnv });
    assert.equal(noId.code, 2, noId.stderr);
    assert.match(noId.stderr, /IDENTITY_REQUIRED/);
    // The dev server holds its partition and keys: restore never merges over them (the share was opened locally first).
    const busy = await runCli(['backup', 'restore', '-i', file, ...shareArgs, '--identity', idFile], { env: adminEnv });
    assert.equal(busy.code, 5, busy.stderr);
    assert.match(busy.stderr, /ALREADY_EXISTS/);
  } finally {
    await s.close();
  }
});

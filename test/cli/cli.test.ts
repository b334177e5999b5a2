// The coffer CLI against a real server over a real socket: each command runs as a child
// process, and each exit code the docs promise is produced by the situation it names.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CLI, freePort, runCli, runShell, type TestServer, startTestServer } from './cli-harness.js';

let s: TestServer;

before(async () => {
  s = await startTestServer();
});

after(async () => {
  await s?.close();
});

function json<T = Record<string, unknown>>(r: { stdout: Buffer }): T {
  return JSON.parse(r.stdout.toString('utf8')) as T;
}

function ok(r: { code: number | null; stderr: string }, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code}, stderr: ${r.stderr}`);
}

test('login with --password-stdin saves a 0600 token file; status and logout use it', { timeout: 60_000 }, async () => {
  const env = { COFFER_ADDR: s.addr, XDG_CONFIG_HOME: join(s.dir, 'login-config') };
  const none = await runCli(['key', 'list'], { env });
  assert.equal(none.code, 3);
  assert.match(none.stderr, /^coffer: not logged in \(UNAUTHENTICATED\)\nhint: run 'coffer login'/);

  const wrong = await runCli(['login', '--user', 'dev', '--password-stdin'], { env, input: 'not-the-password' });
  assert.equal(wrong.code, 3);
  assert.match(wrong.stderr, /\(PIN_INCORRECT\)/);

  const login = await runCli(['login', '--user', 'dev', '--password-stdin', '--output', 'json'], { env, input: `${s.password('user')}\n` });
  ok(login, 'login');
  const out = json<{ role: string; partition: string; tokenFile: string }>(login);
  assert.equal(out.role, 'user');
  assert.equal(out.partition, 'default');
  assert.equal(statSync(out.tokenFile).mode & 0o777, 0o600);
  const saved = JSON.parse(readFileSync(out.tokenFile, 'utf8')) as { addr: string; token: string; expiresAt: string };
  assert.equal(saved.addr, s.addr);
  assert.match(saved.token, /^cft_/);
  assert.doesNotMatch(login.stdout.toString(), /cft_/, 'the token is not printed');

  const status = await runCli(['status', '--output', 'json'], { env });
  ok(status, 'status');
  const st = json<{ state: string; user: string; selfTestsPassed: number }>(status);
  assert.equal(st.state, 'unsealed');
  assert.equal(st.user, 'dev');
  assert.ok(st.selfTestsPassed > 0);
  const table = await runCli(['status'], { env });
  assert.match(table.stdout.toString(), /^addr: +http:\/\/127\.0\.0\.1:\d+\nstate: +unsealed$/m);

  const logout = await runCli(['logout'], { env });
  ok(logout, 'logout');
  assert.equal(existsSync(out.tokenFile), false);
  // The revoked token no longer works even if someone kept a copy.
  const reused = await runCli(['key', 'list'], { env: { ...env, COFFER_TOKEN: saved.token } });
  assert.equal(reused.code, 3);
  assert.match(reused.stderr, /UNAUTHENTICATED/);
  assert.match(reused.stderr, /hint: COFFER_TOKEN was refused/);
  // No password on the command line, ever.
  const flag = await runCli(['login', '--user', 'dev', '--password', 'x'], { env });
  assert.equal(flag.code, 2);
});

test('key create, list and show (table and json, by uid and by alias)', { timeout: 60_000 }, async () => {
  const created = await runCli(['key', 'create', '--type', 'ec', '--curve', 'P-384', '--label', 'cli-list', '--usage', 'sign', '--output', 'json'], { env: s.env });
  ok(created, 'create');
  const pair = json<{ privateKey: { uid: string; curve: string; sign: boolean }; publicKey: { uid: string; verify: boolean } }>(created);
  assert.equal(pair.privateKey.curve, 'P-384');
  assert.equal(pair.privateKey.sign, true);
  assert.equal(pair.publicKey.verify, true, 'sign on the private half gives verify to the public half');

  const aes = await runCli(['key', 'create', '--type', 'aes', '--bits', '128', '--label', 'cli-list', '--output', 'json'], { env: s.env });
  ok(aes, 'create aes');
  const aesKey = json<{ key: { uid: string; valueLen: number; encrypt: boolean } }>(aes).key;
  assert.equal(aesKey.valueLen, 16);
  assert.equal(aesKey.encrypt, true);

  const list = await runCli(['key', 'list', '--label', 'cli-list', '--output', 'json'], { env: s.env });
  ok(list, 'list');
  const uids = json<{ keys: { uid: string }[] }>(list).keys.map((k) => k.uid);
  assert.deepEqual(new Set(uids), new Set([pair.privateKey.uid, pair.publicKey.uid, aesKey.uid]));
  const onlyAes = json<{ keys: { uid: string }[] }>(await runCli(['key', 'list', '--label', 'cli-list', '--type', 'aes', '--output', 'json'], { env: s.env }));
  assert.deepEqual(
    onlyAes.keys.map((k) => k.uid),
    [aesKey.uid],
  );
  const limited = json<{ keys: unknown[]; more?: boolean }>(await runCli(['key', 'list', '--label', 'cli-list', '--limit', '1', '--output', 'json'], { env: s.env }));
  assert.equal(limited.keys.length, 1);
  assert.equal(limited.more, true);
  const tableList = await runCli(['key', 'list', '--label', 'cli-list'], { env: s.env });
  ok(tableList, 'list table');
  assert.match(tableList.stdout.toString(), /^UID +CLASS +KEYTYPE +LABEL +STATE/);
  assert.equal(tableList.stdout.toString().trim().split('\n').length, 4);

  ok(await runCli(['key', 'alias', 'set', '--key', aesKey.uid, 'cli-alias'], { env: s.env }), 'alias set');
  const shown = await runCli(['key', 'show', 'alias/cli-alias', '--output', 'json'], { env: s.env });
  ok(shown, 'show by alias');
  assert.equal(json<{ key: { uid: string } }>(shown).key.uid, aesKey.uid);
  const shownTable = await runCli(['key', 'show', pair.privateKey.uid], { env: s.env });
  assert.match(shownTable.stdout.toString(), /^curve: +P-384$/m);

  const tagged = await runCli(['key', 'tag', '--key', 'alias/cli-alias', 'env=test', 'team=cli', '--output', 'json'], { env: s.env });
  ok(tagged, 'tag');
  assert.deepEqual(json<{ key: { tags: Record<string, string> } }>(tagged).key.tags, { env: 'test', team: 'cli' });
  const untagged = await runCli(['key', 'tag', '--key', 'alias/cli-alias', '--remove', 'env', '--output', 'json'], { env: s.env });
  assert.deepEqual(json<{ key: { tags: Record<string, string> } }>(untagged).key.tags, { team: 'cli' });
});

test('sign then verify: exit 0 for the file, 1 for a tampered file; base64 signatures; HMAC keys MAC', { timeout: 60_000 }, async () => {
  const created = json<{ privateKey: { uid: string }; publicKey: { uid: string } }>(await runCli(['key', 'create', '--type', 'ec', '--label', 'cli-sign', '--output', 'json'], { env: s.env }));
  const file = join(s.dir, 'artifact.bin');
  const sig = join(s.dir, 'artifact.sig');
  writeFileSync(file, Buffer.from('release 1.0.0\n'));
  ok(await runCli(['key', 'sign', '--key', created.privateKey.uid, '-i', file, '-o', sig], { env: s.env }), 'sign');
  assert.equal(readFileSync(sig)[0], 0x30, 'ECDSA signature is DER by default');
  for (const k of [created.privateKey.uid, created.publicKey.uid]) {
    const good = await runCli(['key', 'verify', '--key', k, '-i', file, '--signature', sig], { env: s.env });
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout.toString(), /Signature valid/);
  }
  writeFileSync(file, Buffer.from('release 1.0.1\n'));
  const bad = await runCli(['key', 'verify', '--key', created.privateKey.uid, '-i', file, '--signature', sig, '--output', 'json'], { env: s.env });
  assert.equal(bad.code, 1);
  assert.equal(json<{ valid: boolean }>(bad).valid, false);

  // stdin in, base64 out, and back.
  const b64 = await runCli(['key', 'sign', '--key', created.privateKey.uid, '--base64'], { env: s.env, input: 'piped data' });
  ok(b64, 'sign --base64');
  assert.match(b64.stdout.toString(), /^[A-Za-z0-9+/]+=*\n$/);
  writeFileSync(sig, b64.stdout);
  ok(await runCli(['key', 'verify', '--key', created.publicKey.uid, '--signature', sig, '--base64'], { env: s.env, input: 'piped data' }), 'verify --base64 from stdin');

  const hmac = json<{ key: { uid: string } }>(await runCli(['key', 'create', '--type', 'hmac', '--label', 'cli-mac', '--output', 'json'], { env: s.env })).key.uid;
  ok(await runCli(['key', 'sign', '--key', hmac, '-i', file, '-o', sig], { env: s.env }), 'mac');
  assert.equal(readFileSync(sig).length, 32, 'HMAC-SHA256 tag');
  ok(await runCli(['key', 'verify', '--key', hmac, '-i', file, '--signature', sig], { env: s.env }), 'mac verify');
  writeFileSync(file, 'other');
  assert.equal((await runCli(['key', 'verify', '--key', hmac, '-i', file, '--signature', sig], { env: s.env })).code, 1);
});

test('encrypt | decrypt round trip through a shell pipe; rotation keeps old ciphertexts readable', { timeout: 60_000 }, async () => {
  const key = json<{ key: { uid: string } }>(await runCli(['key', 'create', '--type', 'aes', '--label', 'cli-enc', '--output', 'json'], { env: s.env })).key.uid;
  const plain = join(s.dir, 'plain.txt');
  writeFileSync(plain, 'the quick brown fox\n');
  const piped = await runShell(`cat plain.txt | "$NODE" "$CLI" key encrypt --key ${key} | "$NODE" "$CLI" key decrypt --key ${key}`, { ...s.env, NODE: process.execPath, CLI }, s.dir);
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout.toString(), 'the quick brown fox\n');

  const enc = join(s.dir, 'plain.enc');
  ok(await runCli(['key', 'encrypt', '--key', key, '-i', plain, '-o', enc], { env: s.env }), 'encrypt');
  assert.match(readFileSync(enc, 'utf8'), /^coffer:v1:AES-GCM:[A-Za-z0-9+/]+=*\n$/);
  const rotated = await runCli(['key', 'rotate', key, '--output', 'json'], { env: s.env });
  ok(rotated, 'rotate');
  assert.equal(json<{ version: number }>(rotated).version, 2);
  const out = join(s.dir, 'plain.out');
  ok(await runCli(['key', 'decrypt', '--key', key, '-i', enc, '-o', out], { env: s.env }), 'decrypt v1 after rotation');
  assert.equal(readFileSync(out, 'utf8'), 'the quick brown fox\n');
  assert.equal(statSync(out).mode & 0o777, 0o600, 'plaintext files are private');
  const v2 = await runCli(['key', 'encrypt', '--key', key], { env: s.env, input: 'x' });
  assert.match(v2.stdout.toString(), /^coffer:v2:/);

  // A tampered ciphertext: refused with the uniform code, exit 5, nothing written.
  const text = readFileSync(enc, 'utf8').trim();
  const flipped = `${text.slice(0, -6)}${text.slice(-6, -5) === 'A' ? 'B' : 'A'}${text.slice(-5)}`;
  const bad = await runCli(['key', 'decrypt', '--key', key, '-o', join(s.dir, 'never')], { env: s.env, input: flipped });
  assert.equal(bad.code, 5);
  assert.match(bad.stderr, /\(DECRYPT_FAILED\)/);
  assert.equal(existsSync(join(s.dir, 'never')), false);
});

test('usage errors exit 2 with a hint and never reach the server', { timeout: 60_000 }, async () => {
  const cases: string[][] = [
    [],
    ['nonsense'],
    ['key'],
    ['key', 'frobnicate'],
    ['key', 'list', '--bogus'],
    ['key', 'list', '--limit', 'ten'],
    ['key', 'sign', '-i', 'x'],
    ['key', 'create'],
    ['key', 'create', '--type', 'dsa'],
    ['key', 'create', '--type', 'aes', '--curve', 'P-256'],
    ['key', 'create', '--type', 'ec', '--usage', 'fly'],
    ['key', 'destroy', 'abc'],
    ['key', 'list', '--output', 'xml'],
    ['key', 'show', 'a', 'b'],
    ['key', 'delete', 'k', '--days', '3'],
  ];
  // An address nothing listens on: a usage error must be found before any request.
  const env = { ...s.env, COFFER_ADDR: `http://127.0.0.1:${await freePort()}` };
  for (const argv of cases) {
    const r = await runCli(argv, { env });
    assert.equal(r.code, 2, `${argv.join(' ')}: exit ${r.code} ${r.stderr}`);
    assert.match(r.stderr, /^(coffer: .* \(USAGE\)\nhint: |Usage: coffer)/, argv.join(' '));
  }
  const r = await runCli(['key', 'list', '--bogus'], { env });
  assert.match(r.stderr, /^coffer: unknown option "--bogus" \(USAGE\)\nhint: see 'coffer key list --help'\n$/);
  const help = await runCli(['key', 'sign', '--help'], { env });
  assert.equal(help.code, 0);
  assert.match(help.stdout.toString(), /^Usage: coffer key sign/);
  const top = await runCli(['--help'], { env });
  assert.equal(top.code, 0);
  assert.match(top.stdout.toString(), /Exit codes:\n {2}0 {2}success/);
});

test('exit codes: bad token 3 with hint, unknown key 4, refused 5, server down 6', { timeout: 60_000 }, async () => {
  const badToken = await runCli(['key', 'list'], { env: { ...s.env, COFFER_TOKEN: 'cft_not-a-real-token' } });
  assert.equal(badToken.code, 3);
  assert.match(badToken.stderr, /^coffer: a valid bearer token is required \(UNAUTHENTICATED\)\nhint: .*coffer login/);

  const flagToken = await runCli(['key', 'list', '--token', 'cft_nope'], { env: s.env });
  assert.equal(flagToken.code, 3);

  const missing = await runCli(['key', 'show', 'alias/no-such-key'], { env: s.env });
  assert.equal(missing.code, 4);
  assert.match(missing.stderr, /\(OBJECT_NOT_FOUND|KEY_HANDLE_INVALID\)/);
  assert.match(missing.stderr, /hint: list the keys/);
  const missingSign = await runCli(['key', 'sign', '--key', '0123456789abcdef0123456789abcdef'], { env: s.env, input: 'x' });
  assert.equal(missingSign.code, 4);

  const refused = await runCli(['user', 'list'], { env: s.env });
  assert.equal(refused.code, 5, refused.stderr);
  assert.match(refused.stderr, /\(USER_TYPE_INVALID\)/);

  const down = await runCli(['status'], { env: { ...s.env, COFFER_ADDR: `http://127.0.0.1:${await freePort()}` } });
  assert.equal(down.code, 6);
  assert.match(down.stderr, /^coffer: cannot reach the server at http:\/\/127\.0\.0\.1:\d+ .*\(UNREACHABLE\)\nhint: is the server running\? start it with npm start \/ coffer server --dev; check COFFER_ADDR\n$/);
});

test('public key formats, wrap/unwrap, disable/enable, scheduled deletion, destroy --yes', { timeout: 60_000 }, async () => {
  const pair = json<{ privateKey: { uid: string }; publicKey: { uid: string } }>(await runCli(['key', 'create', '--type', 'ed25519', '--output', 'json'], { env: s.env }));
  const pem = await runCli(['key', 'public', '--key', pair.publicKey.uid], { env: s.env });
  ok(pem, 'public pem');
  assert.match(pem.stdout.toString(), /^-----BEGIN PUBLIC KEY-----\n/);
  const der = await runCli(['key', 'public', '--key', pair.publicKey.uid, '--format', 'der'], { env: s.env });
  assert.equal(der.stdout[0], 0x30);
  const jwk = JSON.parse((await runCli(['key', 'public', '--key', pair.publicKey.uid, '--format', 'jwk'], { env: s.env })).stdout.toString()) as { kty: string; crv: string };
  assert.deepEqual([jwk.kty, jwk.crv], ['OKP', 'Ed25519']);

  const kek = json<{ key: { uid: string } }>(await runCli(['key', 'create', '--type', 'aes', '--usage', 'wrap,unwrap', '--output', 'json'], { env: s.env })).key.uid;
  const dataKey = json<{ key: { uid: string } }>(await runCli(['key', 'create', '--type', 'aes', '--extractable', '--output', 'json'], { env: s.env })).key.uid;
  const wrappedFile = join(s.dir, 'k.wrapped');
  ok(await runCli(['key', 'wrap', '--key', dataKey, '--wrapping-key', kek, '-o', wrappedFile], { env: s.env }), 'wrap');
  const unwrapped = await runCli(['key', 'unwrap', '--wrapping-key', kek, '-i', wrappedFile, '--label', 'copy', '--output', 'json'], { env: s.env });
  ok(unwrapped, 'unwrap');
  const copy = json<{ key: { uid: string } }>(unwrapped).key.uid;
  const ct = await runCli(['key', 'encrypt', '--key', dataKey], { env: s.env, input: 'same key' });
  const back = await runCli(['key', 'decrypt', '--key', copy], { env: s.env, input: ct.stdout });
  ok(back, 'decrypt with the unwrapped copy');
  assert.equal(back.stdout.toString(), 'same key');

  ok(await runCli(['key', 'disable', copy], { env: s.env }), 'disable');
  const disabled = await runCli(['key', 'decrypt', '--key', copy], { env: s.env, input: ct.stdout });
  assert.equal(disabled.code, 5);
  assert.match(disabled.stderr, /KEY_STATE_INVALID/);
  ok(await runCli(['key', 'enable', copy], { env: s.env }), 'enable');
  const del = await runCli(['key', 'delete', copy, '--days', '7', '--output', 'json'], { env: s.env });
  ok(del, 'delete');
  assert.ok(Date.parse(json<{ deletionDate: string }>(del).deletionDate) > Date.now() + 6 * 86_400_000);
  ok(await runCli(['key', 'cancel-deletion', copy], { env: s.env }), 'cancel-deletion');
  ok(await runCli(['key', 'destroy', copy, '--yes'], { env: s.env }), 'destroy');
  assert.equal((await runCli(['key', 'show', copy], { env: s.env })).code, 4);
});

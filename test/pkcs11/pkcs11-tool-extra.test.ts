// Real client: OpenSC pkcs11-tool through p11-kit-client.so 0.24.1 (protocol 0) — RSA-3072 and
// EC P-384 key pairs with signatures checked by openssl, and pkcs11-tool's own self-test
// (`--test`) reporting no errors. Under CI a missing tool fails the run.

import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OPENSSL, p11user, PKCS11_TOOL, runEnv } from './client-support.js';
import { P11_KIT_CLIENT, type P11Fixture, p11Fixture, requireTool } from './p11-fixture.js';

let f: P11Fixture;
const file = (name: string): string => join(f.dir, name);
const MSG = 'the quick brown fox jumps over the lazy dog';

before(async () => {
  f = await p11Fixture();
});
after(async () => {
  await f.close();
});

function haveTools(t: { skip: (why: string) => void }): boolean {
  return requireTool(P11_KIT_CLIENT, 'p11-kit-modules', t.skip.bind(t)) && requireTool(PKCS11_TOOL, 'opensc', t.skip.bind(t)) && requireTool(OPENSSL, 'openssl', t.skip.bind(t));
}

async function publicPem(id: string): Promise<string> {
  const der = file(`pub-${id}.der`);
  const r = await p11user(f, '--read-object', '--type', 'pubkey', '--id', id, '-o', der);
  assert.equal(r.code, 0, r.stderr);
  const pem = file(`pub-${id}.pem`);
  const c = await runEnv(f, OPENSSL, ['rsa', '-pubin', '-inform', 'DER', '-in', der, '-out', pem]);
  assert.equal(c.code, 0, c.stderr);
  return pem;
}

test('pkcs11-tool: RSA-3072 key pair, SHA384-RSA-PKCS and RSA-PKCS-PSS signatures that openssl verifies; a flipped bit does not verify', async (t) => {
  if (!haveTools(t)) return;
  const gen = await p11user(f, '--keypairgen', '--key-type', 'rsa:3072', '--label', 'rsa3072', '--id', '31', '--usage-sign');
  assert.equal(gen.code, 0, gen.stderr);
  assert.match(gen.stdout, /Public Key Object; RSA 3072 bits/);
  writeFileSync(file('msg'), MSG);
  const pem = await publicPem('31');

  const sig = await p11user(f, '--sign', '-m', 'SHA384-RSA-PKCS', '--id', '31', '-i', file('msg'), '-o', file('rsa.sig'));
  assert.equal(sig.code, 0, sig.stderr);
  assert.equal(readFileSync(file('rsa.sig')).length, 384);
  const v = await runEnv(f, OPENSSL, ['dgst', '-sha384', '-verify', pem, '-signature', file('rsa.sig'), file('msg')]);
  assert.match(v.stdout, /Verified OK/, v.stderr);
  writeFileSync(file('rsa.bad'), Buffer.from(readFileSync(file('rsa.sig'))).map((b, i) => (i === 100 ? b ^ 0x10 : b)));
  const bad = await runEnv(f, OPENSSL, ['dgst', '-sha384', '-verify', pem, '-signature', file('rsa.bad'), file('msg')]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stdout, /Verification failure/);

  writeFileSync(file('h384'), createHash('sha384').update(MSG).digest());
  const pss = await p11user(f, '--sign', '-m', 'RSA-PKCS-PSS', '--hash-algorithm', 'SHA384', '--mgf', 'MGF1-SHA384', '--salt-len', '48', '--id', '31', '-i', file('h384'), '-o', file('pss.sig'));
  assert.equal(pss.code, 0, pss.stderr);
  const vp = await runEnv(f, OPENSSL, ['pkeyutl', '-verify', '-pubin', '-inkey', pem, '-in', file('h384'), '-sigfile', file('pss.sig'), '-pkeyopt', 'rsa_padding_mode:pss', '-pkeyopt', 'rsa_pss_saltlen:48', '-pkeyopt', 'digest:sha384']);
  assert.match(vp.stdout, /Signature Verified Successfully/, vp.stderr);
  const own = await p11user(f, '--verify', '-m', 'SHA384-RSA-PKCS', '--id', '31', '-i', file('msg'), '--signature-file', file('rsa.sig'));
  assert.match(own.stdout, /Signature is valid/, own.stderr);
});

test('pkcs11-tool: EC P-384 key pair, CKM_ECDSA over a SHA-384 digest in DER form that openssl verifies', async (t) => {
  if (!haveTools(t)) return;
  const gen = await p11user(f, '--keypairgen', '--key-type', 'EC:secp384r1', '--label', 'ec384', '--id', '32', '--usage-sign');
  assert.equal(gen.code, 0, gen.stderr);
  assert.match(gen.stdout, /EC_PARAMS:\s+06052b81040022/);
  writeFileSync(file('msg'), MSG);
  writeFileSync(file('h384'), createHash('sha384').update(MSG).digest());
  // pkcs11-tool 0.23 cannot export a P-384 public key ("cannot create EVP_PKEY", against SoftHSM2
  // directly too), so the SPKI is built from the EC_POINT it printed: RFC 5480 prefix + point.
  const point = /EC_POINT:\s+0461(04[0-9a-f]{192})\n/.exec(gen.stdout)?.[1];
  assert.ok(point, gen.stdout);
  const spki = Buffer.from(`3076301006072a8648ce3d020106052b81040022036200${point}`, 'hex');
  const pem = file('pub-32.pem');
  writeFileSync(pem, createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }));
  const sig = await p11user(f, '--sign', '-m', 'ECDSA', '--id', '32', '-i', file('h384'), '-o', file('ec.sig'), '--signature-format', 'openssl');
  assert.equal(sig.code, 0, sig.stderr);
  const v = await runEnv(f, OPENSSL, ['dgst', '-sha384', '-verify', pem, '-signature', file('ec.sig'), file('msg')]);
  assert.match(v.stdout, /Verified OK/, v.stderr);
  writeFileSync(file('msg2'), `${MSG}!`);
  const other = await runEnv(f, OPENSSL, ['dgst', '-sha384', '-verify', pem, '-signature', file('ec.sig'), file('msg2')]);
  assert.match(other.stdout, /Verification failure/);
});

test('pkcs11-tool --test --allow-sw --session-rw: random, digests, RSA signatures, verification and OAEP decryption all pass ("No errors")', async (t) => {
  if (!haveTools(t)) return;
  // One key of each use, so every part of the self-test has something to run on.
  for (const g of [
    ['--keypairgen', '--key-type', 'rsa:2048', '--label', 'st-sign', '--id', '41', '--usage-sign'],
    ['--keypairgen', '--key-type', 'rsa:2048', '--label', 'st-dec', '--id', '42', '--usage-decrypt'],
    ['--keypairgen', '--key-type', 'EC:prime256v1', '--label', 'st-ec', '--id', '43', '--usage-sign'],
    ['--keygen', '--key-type', 'AES:32', '--label', 'st-aes', '--id', '44'],
  ]) {
    const r = await p11user(f, ...g);
    assert.equal(r.code, 0, `${g.join(' ')}: ${r.stderr}`);
  }
  // --allow-sw: Coffer does not claim CKF_HW (its mechanisms run in software), and without it
  // pkcs11-tool skips its signature tests ("Signatures: not implemented"), which proves nothing.
  const r = await p11user(f, '--test', '--allow-sw', '--session-rw');
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /No errors/);
  assert.match(r.stdout, /C_SeedRandom\(\) and C_GenerateRandom\(\):[\s\S]*seems to be OK/);
  assert.match(r.stdout, /all 4 digest functions seem to work/);
  assert.match(r.stdout, /all 4 signature functions seem to work/);
  assert.match(r.stdout, /SHA256-RSA-PKCS: OK/);
  assert.match(r.stdout, /testing key \d \(st-dec\)\n\s+RSA-PKCS-OAEP[^\n]*\nOK/);
  assert.doesNotMatch(r.stdout.replace(/^No errors$/m, ''), /error|fail/i);

  const plain = await p11user(f, '--test');
  assert.equal(plain.code, 0, `${plain.stdout}\n${plain.stderr}`);
  assert.match(plain.stdout, /No errors/);
});

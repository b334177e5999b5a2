// Real clients: OpenSC pkcs11-tool loading the stock p11-kit-client.so (p11-kit 0.24.1,
// protocol 0) against Coffer's socket, as an application would (STYLE §11). Signatures are
// checked with openssl, never with Coffer. Under CI a missing tool fails the run.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { slotFor } from '../../src/frontends/pkcs11/slots.js';
import { P11_KIT_CLIENT, type P11Fixture, p11Fixture, requireTool, run, USER_PIN } from './p11-fixture.js';

const PKCS11_TOOL = '/usr/bin/pkcs11-tool';
const OPENSSL = '/usr/bin/openssl';
let f: P11Fixture;
const tool = (...args: string[]) => run(f, PKCS11_TOOL, ['--module', P11_KIT_CLIENT, ...args]);
const user = (...args: string[]) => tool('--login', '--pin', USER_PIN, ...args);
const file = (name: string): string => join(f.dir, name);

before(async () => {
  f = await p11Fixture();
});
after(async () => {
  await f.close();
});

function haveTools(t: { skip: (why: string) => void }): boolean {
  return requireTool(P11_KIT_CLIENT, 'p11-kit-modules', t.skip.bind(t)) && requireTool(PKCS11_TOOL, 'opensc', t.skip.bind(t)) && requireTool(OPENSSL, 'openssl', t.skip.bind(t));
}

test('pkcs11-tool -I, -L and -M see Coffer, the p1 slot with its stable id, and the mechanisms p11-kit 0.24 forwards', async (t) => {
  if (!haveTools(t)) return;
  const info = await tool('-I');
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /Manufacturer\s+Coffer/);
  const list = await tool('-L');
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`\\(0x${slotFor('p1').id.toString(16)}\\)`));
  assert.match(list.stdout, /token label\s+: p1\n/);
  assert.match(list.stdout, /login required, rng, token initialized, PIN initialized/);
  const mechs = await tool('-M');
  assert.equal(mechs.code, 0, mechs.stderr);
  for (const m of ['RSA-PKCS-KEY-PAIR-GEN', 'ECDSA-KEY-PAIR-GEN', 'AES-KEY-GEN', 'SHA256-RSA-PKCS', 'RSA-PKCS-PSS', 'RSA-PKCS-OAEP', 'SHA256-HMAC', 'SHA256, digest']) assert.ok(mechs.stdout.includes(m), `-M lists ${m}`);
});

test('pkcs11-tool: wrong PIN is CKR_PIN_INCORRECT; without login -O shows nothing', async (t) => {
  if (!haveTools(t)) return;
  const bad = await tool('--login', '--pin', 'alice:wrong', '-O');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /CKR_PIN_INCORRECT/);
  const anon = await tool('-O');
  assert.equal(anon.code, 0, anon.stderr);
  assert.doesNotMatch(anon.stdout, /Object/);
});

test('pkcs11-tool: generate RSA-2048, EC P-256 and AES-256 keys, list them, sign (PKCS#1, PSS) and OAEP-decrypt, checked by openssl', async (t) => {
  if (!haveTools(t)) return;
  const gen = [
    ['--keypairgen', '--key-type', 'rsa:2048', '--label', 'r1', '--id', '02', '--usage-sign'],
    ['--keypairgen', '--key-type', 'EC:prime256v1', '--label', 'k1', '--id', '01', '--usage-sign'],
    ['--keypairgen', '--key-type', 'rsa:2048', '--label', 'o1', '--id', '04', '--usage-decrypt'],
    ['--keygen', '--key-type', 'AES:32', '--label', 'a1', '--id', '03'],
  ];
  for (const g of gen) {
    const r = await user(...g);
    assert.equal(r.code, 0, `${g.join(' ')}: ${r.stderr}`);
  }
  const objs = await user('-O');
  assert.equal(objs.code, 0, objs.stderr);
  assert.equal((objs.stdout.match(/^(Private|Public|Secret) Key Object/gm) ?? []).length, 7, objs.stdout);
  assert.match(objs.stdout, /EC_PARAMS:\s+06082a8648ce3d030107/);
  assert.match(objs.stdout, /Unique ID:\s+[0-9a-f]{32}/);

  const data = file('d32');
  writeFileSync(data, 'hello world, this is 32 bytes!!!');
  const digest = file('h');
  writeFileSync(digest, createHash('sha256').update('hello world, this is 32 bytes!!!').digest());
  const pub = await user('--read-object', '--type', 'pubkey', '--id', '02', '-o', file('pub.der'));
  assert.equal(pub.code, 0, pub.stderr);
  const pem = await run(f, OPENSSL, ['rsa', '-pubin', '-inform', 'DER', '-in', file('pub.der'), '-out', file('pub.pem')]);
  assert.equal(pem.code, 0, pem.stderr);

  const sig = await user('--sign', '-m', 'SHA256-RSA-PKCS', '--id', '02', '-i', data, '-o', file('rsa.sig'));
  assert.equal(sig.code, 0, sig.stderr);
  const v1 = await run(f, OPENSSL, ['dgst', '-sha256', '-verify', file('pub.pem'), '-signature', file('rsa.sig'), data]);
  assert.match(v1.stdout, /Verified OK/, v1.stderr);
  const v2 = await user('--verify', '-m', 'SHA256-RSA-PKCS', '--id', '02', '-i', data, '--signature-file', file('rsa.sig'));
  assert.match(v2.stdout, /Signature is valid/, v2.stderr);
  writeFileSync(file('bad.sig'), Buffer.from(readFileSync(file('rsa.sig'))).map((b, i) => (i === 5 ? b ^ 1 : b)));
  const v3 = await user('--verify', '-m', 'SHA256-RSA-PKCS', '--id', '02', '-i', data, '--signature-file', file('bad.sig'));
  assert.doesNotMatch(v3.stdout, /Signature is valid/);

  const pss = await user('--sign', '-m', 'RSA-PKCS-PSS', '--hash-algorithm', 'SHA256', '--mgf', 'MGF1-SHA256', '--salt-len', '32', '--id', '02', '-i', digest, '-o', file('pss.sig'));
  assert.equal(pss.code, 0, pss.stderr);
  const v4 = await run(f, OPENSSL, ['pkeyutl', '-verify', '-pubin', '-inkey', file('pub.pem'), '-in', digest, '-sigfile', file('pss.sig'), '-pkeyopt', 'rsa_padding_mode:pss', '-pkeyopt', 'rsa_pss_saltlen:32', '-pkeyopt', 'digest:sha256']);
  assert.match(v4.stdout, /Signature Verified Successfully/, v4.stderr);

  const opub = await user('--read-object', '--type', 'pubkey', '--id', '04', '-o', file('opub.der'));
  assert.equal(opub.code, 0, opub.stderr);
  await run(f, OPENSSL, ['rsa', '-pubin', '-inform', 'DER', '-in', file('opub.der'), '-out', file('opub.pem')]);
  for (const md of ['sha1', 'sha256']) {
    const enc = await run(f, OPENSSL, ['pkeyutl', '-encrypt', '-pubin', '-inkey', file('opub.pem'), '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${md}`, '-pkeyopt', `rsa_mgf1_md:${md}`, '-in', data, '-out', file('oaep.bin')]);
    assert.equal(enc.code, 0, enc.stderr);
    const name = md === 'sha1' ? 'SHA-1' : 'SHA256';
    const dec = await user('--decrypt', '-m', 'RSA-PKCS-OAEP', '--hash-algorithm', name, '--mgf', `MGF1-${name.replace('SHA-1', 'SHA1')}`, '--id', '04', '-i', file('oaep.bin'));
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(dec.stdout, 'hello world, this is 32 bytes!!!', `OAEP ${md}`);
  }

  // Key separation holds through PKCS#11: the sign-only RSA key does not decrypt.
  const sep = await user('--decrypt', '-m', 'RSA-PKCS-OAEP', '--hash-algorithm', 'SHA256', '--mgf', 'MGF1-SHA256', '--id', '02', '-i', file('oaep.bin'));
  assert.notEqual(sep.code, 0);
  assert.match(sep.stderr, /CKR_KEY_FUNCTION_NOT_PERMITTED/);
  // CKM_ECDSA (sign a caller's digest) with pkcs11-tool and openssl: test/pkcs11/ecdsa-prehashed.test.ts.
});

test('pkcs11-tool: random bytes and a SHA-256 digest without login', async (t) => {
  if (!haveTools(t)) return;
  const rnd = await run(f, PKCS11_TOOL, ['--module', P11_KIT_CLIENT, '--generate-random', '32', '-o', file('rnd')]);
  assert.equal(rnd.code, 0, rnd.stderr);
  assert.equal(readFileSync(file('rnd')).length, 32);
  writeFileSync(file('msg'), 'abc');
  const h = await tool('--hash', '-m', 'SHA256', '-i', file('msg'), '-o', file('msg.h'));
  assert.equal(h.code, 0, h.stderr);
  assert.equal(readFileSync(file('msg.h')).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

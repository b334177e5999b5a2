// Real client: GnuTLS p11tool (--provider p11-kit-client.so) against Coffer — tokens, objects,
// ECDSA key generation, --test-sign with RSA, RSA-PSS and ECDSA. p11tool's RSA generation asks
// for a key that both encrypts and verifies, which Coffer's key separation refuses: asserted
// exactly, through OpenSC's pkcs11-spy, as a refusal of the template and nothing else.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { slotFor } from '../../src/frontends/pkcs11/slots.js';
import { p11user, PKCS11_SPY, PKCS11_TOOL, runEnv } from './client-support.js';
import { P11_KIT_CLIENT, type P11Fixture, p11Fixture, requireTool, USER_PIN } from './p11-fixture.js';

const P11TOOL = '/usr/bin/p11tool';
const TOKEN = 'pkcs11:token=p1';
let f: P11Fixture;

before(async () => {
  f = await p11Fixture();
});
after(async () => {
  await f.close();
});

function haveTools(t: { skip: (why: string) => void }): boolean {
  const s = t.skip.bind(t);
  return requireTool(P11_KIT_CLIENT, 'p11-kit-modules', s) && requireTool(P11TOOL, 'gnutls-bin', s) && requireTool(PKCS11_TOOL, 'opensc', s) && requireTool(PKCS11_SPY, 'opensc', s);
}

/** p11tool with the PIN from GNUTLS_PIN (as an application would set it) and stdin closed, so it never waits on a prompt. */
const p11tool = (...args: string[]) => runEnv(f, P11TOOL, ['--provider', P11_KIT_CLIENT, ...args], { GNUTLS_PIN: USER_PIN }, '');

test('p11tool --list-tokens shows the p1 token with Coffer as manufacturer and its stable serial', async (t) => {
  if (!haveTools(t)) return;
  const r = await p11tool('--list-tokens');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`URL: pkcs11:model=Coffer;manufacturer=Coffer;serial=${slotFor('p1').serial};token=p1`));
  assert.match(r.stdout, /Flags: RNG, Requires login/);
});

test('p11tool: --generate-privkey ecdsa (P-256 and P-384), --list-all sees them, --test-sign signs and verifies with RSA, RSA-PSS and ECDSA', async (t) => {
  if (!haveTools(t)) return;
  for (const [curve, label] of [
    ['secp256r1', 'gt-ec256'],
    ['secp384r1', 'gt-ec384'],
  ] as const) {
    const g = await p11tool('--login', '--generate-privkey', 'ecdsa', '--curve', curve, '--label', label, TOKEN);
    assert.equal(g.code, 0, g.stderr);
    assert.match(g.stdout, /-----BEGIN PUBLIC KEY-----/);
  }
  const rsa = await p11user(f, '--keypairgen', '--key-type', 'rsa:2048', '--label', 'rsa-s', '--id', '51', '--usage-sign');
  assert.equal(rsa.code, 0, rsa.stderr);

  // Without a login Coffer shows nothing at all (docs/pkcs11.md, PINs and roles).
  const anon = await p11tool('--list-all', TOKEN);
  assert.match(anon.stderr, /No matching objects found/);
  assert.doesNotMatch(anon.stdout, /type=/);
  const all = await p11tool('--login', '--list-all', TOKEN);
  assert.equal(all.code, 0, all.stderr);
  for (const [label, type] of [
    ['gt-ec256', 'private'],
    ['gt-ec256', 'public'],
    ['gt-ec384', 'private'],
    ['rsa-s', 'private'],
    ['rsa-s', 'public'],
  ]) assert.match(all.stdout, new RegExp(`token=p1;(id=[0-9A-Fa-f%]+;)?object=${label};type=${type}`), `${label} ${type}`);
  assert.match(all.stdout, /Type: Private key \(RSA-2048\)/);
  assert.match(all.stdout, /Flags: CKA_PRIVATE; CKA_NEVER_EXTRACTABLE; CKA_SENSITIVE;/);

  for (const [uri, extra, algo] of [
    [`${TOKEN};object=rsa-s;type=private`, [], 'RSA-SHA256'],
    [`${TOKEN};object=rsa-s;type=private`, ['--sign-params', 'rsa-pss'], 'RSA-PSS-SHA256'],
    [`${TOKEN};object=gt-ec256;type=private`, [], 'ECDSA-SHA256'],
    [`${TOKEN};object=gt-ec384;type=private`, [], 'ECDSA-SHA256'],
  ] as const) {
    const r = await p11tool('--login', ...extra, '--test-sign', uri);
    assert.equal(r.code, 0, `${uri}: ${r.stdout}${r.stderr}`);
    const out = r.stdout + r.stderr;
    assert.match(out, new RegExp(`Signing using ${algo}\\.\\.\\. ok`), uri);
    assert.match(out, /Verifying against private key parameters\.\.\. ok/);
    assert.match(out, /Verifying against public key in the token\.\.\. ok/);
  }
});

test('p11tool --generate-privkey rsa: GnuTLS 3.7 always asks for CKA_ENCRYPT and CKA_VERIFY on the public key, and Coffer refuses that template (CKR_TEMPLATE_INCONSISTENT), even with --mark-sign', async (t) => {
  if (!haveTools(t)) return;
  const spyLog = join(f.dir, 'spy.log');
  const r = await runEnv(f, P11TOOL, ['--provider', PKCS11_SPY, '--login', '--generate-privkey', 'rsa', '--bits', '2048', '--mark-sign', '--label', 'gt-rsa', TOKEN], { GNUTLS_PIN: USER_PIN, PKCS11SPY: P11_KIT_CLIENT, PKCS11SPY_OUTPUT: spyLog }, '');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /PKCS #11 error/);
  const log = readFileSync(spyLog, 'utf8');
  const call = log.slice(log.indexOf('C_GenerateKeyPair'));
  const pub = call.slice(call.indexOf('pPublicKeyTemplate'), call.indexOf('pPrivateKeyTemplate'));
  const priv = call.slice(call.indexOf('pPrivateKeyTemplate'), call.indexOf('Returned:'));
  assert.match(pub, /CKA_ENCRYPT\s+True/);
  assert.match(pub, /CKA_VERIFY\s+True/);
  assert.match(priv, /CKA_DECRYPT\s+False/);
  assert.match(priv, /CKA_SIGN\s+True/);
  assert.match(call, /Returned:\s+209 CKR_TEMPLATE_INCONSISTENT/);
  // Nothing was made.
  const all = await p11tool('--login', '--list-all', TOKEN);
  assert.doesNotMatch(all.stdout, /gt-rsa/);
});

// Real client: osslsigncode signing a PE file (built by the test, pe-file.ts) with libp11's
// engine and the code-signing key in Coffer (-pkcs11engine/-pkcs11module, clients.md §4.5);
// `osslsigncode verify` accepts it against the root, and refuses it once a byte is changed.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { haveEngineTools, issueChain, runEnv, writeEngineConf } from './client-support.js';
import { P11_KIT_CLIENT, p11Fixture, type P11Fixture, USER_PIN } from './p11-fixture.js';
import { minimalPe32 } from './pe-file.js';

const OSSLSIGNCODE = '/usr/bin/osslsigncode';
let f: P11Fixture;
const file = (name: string): string => join(f.dir, name);

before(async () => {
  f = await p11Fixture();
});
after(async () => {
  await f.close();
});

const haveTools = (t: { skip: (why: string) => void }): boolean => haveEngineTools(t, [OSSLSIGNCODE, 'osslsigncode']);

test('osslsigncode signs a PE32 file with an RSA key in Coffer; verify accepts it against the root and refuses it after one byte of code changes', async (t) => {
  if (!haveTools(t)) return;
  // The engine config is only for making the chain; osslsigncode loads the engine itself and
  // fails ("dynamic_load: init failed") if OPENSSL_CONF loads it too (clients.md §4.5).
  const chain = await issueChain(f, writeEngineConf(f), { keyType: 'EC:secp384r1', label: 'cs-root', id: 'c1' }, { keyType: 'rsa:2048', label: 'code-signing', id: 'c2' });
  writeFileSync(file('app.exe'), minimalPe32());
  const sign = await runEnv(f, OSSLSIGNCODE, [
    'sign',
    // No -pkcs11engine: osslsigncode then loads libp11's engine by its id "pkcs11" from OpenSSL's
    // engines directory. Debian 12's osslsigncode 2.5 cannot load it by path ("bad engine id").
    '-pkcs11module',
    P11_KIT_CLIENT,
    '-key',
    'pkcs11:token=p1;object=code-signing;type=private',
    '-pass',
    USER_PIN,
    '-certs',
    chain.leaf,
    '-h',
    'sha256',
    '-n',
    'Coffer test',
    '-in',
    file('app.exe'),
    '-out',
    file('signed.exe'),
  ]);
  assert.equal(sign.code, 0, `${sign.stdout}${sign.stderr}`);
  assert.match(sign.stdout, /Succeeded/);
  assert.ok(readFileSync(file('signed.exe')).length > readFileSync(file('app.exe')).length);

  const verify = await runEnv(f, OSSLSIGNCODE, ['verify', '-CAfile', chain.root, '-in', file('signed.exe')]);
  assert.equal(verify.code, 0, `${verify.stdout}${verify.stderr}`);
  assert.match(verify.stdout, /(Subject|Issuer) *: \/CN=Coffer Test Root CA/); // 2.5 prints the root as the issuer, 2.9 as a subject
  assert.match(verify.stdout, /Signature verification: ok/);

  // Change the `ret` of the code section (file offset 0x202): the digest no longer matches.
  const tampered = Buffer.from(readFileSync(file('signed.exe')));
  tampered[0x202] = 0x90;
  writeFileSync(file('tampered.exe'), tampered);
  const bad = await runEnv(f, OSSLSIGNCODE, ['verify', '-CAfile', chain.root, '-in', file('tampered.exe')]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stdout + bad.stderr, /MISMATCH|failed/);
});

// Real client: OpenSSL 3 with libp11's pkcs11 engine loading p11-kit-client.so. A root CA made
// by `openssl req -x509` with its key in Coffer, a leaf signed by it, `openssl verify`; CMS
// signing and verification; `s_server` with its key in Coffer completing TLS 1.3 against
// `s_client -verify_return_error`. Keys are generated in Coffer by pkcs11-tool.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { background, type Chain, freePort, haveEngineTools, issueChain, OPENSSL, p11user, runEnv, writeEngineConf } from './client-support.js';
import { p11Fixture, type P11Fixture } from './p11-fixture.js';

let f: P11Fixture;
let conf: string;
const file = (name: string): string => join(f.dir, name);
const key = (label: string) => `pkcs11:token=p1;object=${label};type=private`;
const ossl = (...args: string[]) => runEnv(f, OPENSSL, args, { OPENSSL_CONF: conf });

before(async () => {
  f = await p11Fixture();
  conf = writeEngineConf(f);
});
after(async () => {
  await f.close();
});

const haveTools = (t: { skip: (why: string) => void }): boolean => haveEngineTools(t);

let made: Chain | undefined;
/** Root CA (RSA-3072 in Coffer) and a leaf for localhost (EC P-256 in Coffer), made once. */
async function chain(): Promise<Chain> {
  made ??= await issueChain(f, conf, { keyType: 'rsa:3072', label: 'root', id: 'a1' }, { keyType: 'EC:prime256v1', label: 'leaf', id: 'a2' });
  return made;
}

test('openssl req -x509 with the CA key in Coffer, x509 -req signing a leaf with it, openssl verify accepts the chain', async (t) => {
  if (!haveTools(t)) return;
  await chain();
  const text = await runEnv(f, OPENSSL, ['x509', '-in', file('root.pem'), '-noout', '-text']);
  assert.match(text.stdout, /Subject: CN = Coffer Test Root CA/);
  assert.match(text.stdout, /Public-Key: \(3072 bit\)/);
  assert.match(text.stdout, /CA:TRUE/);
  // The certificate's key is the key in Coffer: same SPKI as the public key object.
  const pub = await p11user(f, '--read-object', '--type', 'pubkey', '--label', 'root', '-o', file('root-pub.der'));
  assert.equal(pub.code, 0, pub.stderr);
  const certSpki = await runEnv(f, OPENSSL, ['x509', '-in', file('root.pem'), '-noout', '-pubkey']);
  const tokenSpki = await runEnv(f, OPENSSL, ['pkey', '-pubin', '-inform', 'DER', '-in', file('root-pub.der')]);
  assert.equal(certSpki.stdout, tokenSpki.stdout);

  const v = await runEnv(f, OPENSSL, ['verify', '-CAfile', file('root.pem'), file('leaf.pem')]);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /leaf\.pem: OK/);
  // A root that did not sign the leaf does not verify it.
  const other = await runEnv(f, OPENSSL, ['req', '-new', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('other.key'), '-subj', '/CN=Coffer Test Root CA', '-out', file('other.pem')], { OPENSSL_CONF: '/dev/null' });
  assert.equal(other.code, 0, other.stderr);
  const nv = await runEnv(f, OPENSSL, ['verify', '-CAfile', file('other.pem'), file('leaf.pem')]);
  assert.notEqual(nv.code, 0);
});

test('openssl cms -sign with the leaf key in Coffer; cms -verify against the root succeeds, and fails on altered content', async (t) => {
  if (!haveTools(t)) return;
  await chain();
  writeFileSync(file('doc.txt'), 'a contract worth signing\n');
  const s = await ossl('cms', '-sign', '-binary', '-nodetach', '-md', 'sha256', '-engine', 'pkcs11', '-keyform', 'engine', '-inkey', key('leaf'), '-signer', file('leaf.pem'), '-in', file('doc.txt'), '-outform', 'DER', '-out', file('doc.p7s'));
  assert.equal(s.code, 0, s.stderr);
  const v = await runEnv(f, OPENSSL, ['cms', '-verify', '-binary', '-inform', 'DER', '-in', file('doc.p7s'), '-CAfile', file('root.pem'), '-purpose', 'any', '-out', file('doc.out')]);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stderr, /CMS Verification successful/);
  assert.equal(readFileSync(file('doc.out'), 'utf8'), 'a contract worth signing\n');

  // Detached signature over the document; verifying it against other content fails.
  const d = await ossl('cms', '-sign', '-binary', '-md', 'sha256', '-engine', 'pkcs11', '-keyform', 'engine', '-inkey', key('leaf'), '-signer', file('leaf.pem'), '-in', file('doc.txt'), '-outform', 'DER', '-out', file('doc.sig'));
  assert.equal(d.code, 0, d.stderr);
  writeFileSync(file('forged.txt'), 'a contract worth forging\n');
  const bad = await runEnv(f, OPENSSL, ['cms', '-verify', '-binary', '-inform', 'DER', '-in', file('doc.sig'), '-content', file('forged.txt'), '-CAfile', file('root.pem'), '-purpose', 'any', '-out', '/dev/null']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /Verification failure/);
});

for (const [label, cert, peerSig] of [
  ['leaf', 'leaf.pem', 'ECDSA'],
  ['root', 'root.pem', 'RSA-PSS'],
] as const) {
  test(`openssl s_server with its ${peerSig} key in Coffer: s_client completes a TLS 1.3 handshake that verifies against the root`, async (t) => {
    if (!haveTools(t)) return;
    await chain();
    const port = await freePort();
    // ECDSA goes through CKM_ECDSA, RSA in TLS 1.3 through CKM_RSA_PKCS_PSS: both are on p11-kit 0.24's forwarding list.
    const server = background(f, OPENSSL, ['s_server', '-engine', 'pkcs11', '-keyform', 'engine', '-key', key(label), '-cert', file(cert), '-accept', `127.0.0.1:${port}`, '-www', '-naccept', '1'], { OPENSSL_CONF: conf });
    try {
      await server.waitFor(/ACCEPT/);
      // The RSA server presents the (self-signed) root itself, which names no host.
      const host = label === 'leaf' ? ['-verify_hostname', 'localhost'] : [];
      const c = await runEnv(f, OPENSSL, ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-tls1_3', '-CAfile', file('root.pem'), '-verify_return_error', ...host, '-ign_eof'], { OPENSSL_CONF: '/dev/null' }, 'GET / HTTP/1.0\r\n\r\n');
      assert.equal(c.code, 0, `${c.stdout}\n${c.stderr}\n${server.output()}`);
      assert.match(c.stdout, /New, TLSv1\.3, Cipher is TLS_AES_/);
      assert.match(c.stdout, new RegExp(`Peer signature type: ${peerSig}\n`));
      assert.match(c.stdout, /Verify return code: 0 \(ok\)/);
      assert.match(c.stdout, /HTTP\/1\.0 200 ok/);
    } finally {
      await server.stop();
    }
  });
}

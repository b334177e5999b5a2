// Real client: Java 17's SunPKCS11 provider loading p11-kit-client.so. A tiny program compiled
// here by javac lists the PKCS#11 KeyStore and signs with keys made in Coffer by pkcs11-tool
// (SHA256withRSA, SHA256withECDSA), each signature verified in software with the certificate's key;
// keytool lists the key and jarsigner signs a jar with it.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { haveEngineTools, issueChain, OPENSSL, p11user, runEnv, writeEngineConf } from './client-support.js';
import { P11_KIT_CLIENT, p11Fixture, type P11Fixture, USER_PIN } from './p11-fixture.js';

const JAVA = '/usr/bin/java';
const JAVAC = '/usr/bin/javac';
const KEYTOOL = '/usr/bin/keytool';
const JARSIGNER = '/usr/bin/jarsigner';
const JAR = '/usr/bin/jar';
let f: P11Fixture;
const file = (name: string): string => join(f.dir, name);

before(async () => {
  f = await p11Fixture();
});
after(async () => {
  await f.close();
});

const haveTools = (t: { skip: (why: string) => void }): boolean => haveEngineTools(t, [JAVAC, 'openjdk-17-jdk-headless']);

/** args: config, PIN, then (alias, algorithm) pairs to sign with. Verification uses the default (software) providers. */
const PROGRAM = `
import java.nio.charset.StandardCharsets;
import java.security.*;
import java.util.Collections;

public class CofferP11 {
  public static void main(String[] a) throws Exception {
    Provider p = Security.getProvider("SunPKCS11").configure(a[0]);
    KeyStore ks = KeyStore.getInstance("PKCS11", p);
    ks.load(null, a[1].toCharArray());
    for (String alias : Collections.list(ks.aliases())) System.out.println("alias " + alias + " " + (ks.isKeyEntry(alias) ? "key" : "cert"));
    for (int i = 2; i + 1 < a.length; i += 2) {
      String alias = a[i], alg = a[i + 1];
      PrivateKey key = (PrivateKey) ks.getKey(alias, null);
      PublicKey pub = ks.getCertificate(alias).getPublicKey();
      byte[] msg = ("signed in Coffer by " + alias).getBytes(StandardCharsets.UTF_8);
      Signature s = Signature.getInstance(alg, p);
      s.initSign(key);
      s.update(msg);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(pub);
      v.update(msg);
      boolean ok = v.verify(sig);
      msg[0] ^= 1;
      v.initVerify(pub);
      v.update(msg);
      boolean altered = v.verify(sig);
      System.out.println("sign " + alias + " " + alg + " by " + s.getProvider().getName() + " verified=" + ok + " altered=" + altered);
    }
  }
}
`;

test('Java 17 SunPKCS11: the KeyStore lists keys made in Coffer (with their certificates), signs SHA256withRSA and SHA256withECDSA, and software verifies; keytool -list and jarsigner work', async (t) => {
  if (!haveTools(t)) return;
  const chain = await issueChain(f, writeEngineConf(f), { keyType: 'rsa:2048', label: 'java-rsa', id: 'd1' }, { keyType: 'EC:prime256v1', label: 'java-ec', id: 'd2' });
  // SunPKCS11 shows a private key as a KeyStore entry once a certificate with its CKA_ID is in the token.
  for (const [pem, id, label] of [
    [chain.root, 'd1', 'java-rsa'],
    [chain.leaf, 'd2', 'java-ec'],
  ] as const) {
    const der = file(`${label}.der`);
    const c = await runEnv(f, OPENSSL, ['x509', '-in', pem, '-outform', 'DER', '-out', der]);
    assert.equal(c.code, 0, c.stderr);
    const w = await p11user(f, '--write-object', der, '--type', 'cert', '--id', id, '--label', label);
    assert.equal(w.code, 0, w.stderr);
  }
  writeFileSync(file('CofferP11.java'), PROGRAM);
  const javac = await runEnv(f, JAVAC, ['-d', f.dir, file('CofferP11.java')]);
  assert.equal(javac.code, 0, javac.stderr);
  writeFileSync(file('coffer.cfg'), `name = coffer\nlibrary = ${P11_KIT_CLIENT}\nslotListIndex = 0\n`);
  const r = await runEnv(f, JAVA, ['-cp', f.dir, 'CofferP11', file('coffer.cfg'), USER_PIN, 'java-rsa', 'SHA256withRSA', 'java-ec', 'SHA256withECDSA']);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^alias java-rsa key$/m);
  assert.match(r.stdout, /^alias java-ec key$/m);
  assert.match(r.stdout, /^sign java-rsa SHA256withRSA by SunPKCS11-coffer verified=true altered=false$/m);
  assert.match(r.stdout, /^sign java-ec SHA256withECDSA by SunPKCS11-coffer verified=true altered=false$/m);

  // keytool and jarsigner with the same configuration (-keystore NONE -storetype PKCS11).
  const store = ['-keystore', 'NONE', '-storetype', 'PKCS11', '-providerClass', 'sun.security.pkcs11.SunPKCS11', '-providerArg', file('coffer.cfg'), '-storepass', USER_PIN];
  const list = await runEnv(f, KEYTOOL, ['-list', ...store]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^java-ec, PrivateKeyEntry,/m);
  writeFileSync(file('hello.txt'), 'hello from a signed jar\n');
  const jar = await runEnv(f, JAR, ['cf', file('app.jar'), '-C', f.dir, 'hello.txt']);
  assert.equal(jar.code, 0, jar.stderr);
  const signed = await runEnv(f, JARSIGNER, [...store, '-signedjar', file('app-signed.jar'), file('app.jar'), 'java-ec']);
  assert.equal(signed.code, 0, `${signed.stdout}${signed.stderr}`);
  assert.match(signed.stdout, /jar signed\./);
  const verified = await runEnv(f, JARSIGNER, ['-verify', file('app-signed.jar')]);
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /jar verified\./);
  const unsigned = await runEnv(f, JARSIGNER, ['-verify', file('app.jar')]);
  assert.match(unsigned.stdout, /jar is unsigned/);

  // A wrong PIN is refused by the token, not by Java.
  const bad = await runEnv(f, JAVA, ['-cp', f.dir, 'CofferP11', file('coffer.cfg'), 'alice:wrong']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /CKR_PIN_INCORRECT/);
});

// Real client: OpenSSH's ssh-agent with `ssh-add -s p11-kit-client.so` (PIN through SSH_ASKPASS):
// the agent lists the key made in Coffer, and `ssh-keygen -Y sign` through the agent makes a
// signature that `ssh-keygen -Y verify` accepts. `ssh-keygen -D` fails: it never logs in.

import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { background, OPENSSL, p11user, PKCS11_TOOL, runEnv } from './client-support.js';
import { P11_KIT_CLIENT, type P11Fixture, p11Fixture, requireTool, USER_PIN } from './p11-fixture.js';

const SSH_AGENT = '/usr/bin/ssh-agent';
const SSH_ADD = '/usr/bin/ssh-add';
const SSH_KEYGEN = '/usr/bin/ssh-keygen';
let f: P11Fixture;
const file = (name: string): string => join(f.dir, name);

before(async () => {
  f = await p11Fixture();
});
after(async () => {
  await f.close();
});

function haveTools(t: { skip: (why: string) => void }): boolean {
  const s = t.skip.bind(t);
  return requireTool(P11_KIT_CLIENT, 'p11-kit-modules', s) && requireTool(PKCS11_TOOL, 'opensc', s) && requireTool(OPENSSL, 'openssl', s) && requireTool(SSH_AGENT, 'openssh-client', s);
}

test('ssh-agent holds an EC key from Coffer (ssh-add -s): it is listed, and ssh-keygen -Y sign through the agent verifies', async (t) => {
  if (!haveTools(t)) return;
  const gen = await p11user(f, '--keypairgen', '--key-type', 'EC:prime256v1', '--label', 'ssh-ec', '--id', '5a', '--usage-sign');
  assert.equal(gen.code, 0, gen.stderr);
  // The same key as OpenSSH writes it, from the SPKI pkcs11-tool reads out of Coffer.
  const pub = await p11user(f, '--read-object', '--type', 'pubkey', '--id', '5a', '-o', file('ssh.der'));
  assert.equal(pub.code, 0, pub.stderr);
  const pem = await runEnv(f, OPENSSL, ['pkey', '-pubin', '-inform', 'DER', '-in', file('ssh.der'), '-out', file('ssh.pem')]);
  assert.equal(pem.code, 0, pem.stderr);
  const conv = await runEnv(f, SSH_KEYGEN, ['-i', '-m', 'PKCS8', '-f', file('ssh.pem')]);
  assert.equal(conv.code, 0, conv.stderr);
  const expected = conv.stdout.trim().split(' ').slice(0, 2).join(' ');
  assert.match(expected, /^ecdsa-sha2-nistp256 /);

  const listed = await runEnv(f, SSH_KEYGEN, ['-D', P11_KIT_CLIENT]);
  assert.notEqual(listed.code, 0, 'ssh-keygen -D does not log in, and Coffer shows nothing before a login');

  const askpass = file('askpass.sh');
  writeFileSync(askpass, `#!/bin/sh\nprintf '%s\\n' '${USER_PIN}'\n`);
  chmodSync(askpass, 0o700);
  const sock = file('agent.sock');
  const agent = background(f, SSH_AGENT, ['-D', '-a', sock]);
  try {
    await agent.waitFor(/SSH_AUTH_SOCK/);
    const env = { SSH_AUTH_SOCK: sock, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' };
    const add = await runEnv(f, SSH_ADD, ['-s', P11_KIT_CLIENT], env, '');
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stderr, /Card added/);
    const keys = await runEnv(f, SSH_ADD, ['-L'], env);
    assert.equal(keys.code, 0, keys.stderr);
    assert.ok(keys.stdout.split('\n').some((l) => l.startsWith(expected)), `${keys.stdout} lists ${expected}`);

    writeFileSync(file('ssh.pub'), `${expected}\n`);
    writeFileSync(file('doc.txt'), 'signed through ssh-agent\n');
    const sign = await runEnv(f, SSH_KEYGEN, ['-Y', 'sign', '-f', file('ssh.pub'), '-n', 'file', file('doc.txt')], env);
    assert.equal(sign.code, 0, sign.stderr);
    writeFileSync(file('allowed'), `coffer ${expected}\n`);
    const verify = await runEnv(f, SSH_KEYGEN, ['-Y', 'verify', '-f', file('allowed'), '-I', 'coffer', '-n', 'file', '-s', file('doc.txt.sig')], env, 'signed through ssh-agent\n');
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /Good "file" signature for coffer with ECDSA key/);
    const forged = await runEnv(f, SSH_KEYGEN, ['-Y', 'verify', '-f', file('allowed'), '-I', 'coffer', '-n', 'file', '-s', file('doc.txt.sig')], env, 'forged\n');
    assert.notEqual(forged.code, 0);
  } finally {
    await agent.stop();
  }
});

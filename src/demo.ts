// `npm start` until the server is the default: a short library demo of the boundary API on a
// development store in ./data/dev (the same layout and files as the server's dev mode, whose
// key-file and set-up code it reuses). It prints what happened, never a key, and exits 0.
// Running it again reuses the store, the accounts and the keys (found by alias).

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Hsm, isHsmError } from './boundary/api.js';
import { setUpDev } from './server/dev.js';
import { readOrCreateKeyFile } from './server/key-file.js';

const DATA_DIR = resolve('data', 'dev');
const EC_ALIAS = 'demo/ec-p256';
const AES_ALIAS = 'demo/aes-256';
const MESSAGE = Buffer.from('Coffer demo: keys are generated, stored and used inside one boundary.');

const say = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

function banner(keyFile: string, created: boolean): void {
  say('==================================================================================');
  say(' WARNING: DEVELOPMENT ONLY. The master key of this store is in a plain key file:');
  say(`   ${keyFile}${created ? '   (just created)' : ''}`);
  say(' Anyone who can read that file can unseal every key in the store. This is INSECURE:');
  say(' never keep real keys here.');
  say('==================================================================================');
}

/** Finds a key by alias, or makes it with `create` and gives it the alias. */
async function keyByAlias(hsm: Hsm, session: string, alias: string, create: () => Promise<string>): Promise<{ uid: string; created: boolean }> {
  try {
    return { uid: (await hsm.getAttributes(session, `alias/${alias}`)).uid, created: false };
  } catch (e) {
    if (!isHsmError(e, 'OBJECT_NOT_FOUND')) throw e;
  }
  const uid = await create();
  await hsm.setAliases(session, uid, [alias]);
  return { uid, created: true };
}

async function main(): Promise<void> {
  mkdirSync(DATA_DIR, { recursive: true, mode: 0o700 });
  const keyFile = join(DATA_DIR, 'master.key');
  const { key, created: keyCreated } = readOrCreateKeyFile(keyFile);
  banner(keyFile, keyCreated);
  const hsm = await Hsm.open({ store: { kind: 'sqlite', path: join(DATA_DIR, 'coffer.db') } });
  try {
    if (hsm.status().state === 'error') throw new Error(`the module is in the error state: ${hsm.status().error}`);
    const dev = await setUpDev(hsm, key, DATA_DIR).finally(() => key.destroy());
    const user = dev.credentials.accounts.find((a) => a.role === 'user');
    if (dev.created) {
      say();
      say(`First run: store initialised in ${DATA_DIR}, partition '${dev.credentials.partition}' created.`);
      say(`Accounts (shown once; also in ${dev.credentialsFile}, mode 0600):`);
      for (const a of dev.credentials.accounts) say(`  ${a.role.padEnd(8)} ${a.name.padEnd(8)} password ${a.password}`);
    } else {
      say();
      say(`Reusing the store in ${DATA_DIR}; accounts are in ${dev.credentialsFile}.`);
    }
    const s = dev.userSession;
    say();
    say(`Logged in as '${user?.name}' (role user, partition ${dev.credentials.partition}).`);

    const ec = await keyByAlias(hsm, s, EC_ALIAS, async () => {
      const pair = await hsm.generateKeyPair(s, { privateTemplate: { keyType: 'ec', curve: 'P-256', label: 'demo signing key' }, publicTemplate: { label: 'demo signing key' } });
      return pair.privateKey;
    });
    const aes = await keyByAlias(hsm, s, AES_ALIAS, () => hsm.generateKey(s, { template: { keyType: 'aes', valueLen: 32, label: 'demo data key' } }));
    const ecInfo = await hsm.getAttributes(s, ec.uid);
    const aesInfo = await hsm.getAttributes(s, aes.uid);
    say(`EC P-256 key   alias/${EC_ALIAS}  uid ${ec.uid}  ${ec.created ? 'generated now' : 'reused'}  sensitive=${ecInfo.sensitive} extractable=${ecInfo.extractable}`);
    say(`AES-256 key    alias/${AES_ALIAS}  uid ${aes.uid}  ${aes.created ? 'generated now' : 'reused'}  sensitive=${aesInfo.sensitive} extractable=${aesInfo.extractable}`);
    if (!ecInfo.peer) throw new Error('the EC private key has no public half');

    const { signature } = await hsm.sign(s, { key: ec.uid, mechanism: 'ECDSA-SHA256', data: MESSAGE });
    const good = await hsm.verify(s, { key: ecInfo.peer, mechanism: 'ECDSA-SHA256', data: MESSAGE, signature });
    const forged = await hsm.verify(s, { key: ecInfo.peer, mechanism: 'ECDSA-SHA256', data: Buffer.from('a different message'), signature });
    const spki = await hsm.getPublicKey(s, ecInfo.peer);
    say();
    say(`Signed ${MESSAGE.length} bytes with ECDSA-SHA256: ${signature.length}-byte signature ${Buffer.from(signature).toString('base64')}`);
    say(`Verify (same message): ${good}; verify (other message): ${forged}; public key SPKI ${spki.length} bytes`);

    const enc = await hsm.encrypt(s, { key: aes.uid, mechanism: 'AES-GCM', data: MESSAGE });
    const dec = await hsm.decrypt(s, { key: aes.uid, mechanism: 'AES-GCM', data: enc.data, params: enc.params ?? {}, keyVersion: enc.keyVersion });
    const roundTrip = Buffer.from(dec).equals(MESSAGE);
    say(`Encrypted with AES-GCM (key version ${enc.keyVersion}): ${enc.data.length} bytes of ciphertext and tag`);
    say(`Decrypted: ${roundTrip ? 'matches the plaintext' : 'DOES NOT MATCH'}`);

    const st = hsm.status();
    say();
    say(`Status: state=${st.state}, self-tests passed=${st.selfTests.passed} failed=${st.selfTests.failed.length}, sessions=${st.sessions}, cached keys=${st.cachedKeys}`);
    hsm.logout(s);
    if (!good || forged || !roundTrip) throw new Error('the demo round trips did not hold');
    say('Demo complete.');
  } finally {
    hsm.close();
  }
}

main().catch((e: unknown) => {
  const why = isHsmError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
  process.stderr.write(`demo failed: ${why}\n`);
  if (isHsmError(e, 'PIN_INCORRECT') || isHsmError(e, 'PIN_LOCKED')) process.stderr.write(`hint: the store and ${join(DATA_DIR, 'dev-credentials.json')} disagree; remove ${DATA_DIR} to start afresh\n`);
  process.exitCode = 1;
});

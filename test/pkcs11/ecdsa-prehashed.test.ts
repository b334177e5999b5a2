// CKM_ECDSA (sign a caller's digest, PKCS#11 v3.0 §2.3.6) over the PKCS#11 socket: the raw RPC
// client at protocols 0 and 2 (r‖s signatures checked by OpenSSL, digest-length refusal), and
// pkcs11-tool -m ECDSA through the stock p11-kit-client.so with openssl verifying (STYLE §11).

import assert from 'node:assert/strict';
import { createHash, verify as nodeVerify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CKA, CKR, CKU } from '../../src/frontends/pkcs11/constants.js';
import { slotFor } from '../../src/frontends/pkcs11/slots.js';
import { P11_KIT_CLIENT, type P11Fixture, p11Fixture, requireTool, run, USER_PIN } from './p11-fixture.js';
import { boolAttr, bytesAttr, initialized, type Reply, ulongAttr } from './rpc-client.js';

const SLOT = slotFor('p1').id;
const CKM_EC_KEY_PAIR_GEN = 0x1040;
const CKM_ECDSA = 0x1041;
const CKO_PUBLIC_KEY = 2;
const CKO_PRIVATE_KEY = 3;
const CKK_EC = 3;
/** RFC 5480 §2.1.1.1 namedCurve OIDs as CKA_EC_PARAMS. */
const EC_PARAMS: Record<string, string> = { 'P-256': '06082a8648ce3d030107', 'P-384': '06052b81040022', 'P-521': '06052b81040023' };
/** Protocol 0 sends every mechanism parameter as a byte array; 0xffffffff is "none" (reference §3.4). */
const NO_PARAM_V0 = Buffer.from('ffffffff', 'hex');

let f: P11Fixture;
before(async () => {
  f = await p11Fixture();
});
after(async () => {
  await f.close();
});

function ok(r: Reply, what: string): unknown[] {
  if (!r.ok) assert.fail(`${what}: CKR 0x${r.ckr.toString(16)}`);
  return r.values;
}

const MSG = Buffer.from('a TLS handshake transcript, say');

for (const version of [0, 2]) {
  test(`raw client, protocol ${version}: C_Sign with CKM_ECDSA on P-256/384/521 gives r‖s that OpenSSL verifies; C_Verify agrees; a 10-byte digest is CKR_DATA_LEN_RANGE`, async () => {
    const c = await initialized(f.socket, version);
    const s = ok(await c.call('C_OpenSession', SLOT, 6), 'open')[0] as bigint;
    ok(await c.call('C_Login', s, CKU.USER, Buffer.from(USER_PIN)), 'login');
    const mech = (type: number) => (version === 0 ? { type, param: NO_PARAM_V0 } : { type });
    for (const [curve, hash] of [
      ['P-256', 'sha256'],
      ['P-384', 'sha384'],
      ['P-521', 'sha512'],
      ['P-256', 'sha384'],
    ] as const) {
      const what = `${curve} ${hash}`;
      const pubTpl = [ulongAttr(CKA.CLASS, CKO_PUBLIC_KEY), ulongAttr(CKA.KEY_TYPE, CKK_EC), bytesAttr(0x180, Buffer.from(EC_PARAMS[curve]!, 'hex')), boolAttr(CKA.VERIFY, true), boolAttr(CKA.TOKEN, false)];
      const privTpl = [ulongAttr(CKA.CLASS, CKO_PRIVATE_KEY), ulongAttr(CKA.KEY_TYPE, CKK_EC), boolAttr(CKA.SIGN, true), boolAttr(CKA.TOKEN, false)];
      const [pub, priv] = ok(await c.call('C_GenerateKeyPair', s, mech(CKM_EC_KEY_PAIR_GEN), pubTpl, privTpl), `${what}: generate`) as [bigint, bigint];
      const spki = (ok(await c.call('C_GetAttributeValue', s, pub, [[CKA.PUBLIC_KEY_INFO, 256]]), 'SPKI')[0] as { value: { v: Uint8Array } }[])[0]!.value.v;
      const digest = createHash(hash).update(MSG).digest();
      ok(await c.call('C_SignInit', s, mech(CKM_ECDSA), priv), `${what}: sign init`);
      const sig = (ok(await c.call('C_Sign', s, digest, 256), `${what}: sign`)[0] as { data: Uint8Array }).data;
      assert.equal(sig.length, 2 * (curve === 'P-521' ? 66 : curve === 'P-384' ? 48 : 32), `${what}: r‖s, each the order size (PKCS#11 v3.0 §2.3.1)`);
      // P-256 with a SHA-384 digest: both sides keep the leftmost 256 bits (FIPS 186-5 §6.4.1).
      assert.ok(nodeVerify(hash, MSG, { key: Buffer.from(spki), format: 'der', type: 'spki', dsaEncoding: 'ieee-p1363' }, sig), `${what}: OpenSSL verifies`);
      ok(await c.call('C_VerifyInit', s, mech(CKM_ECDSA), pub), `${what}: verify init`);
      ok(await c.call('C_Verify', s, digest, sig), `${what}: verify`);
      const bad = Uint8Array.from(sig);
      bad[0]! ^= 1;
      ok(await c.call('C_VerifyInit', s, mech(CKM_ECDSA), pub), `${what}: verify init`);
      const refused = await c.call('C_Verify', s, digest, bad);
      assert.ok(!refused.ok && refused.ckr === CKR.SIGNATURE_INVALID, `${what}: a changed signature is CKR_SIGNATURE_INVALID`);
    }
    const [, priv] = ok(
      await c.call(
        'C_GenerateKeyPair',
        s,
        mech(CKM_EC_KEY_PAIR_GEN),
        [ulongAttr(CKA.CLASS, CKO_PUBLIC_KEY), ulongAttr(CKA.KEY_TYPE, CKK_EC), bytesAttr(0x180, Buffer.from(EC_PARAMS['P-256']!, 'hex')), boolAttr(CKA.TOKEN, false)],
        [ulongAttr(CKA.CLASS, CKO_PRIVATE_KEY), ulongAttr(CKA.KEY_TYPE, CKK_EC), boolAttr(CKA.SIGN, true), boolAttr(CKA.TOKEN, false)],
      ),
      'generate',
    ) as [bigint, bigint];
    ok(await c.call('C_SignInit', s, mech(CKM_ECDSA), priv), 'sign init');
    const short = await c.call('C_Sign', s, Buffer.alloc(10, 1), 256);
    assert.ok(!short.ok && short.ckr === CKR.DATA_LEN_RANGE, 'a 10-byte digest');
    c.close();
  });
}

test('pkcs11-tool --sign -m ECDSA (p11-kit 0.24 client) signs a SHA-256 digest that openssl verifies, raw and as DER', async (t) => {
  const tools = ['/usr/bin/pkcs11-tool', '/usr/bin/openssl'];
  if (!(requireTool(P11_KIT_CLIENT, 'p11-kit-modules', t.skip.bind(t)) && requireTool(tools[0]!, 'opensc', t.skip.bind(t)) && requireTool(tools[1]!, 'openssl', t.skip.bind(t)))) return;
  const file = (name: string): string => join(f.dir, name);
  const user = (...args: string[]) => run(f, tools[0]!, ['--module', P11_KIT_CLIENT, '--login', '--pin', USER_PIN, ...args]);
  const gen = await user('--keypairgen', '--key-type', 'EC:prime256v1', '--label', 'tls', '--id', 'e1', '--usage-sign');
  assert.equal(gen.code, 0, gen.stderr);
  writeFileSync(file('msg'), MSG);
  writeFileSync(file('digest'), createHash('sha256').update(MSG).digest());
  const pub = await user('--read-object', '--type', 'pubkey', '--id', 'e1', '-o', file('ec.der'));
  assert.equal(pub.code, 0, pub.stderr);
  const pem = await run(f, tools[1]!, ['ec', '-pubin', '-inform', 'DER', '-in', file('ec.der'), '-out', file('ec.pem')]);
  assert.equal(pem.code, 0, pem.stderr);
  // --signature-format openssl re-encodes pkcs11-tool's r‖s as DER, which openssl reads.
  const sig = await user('--sign', '-m', 'ECDSA', '--id', 'e1', '-i', file('digest'), '-o', file('ec.sig'), '--signature-format', 'openssl');
  assert.equal(sig.code, 0, sig.stderr);
  const v1 = await run(f, tools[1]!, ['dgst', '-sha256', '-verify', file('ec.pem'), '-signature', file('ec.sig'), file('msg')]);
  assert.match(v1.stdout, /Verified OK/, v1.stderr);
  const v2 = await run(f, tools[1]!, ['pkeyutl', '-verify', '-pubin', '-inkey', file('ec.pem'), '-in', file('digest'), '-sigfile', file('ec.sig')]);
  assert.match(v2.stdout, /Signature Verified Successfully/, v2.stderr);
  const raw = await user('--sign', '-m', 'ECDSA', '--id', 'e1', '-i', file('digest'), '-o', file('ec.raw'));
  assert.equal(raw.code, 0, raw.stderr);
  const v3 = await user('--verify', '-m', 'ECDSA', '--id', 'e1', '-i', file('digest'), '--signature-file', file('ec.raw'));
  assert.match(v3.stdout, /Signature is valid/, v3.stderr);
});

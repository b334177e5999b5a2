// PKCS#11 return-code conformance (issue 5), through the raw RPC client at protocol 2: a missing
// or bad CKA_VALUE_LEN on C_GenerateKey, CKR_SIGNATURE_LEN_RANGE for signatures whose length is
// wrong for the mechanism and key, and key usage/type refused at C_*Init. Each refusal creates
// nothing; the boundary still refuses at the data call what changed after Init.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CKA, CKR, CKU } from '../../src/frontends/pkcs11/constants.js';
import { checkedSignature } from '../../src/frontends/pkcs11/signature-length.js';
import { NO_PARAMS } from '../../src/frontends/pkcs11/mechanism-wire.js';
import { slotFor } from '../../src/frontends/pkcs11/slots.js';
import { type P11Fixture, p11Fixture, USER_PIN } from './p11-fixture.js';
import { boolAttr, bytesAttr, initialized, type Mech, type Reply, type RpcClient, ulongAttr } from './rpc-client.js';

const SLOT = slotFor('p1').id;
const M = {
  RSA_GEN: 0x0,
  SHA256_RSA: 0x40,
  GENERIC_GEN: 0x350,
  SHA256_HMAC: 0x251,
  DES3_GEN: 0x131,
  AES_GEN: 0x1080,
  AES_ECB: 0x1081,
  AES_CMAC: 0x108a,
  EC_GEN: 0x1040,
  ECDSA: 0x1041,
  EDWARDS_GEN: 0x1055,
  EDDSA: 0x1057,
} as const;
const CKO = { PUBLIC: 2, PRIVATE: 3, SECRET: 4 } as const;
const CKK = { RSA: 0, EC: 3, GENERIC: 0x10, DES3: 0x15, AES: 0x1f, EDWARDS: 0x40 } as const;

let f: P11Fixture;
let c: RpcClient;
let s: bigint;
before(async () => {
  f = await p11Fixture();
  c = await initialized(f.socket, 2);
  s = ok(await c.call('C_OpenSession', SLOT, 6), 'open')[0] as bigint;
  ok(await c.call('C_Login', s, CKU.USER, Buffer.from(USER_PIN)), 'login');
});
after(async () => {
  c?.close();
  await f?.close();
});

function ok(r: Reply, what: string): unknown[] {
  if (!r.ok) assert.fail(`${what}: CKR 0x${r.ckr.toString(16)}`);
  return r.values;
}
const ckr = (r: Reply): number => (r.ok ? CKR.OK : r.ckr);
const hex = (n: number): string => `0x${n.toString(16)}`;
/** Protocol 2's mechanism encoding (reference §9): no parameter is an empty field for the types p11-kit lists as parameterless, a 0 byte otherwise. */
const mech = (type: number): Mech => ({ type, param: NO_PARAMS.has(type) ? new Uint8Array(0) : Uint8Array.of(0) });

async function objectCount(): Promise<number> {
  ok(await c.call('C_FindObjectsInit', s, []), 'find init');
  const found = ok(await c.call('C_FindObjects', s, 10_000), 'find')[0] as { items: unknown[] };
  ok(await c.call('C_FindObjectsFinal', s), 'find final');
  return found.items.length;
}

const secret = (keyType: number, extra: ReturnType<typeof boolAttr>[]) => [ulongAttr(CKA.CLASS, CKO.SECRET), ulongAttr(CKA.KEY_TYPE, keyType), boolAttr(CKA.TOKEN, false), ...extra];

async function genSecret(m: number, tpl: ReturnType<typeof boolAttr>[]): Promise<bigint> {
  return ok(await c.call('C_GenerateKey', s, mech(m), tpl), 'generate')[0] as bigint;
}

async function pair(m: number, pub: ReturnType<typeof boolAttr>[], priv: ReturnType<typeof boolAttr>[]): Promise<[bigint, bigint]> {
  return ok(await c.call('C_GenerateKeyPair', s, mech(m), [boolAttr(CKA.TOKEN, false), ...pub], [boolAttr(CKA.TOKEN, false), ...priv]), 'generate pair') as [bigint, bigint];
}

async function sign(m: number, key: bigint, data: Uint8Array): Promise<Buffer> {
  ok(await c.call('C_SignInit', s, mech(m), key), 'sign init');
  return Buffer.from((ok(await c.call('C_Sign', s, data, 8192), 'sign')[0] as { data: Uint8Array }).data);
}

async function verifyRv(m: number, key: bigint, data: Uint8Array, sig: Uint8Array): Promise<number> {
  ok(await c.call('C_VerifyInit', s, mech(m), key), 'verify init');
  return ckr(await c.call('C_Verify', s, data, sig));
}

test('C_GenerateKey: AES and generic secret keys without CKA_VALUE_LEN are CKR_TEMPLATE_INCOMPLETE, a length the key type does not take is CKR_ATTRIBUTE_VALUE_INVALID; nothing is created', async () => {
  const before = await objectCount();
  const cases: [string, number, ReturnType<typeof boolAttr>[], number][] = [
    ['AES without CKA_VALUE_LEN', M.AES_GEN, secret(CKK.AES, [boolAttr(CKA.ENCRYPT, true)]), CKR.TEMPLATE_INCOMPLETE],
    ['AES, no class or key type, without CKA_VALUE_LEN', M.AES_GEN, [boolAttr(CKA.TOKEN, false), boolAttr(CKA.ENCRYPT, true)], CKR.TEMPLATE_INCOMPLETE],
    ['generic secret without CKA_VALUE_LEN', M.GENERIC_GEN, secret(CKK.GENERIC, [boolAttr(CKA.SIGN, true)]), CKR.TEMPLATE_INCOMPLETE],
    ['AES with CKA_VALUE_LEN 7', M.AES_GEN, secret(CKK.AES, [ulongAttr(CKA.VALUE_LEN, 7), boolAttr(CKA.ENCRYPT, true)]), CKR.ATTRIBUTE_VALUE_INVALID],
    ['AES with CKA_VALUE_LEN 64', M.AES_GEN, secret(CKK.AES, [ulongAttr(CKA.VALUE_LEN, 64), boolAttr(CKA.ENCRYPT, true)]), CKR.ATTRIBUTE_VALUE_INVALID],
    ['generic secret with CKA_VALUE_LEN 0', M.GENERIC_GEN, secret(CKK.GENERIC, [ulongAttr(CKA.VALUE_LEN, 0), boolAttr(CKA.SIGN, true)]), CKR.ATTRIBUTE_VALUE_INVALID],
    // The class contradicts the mechanism: that is the boundary's inconsistent template, not a missing length.
    ['AES with CKA_CLASS public key', M.AES_GEN, [ulongAttr(CKA.CLASS, CKO.PUBLIC), boolAttr(CKA.TOKEN, false)], CKR.TEMPLATE_INCONSISTENT],
  ];
  for (const [what, m, tpl, want] of cases) assert.equal(hex(ckr(await c.call('C_GenerateKey', s, mech(m), tpl))), hex(want), what);
  assert.equal(await objectCount(), before, 'no object was created');
  // Fixed-length key types need no CKA_VALUE_LEN; with one, the given length still works.
  await genSecret(M.DES3_GEN, secret(CKK.DES3, [boolAttr(CKA.ENCRYPT, true)]));
  const aes = await genSecret(M.AES_GEN, secret(CKK.AES, [ulongAttr(CKA.VALUE_LEN, 16), boolAttr(CKA.ENCRYPT, true)]));
  const len = ok(await c.call('C_GetAttributeValue', s, aes, [[CKA.VALUE_LEN, 8]]), 'value len')[0] as { value: { v: bigint } }[];
  assert.equal(len[0]!.value.v, 16n);
});

test('C_Verify: a signature whose length is wrong for the mechanism and key is CKR_SIGNATURE_LEN_RANGE (RSA, ECDSA, EdDSA, HMAC, CMAC, single and multi-part); the right length still verifies or is CKR_SIGNATURE_INVALID', async () => {
  const msg = Buffer.from('conformance');
  const digest = Buffer.alloc(32, 7);
  const [rsaPub, rsaPriv] = await pair(M.RSA_GEN, [ulongAttr(CKA.MODULUS_BITS, 2048), bytesAttr(CKA.PUBLIC_EXPONENT, Buffer.from([1, 0, 1])), boolAttr(CKA.VERIFY, true)], [boolAttr(CKA.SIGN, true)]);
  const [ecPub, ecPriv] = await pair(M.EC_GEN, [bytesAttr(CKA.EC_PARAMS, Buffer.from('06052b81040022', 'hex')), boolAttr(CKA.VERIFY, true)], [boolAttr(CKA.SIGN, true)]);
  const [edPub, edPriv] = await pair(M.EDWARDS_GEN, [bytesAttr(CKA.EC_PARAMS, Buffer.from('06032b6570', 'hex')), boolAttr(CKA.VERIFY, true)], [boolAttr(CKA.SIGN, true)]);
  const hmac = await genSecret(M.GENERIC_GEN, secret(CKK.GENERIC, [ulongAttr(CKA.VALUE_LEN, 32), boolAttr(CKA.SIGN, true), boolAttr(CKA.VERIFY, true)]));
  const cmac = await genSecret(M.AES_GEN, secret(CKK.AES, [ulongAttr(CKA.VALUE_LEN, 32), boolAttr(CKA.SIGN, true), boolAttr(CKA.VERIFY, true)]));
  const cases: [string, number, bigint, bigint, Uint8Array, number][] = [
    ['SHA256-RSA-PKCS 2048', M.SHA256_RSA, rsaPriv, rsaPub, msg, 256],
    ['ECDSA P-384', M.ECDSA, ecPriv, ecPub, digest, 96],
    ['EdDSA Ed25519', M.EDDSA, edPriv, edPub, msg, 64],
    ['SHA256-HMAC', M.SHA256_HMAC, hmac, hmac, msg, 32],
    ['AES-CMAC', M.AES_CMAC, cmac, cmac, msg, 16],
  ];
  for (const [what, m, priv, pub, data, len] of cases) {
    const sig = await sign(m, priv, data);
    assert.equal(sig.length, len, `${what}: signature length`);
    assert.equal(hex(await verifyRv(m, pub, data, sig)), hex(CKR.OK), `${what}: the signature verifies`);
    assert.equal(hex(await verifyRv(m, pub, data, sig.subarray(0, len - 1))), hex(CKR.SIGNATURE_LEN_RANGE), `${what}: one byte short`);
    assert.equal(hex(await verifyRv(m, pub, data, Buffer.concat([sig, Buffer.of(0)]))), hex(CKR.SIGNATURE_LEN_RANGE), `${what}: one byte long`);
    assert.equal(hex(await verifyRv(m, pub, data, Buffer.alloc(0))), hex(CKR.SIGNATURE_LEN_RANGE), `${what}: empty`);
    const bad = Buffer.from(sig);
    bad[len - 1] = (bad[len - 1] ?? 0) ^ 1;
    assert.equal(hex(await verifyRv(m, pub, data, bad)), hex(CKR.SIGNATURE_INVALID), `${what}: right length, wrong signature`);
    // C_Verify ended each operation: a second C_Verify has nothing to finish.
    assert.equal(hex(ckr(await c.call('C_Verify', s, data, sig))), hex(CKR.OPERATION_NOT_INITIALIZED), `${what}: the operation ended`);
  }
  ok(await c.call('C_VerifyInit', s, mech(M.SHA256_RSA), rsaPub), 'multi-part init');
  ok(await c.call('C_VerifyUpdate', s, msg), 'multi-part update');
  assert.equal(hex(ckr(await c.call('C_VerifyFinal', s, Buffer.alloc(100)))), hex(CKR.SIGNATURE_LEN_RANGE), 'C_VerifyFinal with a 100-byte RSA signature');
});

test('ECDSA r‖s shorter than 2·|n| (PKCS#11 v3.0 §2.3.1): r and s are each left-padded to the order length; an odd or overlong length is CKR_SIGNATURE_LEN_RANGE', () => {
  const r = Buffer.alloc(31, 0xaa);
  const sv = Buffer.alloc(31, 0xbb);
  const widened = Buffer.from(checkedSignature({ ecdsa: 32 }, Buffer.concat([r, sv])));
  assert.equal(widened.toString('hex'), Buffer.concat([Buffer.of(0), r, Buffer.of(0), sv]).toString('hex'));
  const full = Buffer.alloc(64, 1);
  assert.equal(checkedSignature({ ecdsa: 32 }, full), full, 'a full-length signature is passed as it is');
  for (const n of [0, 63, 65, 66]) assert.throws(() => checkedSignature({ ecdsa: 32 }, Buffer.alloc(n, 1)), (e: { ckr?: number }) => e.ckr === CKR.SIGNATURE_LEN_RANGE, `${n} bytes`);
});

test('C_*Init refuses a key without the usage (CKR_KEY_FUNCTION_NOT_PERMITTED) or of the wrong type (CKR_KEY_TYPE_INCONSISTENT); no operation starts; a usage dropped after Init is refused by the boundary at the data call', async () => {
  const [rsaPub, rsaPriv] = await pair(M.RSA_GEN, [ulongAttr(CKA.MODULUS_BITS, 2048), bytesAttr(CKA.PUBLIC_EXPONENT, Buffer.from([1, 0, 1])), boolAttr(CKA.VERIFY, true)], [boolAttr(CKA.SIGN, true)]);
  const aes = await genSecret(M.AES_GEN, secret(CKK.AES, [ulongAttr(CKA.VALUE_LEN, 32), boolAttr(CKA.DECRYPT, true)]));
  const aesEnc = await genSecret(M.AES_GEN, secret(CKK.AES, [ulongAttr(CKA.VALUE_LEN, 32), boolAttr(CKA.ENCRYPT, true)]));
  const cases: [string, string, number, bigint, number][] = [
    ['sign with the public key', 'C_SignInit', M.SHA256_RSA, rsaPub, CKR.KEY_FUNCTION_NOT_PERMITTED],
    ['verify with the private key', 'C_VerifyInit', M.SHA256_RSA, rsaPriv, CKR.KEY_FUNCTION_NOT_PERMITTED],
    ['encrypt with a decrypt-only AES key', 'C_EncryptInit', M.AES_ECB, aes, CKR.KEY_FUNCTION_NOT_PERMITTED],
    ['decrypt with an encrypt-only AES key', 'C_DecryptInit', M.AES_ECB, aesEnc, CKR.KEY_FUNCTION_NOT_PERMITTED],
    ['AES-ECB decrypt with an RSA private key', 'C_DecryptInit', M.AES_ECB, rsaPriv, CKR.KEY_FUNCTION_NOT_PERMITTED],
    ['ECDSA with an RSA key', 'C_SignInit', M.ECDSA, rsaPriv, CKR.KEY_TYPE_INCONSISTENT],
    ['HMAC with an RSA key', 'C_SignInit', M.SHA256_HMAC, rsaPriv, CKR.KEY_TYPE_INCONSISTENT],
    ['an invalid key handle', 'C_SignInit', M.SHA256_RSA, 0x7ffffff0n, CKR.KEY_HANDLE_INVALID],
  ];
  const data: Record<string, [string, unknown[]]> = {
    C_SignInit: ['C_Sign', [Buffer.from('x'), 512]],
    C_VerifyInit: ['C_Verify', [Buffer.from('x'), Buffer.alloc(256)]],
    C_EncryptInit: ['C_Encrypt', [Buffer.alloc(16), 64]],
    C_DecryptInit: ['C_Decrypt', [Buffer.alloc(256), 512]],
  };
  for (const [what, call, m, key, want] of cases) {
    assert.equal(hex(ckr(await c.call(call, s, mech(m), key))), hex(want), what);
    const [next, args] = data[call]!;
    assert.equal(hex(ckr(await c.call(next, s, ...args))), hex(CKR.OPERATION_NOT_INITIALIZED), `${what}: no operation started`);
  }
  // Init passed; then the usage is dropped (CKA_SIGN may only go to false): the boundary refuses the C_Sign.
  ok(await c.call('C_SignInit', s, mech(M.SHA256_RSA), rsaPriv), 'sign init');
  ok(await c.call('C_SetAttributeValue', s, rsaPriv, [boolAttr(CKA.SIGN, false)]), 'drop CKA_SIGN');
  assert.equal(hex(ckr(await c.call('C_Sign', s, Buffer.from('x'), 512))), hex(CKR.KEY_FUNCTION_NOT_PERMITTED), 'C_Sign after CKA_SIGN was dropped');
  assert.equal(hex(ckr(await c.call('C_SignInit', s, mech(M.SHA256_RSA), rsaPriv))), hex(CKR.KEY_FUNCTION_NOT_PERMITTED), 'a new C_SignInit sees the dropped usage');
});

test('PKCS#11 3.0 message-based calls: C_MessageSignInit refuses a key without CKA_SIGN, C_VerifyMessage a wrong-length signature (CKR_SIGNATURE_LEN_RANGE); the context survives it', async () => {
  const ECDSA_SHA256 = 0x1044;
  const [pub, priv] = await pair(M.EC_GEN, [bytesAttr(CKA.EC_PARAMS, Buffer.from('06082a8648ce3d030107', 'hex')), boolAttr(CKA.VERIFY, true)], [boolAttr(CKA.SIGN, true)]);
  assert.equal(hex(ckr(await c.call('C_MessageSignInit', s, mech(ECDSA_SHA256), pub))), hex(CKR.KEY_FUNCTION_NOT_PERMITTED), 'message sign init with the public key');
  assert.equal(hex(ckr(await c.call('C_MessageVerifyInit', s, mech(M.SHA256_HMAC), priv))), hex(CKR.KEY_FUNCTION_NOT_PERMITTED), 'HMAC verify with an EC private key: no CKA_VERIFY');
  const m = Buffer.from('message');
  const sig = await sign(ECDSA_SHA256, priv, m);
  ok(await c.call('C_MessageVerifyInit', s, mech(ECDSA_SHA256), pub), 'message verify init');
  assert.equal(hex(ckr(await c.call('C_VerifyMessage', s, null, m, Buffer.concat([sig, Buffer.of(0)])))), hex(CKR.SIGNATURE_LEN_RANGE), '65-byte P-256 signature');
  ok(await c.call('C_VerifyMessage', s, null, m, sig), 'the right signature still verifies in the same context');
  ok(await c.call('C_MessageVerifyFinal', s), 'final');
});

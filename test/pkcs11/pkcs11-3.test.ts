// The PKCS#11 3.0 calls p11-kit 0.25+ sends (reference §6, ids 66–88), through the raw client:
// C_LoginUser, C_SessionCancel, message-based sign/verify (served), message-based
// encrypt/decrypt (CKR_FUNCTION_NOT_SUPPORTED), C_InitToken2 refused; and CKA_UNIQUE_ID on every
// object, read-only. p11-kit-client.so offers the 3.0 interface (C_GetInterface is answered
// inside the client) whatever version was negotiated, so each call is tried at 0, 1 and 2.

import assert from 'node:assert/strict';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { after, before, test } from 'node:test';
import { CKA, CKR, CKU } from '../../src/frontends/pkcs11/constants.js';
import { NO_PARAMS } from '../../src/frontends/pkcs11/mechanism-wire.js';
import { slotFor } from '../../src/frontends/pkcs11/slots.js';
import { Writer } from '../../src/frontends/pkcs11/wire.js';
import { PASSWORD, type P11Fixture, p11Fixture, USER_PIN } from './p11-fixture.js';
import { boolAttr, bytesAttr, initialized, type Mech, type Reply, type RpcClient, ulongAttr } from './rpc-client.js';

const SLOT = slotFor('p1').id;
const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
const CKF_MESSAGE_SIGN = 0x8;
const CKF_MESSAGE_VERIFY = 0x10;
const CKF_FIND_OBJECTS = 0x40;
const CKF_SIGN = 0x800;
const CKF_DECRYPT = 0x200;
const CKR_SESSION_EXISTS = 0xb6;

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
const ckr = (r: Reply): number => (r.ok ? 0 : r.ckr);

function mech(v: number, type: number, layout?: Uint8Array): Mech {
  if (v >= 2) return { type, param: NO_PARAMS.has(type) ? new Uint8Array(0) : layout ? Buffer.concat([Uint8Array.of(1), layout]) : Uint8Array.of(0) };
  return { type, param: layout ?? Buffer.from('ffffffff', 'hex') };
}

async function session(v: number): Promise<{ c: RpcClient; s: bigint }> {
  const c = await initialized(f.socket, v);
  return { c, s: ok(await c.call('C_OpenSession', SLOT, 6), 'open')[0] as bigint };
}

async function ecPair(c: RpcClient, s: bigint, v: number): Promise<{ pub: bigint; priv: bigint; point: Uint8Array }> {
  const pubT = [boolAttr(CKA.TOKEN, false), bytesAttr(CKA.EC_PARAMS, Buffer.from('06082a8648ce3d030107', 'hex')), boolAttr(CKA.VERIFY, true)];
  const privT = [boolAttr(CKA.TOKEN, false), boolAttr(CKA.SIGN, true)];
  const [pub, priv] = ok(await c.call('C_GenerateKeyPair', s, mech(v, 0x1040), pubT, privT), 'ec pair') as [bigint, bigint];
  const [list] = ok(await c.call('C_GetAttributeValue', s, pub, [[CKA.EC_POINT, 256]]), 'point') as [{ value: { v: Uint8Array } }[]];
  return { pub, priv, point: list[0]!.value.v.subarray(2) };
}

function p256Verifies(point: Uint8Array, data: Uint8Array, sig: Uint8Array): boolean {
  const x = Buffer.from(point.subarray(1, 33)).toString('base64url');
  const y = Buffer.from(point.subarray(33)).toString('base64url');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x, y }, format: 'jwk' });
  return nodeVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
}

test('C_LoginUser: the username is the Coffer account and the PIN its password, at protocols 0, 1 and 2; every refusal looks like a wrong PIN', async () => {
  for (const v of [0, 1, 2]) {
    const { c, s } = await session(v);
    assert.equal(ckr(await c.call('C_LoginUser', s, CKU.USER, utf8('wrong'), utf8('alice'))), CKR.PIN_INCORRECT, `v${v} wrong password`);
    assert.equal(ckr(await c.call('C_LoginUser', s, CKU.USER, utf8(PASSWORD), utf8('nobody'))), CKR.PIN_INCORRECT, 'unknown account');
    assert.equal(ckr(await c.call('C_LoginUser', s, CKU.USER, utf8(PASSWORD), utf8('alice:x'))), CKR.PIN_INCORRECT, 'a name no account can have');
    assert.equal(ckr(await c.call('C_LoginUser', s, CKU.USER, utf8(PASSWORD), utf8('officer'))), CKR.PIN_INCORRECT, 'the officer is not a user');
    assert.equal(ckr(await c.call('C_LoginUser', s, CKU.USER, utf8(PASSWORD), null)), CKR.ARGUMENTS_BAD, 'no username');
    assert.equal(ckr(await c.call('C_LoginUser', s, 7, utf8(PASSWORD), utf8('alice'))), CKR.USER_TYPE_INVALID);
    ok(await c.call('C_LoginUser', s, CKU.USER, utf8(PASSWORD), utf8('alice')), `v${v} login alice`);
    assert.equal(ckr(await c.call('C_LoginUser', s, CKU.USER, utf8(PASSWORD), utf8('alice'))), CKR.USER_ALREADY_LOGGED_IN);
    const [info] = ok(await c.call('C_GetSessionInfo', s), 'session info').slice(1, 2) as bigint[];
    assert.equal(info, 3n, 'CKS_RW_USER_FUNCTIONS');
    ok(await c.call('C_Logout', s), 'logout');
    ok(await c.call('C_LoginUser', s, CKU.SO, utf8(PASSWORD), utf8('officer')), 'the officer as SO');
    c.close();
  }
});

test('C_SessionCancel ends the operations its flags name and no others', async () => {
  const { c, s } = await session(2);
  ok(await c.call('C_Login', s, CKU.USER, utf8(USER_PIN)), 'login');
  const k = await ecPair(c, s, 2);
  ok(await c.call('C_SignInit', s, mech(2, 0x1044), k.priv), 'sign init');
  ok(await c.call('C_SessionCancel', s, CKF_DECRYPT), 'cancel decrypt');
  assert.equal((ok(await c.call('C_Sign', s, utf8('still signing'), 0), 'size query')[0] as { length: number }).length, 64, 'signing survives a cancel of decrypt');
  ok(await c.call('C_SessionCancel', s, CKF_SIGN), 'cancel sign');
  assert.equal(ckr(await c.call('C_Sign', s, utf8('x'), 64)), CKR.OPERATION_NOT_INITIALIZED);
  ok(await c.call('C_FindObjectsInit', s, []), 'find init');
  ok(await c.call('C_SessionCancel', s, CKF_FIND_OBJECTS), 'cancel find');
  assert.equal(ckr(await c.call('C_FindObjects', s, 8)), CKR.OPERATION_NOT_INITIALIZED);
  ok(await c.call('C_FindObjectsInit', s, []), 'a new find may start');
  ok(await c.call('C_MessageSignInit', s, mech(2, 0x1044), k.priv), 'message sign init');
  ok(await c.call('C_SessionCancel', s, CKF_MESSAGE_SIGN | CKF_MESSAGE_VERIFY), 'cancel message ops');
  assert.equal(ckr(await c.call('C_SignMessage', s, null, utf8('x'), 64)), CKR.OPERATION_NOT_INITIALIZED);
  assert.equal(ckr(await c.call('C_SessionCancel', 0xdeadn, CKF_SIGN)), CKR.SESSION_HANDLE_INVALID);
  c.close();
});

test('message-based signing: one context signs many messages, whole or in parts; OpenSSL verifies each; C_MessageSignFinal ends it', async () => {
  for (const v of [1, 2]) {
    const { c, s } = await session(v);
    ok(await c.call('C_Login', s, CKU.USER, utf8(USER_PIN)), 'login');
    const k = await ecPair(c, s, v);
    ok(await c.call('C_MessageSignInit', s, mech(v, 0x1044), k.priv), 'init'); // CKM_ECDSA_SHA256
    assert.equal(ckr(await c.call('C_MessageSignInit', s, mech(v, 0x1044), k.priv)), CKR.OPERATION_ACTIVE);
    for (const text of ['first message', 'second message']) {
      const m = utf8(text);
      const q = ok(await c.call('C_SignMessage', s, null, m, 0), 'size query')[0] as { length: number };
      assert.equal(q.length, 64);
      const sig = (ok(await c.call('C_SignMessage', s, null, m, 64), 'sign')[0] as { data: Uint8Array }).data;
      assert.ok(p256Verifies(k.point, m, sig), `v${v} ${text} verifies`);
    }
    ok(await c.call('C_SignMessageBegin', s, null), 'begin');
    assert.deepEqual(ok(await c.call('C_SignMessageNext', s, null, utf8('in '), 0, 0), 'part')[0], { length: 0 });
    assert.equal(ckr(await c.call('C_SignMessage', s, null, utf8('x'), 64)), CKR.OPERATION_ACTIVE, 'a begun message must end first');
    const sig = (ok(await c.call('C_SignMessageNext', s, null, utf8('parts'), 1, 64), 'last part')[0] as { data: Uint8Array }).data;
    assert.ok(p256Verifies(k.point, utf8('in parts'), sig), 'the parts were signed as one message');
    assert.equal(ckr(await c.call('C_SignMessageNext', s, null, utf8('x'), 1, 64)), CKR.OPERATION_NOT_INITIALIZED, 'Next without Begin');
    assert.equal(ckr(await c.call('C_SignMessage', s, utf8('raw struct'), utf8('x'), 64)), CKR.MECHANISM_PARAM_INVALID, 'a per-message parameter is client memory');
    ok(await c.call('C_MessageSignFinal', s), 'final');
    assert.equal(ckr(await c.call('C_SignMessage', s, null, utf8('x'), 64)), CKR.OPERATION_NOT_INITIALIZED);
    assert.equal(ckr(await c.call('C_MessageSignFinal', s)), CKR.OPERATION_NOT_INITIALIZED);
    c.close();
  }
});

test('message-based verification: whole messages and parts; a wrong signature is CKR_SIGNATURE_INVALID and the context stays', async () => {
  const { c, s } = await session(2);
  ok(await c.call('C_Login', s, CKU.USER, utf8(USER_PIN)), 'login');
  const k = await ecPair(c, s, 2);
  ok(await c.call('C_SignInit', s, mech(2, 0x1044), k.priv), 'sign init');
  const m = utf8('verify me');
  const sig = (ok(await c.call('C_Sign', s, m, 64), 'sign')[0] as { data: Uint8Array }).data;
  ok(await c.call('C_MessageVerifyInit', s, mech(2, 0x1044), k.pub), 'verify init');
  ok(await c.call('C_VerifyMessage', s, null, m, sig), 'verify');
  assert.equal(ckr(await c.call('C_VerifyMessage', s, null, utf8('verify m3'), sig)), CKR.SIGNATURE_INVALID);
  ok(await c.call('C_VerifyMessage', s, null, m, sig), 'the context survives a failed message');
  ok(await c.call('C_VerifyMessageBegin', s, null), 'begin');
  ok(await c.call('C_VerifyMessageNext', s, null, utf8('verify'), null), 'part');
  ok(await c.call('C_VerifyMessageNext', s, null, utf8(' me'), sig), 'last part with the signature');
  ok(await c.call('C_MessageVerifyFinal', s), 'final');
  assert.equal(ckr(await c.call('C_VerifyMessage', s, null, m, sig)), CKR.OPERATION_NOT_INITIALIZED);
  c.close();
});

test('message-based encrypt/decrypt answer CKR_FUNCTION_NOT_SUPPORTED: the IV and tag they return travel inside client memory', async () => {
  const { c, s } = await session(2);
  ok(await c.call('C_Login', s, CKU.USER, utf8(USER_PIN)), 'login');
  const tpl = [ulongAttr(CKA.CLASS, 4), ulongAttr(CKA.KEY_TYPE, 0x1f), ulongAttr(CKA.VALUE_LEN, 32), boolAttr(CKA.ENCRYPT, true), boolAttr(CKA.DECRYPT, true), boolAttr(CKA.TOKEN, false)];
  const key = ok(await c.call('C_GenerateKey', s, mech(2, 0x1080), tpl), 'aes')[0] as bigint;
  const gcm = mech(2, 0x1087, new Writer().byteArray(null).u64(0).byteArray(null).u64(128).finish());
  const none = Uint8Array.of();
  for (const [name, ...args] of [
    ['C_MessageEncryptInit', s, gcm, key],
    ['C_EncryptMessage', s, none, none, utf8('p'), 64],
    ['C_EncryptMessageBegin', s, none, none],
    ['C_EncryptMessageNext', s, none, utf8('p'), 64, 0],
    ['C_MessageEncryptFinal', s],
    ['C_MessageDecryptInit', s, gcm, key],
    ['C_DecryptMessage', s, none, none, utf8('c'), 64],
    ['C_DecryptMessageBegin', s, none, none],
    ['C_DecryptMessageNext', s, none, utf8('c'), 64, 0],
    ['C_MessageDecryptFinal', s],
  ] as const) {
    assert.equal(ckr(await c.call(name, ...args)), CKR.FUNCTION_NOT_SUPPORTED, name);
  }
  c.close();
});

test('C_InitToken2 and C_InitToken: a bad slot is CKR_SLOT_ID_INVALID, open sessions CKR_SESSION_EXISTS, else CKR_FUNCTION_NOT_SUPPORTED', async () => {
  const c = await initialized(f.socket, 2);
  const label = utf8('p1'.padEnd(32, ' '));
  assert.equal(ckr(await c.call('C_InitToken2', SLOT + 1, utf8('officer:x'), label)), CKR.SLOT_ID_INVALID);
  assert.equal(ckr(await c.call('C_InitToken2', SLOT, utf8(`officer:${PASSWORD}`), label)), CKR.FUNCTION_NOT_SUPPORTED);
  assert.equal(ckr(await c.call('C_InitToken', SLOT, utf8(`officer:${PASSWORD}`), utf8('p1'))), CKR.FUNCTION_NOT_SUPPORTED);
  const s = ok(await c.call('C_OpenSession', SLOT, 6), 'open')[0] as bigint;
  assert.equal(ckr(await c.call('C_InitToken2', SLOT, utf8(`officer:${PASSWORD}`), label)), CKR_SESSION_EXISTS);
  ok(await c.call('C_CloseSession', s), 'close');
  c.close();
  // The partition is untouched: alice still logs in and the slot keeps its label.
  const { c: c2, s: s2 } = await session(0);
  ok(await c2.call('C_Login', s2, CKU.USER, utf8(USER_PIN)), 'login after the refusals');
  c2.close();
});

async function uniqueId(c: RpcClient, s: bigint, h: bigint): Promise<string> {
  const [list, rv] = ok(await c.call('C_GetAttributeValue', s, h, [[CKA.UNIQUE_ID, 256]]), 'unique id') as [{ value?: { v: Uint8Array } }[], bigint];
  assert.equal(rv, 0n);
  return Buffer.from(list[0]!.value!.v).toString('latin1');
}

test('CKA_UNIQUE_ID: every object has one, distinct and stable across connections; it finds the object; it cannot be set, copied in or created with', async () => {
  const { c, s } = await session(2);
  ok(await c.call('C_Login', s, CKU.USER, utf8(USER_PIN)), 'login');
  const aesT = [ulongAttr(CKA.CLASS, 4), ulongAttr(CKA.KEY_TYPE, 0x1f), ulongAttr(CKA.VALUE_LEN, 16), boolAttr(CKA.ENCRYPT, true), boolAttr(CKA.TOKEN, true), bytesAttr(CKA.LABEL, utf8('uid-aes'))];
  const aes = ok(await c.call('C_GenerateKey', s, mech(2, 0x1080), aesT), 'aes')[0] as bigint;
  const k = await ecPair(c, s, 2);
  const data = ok(await c.call('C_CreateObject', s, [ulongAttr(CKA.CLASS, 0), boolAttr(CKA.TOKEN, false), bytesAttr(CKA.VALUE, utf8('d'))]), 'data object')[0] as bigint;
  const ids = [await uniqueId(c, s, aes), await uniqueId(c, s, k.pub), await uniqueId(c, s, k.priv), await uniqueId(c, s, data)];
  for (const id of ids) assert.ok(id.length > 0);
  assert.equal(new Set(ids).size, ids.length, 'distinct');
  // Size query: the length without the value, like any byte array (reference §4.4).
  const [q] = ok(await c.call('C_GetAttributeValue', s, aes, [[CKA.UNIQUE_ID, 0]]), 'size query') as [{ length: number }[]];
  assert.equal(q[0]!.length, Buffer.byteLength(ids[0]!, 'latin1'));

  // Another connection finds the same object by its unique id, and reads the same id.
  const { c: c2, s: s2 } = await session(0);
  ok(await c2.call('C_Login', s2, CKU.USER, utf8(USER_PIN)), 'login 2');
  ok(await c2.call('C_FindObjectsInit', s2, [bytesAttr(CKA.UNIQUE_ID, Buffer.from(ids[0]!, 'latin1'))]), 'find by uid');
  const found = (ok(await c2.call('C_FindObjects', s2, 8), 'found')[0] as { items: bigint[] }).items;
  ok(await c2.call('C_FindObjectsFinal', s2), 'final');
  assert.equal(found.length, 1);
  assert.equal(await uniqueId(c2, s2, found[0]!), ids[0]);
  c2.close();

  const uidAttr = bytesAttr(CKA.UNIQUE_ID, utf8('chosen-by-the-caller'));
  assert.equal(ckr(await c.call('C_SetAttributeValue', s, aes, [uidAttr])), CKR.ATTRIBUTE_READ_ONLY, 'set');
  assert.equal(await uniqueId(c, s, aes), ids[0], 'unchanged');
  assert.equal(ckr(await c.call('C_CopyObject', s, aes, [uidAttr])), CKR.ATTRIBUTE_READ_ONLY, 'copy');
  assert.equal(ckr(await c.call('C_CreateObject', s, [ulongAttr(CKA.CLASS, 0), boolAttr(CKA.TOKEN, false), uidAttr])), CKR.ATTRIBUTE_READ_ONLY, 'create');
  assert.equal(ckr(await c.call('C_GenerateKey', s, mech(2, 0x1080), [...aesT.slice(0, 4), boolAttr(CKA.TOKEN, false), uidAttr])), CKR.ATTRIBUTE_READ_ONLY, 'generate');
  const copy = ok(await c.call('C_CopyObject', s, aes, [boolAttr(CKA.TOKEN, false)]), 'a copy')[0] as bigint;
  assert.notEqual(await uniqueId(c, s, copy), ids[0], 'a copy is a new object with its own id');
  c.close();
});

test('C_GetInfo reports Cryptoki 3.0 to p11-kit 0.25+ clients (whose applications get the 3.0 function list) and 2.40 to 0.24', async () => {
  for (const [v, want] of [
    [0, [2, 40]],
    [1, [3, 0]],
    [2, [3, 0]],
  ] as const) {
    const c = await initialized(f.socket, v);
    assert.deepEqual(ok(await c.call('C_GetInfo'), 'info')[0], want, `protocol ${v}`);
    c.close();
  }
});

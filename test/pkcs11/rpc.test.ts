// The PKCS#11 server over its socket, driven by the raw test client: the output-buffer and
// attribute rules of reference §4, login and per-connection isolation (attacks.md A-22),
// mechanism parameters the 0.24 client cannot send (protocol 2: AES-GCM, AES-CBC-PAD), and
// refusals with their exact CKR values.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CKA, CKR, CKU } from '../../src/frontends/pkcs11/constants.js';
import { slotFor } from '../../src/frontends/pkcs11/slots.js';
import { Writer } from '../../src/frontends/pkcs11/wire.js';
import { type P11Fixture, p11Fixture, SO_PIN, USER_PIN } from './p11-fixture.js';
import { boolAttr, initialized, type Reply, type RpcClient, ulongAttr } from './rpc-client.js';

const SLOT = slotFor('p1').id;
const pin = (s: string): Uint8Array => Buffer.from(s, 'utf8');
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
function ckr(r: Reply): number {
  return r.ok ? 0 : r.ckr;
}

async function loggedIn(version = 0): Promise<{ c: RpcClient; s: bigint }> {
  const c = await initialized(f.socket, version);
  const s = ok(await c.call('C_OpenSession', SLOT, 6), 'open')[0] as bigint;
  ok(await c.call('C_Login', s, CKU.USER, pin(USER_PIN)), 'login');
  return { c, s };
}

async function aesKey(c: RpcClient, s: bigint): Promise<bigint> {
  const tpl = [ulongAttr(CKA.CLASS, 4), ulongAttr(CKA.KEY_TYPE, 0x1f), ulongAttr(CKA.VALUE_LEN, 32), boolAttr(CKA.ENCRYPT, true), boolAttr(CKA.DECRYPT, true), boolAttr(CKA.TOKEN, false)];
  return ok(await c.call('C_GenerateKey', s, { type: 0x1080, param: Buffer.from('ffffffff', 'hex') }, tpl), 'generate')[0] as bigint;
}

test('version byte: min(client, 2); calls before C_Initialize are CKR_CRYPTOKI_NOT_INITIALIZED; a second C_Initialize is refused', async () => {
  for (const [sent, want] of [
    [0, 0],
    [1, 1],
    [2, 2],
    [7, 2],
  ] as const) {
    const { RpcClient } = await import('./rpc-client.js');
    const c = await RpcClient.open(f.socket, sent);
    assert.equal(c.version, want, `client ${sent}`);
    assert.equal(ckr(await c.call('C_GetSlotList', 0, 0)), CKR.CRYPTOKI_NOT_INITIALIZED);
    c.close();
  }
  const c = await initialized(f.socket);
  const { HANDSHAKE } = await import('./rpc-client.js');
  assert.equal(ckr(await c.call('C_Initialize', HANDSHAKE, 0, Uint8Array.of(0))), CKR.CRYPTOKI_ALREADY_INITIALIZED);
  c.close();
});

test('slot list: size query gives the count without items, a buffer gets the stable slot id; token info fields have exact sizes', async () => {
  const c = await initialized(f.socket);
  assert.deepEqual(ok(await c.call('C_GetSlotList', 1, 0), 'query')[0], { count: 1 });
  assert.deepEqual(ok(await c.call('C_GetSlotList', 1, 4), 'fetch')[0], { items: [BigInt(SLOT)] });
  const info = ok(await c.call('C_GetTokenInfo', SLOT), 'token');
  assert.equal(Buffer.from(info[0] as Uint8Array).toString().trim(), 'p1');
  assert.equal((info[3] as Uint8Array).length, 16);
  assert.equal(ckr(await c.call('C_GetTokenInfo', SLOT + 1)), CKR.SLOT_ID_INVALID);
  assert.equal(slotFor('p1').id, SLOT, 'slot ids depend on the partition name only');
  c.close();
});

test('login: wrong PIN, unknown account, wrong role and wrong partition all give CKR_PIN_INCORRECT; SO PIN is the officer', async () => {
  const c = await initialized(f.socket);
  const s = ok(await c.call('C_OpenSession', SLOT, 6), 'open')[0] as bigint;
  assert.equal(ckr(await c.call('C_Login', s, CKU.USER, pin('alice:wrong'))), CKR.PIN_INCORRECT);
  assert.equal(ckr(await c.call('C_Login', s, CKU.USER, pin('nobody:x'))), CKR.PIN_INCORRECT);
  assert.equal(ckr(await c.call('C_Login', s, CKU.USER, pin(SO_PIN))), CKR.PIN_INCORRECT, 'the officer is not a user');
  assert.equal(ckr(await c.call('C_Login', s, CKU.USER, null)), CKR.PIN_INCORRECT, 'NULL PIN');
  ok(await c.call('C_Login', s, CKU.SO, pin(SO_PIN)), 'SO login');
  assert.equal(ckr(await c.call('C_Login', s, CKU.USER, pin(USER_PIN))), CKR.USER_ANOTHER_ALREADY_LOGGED_IN);
  const info = ok(await c.call('C_GetSessionInfo', s), 'session info');
  assert.equal(info[1], 4n, 'CKS_RW_SO_FUNCTIONS');
  ok(await c.call('C_Logout', s), 'logout');
  ok(await c.call('C_Login', s, CKU.USER, pin(`${'correct horse battery staple'}`)), 'bare password = the default user');
  c.close();
});

test('attacks.md A-22: another connection inherits neither login nor handles; after logout objects are invisible', async () => {
  const a = await loggedIn();
  const key = await aesKey(a.c, a.s);
  const b = await initialized(f.socket);
  const bs = ok(await b.call('C_OpenSession', SLOT, 6), 'open b')[0] as bigint;
  assert.equal(ckr(await b.call('C_EncryptInit', bs, { type: 0x1085, param: Buffer.from('ffffffff', 'hex') }, key)), CKR.USER_NOT_LOGGED_IN, 'no inherited login');
  assert.equal(ckr(await b.call('C_GetAttributeValue', bs, key, [[CKA.CLASS, 8]])), CKR.OBJECT_HANDLE_INVALID, "A's handle means nothing to B");
  assert.equal(ckr(await b.call('C_CloseSession', a.s)), CKR.SESSION_HANDLE_INVALID, "A's session handle means nothing to B");
  ok(await b.call('C_FindObjectsInit', bs, []), 'find');
  assert.deepEqual(ok(await b.call('C_FindObjects', bs, 10), 'find')[0], { items: [] }, 'no objects without login');
  ok(await a.c.call('C_Logout', a.s), 'logout');
  assert.equal(ckr(await a.c.call('C_GetAttributeValue', a.s, key, [[CKA.CLASS, 8]])), CKR.OBJECT_HANDLE_INVALID);
  a.c.close();
  b.close();
});

test('C_GetAttributeValue: size query, exact fit, too small, sensitive and unknown, with the rv in the reply (reference §4.4)', async () => {
  const { c, s } = await loggedIn();
  const key = await aesKey(c, s);
  const [attrs, rv] = ok(await c.call('C_GetAttributeValue', s, key, [[CKA.CLASS, 0], [CKA.VALUE_LEN, 8], [CKA.UNIQUE_ID, 0], [CKA.ENCRYPT, 1], [CKA.ALLOWED_MECHANISMS, 0]]), 'read') as [
    { type: number; length?: number; value?: { kind: string; v: unknown } }[],
    bigint,
  ];
  assert.equal(rv, 0n);
  assert.equal(attrs[0]!.length, 8);
  assert.deepEqual(attrs[1]!.value, { kind: 'ulong', v: 32n });
  assert.equal(attrs[2]!.length, 32, 'CKA_UNIQUE_ID is the 32-character uid');
  assert.deepEqual(attrs[3]!.value, { kind: 'byte', v: 1 });
  assert.deepEqual(attrs[4]!.value, { kind: 'mechs', v: [] }, 'mechanism-array size query has count 0');
  const [tooSmall, rv2] = ok(await c.call('C_GetAttributeValue', s, key, [[CKA.UNIQUE_ID, 5]]), 'small') as [{ length?: number }[], bigint];
  assert.equal(rv2, BigInt(CKR.BUFFER_TOO_SMALL));
  assert.equal(tooSmall[0]!.length, undefined);
  const [, rv3] = ok(await c.call('C_GetAttributeValue', s, key, [[CKA.VALUE, 64], [0x12345678, 8], [CKA.CLASS, 8]]), 'sensitive') as [unknown, bigint];
  assert.equal(rv3, BigInt(CKR.ATTRIBUTE_SENSITIVE));
  const [, rv4] = ok(await c.call('C_GetAttributeValue', s, key, [[0x12345678, 8]]), 'unknown') as [unknown, bigint];
  assert.equal(rv4, BigInt(CKR.ATTRIBUTE_TYPE_INVALID));
  assert.equal(ckr(await c.call('C_GetAttributeValue', s, 999n, [[CKA.CLASS, 8]])), CKR.OBJECT_HANDLE_INVALID);
  c.close();
});

test('a duplicated attribute in a template is refused (templateFromEntries), an unknown one is CKR_ATTRIBUTE_TYPE_INVALID', async () => {
  const { c, s } = await loggedIn();
  const dup = [ulongAttr(CKA.CLASS, 4), ulongAttr(CKA.KEY_TYPE, 0x1f), ulongAttr(CKA.VALUE_LEN, 32), boolAttr(CKA.ENCRYPT, true), boolAttr(CKA.ENCRYPT, false)];
  assert.equal(ckr(await c.call('C_GenerateKey', s, { type: 0x1080, param: Buffer.from('ffffffff', 'hex') }, dup)), CKR.TEMPLATE_INCONSISTENT);
  const unknown = [ulongAttr(CKA.CLASS, 4), ulongAttr(CKA.KEY_TYPE, 0x1f), ulongAttr(CKA.VALUE_LEN, 32), { type: 0x7654321, length: 1, value: { kind: 'bytes' as const, v: Uint8Array.of(1) } }];
  assert.equal(ckr(await c.call('C_GenerateKey', s, { type: 0x1080, param: Buffer.from('ffffffff', 'hex') }, unknown)), CKR.ATTRIBUTE_TYPE_INVALID);
  c.close();
});

const gcmParam = (iv: Uint8Array, aad: Uint8Array, tagBits: number): Uint8Array =>
  new Writer()
    .u8(1)
    .byteArray(iv)
    .u64(iv.length * 8)
    .byteArray(aad)
    .u64(tagBits)
    .finish();

test('protocol 2 mechanisms: AES-CBC-PAD round trip with size queries, AES-GCM decrypt of a REST-made ciphertext, GCM encrypt with a caller IV refused (B-08)', async () => {
  const { c, s } = await loggedIn(2);
  const key = await (async () => {
    // A token object, so the boundary session of the test fixture can use it too.
    const tpl = [ulongAttr(CKA.CLASS, 4), ulongAttr(CKA.KEY_TYPE, 0x1f), ulongAttr(CKA.VALUE_LEN, 32), boolAttr(CKA.ENCRYPT, true), boolAttr(CKA.DECRYPT, true), boolAttr(CKA.TOKEN, true)];
    return ok(await c.call('C_GenerateKey', s, { type: 0x1080 }, tpl), 'generate v2')[0] as bigint;
  })();
  const iv = new Uint8Array(16).fill(7);
  const cbc = { type: 0x1085, param: new Writer().u8(1).byteArray(iv).finish() };
  const msg = Buffer.from('forty-two bytes of plaintext for CBC-PAD!!');
  ok(await c.call('C_EncryptInit', s, cbc, key), 'encrypt init');
  const q = ok(await c.call('C_Encrypt', s, msg, 0), 'size query')[0] as { length: number };
  assert.equal(q.length, 48);
  const small = ok(await c.call('C_Encrypt', s, msg, 10), 'too small')[0] as { length: number };
  assert.equal(small.length, 48, 'a short buffer gets the length and keeps the operation');
  const ct = (ok(await c.call('C_Encrypt', s, msg, 48), 'encrypt')[0] as { data: Uint8Array }).data;
  assert.equal(ckr(await c.call('C_Encrypt', s, msg, 48)), CKR.OPERATION_NOT_INITIALIZED, 'a delivered result ends the operation');
  ok(await c.call('C_DecryptInit', s, cbc, key), 'decrypt init');
  ok(await c.call('C_DecryptUpdate', s, ct.subarray(0, 20), 64), 'update');
  ok(await c.call('C_DecryptUpdate', s, ct.subarray(20), 64), 'update');
  const pt = (ok(await c.call('C_DecryptFinal', s, 64), 'final')[0] as { data: Uint8Array }).data;
  assert.equal(Buffer.from(pt).toString(), msg.toString());

  // GCM: the module chooses IVs (attacks.md B-08), so encrypt goes through the boundary API and decrypt through PKCS#11.
  const uid = Buffer.from(((ok(await c.call('C_GetAttributeValue', s, key, [[CKA.UNIQUE_ID, 64]]), 'uid')[0] as { value: { v: Uint8Array } }[])[0]!.value.v)).toString();
  const aad = Buffer.from('header');
  const sealed = await f.t.hsm.encrypt(f.t.user, { key: uid, mechanism: 'AES-GCM', data: msg, params: { aad } });
  ok(await c.call('C_DecryptInit', s, { type: 0x1087, param: gcmParam(sealed.params!.iv!, aad, 128) }, key), 'gcm init');
  const open = (ok(await c.call('C_Decrypt', s, sealed.data, 1024), 'gcm decrypt')[0] as { data: Uint8Array }).data;
  assert.equal(Buffer.from(open).toString(), msg.toString());
  const tampered = Uint8Array.from(sealed.data);
  tampered[0]! ^= 1;
  ok(await c.call('C_DecryptInit', s, { type: 0x1087, param: gcmParam(sealed.params!.iv!, aad, 128) }, key), 'gcm init');
  assert.equal(ckr(await c.call('C_Decrypt', s, tampered, 1024)), 0x40, 'CKR_ENCRYPTED_DATA_INVALID');
  ok(await c.call('C_EncryptInit', s, { type: 0x1087, param: gcmParam(new Uint8Array(12), aad, 128) }, key), 'gcm enc init');
  assert.equal(ckr(await c.call('C_Encrypt', s, msg, 1024)), CKR.MECHANISM_PARAM_INVALID);
  assert.equal(ckr(await c.call('C_EncryptInit', s, { type: 0x1087, param: gcmParam(new Uint8Array(12), aad, 129) }, key)), CKR.MECHANISM_PARAM_INVALID, 'A-23: tag bits');
  c.close();
});

test('random: 0 bytes is an empty array, not a size query; public sessions get random and digests too', async () => {
  const c = await initialized(f.socket);
  const s = ok(await c.call('C_OpenSession', SLOT, 4), 'open')[0] as bigint;
  assert.deepEqual(ok(await c.call('C_GenerateRandom', s, 0), 'zero')[0], { data: new Uint8Array(0) });
  assert.equal((ok(await c.call('C_GenerateRandom', s, 32), 'random')[0] as { data: Uint8Array }).data.length, 32);
  ok(await c.call('C_DigestInit', s, { type: 0x250, param: Buffer.from('ffffffff', 'hex') }), 'digest init');
  const d = (ok(await c.call('C_Digest', s, Buffer.from('abc'), 64), 'digest')[0] as { data: Uint8Array }).data;
  assert.equal(Buffer.from(d).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'); // FIPS 180-4 example "abc"
  assert.equal(ckr(await c.call('C_DigestKey', s, 1n)), CKR.OPERATION_NOT_INITIALIZED);
  assert.equal(ckr(await c.call('C_OpenSession', SLOT, 2)), CKR.SESSION_PARALLEL_NOT_SUPPORTED);
  assert.equal(ckr(await c.call('C_SignRecoverInit', s, { type: 1, param: Buffer.from('ffffffff', 'hex') }, 1n)), CKR.FUNCTION_NOT_SUPPORTED);
  c.close();
});

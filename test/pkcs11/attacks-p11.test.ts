// The attacks of attacks.md A-01…A-24 performed through PKCS#11: pkcs11js loads the real
// p11-kit-client.so (0.24.1, protocol 0) with CKF_OS_LOCKING_OK and talks to the fixture server
// in a worker thread. Each test asserts the exact CKR of every refusal and that nothing was
// created or changed. Steps whose mechanism a 0.24.1 client cannot put on the wire (AES-KW/KWP,
// ECDH1-DERIVE, the simple KDFs, nested templates, malformed frames) go through the raw RPC
// client at protocol 2, and the test name says so.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import { CKA, CKU } from '../../src/frontends/pkcs11/constants.js';
import { slotFor } from '../../src/frontends/pkcs11/slots.js';
import { Writer } from '../../src/frontends/pkcs11/wire.js';
import { SO_PIN, USER_PIN } from './p11-fixture.js';
import { type Handle, hex, loadClient, type P11, pkcs11js as K, readAttr, readBool, refused, rv, type WorkerServer, workerServer } from './pkcs11js-support.js';
import { boolAttr, bytesAttr, initialized, type Mech, type Reply, type RpcClient, ulongAttr } from './rpc-client.js';
import type { WireAttribute } from '../../src/frontends/pkcs11/attribute-wire.js';

// PKCS#11 v3.0 numbers pkcs11js 2.1.7 does not export.
const CKZ_DATA_SPECIFIED = 1;
const CKR_ACTION_PROHIBITED = 0x1b;

type Template = { type: number; value?: number | boolean | string | Buffer }[];

let srv: WorkerServer;
let p: P11;
let slot: Handle;
/** A fresh session per test, so an operation a refused step left active cannot leak into the next test. */
let s: Handle;
const SLOT = BigInt(slotFor('p1').id);

before(async () => {
  srv = await workerServer();
  p = loadClient(srv.address);
  slot = p.C_GetSlotList(true)[0]!;
  const first = p.C_OpenSession(slot, K.CKF_SERIAL_SESSION | K.CKF_RW_SESSION);
  p.C_Login(first, K.CKU_USER, USER_PIN); // login state is the connection's, shared by its sessions
});
beforeEach(() => {
  s = p.C_OpenSession(slot, K.CKF_SERIAL_SESSION | K.CKF_RW_SESSION);
});
afterEach(() => {
  rv(() => p.C_CloseSession(s));
});
after(async () => {
  p.C_Finalize();
  p.close();
  await srv.close();
});

// --- helpers -------------------------------------------------------------------------------

const a = (type: number, value: number | boolean | string | Buffer): { type: number; value: number | boolean | string | Buffer } => ({ type, value });
const aesTpl = (extra: Template, len = 32): Template => [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_AES), a(K.CKA_VALUE_LEN, len), a(K.CKA_TOKEN, false), ...extra];
const genAes = (extra: Template, len = 32): Handle => p.C_GenerateKey(s, { mechanism: K.CKM_AES_KEY_GEN }, aesTpl(extra, len));
const importAes = (value: Buffer, extra: Template): Handle =>
  p.C_CreateObject(s, [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_AES), a(K.CKA_VALUE, value), a(K.CKA_TOKEN, false), ...extra]);
const rsaPair = (pub: Template, priv: Template): { publicKey: Handle; privateKey: Handle } =>
  p.C_GenerateKeyPair(
    s,
    { mechanism: K.CKM_RSA_PKCS_KEY_PAIR_GEN },
    [a(K.CKA_TOKEN, false), a(K.CKA_MODULUS_BITS, 2048), a(K.CKA_PUBLIC_EXPONENT, Buffer.from([1, 0, 1])), ...pub],
    [a(K.CKA_TOKEN, false), ...priv],
  );
const P256 = Buffer.from('06082a8648ce3d030107', 'hex');
const ecPair = (pub: Template, priv: Template): { publicKey: Handle; privateKey: Handle } =>
  p.C_GenerateKeyPair(s, { mechanism: K.CKM_EC_KEY_PAIR_GEN }, [a(K.CKA_TOKEN, false), a(K.CKA_EC_PARAMS, P256), ...pub], [a(K.CKA_TOKEN, false), ...priv]);
const OAEP = { mechanism: K.CKM_RSA_PKCS_OAEP, parameter: { type: K.CK_PARAMS_RSA_OAEP, hashAlg: K.CKM_SHA256, mgf: K.CKG_MGF1_SHA256, source: CKZ_DATA_SPECIFIED } };

/** Every object this session can see. */
function objects(): string[] {
  p.C_FindObjectsInit(s, []);
  const found = p.C_FindObjects(s, 10_000);
  p.C_FindObjectsFinal(s);
  return found.map((h) => h.toString('hex')).sort();
}

/** Asserts `fn` fails with `want` and that the set of objects is the same afterwards. */
function refusedNoChange(fn: () => unknown, want: number, what: string): void {
  const before = objects();
  refused(fn, want, what);
  assert.deepEqual(objects(), before, `${what}: no object created or destroyed`);
}

/** Asserts the listed boolean attributes of `o` still hold these values. */
function still(o: Handle, attrs: [number, boolean][], what: string): void {
  for (const [t, v] of attrs) assert.equal(readBool(p, s, o, t), v, `${what}: attribute ${hex(t)} unchanged`);
}

// --- the raw protocol-2 client, for what p11-kit 0.24.1 cannot send ------------------------

const ckr = (r: Reply): number => (r.ok ? 0 : r.ckr);
function ok(r: Reply, what: string): unknown[] {
  if (!r.ok) assert.fail(`${what}: CKR ${hex(r.ckr)}`);
  return r.values;
}
/** Protocol 2 mechanisms: the bare type for no-parameter ones, else a has-parameter byte (reference §9). */
const M2 = {
  none: (type: number): Mech => ({ type, param: Uint8Array.of(0) }),
  bare: (type: number): Mech => ({ type }),
  ecdh: (pub: Uint8Array, kdf = 1): Mech => ({ type: 0x1050, param: new Writer().u8(1).u64(kdf).byteArray(null).byteArray(pub).finish() }),
};
const CKM_AES_KWP = 0x210b;
const CKM_AES_KW = 0x2109;
const rawAes = (extra: WireAttribute[], len = 32): WireAttribute[] => [ulongAttr(CKA.CLASS, 4), ulongAttr(CKA.KEY_TYPE, 0x1f), ulongAttr(CKA.VALUE_LEN, len), boolAttr(CKA.TOKEN, false), ...extra];

async function rawSession(pin = USER_PIN, user: number = CKU.USER): Promise<{ c: RpcClient; rs: bigint }> {
  const c = await initialized(srv.socket, 2);
  const rs = ok(await c.call('C_OpenSession', SLOT, 6), 'open')[0] as bigint;
  ok(await c.call('C_Login', rs, user, Buffer.from(pin)), 'login');
  return { c, rs };
}
async function rawGen(c: RpcClient, rs: bigint, tpl: WireAttribute[]): Promise<bigint> {
  return ok(await c.call('C_GenerateKey', rs, M2.bare(0x1080), tpl), 'generate')[0] as bigint;
}
async function rawWrap(c: RpcClient, rs: bigint, mech: Mech, w: bigint, k: bigint): Promise<Reply> {
  return c.call('C_WrapKey', rs, mech, w, k, 4096);
}
function wrapped(r: Reply): Uint8Array {
  const v = ok(r, 'wrap')[0] as { data: Uint8Array };
  return v.data;
}

// --- the attacks ---------------------------------------------------------------------------

test('A-01: wrap+decrypt on one AES key is refused on generate, create, set and copy; nothing is created', () => {
  refusedNoChange(() => genAes([a(K.CKA_WRAP, true), a(K.CKA_DECRYPT, true)]), K.CKR_TEMPLATE_INCONSISTENT, 'C_GenerateKey {WRAP, DECRYPT}');
  refusedNoChange(() => importAes(randomBytes(32), [a(K.CKA_WRAP, true), a(K.CKA_DECRYPT, true)]), K.CKR_TEMPLATE_INCONSISTENT, 'C_CreateObject {WRAP, DECRYPT}');
  const w = genAes([a(K.CKA_WRAP, true), a(K.CKA_UNWRAP, true)]);
  refusedNoChange(() => p.C_SetAttributeValue(s, w, [a(K.CKA_DECRYPT, true)]), K.CKR_ATTRIBUTE_READ_ONLY, 'C_SetAttributeValue(W, {DECRYPT})');
  refusedNoChange(() => p.C_CopyObject(s, w, [a(K.CKA_DECRYPT, true)]), K.CKR_ATTRIBUTE_READ_ONLY, 'C_CopyObject(W, {DECRYPT})');
  still(w, [[K.CKA_DECRYPT, false], [K.CKA_WRAP, true]], 'W');
});

test('A-02: an RSA pair with a wrapping public half and a decrypting private half is refused; an unwrap key cannot decrypt an OAEP blob', () => {
  refusedNoChange(() => rsaPair([a(K.CKA_WRAP, true)], [a(K.CKA_DECRYPT, true)]), K.CKR_TEMPLATE_INCONSISTENT, 'pub{WRAP} priv{DECRYPT}');
  refusedNoChange(() => rsaPair([a(K.CKA_ENCRYPT, true)], [a(K.CKA_UNWRAP, true)]), K.CKR_TEMPLATE_INCONSISTENT, 'pub{ENCRYPT} priv{UNWRAP}');
  const pair = rsaPair([a(K.CKA_WRAP, true)], [a(K.CKA_UNWRAP, true)]);
  const victim = p.C_GenerateKey(s, { mechanism: K.CKM_GENERIC_SECRET_KEY_GEN }, [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_GENERIC_SECRET), a(K.CKA_VALUE_LEN, 14), a(K.CKA_TOKEN, false), a(K.CKA_SIGN, true), a(K.CKA_EXTRACTABLE, true)]);
  const blob = p.C_WrapKey(s, OAEP, pair.publicKey, victim, Buffer.alloc(512));
  assert.ok(blob.length === 256, 'the wrap itself worked (the refusal is the policy, not a broken wrap)');
  // The usage is refused at C_DecryptInit (PKCS#11 v3.0 §5.10), so no C_Decrypt can follow.
  refused(() => p.C_DecryptInit(s, OAEP, pair.privateKey), K.CKR_KEY_FUNCTION_NOT_PERMITTED, 'C_DecryptInit(OAEP, unwrap-only private key)');
  refused(() => p.C_Decrypt(s, blob, Buffer.alloc(256)), K.CKR_OPERATION_NOT_INITIALIZED, 'C_Decrypt(OAEP blob) after the refused init');
});

test('A-03: encrypt+unwrap on one key is refused on generate and create; a data key’s ciphertext of a chosen value never unwraps under it', () => {
  refusedNoChange(() => genAes([a(K.CKA_ENCRYPT, true), a(K.CKA_UNWRAP, true)]), K.CKR_TEMPLATE_INCONSISTENT, 'C_GenerateKey {ENCRYPT, UNWRAP}');
  refusedNoChange(() => importAes(randomBytes(32), [a(K.CKA_ENCRYPT, true), a(K.CKA_UNWRAP, true)]), K.CKR_TEMPLATE_INCONSISTENT, 'C_CreateObject {ENCRYPT, UNWRAP}');
  refusedNoChange(() => rsaPair([a(K.CKA_ENCRYPT, true), a(K.CKA_WRAP, true)], [a(K.CKA_DECRYPT, true), a(K.CKA_UNWRAP, true)]), K.CKR_TEMPLATE_INCONSISTENT, 'RSA pair {ENCRYPT, UNWRAP}');
  // Defence in depth: encrypt a chosen key value under an RSA data pair, then try to unwrap it with the same pair.
  const data = rsaPair([a(K.CKA_ENCRYPT, true)], [a(K.CKA_DECRYPT, true)]);
  p.C_EncryptInit(s, OAEP, data.publicKey);
  const c = p.C_Encrypt(s, randomBytes(16), Buffer.alloc(256));
  const tpl: Template = [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_AES), a(K.CKA_TOKEN, false), a(K.CKA_WRAP, true)];
  refusedNoChange(() => p.C_UnwrapKey(s, OAEP, data.privateKey, c, tpl), K.CKR_KEY_FUNCTION_NOT_PERMITTED, 'C_UnwrapKey with the decrypt key');
});

test('A-04: usage attributes are fixed after creation: a wrap key cannot lose WRAP and then gain DECRYPT', () => {
  const w = genAes([a(K.CKA_WRAP, true), a(K.CKA_UNWRAP, true)]);
  // Giving up a usage is the safe direction and allowed (attacks.md: "may be allowed") ...
  p.C_SetAttributeValue(s, w, [a(K.CKA_WRAP, false)]);
  // ... but the key's history as a wrapping key stays: it never gains a data role.
  refused(() => p.C_SetAttributeValue(s, w, [a(K.CKA_DECRYPT, true)]), K.CKR_ATTRIBUTE_READ_ONLY, 'C_SetAttributeValue(W, {DECRYPT=T}) after WRAP=F');
  refused(() => p.C_SetAttributeValue(s, w, [a(K.CKA_UNWRAP, false), a(K.CKA_ENCRYPT, true)]), K.CKR_ATTRIBUTE_READ_ONLY, 'C_SetAttributeValue(W, {UNWRAP=F, ENCRYPT=T})');
  refused(() => p.C_SetAttributeValue(s, w, [a(K.CKA_WRAP, true)]), K.CKR_ATTRIBUTE_READ_ONLY, 'C_SetAttributeValue(W, {WRAP=T}) again');
  still(w, [[K.CKA_WRAP, false], [K.CKA_UNWRAP, true], [K.CKA_DECRYPT, false], [K.CKA_ENCRYPT, false]], 'W');
});

test('A-05: SENSITIVE and EXTRACTABLE only move the safe way, on set and on copy; ALWAYS_SENSITIVE and NEVER_EXTRACTABLE are never set by a caller', () => {
  const ks = genAes([a(K.CKA_ENCRYPT, true), a(K.CKA_DECRYPT, true), a(K.CKA_SENSITIVE, true), a(K.CKA_EXTRACTABLE, true)]);
  const kne = genAes([a(K.CKA_ENCRYPT, true), a(K.CKA_EXTRACTABLE, false)]);
  refused(() => p.C_SetAttributeValue(s, ks, [a(K.CKA_SENSITIVE, false)]), K.CKR_ATTRIBUTE_READ_ONLY, 'SENSITIVE→F');
  refused(() => p.C_SetAttributeValue(s, kne, [a(K.CKA_EXTRACTABLE, true)]), K.CKR_ATTRIBUTE_READ_ONLY, 'EXTRACTABLE→T');
  refusedNoChange(() => p.C_CopyObject(s, ks, [a(K.CKA_SENSITIVE, false)]), K.CKR_ATTRIBUTE_READ_ONLY, 'copy with SENSITIVE=F');
  refusedNoChange(() => p.C_CopyObject(s, kne, [a(K.CKA_EXTRACTABLE, true)]), K.CKR_ATTRIBUTE_READ_ONLY, 'copy with EXTRACTABLE=T');
  refused(() => p.C_SetAttributeValue(s, ks, [a(K.CKA_ALWAYS_SENSITIVE, true)]), K.CKR_ATTRIBUTE_READ_ONLY, 'set ALWAYS_SENSITIVE');
  refused(() => p.C_SetAttributeValue(s, kne, [a(K.CKA_NEVER_EXTRACTABLE, true)]), K.CKR_ATTRIBUTE_READ_ONLY, 'set NEVER_EXTRACTABLE');
  still(ks, [[K.CKA_SENSITIVE, true], [K.CKA_EXTRACTABLE, true]], 'K_s');
  still(kne, [[K.CKA_EXTRACTABLE, false]], 'K_ne');
  // The safe direction is allowed.
  p.C_SetAttributeValue(s, ks, [a(K.CKA_EXTRACTABLE, false)]);
  still(ks, [[K.CKA_EXTRACTABLE, false]], 'K_s after EXTRACTABLE→F');
});

test('A-06: no secret component is readable: AES, generic secret, RSA private (every CRT part), EC private; the size query tells nothing; find by value is no oracle', () => {
  const value = randomBytes(32);
  const imported = importAes(value, [a(K.CKA_ENCRYPT, true), a(K.CKA_EXTRACTABLE, true)]);
  const kne = genAes([a(K.CKA_ENCRYPT, true), a(K.CKA_EXTRACTABLE, false), a(K.CKA_SENSITIVE, false)]);
  for (const [o, name] of [
    [imported, 'imported AES'],
    [kne, 'non-extractable AES with SENSITIVE=F asked'],
  ] as const) {
    assert.equal(readAttr(p, s, o, K.CKA_VALUE), K.CKR_ATTRIBUTE_SENSITIVE, `${name}: CKA_VALUE`);
  }
  const rsa = rsaPair([a(K.CKA_VERIFY, true)], [a(K.CKA_SIGN, true), a(K.CKA_EXTRACTABLE, true)]);
  for (const t of [K.CKA_PRIVATE_EXPONENT, K.CKA_PRIME_1, K.CKA_PRIME_2, K.CKA_EXPONENT_1, K.CKA_EXPONENT_2, K.CKA_COEFFICIENT]) {
    assert.equal(readAttr(p, s, rsa.privateKey, t), K.CKR_ATTRIBUTE_SENSITIVE, `RSA private ${hex(t)}`);
  }
  const modulus = readAttr(p, s, rsa.privateKey, K.CKA_MODULUS);
  assert.ok(Buffer.isBuffer(modulus) && modulus.length === 256, 'public parts of the same key are readable');
  const ec = ecPair([a(K.CKA_VERIFY, true)], [a(K.CKA_SIGN, true)]);
  assert.equal(readAttr(p, s, ec.privateKey, K.CKA_VALUE), K.CKR_ATTRIBUTE_SENSITIVE, 'EC private CKA_VALUE');
  // Find by the known value: no match (CKA_VALUE is never a search key for secrets).
  p.C_FindObjectsInit(s, [a(K.CKA_VALUE, value)]);
  const hits = p.C_FindObjects(s, 100);
  p.C_FindObjectsFinal(s);
  assert.equal(hits.length, 0, 'C_FindObjects {VALUE=k} finds nothing');
});

test('A-07: a copy keeps every restriction; COPYABLE=F, MODIFIABLE=F and DESTROYABLE=F are honoured', () => {
  const ks = genAes([a(K.CKA_ENCRYPT, true), a(K.CKA_SENSITIVE, true), a(K.CKA_EXTRACTABLE, false)]);
  const copy = p.C_CopyObject(s, ks, [a(K.CKA_LABEL, 'copy')]);
  still(copy, [[K.CKA_SENSITIVE, true], [K.CKA_EXTRACTABLE, false], [K.CKA_ALWAYS_SENSITIVE, true], [K.CKA_NEVER_EXTRACTABLE, true]], 'copy');
  assert.equal(readAttr(p, s, copy, K.CKA_VALUE), K.CKR_ATTRIBUTE_SENSITIVE, 'copy CKA_VALUE');
  const noCopy = genAes([a(K.CKA_ENCRYPT, true), a(K.CKA_COPYABLE, false)]);
  refusedNoChange(() => p.C_CopyObject(s, noCopy, []), CKR_ACTION_PROHIBITED, 'copy a COPYABLE=F key');
  const noMod = genAes([a(K.CKA_ENCRYPT, true), a(K.CKA_MODIFIABLE, false), a(K.CKA_LABEL, 'fixed')]);
  refused(() => p.C_SetAttributeValue(s, noMod, [a(K.CKA_LABEL, 'moved')]), CKR_ACTION_PROHIBITED, 'set LABEL on a MODIFIABLE=F key');
  assert.equal(String(readAttr(p, s, noMod, K.CKA_LABEL)), 'fixed');
  const noDel = genAes([a(K.CKA_ENCRYPT, true), a(K.CKA_DESTROYABLE, false)]);
  refusedNoChange(() => p.C_DestroyObject(s, noDel), CKR_ACTION_PROHIBITED, 'destroy a DESTROYABLE=F key');
});

test('A-08 (wrap steps over raw RPC, protocol 2: AES-KWP): a key unwrapped once cannot be unwrapped again as a wrapping key, nor decrypt what the wrap key wrapped', async () => {
  const { c, rs } = await rawSession();
  try {
    const w = await rawGen(c, rs, rawAes([boolAttr(CKA.WRAP, true), boolAttr(CKA.UNWRAP, true)]));
    const k2 = await rawGen(c, rs, rawAes([boolAttr(CKA.ENCRYPT, true), boolAttr(CKA.DECRYPT, true), boolAttr(CKA.EXTRACTABLE, true)]));
    const blob = wrapped(await rawWrap(c, rs, M2.none(CKM_AES_KWP), w, k2));
    const tpl = [ulongAttr(CKA.CLASS, 4), ulongAttr(CKA.KEY_TYPE, 0x1f), boolAttr(CKA.TOKEN, false)];
    assert.equal(hex(ckr(await c.call('C_UnwrapKey', rs, M2.none(CKM_AES_KWP), w, blob, [...tpl, boolAttr(CKA.WRAP, true)]))), hex(K.CKR_TEMPLATE_INCONSISTENT), 'unwrap as a wrapping key');
    assert.equal(hex(ckr(await c.call('C_UnwrapKey', rs, M2.none(CKM_AES_KWP), w, blob, [...tpl, boolAttr(CKA.WRAP, true), boolAttr(CKA.TRUSTED, true)]))), hex(K.CKR_ATTRIBUTE_READ_ONLY), 'unwrap as trusted');
    assert.equal(hex(ckr(await c.call('C_GenerateKey', rs, M2.bare(0x1080), rawAes([boolAttr(CKA.WRAP, true), boolAttr(CKA.UNWRAP, true), boolAttr(CKA.EXTRACTABLE, true)])))), hex(K.CKR_TEMPLATE_INCONSISTENT), 'extractable wrapping key');
    assert.equal(hex(ckr(await rawWrap(c, rs, M2.none(CKM_AES_KWP), w, w))), hex(K.CKR_KEY_UNEXTRACTABLE), 'wrap the wrapping key');
    // Defence in depth: the decrypt-role copy of K2 reads nothing the wrap key wrapped.
    const k2b = ok(await c.call('C_UnwrapKey', rs, M2.none(CKM_AES_KWP), w, blob, [...tpl, boolAttr(CKA.DECRYPT, true)]), 'unwrap as data key')[0] as bigint;
    const victim = await rawGen(c, rs, rawAes([boolAttr(CKA.ENCRYPT, true), boolAttr(CKA.EXTRACTABLE, true)]));
    const vblob = wrapped(await rawWrap(c, rs, M2.none(CKM_AES_KW), w, victim));
    ok(await c.call('C_DecryptInit', rs, M2.none(CKM_AES_KW), k2b), 'decrypt init');
    assert.equal(hex(ckr(await c.call('C_Decrypt', rs, vblob, 64))), hex(K.CKR_ENCRYPTED_DATA_INVALID), 'decrypt the victim blob with the copy');
  } finally {
    c.close();
  }
});

test('A-09: a look-alike key cannot be planted as a wrapping key; another connection cannot touch this one’s objects by handle (client B over raw RPC)', async () => {
  const kek = genAes([a(K.CKA_WRAP, true), a(K.CKA_UNWRAP, true), a(K.CKA_LABEL, 'payroll-kek'), a(K.CKA_ID, Buffer.from('01', 'hex'))]);
  refusedNoChange(() => importAes(randomBytes(32), [a(K.CKA_WRAP, true), a(K.CKA_LABEL, 'payroll-kek'), a(K.CKA_ID, Buffer.from('01', 'hex'))]), K.CKR_TEMPLATE_INCONSISTENT, 'import a look-alike WRAP key');
  const uid = readAttr(p, s, kek, CKA.UNIQUE_ID);
  assert.ok(Buffer.isBuffer(uid) && uid.length > 0, 'every object has CKA_UNIQUE_ID');
  refused(() => p.C_SetAttributeValue(s, kek, [a(CKA.UNIQUE_ID, Buffer.from('x'))]), K.CKR_ATTRIBUTE_READ_ONLY, 'CKA_UNIQUE_ID is fixed');
  const c = await initialized(srv.socket, 2);
  try {
    const rs = ok(await c.call('C_OpenSession', SLOT, 6), 'open')[0] as bigint;
    const handle = kek.readBigUInt64LE(0);
    assert.equal(hex(ckr(await c.call('C_SetAttributeValue', rs, handle, [bytesAttr(CKA.LABEL, Buffer.from('mine'))]))), hex(K.CKR_OBJECT_HANDLE_INVALID), 'client B relabels A’s key');
    assert.equal(String(readAttr(p, s, kek, K.CKA_LABEL)), 'payroll-kek');
  } finally {
    c.close();
  }
});

test('A-10 (AES wraps over raw RPC, protocol 2): no key is wrapped under a weaker one (AES-128 over AES-256, RSA-2048 over AES-256 through p11-kit-client); RSA-1024 wrap keys are not made', async () => {
  const k256 = genAes([a(K.CKA_ENCRYPT, true), a(K.CKA_EXTRACTABLE, true)]);
  const rsa = rsaPair([a(K.CKA_WRAP, true)], [a(K.CKA_UNWRAP, true)]);
  refused(() => p.C_WrapKey(s, OAEP, rsa.publicKey, k256, Buffer.alloc(512)), K.CKR_WRAPPING_KEY_TYPE_INCONSISTENT, 'RSA-2048 (112-bit) wraps AES-256');
  refusedNoChange(
    () => p.C_GenerateKeyPair(s, { mechanism: K.CKM_RSA_PKCS_KEY_PAIR_GEN }, [a(K.CKA_TOKEN, false), a(K.CKA_MODULUS_BITS, 1024), a(K.CKA_WRAP, true)], [a(K.CKA_TOKEN, false), a(K.CKA_UNWRAP, true)]),
    K.CKR_KEY_SIZE_RANGE,
    'RSA-1024 wrap pair',
  );
  const { c, rs } = await rawSession();
  try {
    const w128 = await rawGen(c, rs, rawAes([boolAttr(CKA.WRAP, true), boolAttr(CKA.UNWRAP, true)], 16));
    const r256 = await rawGen(c, rs, rawAes([boolAttr(CKA.ENCRYPT, true), boolAttr(CKA.EXTRACTABLE, true)]));
    assert.equal(hex(ckr(await rawWrap(c, rs, M2.none(CKM_AES_KWP), w128, r256))), hex(K.CKR_WRAPPING_KEY_TYPE_INCONSISTENT), 'AES-128 wraps AES-256');
  } finally {
    c.close();
  }
});

test('A-11: no ECB wrapping of TDES keys (DES3-ECB through p11-kit-client), and a TDES key with equal halves is refused on import', () => {
  const kek = p.C_GenerateKey(s, { mechanism: K.CKM_DES3_KEY_GEN }, [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_DES3), a(K.CKA_TOKEN, false), a(K.CKA_WRAP, true), a(K.CKA_UNWRAP, true)]);
  const victim = p.C_GenerateKey(s, { mechanism: K.CKM_DES2_KEY_GEN }, [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_DES2), a(K.CKA_TOKEN, false), a(K.CKA_ENCRYPT, true), a(K.CKA_EXTRACTABLE, true)]);
  refused(() => p.C_WrapKey(s, { mechanism: K.CKM_DES3_ECB }, kek, victim, Buffer.alloc(64)), K.CKR_MECHANISM_INVALID, 'C_WrapKey(DES3-ECB)');
  refusedNoChange(() => p.C_UnwrapKey(s, { mechanism: K.CKM_DES3_ECB }, kek, Buffer.alloc(16), [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_DES2), a(K.CKA_ENCRYPT, true)]), K.CKR_MECHANISM_INVALID, 'C_UnwrapKey(DES3-ECB)');
  const half = Buffer.from('0123456789abcdef', 'hex');
  refusedNoChange(
    () => p.C_CreateObject(s, [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_DES2), a(K.CKA_TOKEN, false), a(K.CKA_VALUE, Buffer.concat([half, half])), a(K.CKA_ENCRYPT, true)]),
    K.CKR_ATTRIBUTE_VALUE_INVALID,
    'import L‖L',
  );
});

test('A-12: the user cannot import a wrapping key (secret, or RSA public by components); a WRAP_WITH_TRUSTED key refuses an untrusted wrapping key', () => {
  refusedNoChange(() => importAes(randomBytes(32), [a(K.CKA_WRAP, true)]), K.CKR_TEMPLATE_INCONSISTENT, 'import an AES wrap key');
  const donor = rsaPair([a(K.CKA_VERIFY, true)], [a(K.CKA_SIGN, true)]);
  const n = readAttr(p, s, donor.publicKey, K.CKA_MODULUS) as Buffer;
  const pubTpl = (extra: Template): Template => [a(K.CKA_CLASS, K.CKO_PUBLIC_KEY), a(K.CKA_KEY_TYPE, K.CKK_RSA), a(K.CKA_TOKEN, false), a(K.CKA_MODULUS, n), a(K.CKA_PUBLIC_EXPONENT, Buffer.from([1, 0, 1])), ...extra];
  // Keys are not imported by components at all (CKA_MODULUS on create is an unknown attribute), wrapping or not.
  refusedNoChange(() => p.C_CreateObject(s, pubTpl([a(K.CKA_WRAP, true)])), K.CKR_ATTRIBUTE_TYPE_INVALID, 'import an RSA public wrap key by components');
  // Defence in depth: a locally generated but untrusted wrapping key may not wrap a WRAP_WITH_TRUSTED key.
  const victim = p.C_GenerateKey(s, { mechanism: K.CKM_GENERIC_SECRET_KEY_GEN }, [
    a(K.CKA_CLASS, K.CKO_SECRET_KEY),
    a(K.CKA_KEY_TYPE, K.CKK_GENERIC_SECRET),
    a(K.CKA_VALUE_LEN, 14),
    a(K.CKA_TOKEN, false),
    a(K.CKA_SIGN, true),
    a(K.CKA_EXTRACTABLE, true),
    a(K.CKA_WRAP_WITH_TRUSTED, true),
  ]);
  const rsa = rsaPair([a(K.CKA_WRAP, true)], [a(K.CKA_UNWRAP, true)]);
  refused(() => p.C_WrapKey(s, OAEP, rsa.publicKey, victim, Buffer.alloc(512)), K.CKR_KEY_NOT_WRAPPABLE, 'wrap a WRAP_WITH_TRUSTED key under an untrusted key');
});

test('A-13 (officer steps over raw RPC as CKU_SO): TRUSTED is the officer’s alone on every path; WRAP_WITH_TRUSTED is one-way; a trusted key never decrypts', async () => {
  const w = genAes([a(K.CKA_WRAP, true), a(K.CKA_UNWRAP, true)]);
  refused(() => p.C_SetAttributeValue(s, w, [a(K.CKA_TRUSTED, true)]), K.CKR_ATTRIBUTE_READ_ONLY, 'user sets TRUSTED');
  refusedNoChange(() => importAes(randomBytes(32), [a(K.CKA_WRAP, true), a(K.CKA_TRUSTED, true)]), K.CKR_ATTRIBUTE_READ_ONLY, 'user creates a TRUSTED key');
  refusedNoChange(() => genAes([a(K.CKA_WRAP, true), a(K.CKA_TRUSTED, true)]), K.CKR_ATTRIBUTE_READ_ONLY, 'user generates a TRUSTED key');
  still(w, [[K.CKA_TRUSTED, false]], 'W');
  const ks = genAes([a(K.CKA_ENCRYPT, true), a(K.CKA_EXTRACTABLE, true), a(K.CKA_WRAP_WITH_TRUSTED, true)]);
  refused(() => p.C_SetAttributeValue(s, ks, [a(K.CKA_WRAP_WITH_TRUSTED, false)]), K.CKR_ATTRIBUTE_READ_ONLY, 'WRAP_WITH_TRUSTED→F');
  refusedNoChange(() => p.C_CopyObject(s, ks, [a(K.CKA_WRAP_WITH_TRUSTED, false)]), K.CKR_ATTRIBUTE_READ_ONLY, 'copy with WRAP_WITH_TRUSTED=F');
  const { c, rs } = await rawSession(SO_PIN, CKU.SO);
  try {
    const tpl = [ulongAttr(CKA.CLASS, 4), ulongAttr(CKA.KEY_TYPE, 0x1f), boolAttr(CKA.TOKEN, false), bytesAttr(CKA.VALUE, randomBytes(32)), boolAttr(CKA.WRAP, true), boolAttr(CKA.TRUSTED, true)];
    assert.equal(hex(ckr(await c.call('C_CreateObject', rs, [...tpl, boolAttr(CKA.DECRYPT, true)]))), hex(K.CKR_TEMPLATE_INCONSISTENT), 'officer creates a trusted key that decrypts');
    const wt = ok(await c.call('C_CreateObject', rs, tpl), 'officer creates a trusted wrap key')[0] as bigint;
    // The officer manages trust and never uses keys.
    assert.equal(hex(ckr(await rawWrap(c, rs, M2.none(CKM_AES_KWP), wt, wt))), hex(K.CKR_USER_TYPE_INVALID), 'officer wraps');
  } finally {
    c.close();
  }
});

test('A-14 (nested templates over raw RPC, protocol 2): WRAP_TEMPLATE binds what may be wrapped and is fixed; UNWRAP_TEMPLATE cannot be contradicted; deep nesting is refused', async () => {
  const so = await rawSession(SO_PIN, CKU.SO);
  const user = await rawSession();
  try {
    const wrapTemplate = { type: CKA.WRAP_TEMPLATE, length: 24 * 2, value: { kind: 'attrs', v: [ulongAttr(CKA.KEY_TYPE, 0x1f), boolAttr(CKA.WRAP_WITH_TRUSTED, true)] } } as WireAttribute;
    const tpl = [ulongAttr(CKA.CLASS, 4), ulongAttr(CKA.KEY_TYPE, 0x1f), boolAttr(CKA.TOKEN, true), bytesAttr(CKA.VALUE, randomBytes(32)), boolAttr(CKA.WRAP, true), boolAttr(CKA.UNWRAP, true), boolAttr(CKA.TRUSTED, true)];
    const soW = ok(await so.c.call('C_CreateObject', so.rs, [...tpl, bytesAttr(CKA.LABEL, Buffer.from('a14-w')), wrapTemplate]), 'officer creates W with a WRAP_TEMPLATE')[0] as bigint;
    const unwrapTemplate = { type: CKA.UNWRAP_TEMPLATE, length: 24 * 3, value: { kind: 'attrs', v: [boolAttr(CKA.SENSITIVE, true), boolAttr(CKA.EXTRACTABLE, false), boolAttr(CKA.DECRYPT, true)] } } as WireAttribute;
    const soU = ok(
      await so.c.call('C_CreateObject', so.rs, [...tpl.map((t) => (t.type === CKA.VALUE ? bytesAttr(CKA.VALUE, randomBytes(32)) : t)), bytesAttr(CKA.LABEL, Buffer.from('a14-u')), unwrapTemplate]),
      'officer creates U with an UNWRAP_TEMPLATE',
    )[0] as bigint;
    const find = async (label: string): Promise<bigint> => {
      ok(await user.c.call('C_FindObjectsInit', user.rs, [bytesAttr(CKA.LABEL, Buffer.from(label))]), 'find init');
      const r = ok(await user.c.call('C_FindObjects', user.rs, 10), 'find')[0] as { items: bigint[] };
      ok(await user.c.call('C_FindObjectsFinal', user.rs), 'find final');
      assert.equal(r.items.length, 1, label);
      return r.items[0]!;
    };
    const w = await find('a14-w');
    const u = await find('a14-u');
    const noWwt = await rawGen(user.c, user.rs, rawAes([boolAttr(CKA.ENCRYPT, true), boolAttr(CKA.EXTRACTABLE, true)]));
    assert.equal(hex(ckr(await rawWrap(user.c, user.rs, M2.none(CKM_AES_KWP), w, noWwt))), hex(K.CKR_KEY_NOT_WRAPPABLE), 'wrap a key the WRAP_TEMPLATE does not match');
    const good = await rawGen(user.c, user.rs, rawAes([boolAttr(CKA.ENCRYPT, true), boolAttr(CKA.EXTRACTABLE, true), boolAttr(CKA.WRAP_WITH_TRUSTED, true)]));
    const blob = wrapped(await rawWrap(user.c, user.rs, M2.none(CKM_AES_KWP), u, good));
    const utpl = [ulongAttr(CKA.CLASS, 4), ulongAttr(CKA.KEY_TYPE, 0x1f), boolAttr(CKA.TOKEN, false)];
    assert.equal(hex(ckr(await user.c.call('C_UnwrapKey', user.rs, M2.none(CKM_AES_KWP), u, blob, [...utpl, boolAttr(CKA.EXTRACTABLE, true)]))), hex(K.CKR_TEMPLATE_INCONSISTENT), 'unwrap contradicting the UNWRAP_TEMPLATE');
    const empty = { type: CKA.WRAP_TEMPLATE, length: 0, value: { kind: 'attrs', v: [] } } as WireAttribute;
    assert.equal(hex(ckr(await user.c.call('C_SetAttributeValue', user.rs, w, [empty]))), hex(K.CKR_ATTRIBUTE_READ_ONLY), 'user clears the WRAP_TEMPLATE');
    // 1000 levels of nested templates: refused, and the server carries on.
    let deep: WireAttribute = boolAttr(CKA.SENSITIVE, true);
    for (let i = 0; i < 1000; i++) deep = { type: CKA.UNWRAP_TEMPLATE, length: 24, value: { kind: 'attrs', v: [deep] } };
    const r = await user.c.call('C_GenerateKey', user.rs, M2.bare(0x1080), rawAes([boolAttr(CKA.WRAP, true), deep]));
    assert.ok(!r.ok, 'deeply nested template refused');
    assert.ok(p.C_GetTokenInfo(p.C_GetSlotList(true)[0]!).label.startsWith('p1'), 'the pkcs11js connection still works');
    // The officer manages keys but never uses or destroys them through a session (USER_TYPE_INVALID).
    for (const o of [soW, soU]) assert.equal(hex(ckr(await so.c.call('C_DestroyObject', so.rs, o))), hex(K.CKR_USER_TYPE_INVALID), 'officer destroys its key');
  } finally {
    so.c.close();
    user.c.close();
  }
});

test('A-15: ALWAYS_SENSITIVE, NEVER_EXTRACTABLE and LOCAL are computed, never taken from a template', () => {
  const g = genAes([a(K.CKA_ENCRYPT, true), a(K.CKA_SENSITIVE, true), a(K.CKA_EXTRACTABLE, false)]);
  still(g, [[K.CKA_ALWAYS_SENSITIVE, true], [K.CKA_NEVER_EXTRACTABLE, true], [K.CKA_LOCAL, true]], 'generated');
  const imp = importAes(randomBytes(32), [a(K.CKA_ENCRYPT, true)]);
  still(imp, [[K.CKA_ALWAYS_SENSITIVE, false], [K.CKA_NEVER_EXTRACTABLE, false], [K.CKA_LOCAL, false]], 'imported');
  const copy = p.C_CopyObject(s, imp, []);
  still(copy, [[K.CKA_ALWAYS_SENSITIVE, false], [K.CKA_LOCAL, false]], 'copy of imported');
  for (const t of [K.CKA_ALWAYS_SENSITIVE, K.CKA_NEVER_EXTRACTABLE, K.CKA_LOCAL]) {
    refusedNoChange(() => importAes(randomBytes(32), [a(K.CKA_ENCRYPT, true), a(t, true)]), K.CKR_ATTRIBUTE_READ_ONLY, `create with ${hex(t)}`);
    refusedNoChange(() => genAes([a(K.CKA_ENCRYPT, true), a(t, true)]), K.CKR_ATTRIBUTE_READ_ONLY, `generate with ${hex(t)}`);
  }
});

test('A-16 (derive over raw RPC, protocol 2): the simple KDFs are not offered; HKDF cannot be driven over the wire; p11-kit-client refuses them locally', async () => {
  const base = p.C_GenerateKey(s, { mechanism: K.CKM_GENERIC_SECRET_KEY_GEN }, [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_GENERIC_SECRET), a(K.CKA_VALUE_LEN, 32), a(K.CKA_TOKEN, false), a(K.CKA_DERIVE, true)]);
  const tpl: Template = [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_GENERIC_SECRET), a(K.CKA_VALUE_LEN, 1), a(K.CKA_SIGN, true)];
  refusedNoChange(() => p.C_DeriveKey(s, { mechanism: K.CKM_EXTRACT_KEY_FROM_KEY, parameter: Buffer.alloc(8) }, base, tpl), K.CKR_MECHANISM_INVALID, 'EXTRACT_KEY_FROM_KEY via p11-kit-client');
  const { c, rs } = await rawSession();
  try {
    const rbase = await rawGen(c, rs, [ulongAttr(CKA.CLASS, 4), ulongAttr(CKA.KEY_TYPE, 0x10), ulongAttr(CKA.VALUE_LEN, 32), boolAttr(CKA.TOKEN, false), boolAttr(CKA.DERIVE, true)]).catch(async () =>
      ok(await c.call('C_GenerateKey', rs, M2.bare(0x350), [ulongAttr(CKA.CLASS, 4), ulongAttr(CKA.KEY_TYPE, 0x10), ulongAttr(CKA.VALUE_LEN, 32), boolAttr(CKA.TOKEN, false), boolAttr(CKA.DERIVE, true)]), 'gen')[0] as bigint,
    );
    const rtpl = [ulongAttr(CKA.CLASS, 4), ulongAttr(CKA.KEY_TYPE, 0x10), ulongAttr(CKA.VALUE_LEN, 1), boolAttr(CKA.SIGN, true), boolAttr(CKA.TOKEN, false)];
    for (const [mech, name] of [
      [0x365, 'EXTRACT_KEY_FROM_KEY'],
      [0x360, 'CONCATENATE_BASE_AND_KEY'],
      [0x362, 'CONCATENATE_DATA_AND_BASE'],
      [0x364, 'XOR_BASE_AND_DATA'],
    ] as const) {
      const r = await c.call('C_DeriveKey', rs, { type: mech, param: new Writer().u8(1).byteArray(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0)).finish() }, rbase, rtpl);
      assert.equal(hex(ckr(r)), hex(K.CKR_MECHANISM_INVALID), name);
    }
    // HKDF's CK_HKDF_PARAMS has pointers; no p11-kit version serialises it, so it never reaches the boundary.
    const r = await c.call('C_DeriveKey', rs, { type: 0x402a, param: new Writer().u8(1).byteArray(new Uint8Array(48)).finish() }, rbase, rtpl);
    assert.equal(hex(ckr(r)), hex(K.CKR_MECHANISM_PARAM_INVALID), 'HKDF with raw client memory as parameter');
  } finally {
    c.close();
  }
});

test('A-17: a duplicated attribute is refused on every creation and modification path; nothing is created', () => {
  const dup = [a(K.CKA_SENSITIVE, true), a(K.CKA_SENSITIVE, false), a(K.CKA_ENCRYPT, true)];
  refusedNoChange(() => genAes(dup), K.CKR_TEMPLATE_INCONSISTENT, 'C_GenerateKey');
  refusedNoChange(() => importAes(randomBytes(32), dup), K.CKR_TEMPLATE_INCONSISTENT, 'C_CreateObject');
  const k = genAes([a(K.CKA_ENCRYPT, true)]);
  refused(() => p.C_SetAttributeValue(s, k, [a(K.CKA_LABEL, 'x'), a(K.CKA_LABEL, 'y')]), K.CKR_TEMPLATE_INCONSISTENT, 'C_SetAttributeValue');
  refusedNoChange(() => p.C_CopyObject(s, k, [a(K.CKA_EXTRACTABLE, false), a(K.CKA_EXTRACTABLE, true)]), K.CKR_TEMPLATE_INCONSISTENT, 'C_CopyObject');
  refusedNoChange(() => rsaPair([a(K.CKA_VERIFY, true)], [a(K.CKA_SIGN, true), a(K.CKA_EXTRACTABLE, false), a(K.CKA_EXTRACTABLE, true)]), K.CKR_TEMPLATE_INCONSISTENT, 'C_GenerateKeyPair');
});

test('A-18 (ECDH1-DERIVE over raw RPC, protocol 2): off-curve, infinity, wrong-length and other-curve points are refused', async () => {
  const { c, rs } = await rawSession();
  try {
    const pair = ok(
      await c.call('C_GenerateKeyPair', rs, M2.bare(0x1040), [boolAttr(CKA.TOKEN, false), bytesAttr(CKA.EC_PARAMS, P256)], [boolAttr(CKA.TOKEN, false), boolAttr(CKA.DERIVE, true)]),
      'ECDH pair',
    );
    const priv = pair[1] as bigint;
    const tpl = [ulongAttr(CKA.CLASS, 4), ulongAttr(CKA.KEY_TYPE, 0x10), ulongAttr(CKA.VALUE_LEN, 32), boolAttr(CKA.TOKEN, false), boolAttr(CKA.SIGN, true)];
    const offCurve = Buffer.concat([Buffer.from([4]), Buffer.alloc(31), Buffer.from([1]), Buffer.alloc(31), Buffer.from([1])]);
    const p384 = Buffer.concat([Buffer.from([4]), randomBytes(96)]);
    for (const [pt, name] of [
      [offCurve, 'off-curve point'],
      [Buffer.from([0]), 'point at infinity'],
      [Buffer.alloc(65, 0xff), 'coordinates ≥ p'],
      [p384, 'a P-384-sized point'],
    ] as const) {
      const r = await c.call('C_DeriveKey', rs, M2.ecdh(pt), priv, tpl);
      assert.equal(hex(ckr(r)), hex(K.CKR_DOMAIN_PARAMS_INVALID), name);
    }
  } finally {
    c.close();
  }
});

test('A-19: an RSA key never both signs and decrypts; CKM_RSA_X_509 is not offered (through p11-kit-client)', () => {
  refusedNoChange(() => rsaPair([a(K.CKA_VERIFY, true), a(K.CKA_ENCRYPT, true)], [a(K.CKA_SIGN, true), a(K.CKA_DECRYPT, true)]), K.CKR_TEMPLATE_INCONSISTENT, 'RSA {SIGN, DECRYPT}');
  const dec = rsaPair([a(K.CKA_ENCRYPT, true)], [a(K.CKA_DECRYPT, true)]);
  refused(() => p.C_DecryptInit(s, { mechanism: K.CKM_RSA_X_509 }, dec.privateKey), K.CKR_MECHANISM_INVALID, 'C_DecryptInit(RSA_X_509)');
  refused(() => p.C_SignInit(s, { mechanism: K.CKM_RSA_X_509 }, dec.privateKey), K.CKR_MECHANISM_INVALID, 'C_SignInit(RSA_X_509)');
  refused(() => p.C_SignInit(s, { mechanism: K.CKM_SHA256_RSA_PKCS }, dec.privateKey), K.CKR_KEY_FUNCTION_NOT_PERMITTED, 'sign with the decrypt key (refused at C_SignInit)');
});

test('A-20 (unwrap over raw RPC, protocol 2): a bit-flipped wrapped RSA private key is refused; an inconsistent RSA private key cannot be imported', async () => {
  const { c, rs } = await rawSession();
  try {
    const w = await rawGen(c, rs, rawAes([boolAttr(CKA.WRAP, true), boolAttr(CKA.UNWRAP, true)]));
    const pair = ok(
      await c.call('C_GenerateKeyPair', rs, M2.bare(0x0), [boolAttr(CKA.TOKEN, false), ulongAttr(CKA.MODULUS_BITS, 2048), boolAttr(CKA.VERIFY, true)], [boolAttr(CKA.TOKEN, false), boolAttr(CKA.SIGN, true), boolAttr(CKA.EXTRACTABLE, true)]),
      'RSA pair',
    );
    const blob = Buffer.from(wrapped(await rawWrap(c, rs, M2.none(CKM_AES_KWP), w, pair[1] as bigint)));
    blob[200]! ^= 0x04;
    const tpl = [ulongAttr(CKA.CLASS, 3), ulongAttr(CKA.KEY_TYPE, 0), boolAttr(CKA.TOKEN, false), boolAttr(CKA.SIGN, true)];
    assert.equal(hex(ckr(await c.call('C_UnwrapKey', rs, M2.none(CKM_AES_KWP), w, blob, tpl))), hex(K.CKR_WRAPPED_KEY_INVALID), 'unwrap a tampered RSA private key');
  } finally {
    c.close();
  }
  // An inconsistent CRT key cannot arrive by C_CreateObject either: private keys are never imported by components.
  const n = Buffer.alloc(256, 0xc5);
  refusedNoChange(
    () =>
      p.C_CreateObject(s, [
        a(K.CKA_CLASS, K.CKO_PRIVATE_KEY),
        a(K.CKA_KEY_TYPE, K.CKK_RSA),
        a(K.CKA_TOKEN, false),
        a(K.CKA_MODULUS, n),
        a(K.CKA_PUBLIC_EXPONENT, Buffer.from([1, 0, 1])),
        a(K.CKA_PRIVATE_EXPONENT, Buffer.alloc(256, 3)),
        a(K.CKA_PRIME_1, Buffer.alloc(128, 7)),
        a(K.CKA_PRIME_2, Buffer.alloc(128, 9)),
        a(K.CKA_SIGN, true),
      ]),
    K.CKR_ATTRIBUTE_TYPE_INVALID,
    'import an RSA private key with dP ≠ d mod (p−1)',
  );
});

test('A-21 (KWP over raw RPC, protocol 2): no unwrap through ECB (p11-kit-client) or CBC; random and bit-flipped KWP blobs are CKR_WRAPPED_KEY_INVALID', async () => {
  const w = genAes([a(K.CKA_WRAP, true), a(K.CKA_UNWRAP, true)]);
  const tpl: Template = [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_AES), a(K.CKA_TOKEN, false), a(K.CKA_ENCRYPT, true)];
  refusedNoChange(() => p.C_UnwrapKey(s, { mechanism: K.CKM_AES_ECB }, w, randomBytes(32), tpl), K.CKR_MECHANISM_INVALID, 'unwrap with AES-ECB');
  const { c, rs } = await rawSession();
  try {
    const rw = await rawGen(c, rs, rawAes([boolAttr(CKA.WRAP, true), boolAttr(CKA.UNWRAP, true)]));
    const rtpl = [ulongAttr(CKA.CLASS, 4), ulongAttr(CKA.KEY_TYPE, 0x1f), boolAttr(CKA.TOKEN, false), boolAttr(CKA.ENCRYPT, true)];
    const cbc = { type: 0x1082, param: new Writer().u8(1).byteArray(new Uint8Array(16)).finish() };
    assert.equal(hex(ckr(await c.call('C_UnwrapKey', rs, cbc, rw, randomBytes(32), rtpl))), hex(K.CKR_MECHANISM_INVALID), 'unwrap with AES-CBC');
    assert.equal(hex(ckr(await c.call('C_UnwrapKey', rs, M2.none(CKM_AES_KWP), rw, randomBytes(40), rtpl))), hex(K.CKR_WRAPPED_KEY_INVALID), 'random KWP blob');
    const k = await rawGen(c, rs, rawAes([boolAttr(CKA.ENCRYPT, true), boolAttr(CKA.EXTRACTABLE, true)]));
    const blob = Buffer.from(wrapped(await rawWrap(c, rs, M2.none(CKM_AES_KWP), rw, k)));
    blob[0]! ^= 1;
    assert.equal(hex(ckr(await c.call('C_UnwrapKey', rs, M2.none(CKM_AES_KWP), rw, blob, rtpl))), hex(K.CKR_WRAPPED_KEY_INVALID), 'bit-flipped KWP blob');
  } finally {
    c.close();
  }
});

test('A-22 (client B over raw RPC): no login is inherited across connections, private objects are invisible before login, logout ends key use, SO cannot log in over a user login', async () => {
  const k = p.C_GenerateKey(s, { mechanism: K.CKM_AES_KEY_GEN }, [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_AES), a(K.CKA_VALUE_LEN, 32), a(K.CKA_TOKEN, true), a(K.CKA_ENCRYPT, true), a(K.CKA_LABEL, 'a22')]);
  const b = await initialized(srv.socket, 0);
  try {
    const bs = ok(await b.call('C_OpenSession', SLOT, 6), 'B open')[0] as bigint;
    ok(await b.call('C_FindObjectsInit', bs, []), 'B find init');
    const seen = ok(await b.call('C_FindObjects', bs, 100), 'B find')[0] as { items: bigint[] };
    assert.equal(seen.items.length, 0, 'B sees nothing before login');
    ok(await b.call('C_FindObjectsFinal', bs), 'B find final');
    assert.equal(hex(ckr(await b.call('C_EncryptInit', bs, { type: 0x1081, param: Buffer.from('ffffffff', 'hex') }, k.readBigUInt64LE(0)))), hex(K.CKR_USER_NOT_LOGGED_IN), 'B uses A’s handle');
  } finally {
    b.close();
  }
  const s2 = p.C_OpenSession(slot, K.CKF_SERIAL_SESSION | K.CKF_RW_SESSION);
  refused(() => p.C_Login(s2, K.CKU_SO, SO_PIN), K.CKR_USER_ANOTHER_ALREADY_LOGGED_IN, 'SO login while the user is logged in');
  p.C_SignInit(s2, { mechanism: K.CKM_SHA256_RSA_PKCS }, rsaPair([a(K.CKA_VERIFY, true)], [a(K.CKA_SIGN, true)]).privateKey);
  p.C_Logout(s2);
  try {
    refused(() => p.C_Sign(s2, Buffer.from('x'), Buffer.alloc(256)), K.CKR_OPERATION_NOT_INITIALIZED, 'the operation started before logout is gone');
    refused(() => p.C_EncryptInit(s, { mechanism: K.CKM_AES_ECB }, k), K.CKR_USER_NOT_LOGGED_IN, 'after logout A’s other session cannot use the key either');
  } finally {
    p.C_Login(s, K.CKU_USER, USER_PIN);
    p.C_CloseSession(s2);
  }
  p.C_DestroyObject(s, k);
});

test('A-23: bad mechanism parameters and mechanisms on the wrong key type are refused (OAEP hash mismatch, PSS salt, HMAC on AES through p11-kit-client; GCM over raw RPC)', async () => {
  const dec = rsaPair([a(K.CKA_ENCRYPT, true)], [a(K.CKA_DECRYPT, true)]);
  const badOaep = { mechanism: K.CKM_RSA_PKCS_OAEP, parameter: { type: K.CK_PARAMS_RSA_OAEP, hashAlg: 0x12345, mgf: K.CKG_MGF1_SHA256, source: CKZ_DATA_SPECIFIED } };
  refused(() => p.C_EncryptInit(s, badOaep, dec.publicKey), K.CKR_MECHANISM_PARAM_INVALID, 'OAEP with an unknown hash');
  const signer = rsaPair([a(K.CKA_VERIFY, true)], [a(K.CKA_SIGN, true)]);
  const pss = { mechanism: K.CKM_RSA_PKCS_PSS, parameter: { type: K.CK_PARAMS_RSA_PSS, hashAlg: K.CKM_SHA256, mgf: K.CKG_MGF1_SHA256, saltLen: 0x10000 } };
  refused(() => p.C_SignInit(s, pss, signer.privateKey), K.CKR_MECHANISM_PARAM_INVALID, 'PSS salt longer than any modulus');
  const aes = genAes([a(K.CKA_SIGN, true)]); // an AES-CMAC key: it may sign, but not with HMAC
  // Key type and mechanism are checked at C_SignInit (PKCS#11 v3.0 §5.13), and again by the boundary at the data call.
  refused(() => p.C_SignInit(s, { mechanism: K.CKM_SHA256_HMAC }, aes), K.CKR_KEY_TYPE_INCONSISTENT, 'HMAC with an AES key');
  refused(() => p.C_Sign(s, Buffer.from('m'), Buffer.alloc(64)), K.CKR_OPERATION_NOT_INITIALIZED, 'C_Sign after the refused HMAC init');
  refused(() => p.C_SignInit(s, { mechanism: K.CKM_ECDSA }, signer.privateKey), K.CKR_KEY_TYPE_INCONSISTENT, 'ECDSA with an RSA key');
  const { c, rs } = await rawSession();
  try {
    const k = await rawGen(c, rs, rawAes([boolAttr(CKA.ENCRYPT, true), boolAttr(CKA.DECRYPT, true)]));
    const gcm = (iv: Uint8Array, ivBits: number, tagBits: number): Mech => ({ type: 0x1087, param: new Writer().u8(1).byteArray(iv).u64(ivBits).byteArray(null).u64(tagBits).finish() });
    for (const [m, name] of [
      [gcm(new Uint8Array(12), 96, 0), 'GCM tag bits 0'],
      [gcm(new Uint8Array(12), 96, 129), 'GCM tag bits 129'],
      [gcm(new Uint8Array(12), 0xffffffff, 128), 'GCM ivBits 2^32−1'],
    ] as const) {
      assert.equal(hex(ckr(await c.call('C_DecryptInit', rs, m, k))), hex(K.CKR_MECHANISM_PARAM_INVALID), name);
    }
  } finally {
    c.close();
  }
});

test('A-24 (raw frames): unknown call ids, absurd lengths, truncated frames and calls before C_Initialize get an error or a closed connection; the pkcs11js connection carries on', async () => {
  const { RpcClient } = await import('./rpc-client.js');
  const signer = rsaPair([a(K.CKA_VERIFY, true)], [a(K.CKA_SIGN, true)]);
  const signOnce = (): Buffer => {
    p.C_SignInit(s, { mechanism: K.CKM_SHA256_RSA_PKCS }, signer.privateKey);
    return p.C_Sign(s, Buffer.from('still here'), Buffer.alloc(256));
  };
  assert.equal(signOnce().length, 256);
  const bodies: [string, Uint8Array][] = [
    ['unknown call id', new Writer().u32(9999).byteArray(Buffer.from('')).finish()],
    ['signature that does not match the call', new Writer().u32(1).byteArray(Buffer.from('uuuu')).finish()],
    ['attribute count 2^32−1', new Writer().u32(54).byteArray(Buffer.from('uaA')).u64(1).u32(0xffffffff).finish()],
    ['byte array longer than the frame', new Writer().u32(1).byteArray(Buffer.from('ayu')).u8(1).u32(0x7fffffff).finish()],
    ['empty body', new Uint8Array(0)],
  ];
  for (const [name, body] of bodies) {
    const c = await RpcClient.open(srv.socket, 2);
    const reply = await Promise.race([c.raw(body), new Promise<Buffer>((res) => setTimeout(() => res(Buffer.alloc(0)), 5000))]);
    assert.ok(reply.length === 0 || reply.readUInt32BE(12 + reply.readUInt32BE(4)) === 0, `${name}: an error reply or a closed connection`);
    c.close();
  }
  // A frame header that announces 1 GiB: the server must not wait for or allocate it.
  const c = await RpcClient.open(srv.socket, 2);
  const head = Buffer.alloc(12);
  head.writeUInt32BE(1, 0);
  head.writeUInt32BE(0, 4);
  head.writeUInt32BE(0x40000000, 8);
  c.socket.write(head);
  await new Promise((res) => setTimeout(res, 200));
  c.close();
  assert.equal(signOnce().length, 256, 'the pkcs11js connection still signs');
  // A connection that drops mid-call.
  const d = await initialized(srv.socket, 0);
  d.socket.write(Buffer.from([0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 50, 0, 0]));
  d.close();
  assert.equal(signOnce().length, 256, 'and after a dropped connection');
});

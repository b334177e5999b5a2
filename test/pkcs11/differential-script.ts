// The scripted PKCS#11 session of the SoftHSM2 differential test, run in a child process against
// whichever server P11_KIT_SERVER_ADDRESS names (p11-kit-client.so reads it once, at load): every
// step's CKR (and, where it matters, a returned value) is printed as one JSON array, so the test
// can compare the two servers step by step. Arguments: <user PIN> <SO PIN>.

import pkcs11js from 'pkcs11js';
import { ckrOf } from './pkcs11js-support.js';

const P11_KIT_CLIENT = '/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so';
const [userPin = '', soPin = ''] = process.argv.slice(2);
const K = pkcs11js;
type Value = number | boolean | string | Buffer;
const a = (type: number, value: Value): pkcs11js.Attribute => ({ type, value });

export interface Step {
  step: string;
  rv: number;
  value?: string;
}
const steps: Step[] = [];

/** Runs one step; records its CKR (0 on success) and, if `show` is given, a value derived from the result. */
function step<T>(name: string, fn: () => T, show?: (r: T) => string): T | undefined {
  try {
    const r = fn();
    steps.push(show ? { step: name, rv: 0, value: show(r) } : { step: name, rv: 0 });
    return r;
  } catch (e) {
    const rv = ckrOf(e);
    if (rv === undefined) throw e;
    steps.push({ step: name, rv });
    return undefined;
  }
}

const p = new pkcs11js.PKCS11();
p.load(P11_KIT_CLIENT);
p.C_Initialize({ flags: K.CKF_OS_LOCKING_OK });
const slot = p.C_GetSlotList(true)[0];
if (!slot) throw new Error('no slot');
const RW = K.CKF_SERIAL_SESSION | K.CKF_RW_SESSION;
// CK_INVALID_HANDLE, standing in for a handle a refused step did not return (the later steps then show how each server treats it).
const NONE = Buffer.alloc(8);

// --- sessions and login -----------------------------------------------------------------------
step('C_OpenSession without CKF_SERIAL_SESSION', () => p.C_OpenSession(slot, K.CKF_RW_SESSION));
const ro = step('C_OpenSession read-only', () => p.C_OpenSession(slot, K.CKF_SERIAL_SESSION)) ?? NONE;
const s = step('C_OpenSession read-write', () => p.C_OpenSession(slot, RW)) ?? NONE;
step('C_GetSessionInfo RO before login', () => p.C_GetSessionInfo(ro), (i) => `state ${i.state}`);
step('C_GetSessionInfo RW before login', () => p.C_GetSessionInfo(s), (i) => `state ${i.state}`);
step('C_GetSessionInfo on an invalid handle', () => p.C_GetSessionInfo(Buffer.from('ffffff7f00000000', 'hex')));
step('C_Logout before any login', () => p.C_Logout(s));
step('C_Login with a wrong PIN', () => p.C_Login(s, K.CKU_USER, 'wrong-pin'));
step('C_Login with an invalid user type', () => p.C_Login(s, 7, userPin));
step('C_Login SO while a read-only session exists', () => p.C_Login(s, K.CKU_SO, soPin));
step('C_Login user', () => p.C_Login(s, K.CKU_USER, userPin));
step('C_Login user again', () => p.C_Login(s, K.CKU_USER, userPin));
step('C_Login SO while the user is logged in', () => p.C_Login(s, K.CKU_SO, soPin));
step('C_GetSessionInfo RO after login', () => p.C_GetSessionInfo(ro), (i) => `state ${i.state}`);
step('C_GetSessionInfo RW after login', () => p.C_GetSessionInfo(s), (i) => `state ${i.state}`);

// --- objects ------------------------------------------------------------------------------------
const dataTpl = (token: boolean, label: string): pkcs11js.Template => [
  a(K.CKA_CLASS, K.CKO_DATA),
  a(K.CKA_TOKEN, token),
  a(K.CKA_PRIVATE, true),
  a(K.CKA_LABEL, label),
  a(K.CKA_VALUE, Buffer.from('hello data object')),
];
step('C_CreateObject token object in a read-only session', () => p.C_CreateObject(ro, dataTpl(true, 'ro')));
const data = step('C_CreateObject data object', () => p.C_CreateObject(s, dataTpl(false, 'd1'))) ?? NONE;
step('C_CreateObject data object with CKA_APPLICATION', () => p.C_CreateObject(s, [...dataTpl(false, 'app'), a(K.CKA_APPLICATION, 'coffer-diff')]));
step('C_CreateObject data object without CKA_CLASS', () => p.C_CreateObject(s, [a(K.CKA_TOKEN, false), a(K.CKA_VALUE, Buffer.from('x'))]));
step('C_CreateObject with an unknown attribute type', () => p.C_CreateObject(s, [...dataTpl(false, 'u'), a(0x7fff0001, Buffer.from('x'))]));
step('C_GetAttributeValue data CKA_VALUE', () => p.C_GetAttributeValue(s, data, [{ type: K.CKA_VALUE }]), (r) => r[0]!.value.toString());
step('C_GetAttributeValue data CKA_LABEL', () => p.C_GetAttributeValue(s, data, [{ type: K.CKA_LABEL }]), (r) => r[0]!.value.toString());
step('C_GetAttributeValue an attribute the object does not have', () => p.C_GetAttributeValue(s, data, [{ type: K.CKA_MODULUS }]));
step('C_GetAttributeValue an unknown attribute type', () => p.C_GetAttributeValue(s, data, [{ type: 0x7fff0001 }]));
step('C_SetAttributeValue CKA_LABEL', () => p.C_SetAttributeValue(s, data, [a(K.CKA_LABEL, 'd2')]));
step('C_GetAttributeValue CKA_LABEL after set', () => p.C_GetAttributeValue(s, data, [{ type: K.CKA_LABEL }]), (r) => r[0]!.value.toString());
step('C_SetAttributeValue CKA_CLASS', () => p.C_SetAttributeValue(s, data, [a(K.CKA_CLASS, K.CKO_SECRET_KEY)]));
step('C_GetObjectSize on an invalid handle', () => p.C_GetObjectSize(s, Buffer.from('ffffff7f00000000', 'hex')));
step('C_FindObjects without C_FindObjectsInit', () => p.C_FindObjects(s, 10));
step('C_FindObjectsFinal without C_FindObjectsInit', () => p.C_FindObjectsFinal(s));
step('C_FindObjectsInit by label', () => p.C_FindObjectsInit(s, [a(K.CKA_LABEL, 'd2')]));
step('C_FindObjectsInit while a search is active', () => p.C_FindObjectsInit(s, []));
step('C_FindObjects finds the data object', () => p.C_FindObjects(s, 10), (r) => `${r.length} found`);
step('C_FindObjectsFinal', () => p.C_FindObjectsFinal(s));
step('C_CopyObject data object', () => p.C_CopyObject(s, data, [a(K.CKA_LABEL, 'd3')]));
step('C_DestroyObject data object', () => p.C_DestroyObject(s, data));
step('C_GetAttributeValue on the destroyed object', () => p.C_GetAttributeValue(s, data, [{ type: K.CKA_LABEL }]));
step('C_DestroyObject again', () => p.C_DestroyObject(s, data));

// --- key generation with bad templates -----------------------------------------------------------
const aes = (extra: pkcs11js.Template): pkcs11js.Template => [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_AES), a(K.CKA_TOKEN, false), ...extra];
const aesGen = { mechanism: K.CKM_AES_KEY_GEN };
step('C_GenerateKey AES without CKA_VALUE_LEN', () => p.C_GenerateKey(s, aesGen, aes([a(K.CKA_ENCRYPT, true)])));
step('C_GenerateKey AES with CKA_VALUE_LEN 7', () => p.C_GenerateKey(s, aesGen, aes([a(K.CKA_VALUE_LEN, 7), a(K.CKA_ENCRYPT, true)])));
step('C_GenerateKey generic secret without CKA_VALUE_LEN', () =>
  p.C_GenerateKey(s, { mechanism: K.CKM_GENERIC_SECRET_KEY_GEN }, [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_GENERIC_SECRET), a(K.CKA_TOKEN, false), a(K.CKA_SIGN, true)]),
);
step('C_GenerateKey AES with CKA_CLASS public key', () => p.C_GenerateKey(s, aesGen, [a(K.CKA_CLASS, K.CKO_PUBLIC_KEY), a(K.CKA_VALUE_LEN, 32)]));
step('C_GenerateKey AES with CKA_KEY_TYPE RSA', () => p.C_GenerateKey(s, aesGen, [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_RSA), a(K.CKA_VALUE_LEN, 32)]));
step('C_GenerateKey AES with CKA_VALUE given', () => p.C_GenerateKey(s, aesGen, aes([a(K.CKA_VALUE_LEN, 32), a(K.CKA_VALUE, Buffer.alloc(32))])));
step('C_GenerateKey AES with CKA_LOCAL', () => p.C_GenerateKey(s, aesGen, aes([a(K.CKA_VALUE_LEN, 32), a(K.CKA_LOCAL, true)])));
step('C_GenerateKey with an unsupported mechanism', () => p.C_GenerateKey(s, { mechanism: K.CKM_DES_KEY_GEN }, [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_TOKEN, false)]));
step('C_GenerateKey in a read-only session (token key)', () => p.C_GenerateKey(ro, aesGen, [...aes([a(K.CKA_VALUE_LEN, 32), a(K.CKA_ENCRYPT, true)]).filter((x) => x.type !== K.CKA_TOKEN), a(K.CKA_TOKEN, true)]));
const rsaGen = { mechanism: K.CKM_RSA_PKCS_KEY_PAIR_GEN };
const E65537 = a(K.CKA_PUBLIC_EXPONENT, Buffer.from([1, 0, 1]));
step('C_GenerateKeyPair RSA without CKA_MODULUS_BITS', () => p.C_GenerateKeyPair(s, rsaGen, [a(K.CKA_TOKEN, false), E65537, a(K.CKA_VERIFY, true)], [a(K.CKA_TOKEN, false), a(K.CKA_SIGN, true)]));
step('C_GenerateKeyPair EC with bad CKA_EC_PARAMS', () =>
  p.C_GenerateKeyPair(s, { mechanism: K.CKM_EC_KEY_PAIR_GEN }, [a(K.CKA_TOKEN, false), a(K.CKA_EC_PARAMS, Buffer.from('0603010203', 'hex')), a(K.CKA_VERIFY, true)], [a(K.CKA_TOKEN, false), a(K.CKA_SIGN, true)]),
);
step('C_GenerateKeyPair EC without CKA_EC_PARAMS', () => p.C_GenerateKeyPair(s, { mechanism: K.CKM_EC_KEY_PAIR_GEN }, [a(K.CKA_TOKEN, false), a(K.CKA_VERIFY, true)], [a(K.CKA_TOKEN, false), a(K.CKA_SIGN, true)]));

// --- a secret key's attributes --------------------------------------------------------------------
const key = step('C_GenerateKey AES-256', () => p.C_GenerateKey(s, aesGen, aes([a(K.CKA_VALUE_LEN, 32), a(K.CKA_ENCRYPT, true), a(K.CKA_DECRYPT, true), a(K.CKA_SENSITIVE, true), a(K.CKA_EXTRACTABLE, true)]))) ?? NONE;
step('C_GetAttributeValue AES CKA_VALUE (sensitive)', () => p.C_GetAttributeValue(s, key, [{ type: K.CKA_VALUE }]));
step('C_GetAttributeValue AES CKA_VALUE_LEN', () => p.C_GetAttributeValue(s, key, [{ type: K.CKA_VALUE_LEN }]), (r) => r[0]!.value.toString('hex'));
step('C_GetAttributeValue AES CKA_LOCAL', () => p.C_GetAttributeValue(s, key, [{ type: K.CKA_LOCAL }]), (r) => r[0]!.value.toString('hex'));
step('C_GetAttributeValue AES CKA_ALWAYS_SENSITIVE', () => p.C_GetAttributeValue(s, key, [{ type: K.CKA_ALWAYS_SENSITIVE }]), (r) => r[0]!.value.toString('hex'));
step('C_SetAttributeValue AES CKA_SENSITIVE false', () => p.C_SetAttributeValue(s, key, [a(K.CKA_SENSITIVE, false)]));
step('C_SetAttributeValue AES CKA_EXTRACTABLE false', () => p.C_SetAttributeValue(s, key, [a(K.CKA_EXTRACTABLE, false)]));
step('C_SetAttributeValue AES CKA_EXTRACTABLE true again', () => p.C_SetAttributeValue(s, key, [a(K.CKA_EXTRACTABLE, true)]));
step('C_SetAttributeValue AES CKA_VALUE_LEN', () => p.C_SetAttributeValue(s, key, [a(K.CKA_VALUE_LEN, 16)]));

// --- sign and verify ------------------------------------------------------------------------------
const pair = step('C_GenerateKeyPair RSA-2048 sign/verify', () =>
  p.C_GenerateKeyPair(s, rsaGen, [a(K.CKA_TOKEN, false), a(K.CKA_MODULUS_BITS, 2048), E65537, a(K.CKA_VERIFY, true)], [a(K.CKA_TOKEN, false), a(K.CKA_SIGN, true), a(K.CKA_SENSITIVE, true)]),
);
const pub = pair?.publicKey ?? NONE;
const priv = pair?.privateKey ?? NONE;
const sha256rsa = { mechanism: K.CKM_SHA256_RSA_PKCS };
const msg = Buffer.from('the message');
step('C_Sign without C_SignInit', () => p.C_Sign(s, msg, Buffer.alloc(256)));
step('C_SignInit SHA256-RSA-PKCS', () => p.C_SignInit(s, sha256rsa, priv));
step('C_SignInit while signing', () => p.C_SignInit(s, sha256rsa, priv));
step('C_Sign into a 16-byte buffer', () => p.C_Sign(s, msg, Buffer.alloc(16)));
const sig = step('C_Sign after CKR_BUFFER_TOO_SMALL', () => p.C_Sign(s, msg, Buffer.alloc(256)), (r) => `${r.length} bytes`) ?? NONE;
step('C_Sign after the operation ended', () => p.C_Sign(s, msg, Buffer.alloc(256)));
step('C_SignInit multi-part', () => p.C_SignInit(s, sha256rsa, priv));
step('C_SignUpdate', () => p.C_SignUpdate(s, msg));
step('C_Sign during a multi-part operation', () => p.C_Sign(s, msg, Buffer.alloc(256)));
step('C_SignInit after the failed C_Sign', () => p.C_SignInit(s, sha256rsa, priv));
step('C_SignUpdate again', () => p.C_SignUpdate(s, msg));
step('C_SignFinal', () => p.C_SignFinal(s, Buffer.alloc(256)), (r) => (r.equals(sig) ? 'same signature as single-part' : 'different'));
step('C_VerifyInit', () => p.C_VerifyInit(s, sha256rsa, pub));
step('C_Verify a good signature', () => p.C_Verify(s, msg, sig), (r) => String(r));
step('C_VerifyInit again', () => p.C_VerifyInit(s, sha256rsa, pub));
const bad = Buffer.from(sig);
bad[10] = (bad[10] ?? 0) ^ 1;
step('C_Verify a corrupted signature', () => p.C_Verify(s, msg, bad));
step('C_VerifyInit once more', () => p.C_VerifyInit(s, sha256rsa, pub));
step('C_Verify a short signature', () => p.C_Verify(s, msg, sig.subarray(0, 100)));
step('C_SignInit with an unsupported mechanism', () => p.C_SignInit(s, { mechanism: K.CKM_RSA_9796 }, priv));
step('C_SignInit with an invalid key handle', () => p.C_SignInit(s, sha256rsa, Buffer.from('ffffff7f00000000', 'hex')));
step('C_SignInit with a public key (no CKA_SIGN)', () => p.C_SignInit(s, sha256rsa, pub));
step('C_Sign after the refused init', () => p.C_Sign(s, msg, Buffer.alloc(256)));
step('C_SignInit ECDSA with an RSA key', () => p.C_SignInit(s, { mechanism: K.CKM_ECDSA }, priv));
step('C_Sign after ECDSA init on an RSA key', () => p.C_Sign(s, Buffer.alloc(32), Buffer.alloc(256)));

// --- signature lengths: ECDSA (r‖s) and a full-length HMAC ------------------------------------------
const P256 = a(K.CKA_EC_PARAMS, Buffer.from('06082a8648ce3d030107', 'hex'));
const ec = step('C_GenerateKeyPair EC P-256', () => p.C_GenerateKeyPair(s, { mechanism: K.CKM_EC_KEY_PAIR_GEN }, [a(K.CKA_TOKEN, false), P256, a(K.CKA_VERIFY, true)], [a(K.CKA_TOKEN, false), a(K.CKA_SIGN, true)]));
const digest = Buffer.alloc(32, 0x5a);
step('C_SignInit ECDSA', () => p.C_SignInit(s, { mechanism: K.CKM_ECDSA }, ec?.privateKey ?? NONE));
const ecSig = step('C_Sign ECDSA', () => p.C_Sign(s, digest, Buffer.alloc(64)), (r) => `${r.length} bytes`) ?? Buffer.alloc(64);
step('C_VerifyInit ECDSA', () => p.C_VerifyInit(s, { mechanism: K.CKM_ECDSA }, ec?.publicKey ?? NONE));
step('C_Verify ECDSA', () => p.C_Verify(s, digest, ecSig), (r) => String(r));
step('C_VerifyInit ECDSA again', () => p.C_VerifyInit(s, { mechanism: K.CKM_ECDSA }, ec?.publicKey ?? NONE));
step('C_Verify an ECDSA signature one byte too long', () => p.C_Verify(s, digest, Buffer.concat([ecSig, Buffer.of(0)])));
step('C_VerifyInit ECDSA once more', () => p.C_VerifyInit(s, { mechanism: K.CKM_ECDSA }, ec?.publicKey ?? NONE));
step('C_Verify an ECDSA signature two bytes short', () => p.C_Verify(s, digest, Buffer.concat([ecSig.subarray(1, 32), ecSig.subarray(33)])));
const hmacKey =
  step('C_GenerateKey generic secret for HMAC', () =>
    p.C_GenerateKey(s, { mechanism: K.CKM_GENERIC_SECRET_KEY_GEN }, [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_GENERIC_SECRET), a(K.CKA_TOKEN, false), a(K.CKA_VALUE_LEN, 32), a(K.CKA_SIGN, true), a(K.CKA_VERIFY, true)]),
  ) ?? NONE;
step('C_SignInit SHA256-HMAC', () => p.C_SignInit(s, { mechanism: K.CKM_SHA256_HMAC }, hmacKey));
const mac = step('C_Sign SHA256-HMAC', () => p.C_Sign(s, msg, Buffer.alloc(64)), (r) => `${r.length} bytes`) ?? Buffer.alloc(32);
step('C_VerifyInit SHA256-HMAC', () => p.C_VerifyInit(s, { mechanism: K.CKM_SHA256_HMAC }, hmacKey));
step('C_Verify SHA256-HMAC', () => p.C_Verify(s, msg, mac), (r) => String(r));
step('C_VerifyInit SHA256-HMAC again', () => p.C_VerifyInit(s, { mechanism: K.CKM_SHA256_HMAC }, hmacKey));
step('C_Verify a truncated SHA256-HMAC', () => p.C_Verify(s, msg, mac.subarray(0, 16)));
const verifyOnly =
  step('C_GenerateKey generic secret verify-only', () =>
    p.C_GenerateKey(s, { mechanism: K.CKM_GENERIC_SECRET_KEY_GEN }, [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_GENERIC_SECRET), a(K.CKA_TOKEN, false), a(K.CKA_VALUE_LEN, 32), a(K.CKA_SIGN, false), a(K.CKA_VERIFY, true)]),
  ) ?? NONE;
step('C_SignInit SHA256-HMAC with a key without CKA_SIGN', () => p.C_SignInit(s, { mechanism: K.CKM_SHA256_HMAC }, verifyOnly));
step('C_SignInit SHA256-HMAC with an RSA key', () => p.C_SignInit(s, { mechanism: K.CKM_SHA256_HMAC }, priv));

// --- encrypt and decrypt --------------------------------------------------------------------------
// OAEP with SHA-1: SoftHSM 2.6 accepts no other hash for OAEP (the SHA-256 step below shows it).
const oaepWith = (hashAlg: number, mgf: number): pkcs11js.Mechanism => ({
  mechanism: K.CKM_RSA_PKCS_OAEP,
  parameter: { type: K.CK_PARAMS_RSA_OAEP, hashAlg, mgf, source: 1 } as pkcs11js.RsaOAEP,
});
const oaep = oaepWith(K.CKM_SHA_1, K.CKG_MGF1_SHA1);
const enc = step('C_GenerateKeyPair RSA-2048 encrypt/decrypt', () =>
  p.C_GenerateKeyPair(s, rsaGen, [a(K.CKA_TOKEN, false), a(K.CKA_MODULUS_BITS, 2048), E65537, a(K.CKA_ENCRYPT, true)], [a(K.CKA_TOKEN, false), a(K.CKA_DECRYPT, true), a(K.CKA_SENSITIVE, true)]),
);
step('C_Decrypt without C_DecryptInit', () => p.C_Decrypt(s, Buffer.alloc(256), Buffer.alloc(256)));
step('C_EncryptInit OAEP', () => p.C_EncryptInit(s, oaep, enc?.publicKey ?? NONE));
const ct = step('C_Encrypt OAEP', () => p.C_Encrypt(s, Buffer.from('secret text'), Buffer.alloc(256)), (r) => `${r.length} bytes`) ?? NONE;
step('C_DecryptInit OAEP', () => p.C_DecryptInit(s, oaep, enc?.privateKey ?? NONE));
step('C_Decrypt OAEP into a 2-byte buffer', () => p.C_Decrypt(s, ct, Buffer.alloc(2)));
step('C_Decrypt OAEP', () => p.C_Decrypt(s, ct, Buffer.alloc(256)), (r) => r.toString());
step('C_DecryptInit OAEP again', () => p.C_DecryptInit(s, oaep, enc?.privateKey ?? NONE));
step('C_Decrypt a corrupted ciphertext', () => p.C_Decrypt(s, Buffer.alloc(256, 7), Buffer.alloc(256)));
step('C_DecryptInit OAEP with the public key', () => p.C_DecryptInit(s, oaep, enc?.publicKey ?? NONE));
step('C_Decrypt after init with the public key', () => p.C_Decrypt(s, ct, Buffer.alloc(256)));
step('C_EncryptInit OAEP SHA-256', () => p.C_EncryptInit(s, oaepWith(K.CKM_SHA256, K.CKG_MGF1_SHA256), enc?.publicKey ?? NONE));
step('C_Encrypt OAEP SHA-256', () => p.C_Encrypt(s, Buffer.from('x'), Buffer.alloc(256)), (r) => `${r.length} bytes`);
step('C_EncryptInit RSA-PKCS (v1.5)', () => p.C_EncryptInit(s, { mechanism: K.CKM_RSA_PKCS }, enc?.publicKey ?? NONE));
step('C_Encrypt RSA-PKCS (v1.5)', () => p.C_Encrypt(s, Buffer.from('x'), Buffer.alloc(256)), (r) => `${r.length} bytes`);

// --- wrap and unwrap --------------------------------------------------------------------------------
const wrapPair = step('C_GenerateKeyPair RSA-2048 wrap/unwrap', () =>
  p.C_GenerateKeyPair(s, rsaGen, [a(K.CKA_TOKEN, false), a(K.CKA_MODULUS_BITS, 2048), E65537, a(K.CKA_WRAP, true)], [a(K.CKA_TOKEN, false), a(K.CKA_UNWRAP, true), a(K.CKA_SENSITIVE, true), a(K.CKA_EXTRACTABLE, false)]),
);
const gen = (len: number, extractable: boolean): Buffer | undefined =>
  step(`C_GenerateKey generic secret ${len} bytes, extractable ${extractable}`, () =>
    p.C_GenerateKey(s, { mechanism: K.CKM_GENERIC_SECRET_KEY_GEN }, [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_GENERIC_SECRET), a(K.CKA_TOKEN, false), a(K.CKA_VALUE_LEN, len), a(K.CKA_SIGN, true), a(K.CKA_EXTRACTABLE, extractable)]),
  );
const small = gen(14, true) ?? NONE;
const unextractable = gen(14, false) ?? NONE;
const big = gen(32, true) ?? NONE;
const wrapped = step('C_WrapKey OAEP a 112-bit secret', () => p.C_WrapKey(s, oaep, wrapPair?.publicKey ?? NONE, small, Buffer.alloc(512)), (r) => `${r.length} bytes`) ?? NONE;
step('C_WrapKey OAEP an unextractable secret', () => p.C_WrapKey(s, oaep, wrapPair?.publicKey ?? NONE, unextractable, Buffer.alloc(512)));
step('C_WrapKey OAEP a 256-bit secret under RSA-2048', () => p.C_WrapKey(s, oaep, wrapPair?.publicKey ?? NONE, big, Buffer.alloc(512)));
step('C_WrapKey with a key without CKA_WRAP', () => p.C_WrapKey(s, oaep, enc?.publicKey ?? NONE, small, Buffer.alloc(512)));
step('C_WrapKey with an invalid key handle', () => p.C_WrapKey(s, oaep, wrapPair?.publicKey ?? NONE, Buffer.from('ffffff7f00000000', 'hex'), Buffer.alloc(512)));
const unwrapTpl = [a(K.CKA_CLASS, K.CKO_SECRET_KEY), a(K.CKA_KEY_TYPE, K.CKK_GENERIC_SECRET), a(K.CKA_TOKEN, false), a(K.CKA_SIGN, true)];
step('C_UnwrapKey OAEP', () => p.C_UnwrapKey(s, oaep, wrapPair?.privateKey ?? NONE, wrapped, unwrapTpl), () => 'unwrapped');
step('C_UnwrapKey OAEP a corrupted blob', () => p.C_UnwrapKey(s, oaep, wrapPair?.privateKey ?? NONE, Buffer.alloc(256, 9), unwrapTpl));
step('C_UnwrapKey with a key without CKA_UNWRAP', () => p.C_UnwrapKey(s, oaep, enc?.privateKey ?? NONE, wrapped, unwrapTpl));
step('C_UnwrapKey without CKA_CLASS in the template', () => p.C_UnwrapKey(s, oaep, wrapPair?.privateKey ?? NONE, wrapped, [a(K.CKA_TOKEN, false)]));

// --- random, digest, logout -------------------------------------------------------------------------
step('C_GenerateRandom 32 bytes', () => p.C_GenerateRandom(s, Buffer.alloc(32)), (r) => `${r.length} bytes`);
step('C_DigestInit SHA-256', () => p.C_DigestInit(s, { mechanism: K.CKM_SHA256 }));
step('C_Digest', () => p.C_Digest(s, Buffer.from('abc'), Buffer.alloc(32)), (r) => r.toString('hex'));
step('C_Logout', () => p.C_Logout(s));
step('C_Logout again', () => p.C_Logout(s));
step('C_SignInit after logout', () => p.C_SignInit(s, sha256rsa, priv));
step('C_GetSessionInfo after logout', () => p.C_GetSessionInfo(s), (i) => `state ${i.state}`);
step('C_CloseSession', () => p.C_CloseSession(s));
step('C_CloseSession again', () => p.C_CloseSession(s));
step('C_CloseSession read-only', () => p.C_CloseSession(ro));

p.C_Finalize();
process.stdout.write(JSON.stringify(steps));

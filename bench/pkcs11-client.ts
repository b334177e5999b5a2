// One PKCS#11 benchmark client process: pkcs11js + p11-kit-client.so against the server named by
// P11_KIT_SERVER_ADDRESS (read at module load). `setup` generates the two token signing keys;
// `sign` opens its own session, waits for the common start time and runs a tight C_SignInit +
// C_Sign loop for the given seconds, then prints {ops, seconds} as JSON on stdout.

import pkcs11js from 'pkcs11js';

const P11_KIT_CLIENT = '/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so';
const [mode = '', pin = '', algorithm = '', secondsArg = '0', startAtArg = '0'] = process.argv.slice(2);

const a = (type: number, value: number | boolean | string | Buffer): pkcs11js.Attribute => ({ type, value });
const P256 = Buffer.from('06082a8648ce3d030107', 'hex'); // OID 1.2.840.10045.3.1.7
const LABELS = { rsa: 'bench-rsa-2048', ec: 'bench-ec-p256' } as const;

const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const p = new pkcs11js.PKCS11();
p.load(P11_KIT_CLIENT);
const { slot, s } = connect();

/**
 * Initialises, opens a session and logs in. SoftHSM2 started by several processes at once now and
 * then shows no token or answers CKR_GENERAL_ERROR to C_Login (each `p11-kit server` child loads
 * the token files anew); a few retries on a fresh connection get past that.
 */
function connect(): { slot: Buffer; s: Buffer } {
  for (let attempt = 1; ; attempt++) {
    p.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    try {
      const slot = p.C_GetSlotList(true)[0];
      if (!slot) throw new Error('no slot: is the server running and P11_KIT_SERVER_ADDRESS set?');
      const s = p.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      p.C_Login(s, pkcs11js.CKU_USER, pin);
      return { slot, s };
    } catch (e) {
      p.C_Finalize();
      const transient = !(e instanceof pkcs11js.Pkcs11Error) || e.code === pkcs11js.CKR_GENERAL_ERROR;
      if (!transient || attempt === 5) throw e;
      sleep(100 * attempt);
    }
  }
}

function setup(): void {
  // Sign-only keys: Coffer's key separation refuses a key that both signs and decrypts.
  p.C_GenerateKeyPair(
    s,
    { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
    [a(pkcs11js.CKA_TOKEN, true), a(pkcs11js.CKA_VERIFY, true), a(pkcs11js.CKA_MODULUS_BITS, 2048), a(pkcs11js.CKA_PUBLIC_EXPONENT, Buffer.from([1, 0, 1])), a(pkcs11js.CKA_LABEL, LABELS.rsa)],
    [a(pkcs11js.CKA_TOKEN, true), a(pkcs11js.CKA_SIGN, true), a(pkcs11js.CKA_PRIVATE, true), a(pkcs11js.CKA_SENSITIVE, true), a(pkcs11js.CKA_LABEL, LABELS.rsa)],
  );
  p.C_GenerateKeyPair(
    s,
    { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
    [a(pkcs11js.CKA_TOKEN, true), a(pkcs11js.CKA_VERIFY, true), a(pkcs11js.CKA_EC_PARAMS, P256), a(pkcs11js.CKA_LABEL, LABELS.ec)],
    [a(pkcs11js.CKA_TOKEN, true), a(pkcs11js.CKA_SIGN, true), a(pkcs11js.CKA_PRIVATE, true), a(pkcs11js.CKA_SENSITIVE, true), a(pkcs11js.CKA_LABEL, LABELS.ec)],
  );
  console.log(JSON.stringify({ ok: true }));
}

function findKey(label: string): Buffer {
  p.C_FindObjectsInit(s, [a(pkcs11js.CKA_CLASS, pkcs11js.CKO_PRIVATE_KEY), a(pkcs11js.CKA_LABEL, label)]);
  const [key] = p.C_FindObjects(s, 2);
  p.C_FindObjectsFinal(s);
  if (!key) throw new Error(`no private key labelled ${label}`);
  return key;
}

function sign(): void {
  const rsa = algorithm === 'rsa';
  const key = findKey(rsa ? LABELS.rsa : LABELS.ec);
  // RSA: the message is hashed by the token (CKM_SHA256_RSA_PKCS); ECDSA: a 32-byte digest (CKM_ECDSA),
  // which is how OpenSSL, Java and ssh sign with EC keys (and the only ECDSA a 0.24.1 client can send).
  const mechanism = { mechanism: rsa ? pkcs11js.CKM_SHA256_RSA_PKCS : pkcs11js.CKM_ECDSA };
  const data = rsa ? Buffer.alloc(64, 0x61) : Buffer.alloc(32, 0x5a);
  const out = Buffer.alloc(rsa ? 256 : 64);
  // One signature before the clock starts, so a failure shows before the measurement.
  p.C_SignInit(s, mechanism, key);
  p.C_Sign(s, data, out);
  const startAt = Number(startAtArg);
  while (Date.now() < startAt) sleep(1);
  const end = startAt + Number(secondsArg) * 1000;
  let ops = 0;
  let now = Date.now();
  while (now < end) {
    p.C_SignInit(s, mechanism, key);
    p.C_Sign(s, data, out);
    ops++;
    if ((ops & 15) === 0) now = Date.now();
  }
  const seconds = (Date.now() - startAt) / 1000;
  console.log(JSON.stringify({ ops, seconds }));
}

try {
  if (mode === 'setup') setup();
  else if (mode === 'sign') sign();
  else throw new Error(`usage: pkcs11-client setup|sign <pin> [rsa|ec] [seconds] [startAt]`);
} finally {
  p.C_CloseAllSessions(slot);
  p.C_Finalize();
}

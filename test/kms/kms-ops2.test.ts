// The AWS-KMS operations of phase 2 driven by the real @aws-sdk/client-kms against a listening
// server: ReEncrypt, data key pairs, DeriveSharedSecret, the rotation APIs (and the automatic
// rotation timer with an injected clock), ML-DSA keys, both halves of a pair changing state
// together, the per-access-key rate limit, an oversized body, and the named refusals.

import assert from 'node:assert/strict';
import { createECDH, createPrivateKey, createPublicKey, createSign, createVerify, diffieHellman, generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeriveSharedSecretCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  GenerateRandomCommand,
  GetKeyRotationStatusCommand,
  GetPublicKeyCommand,
  KMSClient,
  ListKeyRotationsCommand,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  VerifyCommand,
} from '@aws-sdk/client-kms';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import type { FastifyInstance } from 'fastify';
import { registerKms } from '../../src/frontends/kms/app.js';
import { buildRestApp } from '../../src/frontends/rest/app.js';
import { PASSWORD, type TestHsm, testHsm } from '../support/hsm.js';

const DAY = 86_400_000;
let t: TestHsm;
let app: FastifyInstance;
let limited: FastifyInstance;
let kms: KMSClient;
let otherKms: KMSClient;
let endpoint: string;
let limitedEndpoint: string;
/** The automatic-rotation clock's lead over real time. */
let clockLead = 0;

function client(at: string, accessKeyId: string, secretAccessKey: string, extra: Record<string, unknown> = {}): KMSClient {
  return new KMSClient({ endpoint: at, region: 'eu-west-1', credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1, ...extra });
}

async function newAccessKey(session: string): Promise<{ id: string; secret: string }> {
  const k = await t.hsm.createAccessKey(session);
  const secret = Buffer.from(k.secretAccessKey.insecureBytes()).toString('ascii');
  k.secretAccessKey.destroy();
  return { id: k.accessKeyId, secret };
}

async function refusedWith(p: Promise<unknown>, name: string | string[], what: string): Promise<Error> {
  const names = Array.isArray(name) ? name : [name];
  let caught: Error | undefined;
  await assert.rejects(p, (e: Error) => {
    assert.ok(names.includes(e.name), `${what}: expected ${names.join(' or ')}, got ${e.name}: ${e.message}`);
    caught = e;
    return true;
  });
  return caught!;
}

async function symmetricKey(c = kms): Promise<string> {
  return (await c.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
}

before(async () => {
  t = await testHsm();
  const admin = (await t.hsm.login({ user: 'admin', password: PASSWORD })).session;
  t.hsm.createPartition(admin, { name: 'p2' });
  await t.hsm.createUser(admin, { name: 'bob', password: PASSWORD, role: 'user', partition: 'p2' });
  const bob = (await t.hsm.login({ user: 'bob', password: PASSWORD })).session;
  ({ app } = buildRestApp({ hsm: t.hsm }));
  registerKms(app, t.hsm, { rotationClock: () => Date.now() + clockLead, rotationCheckMs: 100 });
  endpoint = await app.listen({ host: '127.0.0.1', port: 0 });
  // A second listener on the same module with a tight rate limit and a small body limit.
  ({ app: limited } = buildRestApp({ hsm: t.hsm, bodyLimit: 64 * 1024 }));
  registerKms(limited, t.hsm, { rateLimit: { perSecond: 0.5, burst: 3 } });
  limitedEndpoint = await limited.listen({ host: '127.0.0.1', port: 0 });
  const mine = await newAccessKey(t.user);
  kms = client(endpoint, mine.id, mine.secret);
  const theirs = await newAccessKey(bob);
  otherKms = client(endpoint, theirs.id, theirs.secret);
});

after(async () => {
  kms?.destroy();
  otherKms?.destroy();
  await app?.close();
  await limited?.close();
  await t?.close();
});

test('ReEncrypt: symmetric to symmetric with both contexts; the result decrypts only under the destination and its context', async () => {
  const a = await symmetricKey();
  const b = await symmetricKey();
  const pt = randomBytes(48);
  const src = { table: 'orders', row: '7' };
  const dst = { table: 'archive', row: '7' };
  const enc = await kms.send(new EncryptCommand({ KeyId: a, Plaintext: pt, EncryptionContext: src }));
  const re = await kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: src, SourceKeyId: a, DestinationKeyId: b, DestinationEncryptionContext: dst }));
  assert.equal(re.SourceKeyId, `arn:aws:kms:eu-west-1:p1:key/${a}`);
  assert.equal(re.KeyId, `arn:aws:kms:eu-west-1:p1:key/${b}`);
  assert.equal(re.DestinationEncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
  assert.ok(!Buffer.from(re.CiphertextBlob!).includes(pt), 'no plaintext in the new blob');
  assert.ok(!('Plaintext' in re), 'ReEncrypt returns no plaintext');
  const dec = await kms.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, EncryptionContext: dst }));
  assert.deepEqual(Buffer.from(dec.Plaintext!), pt);
  assert.equal(dec.KeyId, re.KeyId);
  await refusedWith(kms.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, EncryptionContext: src })), 'InvalidCiphertextException', 'destination blob with the source context');
  // Without SourceKeyId the blob names its key.
  const re2 = await kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: src, DestinationKeyId: b }));
  assert.deepEqual(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: re2.CiphertextBlob }))).Plaintext!), pt);
});

test('ReEncrypt refusals: SourceKeyId mismatch, wrong source context, disabled destination, another account', async () => {
  const a = await symmetricKey();
  const b = await symmetricKey();
  const ctx = { k: 'v' };
  const enc = await kms.send(new EncryptCommand({ KeyId: a, Plaintext: Buffer.from('x'), EncryptionContext: ctx }));
  await refusedWith(kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: ctx, SourceKeyId: b, DestinationKeyId: b })), 'IncorrectKeyException', 'SourceKeyId mismatch');
  await refusedWith(kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: { k: 'w' }, DestinationKeyId: b })), 'InvalidCiphertextException', 'wrong source context');
  await refusedWith(kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: b })), 'InvalidCiphertextException', 'missing source context');
  await kms.send(new DisableKeyCommand({ KeyId: b }));
  await refusedWith(kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: ctx, DestinationKeyId: b })), 'DisabledException', 'disabled destination');
  await kms.send(new EnableKeyCommand({ KeyId: b }));
  const theirs = await symmetricKey(otherKms);
  await refusedWith(kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: ctx, DestinationKeyId: theirs })), 'NotFoundException', "another account's destination");
  await refusedWith(otherKms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: ctx, DestinationKeyId: theirs })), 'InvalidCiphertextException', "another account's ciphertext");
});

test('ReEncrypt to an RSA key (OAEP SHA-256) and back from it', async () => {
  const a = await symmetricKey();
  const rsa = (await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }))).KeyMetadata!.KeyId!;
  const enc = await kms.send(new EncryptCommand({ KeyId: a, Plaintext: Buffer.from('secret row') }));
  const re = await kms.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: rsa, DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
  assert.equal(re.CiphertextBlob?.length, 256);
  const dec = await kms.send(new DecryptCommand({ KeyId: rsa, CiphertextBlob: re.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
  assert.equal(Buffer.from(dec.Plaintext!).toString(), 'secret row');
  const back = await kms.send(new ReEncryptCommand({ CiphertextBlob: re.CiphertextBlob, SourceKeyId: rsa, SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', DestinationKeyId: a }));
  assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob }))).Plaintext!).toString(), 'secret row');
});

test('GenerateDataKeyPair: every RSA and ECC spec, PKCS#8 private key once in the clear and always wrapped with the context', async () => {
  const k = await symmetricKey();
  const ctx = { purpose: 'signing', id: '1' };
  const specs = [
    ['RSA_2048', 'rsa', 2048],
    ['RSA_3072', 'rsa', 3072],
    ['RSA_4096', 'rsa', 4096],
    ['ECC_NIST_P256', 'ec', 'prime256v1'],
    ['ECC_NIST_P384', 'ec', 'secp384r1'],
    ['ECC_NIST_P521', 'ec', 'secp521r1'],
    ['ECC_SECG_P256K1', 'ec', 'secp256k1'],
  ] as const;
  for (const [spec, type, size] of specs) {
    const r = await kms.send(new GenerateDataKeyPairCommand({ KeyId: k, KeyPairSpec: spec, EncryptionContext: ctx }));
    assert.equal(r.KeyPairSpec, spec);
    assert.equal(r.KeyId, `arn:aws:kms:eu-west-1:p1:key/${k}`);
    const priv = createPrivateKey({ key: Buffer.from(r.PrivateKeyPlaintext!), format: 'der', type: 'pkcs8' });
    const pub = createPublicKey({ key: Buffer.from(r.PublicKey!), format: 'der', type: 'spki' });
    assert.equal(priv.asymmetricKeyType, type, spec);
    if (type === 'rsa') assert.equal(priv.asymmetricKeyDetails?.modulusLength, size, spec);
    else assert.equal(priv.asymmetricKeyDetails?.namedCurve, size, spec);
    assert.deepEqual(createPublicKey(priv).export({ format: 'der', type: 'spki' }), Buffer.from(r.PublicKey!), `${spec}: the public key is the private key's`);
    const sig = createSign('sha256').update('m').sign(priv);
    assert.equal(createVerify('sha256').update('m').verify(pub, sig), true);
    // The wrapped copy is a KMS blob under k bound to the context.
    const unwrapped = await kms.send(new DecryptCommand({ CiphertextBlob: r.PrivateKeyCiphertextBlob, EncryptionContext: ctx }));
    assert.deepEqual(Buffer.from(unwrapped.Plaintext!), Buffer.from(r.PrivateKeyPlaintext!), `${spec}: the blob holds the same PKCS#8`);
    await refusedWith(kms.send(new DecryptCommand({ CiphertextBlob: r.PrivateKeyCiphertextBlob })), 'InvalidCiphertextException', `${spec} without the context`);
  }
});

test('GenerateDataKeyPairWithoutPlaintext: no private key in the clear; refusals for SM2, non-symmetric and disabled keys', async () => {
  const k = await symmetricKey();
  const r = await kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: k, KeyPairSpec: 'ECC_NIST_P256' }));
  assert.equal((r as { PrivateKeyPlaintext?: unknown }).PrivateKeyPlaintext, undefined);
  const pkcs8 = Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: r.PrivateKeyCiphertextBlob }))).Plaintext!);
  assert.deepEqual(createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' }), Buffer.from(r.PublicKey!));
  await refusedWith(kms.send(new GenerateDataKeyPairCommand({ KeyId: k, KeyPairSpec: 'SM2' })), 'UnsupportedOperationException', 'SM2');
  await refusedWith(kms.send(new GenerateDataKeyPairCommand({ KeyId: k, KeyPairSpec: 'RSA_1024' as 'RSA_2048' })), 'ValidationException', 'unknown spec');
  const signing = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
  await refusedWith(kms.send(new GenerateDataKeyPairCommand({ KeyId: signing, KeyPairSpec: 'ECC_NIST_P256' })), 'InvalidKeyUsageException', 'signing key');
  await kms.send(new DisableKeyCommand({ KeyId: k }));
  await refusedWith(kms.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: k, KeyPairSpec: 'ECC_NIST_P256' })), 'DisabledException', 'disabled key');
});

test('DeriveSharedSecret: ECDH with KEY_AGREEMENT keys on P-256/P-384/P-521 equals the local computation', async () => {
  for (const [spec, curve] of [
    ['ECC_NIST_P256', 'prime256v1'],
    ['ECC_NIST_P384', 'secp384r1'],
    ['ECC_NIST_P521', 'secp521r1'],
  ] as const) {
    const md = (await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'KEY_AGREEMENT' }))).KeyMetadata!;
    assert.equal(md.KeyUsage, 'KEY_AGREEMENT');
    assert.deepEqual(md.KeyAgreementAlgorithms, ['ECDH']);
    const mine = generateKeyPairSync('ec', { namedCurve: curve });
    const r = await kms.send(new DeriveSharedSecretCommand({ KeyId: md.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: mine.publicKey.export({ format: 'der', type: 'spki' }) }));
    assert.equal(r.KeyAgreementAlgorithm, 'ECDH');
    const theirPub = await kms.send(new GetPublicKeyCommand({ KeyId: md.KeyId }));
    assert.deepEqual(theirPub.KeyAgreementAlgorithms, ['ECDH']);
    const local = diffieHellman({ privateKey: mine.privateKey, publicKey: createPublicKey({ key: Buffer.from(theirPub.PublicKey!), format: 'der', type: 'spki' }) });
    assert.deepEqual(Buffer.from(r.SharedSecret!), local, spec);
    // A peer key on another curve is refused.
    const wrongCurve = generateKeyPairSync('ec', { namedCurve: curve === 'prime256v1' ? 'secp384r1' : 'prime256v1' }).publicKey.export({ format: 'der', type: 'spki' });
    await refusedWith(kms.send(new DeriveSharedSecretCommand({ KeyId: md.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: wrongCurve })), 'ValidationException', `${spec} peer on another curve`);
  }
});

test('DeriveSharedSecret refusals: signing key, secp256k1 and SM2 key agreement, off-curve peer, disabled key', async () => {
  const signing = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
  const peer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'der', type: 'spki' });
  await refusedWith(kms.send(new DeriveSharedSecretCommand({ KeyId: signing, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer })), 'InvalidKeyUsageException', 'signing key');
  await refusedWith(kms.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'KEY_AGREEMENT' })), 'ValidationException', 'secp256k1 key agreement');
  await refusedWith(kms.send(new CreateKeyCommand({ KeySpec: 'SM2', KeyUsage: 'KEY_AGREEMENT' })), 'ValidationException', 'SM2');
  const ka = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' }))).KeyMetadata!.KeyId!;
  // An uncompressed point that is not on P-256 (y changed), wrapped in the SPKI header.
  const e = createECDH('prime256v1');
  e.generateKeys();
  const point = e.getPublicKey();
  point[64] = point[64]! ^ 1;
  const offCurve = Buffer.concat([Buffer.from(peer).subarray(0, peer.length - 65), point]);
  await refusedWith(kms.send(new DeriveSharedSecretCommand({ KeyId: ka, KeyAgreementAlgorithm: 'ECDH', PublicKey: offCurve })), 'ValidationException', 'off-curve peer');
  await refusedWith(kms.send(new DeriveSharedSecretCommand({ KeyId: ka, KeyAgreementAlgorithm: 'RSA' as 'ECDH', PublicKey: peer })), 'ValidationException', 'algorithm');
  await kms.send(new DisableKeyCommand({ KeyId: ka }));
  await refusedWith(kms.send(new DeriveSharedSecretCommand({ KeyId: ka, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer })), 'DisabledException', 'disabled key');
});

test('rotation: enable with a period (90–2560), on demand, list, old ciphertexts decrypt, disable; asymmetric keys refused', async () => {
  const k = await symmetricKey();
  const ctx = { row: '1' };
  const before = await kms.send(new EncryptCommand({ KeyId: k, Plaintext: Buffer.from('v1 data'), EncryptionContext: ctx }));
  assert.equal((await kms.send(new GetKeyRotationStatusCommand({ KeyId: k }))).KeyRotationEnabled, false);
  await refusedWith(kms.send(new EnableKeyRotationCommand({ KeyId: k, RotationPeriodInDays: 89 })), 'ValidationException', '89 days');
  await refusedWith(kms.send(new EnableKeyRotationCommand({ KeyId: k, RotationPeriodInDays: 2561 })), 'ValidationException', '2561 days');
  const t0 = Date.now();
  await kms.send(new EnableKeyRotationCommand({ KeyId: k, RotationPeriodInDays: 90 }));
  const st = await kms.send(new GetKeyRotationStatusCommand({ KeyId: k }));
  assert.equal(st.KeyRotationEnabled, true);
  assert.equal(st.RotationPeriodInDays, 90);
  assert.ok(Math.abs(st.NextRotationDate!.getTime() - (t0 + 90 * DAY)) < 60_000, `next rotation in 90 days: ${st.NextRotationDate?.toISOString()}`);

  assert.deepEqual((await kms.send(new ListKeyRotationsCommand({ KeyId: k }))).Rotations, []);
  await kms.send(new RotateKeyOnDemandCommand({ KeyId: k }));
  const rotations = (await kms.send(new ListKeyRotationsCommand({ KeyId: k }))).Rotations!;
  assert.equal(rotations.length, 1);
  assert.equal(rotations[0]!.RotationType, 'ON_DEMAND');
  assert.equal(rotations[0]!.KeyId, `arn:aws:kms:eu-west-1:p1:key/${k}`);
  assert.deepEqual(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob, EncryptionContext: ctx }))).Plaintext!).toString(), 'v1 data');
  const after = Buffer.from((await kms.send(new EncryptCommand({ KeyId: k, Plaintext: Buffer.from('v2 data') }))).CiphertextBlob!);
  assert.equal(after.readUInt32BE(2 + after[1]!), 2, 'new ciphertexts use version 2');

  await kms.send(new DisableKeyRotationCommand({ KeyId: k }));
  const off = await kms.send(new GetKeyRotationStatusCommand({ KeyId: k }));
  assert.equal(off.KeyRotationEnabled, false);
  assert.equal(off.NextRotationDate, undefined);

  const rsa = (await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
  await refusedWith(kms.send(new EnableKeyRotationCommand({ KeyId: rsa })), 'UnsupportedOperationException', 'asymmetric rotation');
  await refusedWith(kms.send(new RotateKeyOnDemandCommand({ KeyId: rsa })), 'UnsupportedOperationException', 'asymmetric on demand');
  await kms.send(new DisableKeyCommand({ KeyId: k }));
  await refusedWith(kms.send(new EnableKeyRotationCommand({ KeyId: k })), 'DisabledException', 'disabled key');
  await refusedWith(kms.send(new RotateKeyOnDemandCommand({ KeyId: k })), 'DisabledException', 'disabled key on demand');
  await refusedWith(otherKms.send(new GetKeyRotationStatusCommand({ KeyId: k })), 'NotFoundException', "another account's key");
});

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('automatic rotation: when the period has elapsed on the injected clock the timer rotates (and at start of a new endpoint); disabled keys wait', async () => {
  const k = await symmetricKey();
  const idle = await symmetricKey();
  await kms.send(new EnableKeyRotationCommand({ KeyId: k, RotationPeriodInDays: 90 }));
  await kms.send(new EnableKeyRotationCommand({ KeyId: idle, RotationPeriodInDays: 90 }));
  await kms.send(new DisableKeyCommand({ KeyId: idle }));
  const enc = await kms.send(new EncryptCommand({ KeyId: k, Plaintext: Buffer.from('old') }));
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual((await kms.send(new ListKeyRotationsCommand({ KeyId: k }))).Rotations, [], 'nothing is due yet');

  clockLead = 91 * DAY;
  await until('an automatic rotation', async () => ((await kms.send(new ListKeyRotationsCommand({ KeyId: k }))).Rotations ?? []).length > 0);
  const rot = (await kms.send(new ListKeyRotationsCommand({ KeyId: k }))).Rotations!;
  assert.equal(rot.length, 1, 'one rotation per period, not one per check');
  assert.equal(rot[0]!.RotationType, 'AUTOMATIC');
  const st = await kms.send(new GetKeyRotationStatusCommand({ KeyId: k }));
  assert.ok(st.NextRotationDate!.getTime() > Date.now() + 170 * DAY, 'the next rotation is a period after this one');
  assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext!).toString(), 'old');
  assert.deepEqual((await kms.send(new ListKeyRotationsCommand({ KeyId: idle }))).Rotations, [], 'a disabled key is not rotated');
  clockLead = 0;

  // A new endpoint whose clock is past the next due date rotates at start, before its first interval.
  const { app: late } = buildRestApp({ hsm: t.hsm });
  registerKms(late, t.hsm, { rotationClock: () => Date.now() + 400 * DAY, rotationCheckMs: 3_600_000 });
  try {
    await until('a rotation at start', async () => ((await kms.send(new ListKeyRotationsCommand({ KeyId: k }))).Rotations ?? []).length === 2);
  } finally {
    await late.close();
  }
});

test('ML_DSA_44/65/87: Sign/Verify RAW with ML_DSA_SHAKE_256; GetPublicKey is an SPKI that verifies with FIPS 204; DIGEST and EXTERNAL_MU refused', async () => {
  for (const [spec, impl, last] of [
    ['ML_DSA_44', ml_dsa44, 0x11],
    ['ML_DSA_65', ml_dsa65, 0x12],
    ['ML_DSA_87', ml_dsa87, 0x13],
  ] as const) {
    const md = (await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!;
    assert.equal(md.KeySpec, spec);
    assert.deepEqual(md.SigningAlgorithms, ['ML_DSA_SHAKE_256']);
    const msg = randomBytes(200);
    const sig = await kms.send(new SignCommand({ KeyId: md.KeyId, Message: msg, MessageType: 'RAW', SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
    assert.equal((await kms.send(new VerifyCommand({ KeyId: md.KeyId, Message: msg, Signature: sig.Signature, SigningAlgorithm: 'ML_DSA_SHAKE_256' }))).SignatureValid, true);
    await refusedWith(kms.send(new VerifyCommand({ KeyId: md.KeyId, Message: randomBytes(200), Signature: sig.Signature, SigningAlgorithm: 'ML_DSA_SHAKE_256' })), 'KMSInvalidSignatureException', `${spec} other message`);
    const pub = await kms.send(new GetPublicKeyCommand({ KeyId: md.KeyId }));
    const spki = Buffer.from(pub.PublicKey!);
    const raw = spki.subarray(spki.length - impl.lengths.publicKey!);
    // SEQUENCE { SEQUENCE { OID 2.16.840.1.101.3.4.3.<last> }, BIT STRING { 00 | raw } }
    const algId = Buffer.from([0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, last]);
    assert.ok(spki.subarray(0, 30).includes(algId), `${spec} SPKI names id-ml-dsa`);
    assert.equal(spki[spki.length - raw.length - 1], 0, 'no unused bits');
    assert.equal(impl.verify(Buffer.from(sig.Signature!), msg, raw), true, `${spec} verifies with noble (pure ML-DSA, empty context)`);
    await refusedWith(kms.send(new SignCommand({ KeyId: md.KeyId, Message: randomBytes(32), MessageType: 'DIGEST', SigningAlgorithm: 'ML_DSA_SHAKE_256' })), 'ValidationException', `${spec} DIGEST`);
    await refusedWith(kms.send(new SignCommand({ KeyId: md.KeyId, Message: randomBytes(64), MessageType: 'EXTERNAL_MU', SigningAlgorithm: 'ML_DSA_SHAKE_256' })), 'ValidationException', `${spec} EXTERNAL_MU`);
    await refusedWith(kms.send(new SignCommand({ KeyId: md.KeyId, Message: msg, SigningAlgorithm: 'ECDSA_SHA_256' })), 'InvalidKeyUsageException', `${spec} ECDSA`);
  }
});

test('DisableKey/EnableKey/ScheduleKeyDeletion/CancelKeyDeletion act on both halves of a pair', async () => {
  const md = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!;
  const priv = await t.hsm.getAttributes(t.user, md.KeyId!);
  const pub = priv.peer!;
  assert.ok(pub);
  const state = async (): Promise<string[]> => [(await t.hsm.getAttributes(t.user, md.KeyId!)).state, (await t.hsm.getAttributes(t.user, pub)).state];
  await kms.send(new DisableKeyCommand({ KeyId: md.KeyId }));
  assert.deepEqual(await state(), ['disabled', 'disabled']);
  // The public half is refused outside KMS too (the boundary verify through the REST/PKCS#11 path).
  await assert.rejects(t.hsm.verify(t.user, { key: pub, mechanism: 'ECDSA-SHA256', data: Buffer.from('m'), signature: Buffer.alloc(64) }), (e: { code?: string }) => e.code === 'KEY_STATE_INVALID');
  await kms.send(new EnableKeyCommand({ KeyId: md.KeyId }));
  assert.deepEqual(await state(), ['enabled', 'enabled']);
  await kms.send(new ScheduleKeyDeletionCommand({ KeyId: md.KeyId, PendingWindowInDays: 7 }));
  assert.deepEqual(await state(), ['pending-deletion', 'pending-deletion']);
  assert.ok((await t.hsm.getAttributes(t.user, pub)).deletionDate);
  await kms.send(new CancelKeyDeletionCommand({ KeyId: md.KeyId }));
  assert.deepEqual(await state(), ['disabled', 'disabled']);
  await kms.send(new EnableKeyCommand({ KeyId: md.KeyId }));
  assert.deepEqual(await state(), ['enabled', 'enabled']);

  // A pair whose public half may not be destroyed (made through the object API): refused, neither half changes.
  const fixed = await t.hsm.generateKeyPair(t.user, { mechanism: 'EC-KEY-PAIR-GEN', publicTemplate: { token: true, curve: 'P-256', verify: true, destroyable: false }, privateTemplate: { token: true, sign: true } });
  await refusedWith(kms.send(new ScheduleKeyDeletionCommand({ KeyId: fixed.privateKey, PendingWindowInDays: 7 })), 'KMSInvalidStateException', 'undestroyable public half');
  assert.equal((await t.hsm.getAttributes(t.user, fixed.privateKey)).state, 'enabled');
  assert.equal((await t.hsm.getAttributes(t.user, fixed.publicKey)).state, 'enabled');
});

test('rate limit per access key: over the burst the SDK gets ThrottlingException (HTTP 400); another access key is not affected', async () => {
  const a = await newAccessKey(t.user);
  const ca = client(limitedEndpoint, a.id, a.secret);
  try {
    for (let i = 0; i < 3; i++) await ca.send(new GenerateRandomCommand({ NumberOfBytes: 8 }));
    const e = (await refusedWith(ca.send(new GenerateRandomCommand({ NumberOfBytes: 8 })), 'ThrottlingException', 'fourth request')) as Error & { $metadata?: { httpStatusCode?: number } };
    assert.equal(e.$metadata?.httpStatusCode, 400);
    assert.match(e.message, /exceeded the rate/);
    // The suite's own access key still has its full burst on the same endpoint.
    const creds = await kms.config.credentials();
    const cb = client(limitedEndpoint, creds.accessKeyId, creds.secretAccessKey);
    try {
      assert.equal((await cb.send(new GenerateRandomCommand({ NumberOfBytes: 8 }))).Plaintext?.length, 8);
    } finally {
      cb.destroy();
    }
  } finally {
    ca.destroy();
    await t.hsm.deleteAccessKey(t.user, a.id);
  }
});

test('an oversized body gets the AWS error shape, not the REST one', async () => {
  const body = JSON.stringify({ Plaintext: 'A'.repeat(100 * 1024) });
  const r = await fetch(limitedEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.Encrypt' }, body });
  assert.ok(r.status === 400 || r.status === 413, `status ${r.status}`);
  assert.match(String(r.headers.get('content-type')), /application\/x-amz-json-1\.1/);
  const j = (await r.json()) as Record<string, unknown>;
  assert.equal(j.__type, 'ValidationException', JSON.stringify(j));
  assert.equal(typeof j.message, 'string');
  assert.equal(j.error, undefined, 'no REST error body');
});

// The required refusals, one named test each (attacks.md D-01, D-02, D-05).
test('error case: wrong signature', async () => {
  const creds = await kms.config.credentials();
  const wrong = client(endpoint, creds.accessKeyId, `${creds.secretAccessKey.slice(0, -1)}${creds.secretAccessKey.endsWith('A') ? 'B' : 'A'}`);
  await refusedWith(wrong.send(new GenerateRandomCommand({ NumberOfBytes: 8 })), 'InvalidSignatureException', 'wrong signature');
  wrong.destroy();
});

test('error case: expired request', async () => {
  const creds = await kms.config.credentials();
  const skewed = client(endpoint, creds.accessKeyId, creds.secretAccessKey, { systemClockOffset: -6 * 60_000 });
  const e = await refusedWith(skewed.send(new GenerateRandomCommand({ NumberOfBytes: 8 })), 'InvalidSignatureException', 'expired');
  assert.match(e.message, /expired/i);
  skewed.destroy();
});

test('error case: disabled key', async () => {
  const k = await symmetricKey();
  const enc = await kms.send(new EncryptCommand({ KeyId: k, Plaintext: Buffer.from('x') }));
  await kms.send(new DisableKeyCommand({ KeyId: k }));
  await refusedWith(kms.send(new EncryptCommand({ KeyId: k, Plaintext: Buffer.from('x') })), 'DisabledException', 'encrypt');
  await refusedWith(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })), 'DisabledException', 'decrypt');
  assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k }))).KeyMetadata?.KeyState, 'Disabled');
});

test('error case: pending deletion', async () => {
  const k = await symmetricKey();
  const enc = await kms.send(new EncryptCommand({ KeyId: k, Plaintext: Buffer.from('x') }));
  await kms.send(new ScheduleKeyDeletionCommand({ KeyId: k, PendingWindowInDays: 7 }));
  await refusedWith(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })), 'KMSInvalidStateException', 'decrypt');
  await refusedWith(kms.send(new GenerateDataKeyPairCommand({ KeyId: k, KeyPairSpec: 'ECC_NIST_P256' })), 'KMSInvalidStateException', 'data key pair');
  await refusedWith(kms.send(new EnableKeyCommand({ KeyId: k })), 'KMSInvalidStateException', 'enable');
});

test('error case: wrong encryption context', async () => {
  const k = await symmetricKey();
  const enc = await kms.send(new EncryptCommand({ KeyId: k, Plaintext: Buffer.from('x'), EncryptionContext: { a: '1' } }));
  await refusedWith(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: '2' } })), 'InvalidCiphertextException', 'other value');
  await refusedWith(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: '1', b: '2' } })), 'InvalidCiphertextException', 'extra pair');
});

test('error case: ciphertext from another partition', async () => {
  const theirs = await symmetricKey(otherKms);
  const enc = await otherKms.send(new EncryptCommand({ KeyId: theirs, Plaintext: Buffer.from('bob') }));
  const e = await refusedWith(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })), 'InvalidCiphertextException', 'foreign ciphertext');
  assert.ok(!e.message.includes(theirs), 'the answer does not name the other partition key');
});

test("error case: another account's key ARN", async () => {
  const theirs = await symmetricKey(otherKms);
  for (const id of [`arn:aws:kms:eu-west-1:p2:key/${theirs}`, theirs, `arn:aws:kms:eu-west-1:p1:key/${theirs}`]) {
    await refusedWith(kms.send(new DescribeKeyCommand({ KeyId: id })), ['NotFoundException', 'AccessDeniedException'], id);
    await refusedWith(kms.send(new EncryptCommand({ KeyId: id, Plaintext: Buffer.from('x') })), ['NotFoundException', 'AccessDeniedException'], id);
  }
});

// The AWS-KMS front end driven by the real @aws-sdk/client-kms against a listening server:
// every phase-1 operation once, and the refusals (bad signature, skewed clock, disabled key,
// pending deletion, wrong context, another partition's ciphertext and ARN).

import assert from 'node:assert/strict';
import { createHash, createPublicKey, createVerify, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateMacCommand,
  GenerateRandomCommand,
  GetPublicKeyCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  VerifyCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import type { FastifyInstance } from 'fastify';
import { registerKms } from '../../src/frontends/kms/app.js';
import { ACCESS_KEY_ROUTES } from '../../src/frontends/kms/access-key-routes.js';
import { buildRestApp } from '../../src/frontends/rest/app.js';
import { ALL_ROUTES } from '../../src/frontends/rest/routes/index.js';
import { PASSWORD, type TestHsm, testHsm } from '../support/hsm.js';

let t: TestHsm;
let app: FastifyInstance;
let endpoint: string;
let kms: KMSClient;
let otherKms: KMSClient;

function client(accessKeyId: string, secretAccessKey: string, extra: Record<string, unknown> = {}): KMSClient {
  return new KMSClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1, ...extra });
}

async function newAccessKey(session: string): Promise<{ id: string; secret: string }> {
  const k = await t.hsm.createAccessKey(session);
  const secret = Buffer.from(k.secretAccessKey.insecureBytes()).toString('ascii');
  k.secretAccessKey.destroy();
  return { id: k.accessKeyId, secret };
}

async function refusedWith(p: Promise<unknown>, name: string | string[], what: string): Promise<void> {
  const names = Array.isArray(name) ? name : [name];
  await assert.rejects(p, (e: Error) => {
    assert.ok(names.includes(e.name), `${what}: expected ${names.join(' or ')}, got ${e.name}: ${e.message}`);
    return true;
  });
}

before(async () => {
  t = await testHsm();
  const admin = (await t.hsm.login({ user: 'admin', password: PASSWORD })).session;
  t.hsm.createPartition(admin, { name: 'p2' });
  await t.hsm.createUser(admin, { name: 'bob', password: PASSWORD, role: 'user', partition: 'p2' });
  const bob = (await t.hsm.login({ user: 'bob', password: PASSWORD })).session;
  ({ app } = buildRestApp({ hsm: t.hsm, routes: [...ALL_ROUTES, ...ACCESS_KEY_ROUTES] }));
  registerKms(app, t.hsm);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  endpoint = address;
  const mine = await newAccessKey(t.user);
  kms = client(mine.id, mine.secret);
  const theirs = await newAccessKey(bob);
  otherKms = client(theirs.id, theirs.secret);
});

after(async () => {
  kms?.destroy();
  otherKms?.destroy();
  await app?.close();
  await t?.close();
});

test('access keys: the secret is shown once, listed by id only, deleted keys stop working', async () => {
  const k = await newAccessKey(t.user);
  const listed = await t.hsm.listAccessKeys(t.user);
  assert.ok(listed.some((x) => x.accessKeyId === k.id));
  assert.ok(!JSON.stringify(listed).includes(k.secret));
  const c = client(k.id, k.secret);
  const r = await c.send(new GenerateRandomCommand({ NumberOfBytes: 16 }));
  assert.equal(r.Plaintext?.length, 16);
  await t.hsm.deleteAccessKey(t.user, k.id);
  await refusedWith(c.send(new GenerateRandomCommand({ NumberOfBytes: 16 })), 'InvalidSignatureException', 'deleted access key');
  c.destroy();
});

test('SigV4: a wrong secret and a skewed clock are refused; an unknown access key id too', async () => {
  const k = (await t.hsm.listAccessKeys(t.user))[0]!;
  const wrong = client(k.accessKeyId, 'A'.repeat(40));
  await refusedWith(wrong.send(new GenerateRandomCommand({ NumberOfBytes: 8 })), 'InvalidSignatureException', 'wrong secret');
  wrong.destroy();
  const unknown = client('CFRAAAAAAAAAAAAAAAAA', 'A'.repeat(40));
  await refusedWith(unknown.send(new GenerateRandomCommand({ NumberOfBytes: 8 })), 'InvalidSignatureException', 'unknown id');
  unknown.destroy();
});

test('expired request with the right secret: Signature expired', async () => {
  const listed = await t.hsm.listAccessKeys(t.user);
  // Re-use the suite's client credentials with a clock 10 minutes behind.
  const creds = await kms.config.credentials();
  const skewed = client(creds.accessKeyId, creds.secretAccessKey, { systemClockOffset: -10 * 60_000 });
  await assert.rejects(skewed.send(new GenerateRandomCommand({ NumberOfBytes: 8 })), (e: Error) => e.name === 'InvalidSignatureException' && /expired/i.test(e.message));
  skewed.destroy();
  assert.ok(listed.length >= 1);
});

test('symmetric key: create, describe, list, encrypt/decrypt with context, data keys, aliases, tags', async () => {
  const created = await kms.send(new CreateKeyCommand({ Description: 'orders', Tags: [{ TagKey: 'team', TagValue: 'db' }] }));
  const md = created.KeyMetadata!;
  assert.equal(md.KeySpec, 'SYMMETRIC_DEFAULT');
  assert.equal(md.KeyUsage, 'ENCRYPT_DECRYPT');
  assert.equal(md.AWSAccountId, 'p1');
  assert.equal(md.Arn, `arn:aws:kms:eu-west-1:p1:key/${md.KeyId}`);
  const keyId = md.KeyId!;
  const described = await kms.send(new DescribeKeyCommand({ KeyId: md.Arn }));
  assert.equal(described.KeyMetadata?.KeyState, 'Enabled');
  const listed = await kms.send(new ListKeysCommand({}));
  assert.ok(listed.Keys?.some((k) => k.KeyId === keyId));

  const ctx = { table: 'orders', row: '42' };
  const pt = new TextEncoder().encode('card 4111');
  const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: pt, EncryptionContext: ctx }));
  const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx }));
  assert.deepEqual(Buffer.from(dec.Plaintext!), Buffer.from(pt));
  assert.equal(dec.KeyId, md.Arn);
  await refusedWith(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { table: 'orders', row: '43' } })), 'InvalidCiphertextException', 'wrong context');
  await refusedWith(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })), 'InvalidCiphertextException', 'missing context');

  const other = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  await refusedWith(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx, KeyId: other })), 'IncorrectKeyException', 'other KeyId');

  const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: ctx }));
  assert.equal(dk.Plaintext?.length, 32);
  const back = await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ctx }));
  assert.deepEqual(Buffer.from(back.Plaintext!), Buffer.from(dk.Plaintext!));
  const dk2 = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, NumberOfBytes: 24 }));
  assert.equal((dk2 as { Plaintext?: unknown }).Plaintext, undefined);
  assert.equal((await kms.send(new DecryptCommand({ CiphertextBlob: dk2.CiphertextBlob }))).Plaintext?.length, 24);

  await kms.send(new CreateAliasCommand({ AliasName: 'alias/orders', TargetKeyId: keyId }));
  const viaAlias = await kms.send(new EncryptCommand({ KeyId: 'alias/orders', Plaintext: pt }));
  assert.equal(viaAlias.KeyId, md.Arn);
  const aliases = await kms.send(new ListAliasesCommand({}));
  assert.ok(aliases.Aliases?.some((a) => a.AliasName === 'alias/orders' && a.TargetKeyId === keyId));
  await kms.send(new UpdateAliasCommand({ AliasName: 'alias/orders', TargetKeyId: other }));
  assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/orders' }))).KeyMetadata?.KeyId, other);
  await kms.send(new DeleteAliasCommand({ AliasName: 'alias/orders' }));
  await refusedWith(kms.send(new DescribeKeyCommand({ KeyId: 'alias/orders' })), 'NotFoundException', 'deleted alias');

  await kms.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'env', TagValue: 'prod' }] }));
  await kms.send(new UntagResourceCommand({ KeyId: keyId, TagKeys: ['team'] }));
  const tags = await kms.send(new ListResourceTagsCommand({ KeyId: keyId }));
  assert.deepEqual(tags.Tags, [{ TagKey: 'env', TagValue: 'prod' }]);

  // Disabled, then pending deletion, then back.
  await kms.send(new DisableKeyCommand({ KeyId: keyId }));
  await refusedWith(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: pt })), 'DisabledException', 'disabled encrypt');
  await refusedWith(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx })), 'DisabledException', 'disabled decrypt');
  await kms.send(new EnableKeyCommand({ KeyId: keyId }));
  const sched = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
  assert.equal(sched.KeyState, 'PendingDeletion');
  await refusedWith(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: pt })), 'KMSInvalidStateException', 'pending deletion');
  await refusedWith(kms.send(new EnableKeyCommand({ KeyId: keyId })), 'KMSInvalidStateException', 'enable while pending');
  await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
  assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState, 'Disabled');
  await kms.send(new EnableKeyCommand({ KeyId: keyId }));
  assert.ok((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx }))).Plaintext);

  // After a rotation, old blobs still decrypt (they name their version) and new data keys use the new version.
  assert.equal(await t.hsm.rotateKey(t.user, keyId), 2);
  assert.deepEqual(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx }))).Plaintext!), Buffer.from(pt));
  const dk3 = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 32 }));
  const blob3 = Buffer.from(dk3.CiphertextBlob!);
  assert.equal(blob3.readUInt32BE(2 + blob3[1]!), 2, 'the new data key is wrapped under version 2');
  assert.deepEqual(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: dk3.CiphertextBlob }))).Plaintext!), Buffer.from(dk3.Plaintext!));

  // Another account: its ARN for this key, and this key's ciphertext, get nothing.
  await refusedWith(otherKms.send(new DescribeKeyCommand({ KeyId: md.Arn })), ['NotFoundException', 'AccessDeniedException'], 'other account ARN');
  await refusedWith(otherKms.send(new DescribeKeyCommand({ KeyId: `arn:aws:kms:eu-west-1:p2:key/${keyId}` })), 'NotFoundException', 'own-account ARN, foreign uid');
  await refusedWith(otherKms.send(new EncryptCommand({ KeyId: keyId, Plaintext: pt })), 'NotFoundException', 'other account uid');
  await refusedWith(otherKms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctx })), ['InvalidCiphertextException', 'NotFoundException', 'AccessDeniedException'], 'other partition ciphertext');
  await refusedWith(kms.send(new DescribeKeyCommand({ KeyId: `arn:aws:kms:eu-west-1:p2:key/${keyId}` })), 'NotFoundException', 'ARN naming another account');
});

test('ECC_NIST_P256 and RSA_2048 signing keys: Sign/Verify RAW and DIGEST, GetPublicKey verifies locally', async () => {
  for (const [spec, alg, hash] of [
    ['ECC_NIST_P256', 'ECDSA_SHA_256', 'sha256'],
    ['ECC_SECG_P256K1', 'ECDSA_SHA_256', 'sha256'],
    ['RSA_2048', 'RSASSA_PSS_SHA_256', 'sha256'],
    ['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_384', 'sha384'],
  ] as const) {
    const md = (await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!;
    assert.equal(md.KeySpec, spec);
    assert.ok(md.SigningAlgorithms?.includes(alg));
    const msg = randomBytes(100);
    const sig = await kms.send(new SignCommand({ KeyId: md.KeyId, Message: msg, SigningAlgorithm: alg, MessageType: 'RAW' }));
    const ok = await kms.send(new VerifyCommand({ KeyId: md.KeyId, Message: msg, Signature: sig.Signature, SigningAlgorithm: alg }));
    assert.equal(ok.SignatureValid, true, `${spec} ${alg} RAW`);
    const digest = createHash(hash).update(msg).digest();
    const sig2 = await kms.send(new SignCommand({ KeyId: md.KeyId, Message: digest, SigningAlgorithm: alg, MessageType: 'DIGEST' }));
    assert.equal((await kms.send(new VerifyCommand({ KeyId: md.KeyId, Message: msg, Signature: sig2.Signature, SigningAlgorithm: alg }))).SignatureValid, true, `${spec} DIGEST`);
    await refusedWith(kms.send(new VerifyCommand({ KeyId: md.KeyId, Message: randomBytes(10), Signature: sig.Signature, SigningAlgorithm: alg })), 'KMSInvalidSignatureException', `${spec} bad signature`);
    const pub = await kms.send(new GetPublicKeyCommand({ KeyId: md.KeyId }));
    if (spec !== 'ECC_SECG_P256K1') {
      const key = createPublicKey({ key: Buffer.from(pub.PublicKey!), format: 'der', type: 'spki' });
      const v = createVerify(hash).update(msg);
      const pss = alg.startsWith('RSASSA_PSS');
      assert.equal(v.verify(pss ? { key, padding: 6, saltLength: 32 } : key, Buffer.from(sig.Signature!)), true, `${spec} verifies with the SPKI`);
    }
  }
});

test('RSA encryption key (OAEP), HMAC key (GenerateMac/VerifyMac), GenerateRandom', async () => {
  const rsa = (await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }))).KeyMetadata!;
  const enc = await kms.send(new EncryptCommand({ KeyId: rsa.KeyId, Plaintext: Buffer.from('hello'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
  const dec = await kms.send(new DecryptCommand({ KeyId: rsa.KeyId, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
  assert.equal(Buffer.from(dec.Plaintext!).toString(), 'hello');
  for (const spec of ['HMAC_256', 'HMAC_384', 'HMAC_512'] as const) {
    const hmac = (await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata!;
    const alg = `HMAC_SHA_${spec.slice(5)}` as 'HMAC_SHA_256';
    const mac = await kms.send(new GenerateMacCommand({ KeyId: hmac.KeyId, Message: Buffer.from('m'), MacAlgorithm: alg }));
    assert.equal(mac.Mac?.length, Number(spec.slice(5)) / 8);
    assert.equal((await kms.send(new VerifyMacCommand({ KeyId: hmac.KeyId, Message: Buffer.from('m'), Mac: mac.Mac, MacAlgorithm: alg }))).MacValid, true);
    await refusedWith(kms.send(new VerifyMacCommand({ KeyId: hmac.KeyId, Message: Buffer.from('n'), Mac: mac.Mac, MacAlgorithm: alg })), 'KMSInvalidMacException', `${spec} bad mac`);
  }
  const r = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 64 }));
  assert.equal(r.Plaintext?.length, 64);
  await refusedWith(kms.send(new GenerateRandomCommand({ NumberOfBytes: 0 })), 'ValidationException', 'zero bytes');
});

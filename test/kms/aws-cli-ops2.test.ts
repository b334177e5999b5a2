// KMS phase-2 operations through the real AWS CLI v2 (Debian's `awscli`, /usr/bin/aws) with
// `--endpoint-url`, as docs/kms.md shows them: re-encrypt, generate-data-key-pair(-without-plaintext)
// and the rotation commands this CLI release has (enable/disable-key-rotation, get-key-rotation-status).
// derive-shared-secret, rotate-key-on-demand and list-key-rotations are newer than Debian 12's
// CLI (2.9); the SDK test (kms-ops2.test.ts) covers them.

import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type AwsCli, b64, SERVICE_ERROR, startAwsCli } from './aws-cli-harness.js';

let cli: AwsCli;
const aws = (args: readonly string[]) => cli.aws(args);
const ok = (args: readonly string[]) => cli.ok(args);
const fileb = (name: string, bytes: Uint8Array): string => cli.fileb(name, bytes);

before(async () => {
  cli = await startAwsCli('coffer-aws-cli2-');
});

after(async () => {
  await cli?.close();
});

test('aws kms re-encrypt, generate-data-key-pair(-without-plaintext) and the rotation commands', { timeout: 600_000 }, async () => {
  // Different descriptions: the CLI does not sign its invocation id, so two bare create-key calls in
  // one second are byte-identical requests with one signature, which the replay cache refuses (docs/kms.md).
  const a = (await ok(['create-key', '--description', 'source'])).KeyMetadata as { KeyId: string; Arn: string };
  const b = (await ok(['create-key', '--description', 'destination'])).KeyMetadata as { KeyId: string; Arn: string };
  const plaintext = randomBytes(64);
  const enc = await ok(['encrypt', '--key-id', a.KeyId, '--plaintext', fileb('p.bin', plaintext), '--encryption-context', 'table=orders,id=1']);
  const blob = fileb('a.bin', b64(enc.CiphertextBlob));

  const re = await ok(['re-encrypt', '--ciphertext-blob', blob, '--source-encryption-context', 'table=orders,id=1', '--destination-key-id', b.KeyId, '--destination-encryption-context', 'table=archive,id=1']);
  assert.equal(re.SourceKeyId, a.Arn);
  assert.equal(re.KeyId, b.Arn);
  assert.equal(re.Plaintext, undefined);
  const dec = await ok(['decrypt', '--ciphertext-blob', fileb('b.bin', b64(re.CiphertextBlob)), '--encryption-context', 'table=archive,id=1']);
  assert.deepEqual(b64(dec.Plaintext), plaintext);
  const wrongSource = await aws(['re-encrypt', '--ciphertext-blob', blob, '--source-encryption-context', 'table=orders,id=1', '--source-key-id', b.KeyId, '--destination-key-id', b.KeyId]);
  assert.equal(wrongSource.code, SERVICE_ERROR, wrongSource.stderr);
  assert.match(wrongSource.stderr, /IncorrectKeyException/);

  const pair = await ok(['generate-data-key-pair', '--key-id', a.KeyId, '--key-pair-spec', 'ECC_NIST_P256', '--encryption-context', 'purpose=signing']);
  assert.equal(pair.KeyPairSpec, 'ECC_NIST_P256');
  const priv = createPrivateKey({ key: b64(pair.PrivateKeyPlaintext), format: 'der', type: 'pkcs8' });
  assert.deepEqual(createPublicKey(priv).export({ format: 'der', type: 'spki' }), b64(pair.PublicKey));
  const unwrapped = await ok(['decrypt', '--ciphertext-blob', fileb('pk.bin', b64(pair.PrivateKeyCiphertextBlob)), '--encryption-context', 'purpose=signing']);
  assert.deepEqual(b64(unwrapped.Plaintext), b64(pair.PrivateKeyPlaintext));
  const quiet = await ok(['generate-data-key-pair-without-plaintext', '--key-id', a.KeyId, '--key-pair-spec', 'RSA_2048']);
  assert.equal(quiet.PrivateKeyPlaintext, undefined);
  assert.equal(createPublicKey({ key: b64(quiet.PublicKey), format: 'der', type: 'spki' }).asymmetricKeyDetails?.modulusLength, 2048);

  assert.equal((await ok(['get-key-rotation-status', '--key-id', a.KeyId])).KeyRotationEnabled, false);
  assert.deepEqual(await ok(['enable-key-rotation', '--key-id', a.KeyId]), {});
  assert.equal((await ok(['get-key-rotation-status', '--key-id', a.KeyId])).KeyRotationEnabled, true);
  assert.deepEqual(await ok(['disable-key-rotation', '--key-id', a.KeyId]), {});
  assert.equal((await ok(['get-key-rotation-status', '--key-id', a.KeyId])).KeyRotationEnabled, false);
});

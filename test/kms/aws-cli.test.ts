// The KMS endpoint driven by the real AWS CLI v2 (Debian's `awscli`, /usr/bin/aws) with
// `--endpoint-url`, exactly as docs/kms.md tells users to: every command's JSON output is checked,
// signatures are verified here with the returned public key, and a disabled key fails the CLI.

import assert from 'node:assert/strict';
import { createPublicKey, createVerify, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { AWS, type AwsCli, b64, runChild, SERVICE_ERROR, startAwsCli } from './aws-cli-harness.js';

let cli: AwsCli;
const aws = (args: readonly string[]) => cli.aws(args);
const ok = (args: readonly string[]) => cli.ok(args);
const fileb = (name: string, bytes: Uint8Array): string => cli.fileb(name, bytes);

const metadata = (o: Record<string, unknown>): Record<string, unknown> => o.KeyMetadata as Record<string, unknown>;

before(async () => {
  cli = await startAwsCli('coffer-aws-cli-');
});

after(async () => {
  await cli?.close();
});

test('aws --version is the v2 CLI', async () => {
  const r = await runChild(AWS, ['--version'], { env: cli.env });
  assert.match(r.stdout, /^aws-cli\/2\./);
});

test('symmetric key through the CLI: create, describe, list, alias, encrypt/decrypt, data keys, tags, state changes', { timeout: 600_000 }, async () => {
  const created = metadata(await ok(['create-key', '--description', 'orders', '--tags', 'TagKey=team,TagValue=db']));
  assert.equal(created.KeySpec, 'SYMMETRIC_DEFAULT');
  assert.equal(created.KeyUsage, 'ENCRYPT_DECRYPT');
  assert.equal(created.KeyState, 'Enabled');
  assert.equal(created.Description, 'orders');
  const keyId = created.KeyId as string;
  assert.match(keyId, /^[0-9a-f]{32}$/);
  assert.equal(created.Arn, `arn:aws:kms:us-east-1:${created.AWSAccountId as string}:key/${keyId}`);

  assert.equal(metadata(await ok(['describe-key', '--key-id', created.Arn as string])).KeyId, keyId);
  const listed = (await ok(['list-keys'])).Keys as { KeyId: string; KeyArn: string }[];
  assert.ok(listed.some((k) => k.KeyId === keyId && k.KeyArn === created.Arn));

  assert.deepEqual(await ok(['create-alias', '--alias-name', 'alias/cli-test', '--target-key-id', keyId]), {});
  const aliases = (await ok(['list-aliases'])).Aliases as { AliasName: string; TargetKeyId?: string }[];
  assert.ok(aliases.some((a) => a.AliasName === 'alias/cli-test' && a.TargetKeyId === keyId));

  const plaintext = randomBytes(100);
  const enc = await ok(['encrypt', '--key-id', 'alias/cli-test', '--plaintext', fileb('plain.bin', plaintext), '--encryption-context', 'table=orders,id=1']);
  assert.equal(enc.KeyId, created.Arn);
  assert.equal(enc.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
  const blob = fileb('blob.bin', b64(enc.CiphertextBlob));
  const dec = await ok(['decrypt', '--ciphertext-blob', blob, '--encryption-context', 'table=orders,id=1']);
  assert.deepEqual(b64(dec.Plaintext), plaintext);
  assert.equal(dec.KeyId, created.Arn);
  const wrongContext = await aws(['decrypt', '--ciphertext-blob', blob, '--encryption-context', 'table=orders,id=2']);
  assert.equal(wrongContext.code, SERVICE_ERROR);
  assert.match(wrongContext.stderr, /InvalidCiphertextException/);

  const dk = await ok(['generate-data-key', '--key-id', 'alias/cli-test', '--key-spec', 'AES_256', '--encryption-context', 'table=orders,id=7']);
  const dataKey = b64(dk.Plaintext);
  assert.equal(dataKey.length, 32);
  const unwrapped = await ok(['decrypt', '--ciphertext-blob', fileb('dk.bin', b64(dk.CiphertextBlob)), '--encryption-context', 'table=orders,id=7']);
  assert.deepEqual(b64(unwrapped.Plaintext), dataKey);
  const dkw = await ok(['generate-data-key-without-plaintext', '--key-id', keyId, '--number-of-bytes', '24']);
  assert.equal(dkw.Plaintext, undefined, 'no plaintext in a WithoutPlaintext answer');
  assert.equal(b64((await ok(['decrypt', '--ciphertext-blob', fileb('dkw.bin', b64(dkw.CiphertextBlob))])).Plaintext).length, 24);

  assert.deepEqual(await ok(['tag-resource', '--key-id', keyId, '--tags', 'TagKey=env,TagValue=prod']), {});
  const tags = (await ok(['list-resource-tags', '--key-id', keyId])).Tags as { TagKey: string; TagValue: string }[];
  assert.deepEqual(
    [...tags].sort((a, b) => a.TagKey.localeCompare(b.TagKey)),
    [
      { TagKey: 'env', TagValue: 'prod' },
      { TagKey: 'team', TagValue: 'db' },
    ],
  );

  // Disabled: the CLI exits with 254 and names the AWS exception; enabled again, it works.
  assert.deepEqual(await ok(['disable-key', '--key-id', keyId]), {});
  assert.equal(metadata(await ok(['describe-key', '--key-id', keyId])).KeyState, 'Disabled');
  const refused = await aws(['encrypt', '--key-id', keyId, '--plaintext', fileb('plain.bin', plaintext)]);
  assert.equal(refused.code, SERVICE_ERROR, refused.stderr);
  assert.match(refused.stderr, /DisabledException/);
  assert.equal(refused.stdout, '');
  assert.deepEqual(await ok(['enable-key', '--key-id', keyId]), {});
  assert.equal(metadata(await ok(['describe-key', '--key-id', keyId])).KeyState, 'Enabled');

  const scheduled = await ok(['schedule-key-deletion', '--key-id', keyId, '--pending-window-in-days', '7']);
  assert.equal(scheduled.KeyState, 'PendingDeletion');
  assert.equal(scheduled.PendingWindowInDays, 7);
  const pending = await aws(['encrypt', '--key-id', keyId, '--plaintext', fileb('plain.bin', plaintext)]);
  assert.equal(pending.code, SERVICE_ERROR);
  assert.match(pending.stderr, /KMSInvalidStateException/);
  const cancelled = await ok(['cancel-key-deletion', '--key-id', keyId]);
  assert.equal(cancelled.KeyId, created.Arn);
  assert.equal(metadata(await ok(['describe-key', '--key-id', keyId])).KeyState, 'Disabled', 'AWS leaves a cancelled key disabled');
  await ok(['enable-key', '--key-id', keyId]);
  assert.deepEqual(b64((await ok(['decrypt', '--ciphertext-blob', blob, '--encryption-context', 'table=orders,id=1'])).Plaintext), plaintext);
});

test('ECC_NIST_P256 through the CLI: sign, verify, get-public-key (the signature checks out here too)', { timeout: 300_000 }, async () => {
  const key = metadata(await ok(['create-key', '--key-spec', 'ECC_NIST_P256', '--key-usage', 'SIGN_VERIFY']));
  assert.equal(key.KeySpec, 'ECC_NIST_P256');
  assert.deepEqual(key.SigningAlgorithms, ['ECDSA_SHA_256']);
  const keyId = key.KeyId as string;
  const message = Buffer.from('pay 10 EUR to Alice');
  const msg = fileb('msg.bin', message);
  const signed = await ok(['sign', '--key-id', keyId, '--message', msg, '--message-type', 'RAW', '--signing-algorithm', 'ECDSA_SHA_256']);
  assert.equal(signed.SigningAlgorithm, 'ECDSA_SHA_256');
  const signature = b64(signed.Signature);
  const sig = fileb('sig.bin', signature);
  const verified = await ok(['verify', '--key-id', keyId, '--message', msg, '--message-type', 'RAW', '--signing-algorithm', 'ECDSA_SHA_256', '--signature', sig]);
  assert.equal(verified.SignatureValid, true);
  const forged = await aws(['verify', '--key-id', keyId, '--message', fileb('other.bin', Buffer.from('pay 10000 EUR to Mallory')), '--message-type', 'RAW', '--signing-algorithm', 'ECDSA_SHA_256', '--signature', sig]);
  assert.equal(forged.code, SERVICE_ERROR);
  assert.match(forged.stderr, /KMSInvalidSignatureException/);

  const pub = await ok(['get-public-key', '--key-id', keyId]);
  assert.equal(pub.KeySpec, 'ECC_NIST_P256');
  assert.equal(pub.KeyUsage, 'SIGN_VERIFY');
  const spki = createPublicKey({ key: b64(pub.PublicKey), format: 'der', type: 'spki' });
  assert.equal(spki.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.ok(createVerify('sha256').update(message).verify(spki, signature), 'the CLI-returned signature verifies with the CLI-returned public key');
});

test('HMAC_256 and random bytes through the CLI: generate-mac, verify-mac, generate-random', { timeout: 300_000 }, async () => {
  const key = metadata(await ok(['create-key', '--key-spec', 'HMAC_256', '--key-usage', 'GENERATE_VERIFY_MAC']));
  const keyId = key.KeyId as string;
  const msg = fileb('mac-msg.bin', Buffer.from('row 42'));
  const mac = await ok(['generate-mac', '--key-id', keyId, '--message', msg, '--mac-algorithm', 'HMAC_SHA_256']);
  const tag = b64(mac.Mac);
  assert.equal(tag.length, 32);
  const good = await ok(['verify-mac', '--key-id', keyId, '--message', msg, '--mac-algorithm', 'HMAC_SHA_256', '--mac', fileb('mac.bin', tag)]);
  assert.equal(good.MacValid, true);
  const flipped = Buffer.from(tag);
  flipped[0]! ^= 1;
  const bad = await aws(['verify-mac', '--key-id', keyId, '--message', msg, '--mac-algorithm', 'HMAC_SHA_256', '--mac', fileb('bad-mac.bin', flipped)]);
  assert.equal(bad.code, SERVICE_ERROR);
  assert.match(bad.stderr, /KMSInvalidMacException/);

  const random = await ok(['generate-random', '--number-of-bytes', '32']);
  assert.equal(b64(random.Plaintext).length, 32);
  const again = await ok(['generate-random', '--number-of-bytes', '32']);
  assert.notDeepEqual(b64(again.Plaintext), b64(random.Plaintext));
});

test('a wrong secret: the CLI reports InvalidSignatureException and exits 254', { timeout: 120_000 }, async () => {
  const saved = cli.env;
  cli.env = { ...cli.env, AWS_SECRET_ACCESS_KEY: 'A'.repeat(40) };
  try {
    const r = await aws(['list-keys']);
    assert.equal(r.code, SERVICE_ERROR);
    assert.match(r.stderr, /InvalidSignatureException/);
  } finally {
    cli.env = saved;
  }
});

/** The shell block after this marker in docs/kms.md is the CLI walk-through users copy. */
const DOC_MARKER = '<!-- run by test/kms/aws-cli.test.ts: keep it self-contained -->';

test('docs/kms.md: the AWS CLI walk-through runs verbatim', { timeout: 300_000 }, async () => {
  const doc = readFileSync(fileURLToPath(new URL('../../../docs/kms.md', import.meta.url)), 'utf8');
  const at = doc.indexOf(DOC_MARKER);
  assert.ok(at >= 0, 'the marker is in docs/kms.md');
  const block = /```sh\n([\s\S]*?)```/.exec(doc.slice(at));
  assert.ok(block, 'a sh block follows the marker');
  const work = mkdtempSync(join(cli.dir, 'doc-'));
  // -e: a failing step fails the test (the refused decrypt is handled by the block's `||`).
  // The Debian CLI first on PATH, as on a machine with only it installed.
  const env = { ...cli.env, PATH: `/usr/bin:${process.env.PATH ?? ''}`, COFFER_ADDR: cli.server.addr, COFFER_TOKEN: cli.server.token };
  const r = await runChild('/bin/sh', ['-e', '-c', block[1]!], { env, cwd: work });
  assert.equal(r.code, 0, `the block failed:\n${r.stdout}\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n').map((l) => l.trim());
  assert.deepEqual(lines, ['{"version":2}', '32', 'refused: 254'], r.stdout);
  assert.match(r.stderr, /InvalidCiphertextException/);
  assert.equal(readFileSync(join(work, 'row1.key'))[0], 0x01, 'the wrapped key file holds a Coffer blob');
});

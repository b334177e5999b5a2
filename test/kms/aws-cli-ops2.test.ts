// KMS phase-2 operations through the real AWS CLI v2 (Debian's `awscli`, /usr/bin/aws) with
// `--endpoint-url`, as docs/kms.md shows them: re-encrypt, generate-data-key-pair(-without-plaintext)
// and the rotation commands this CLI release has (enable/disable-key-rotation, get-key-rotation-status).
// derive-shared-secret, rotate-key-on-demand and list-key-rotations are newer than Debian 12's
// CLI (2.9); the SDK test (kms-ops2.test.ts) covers them.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../cli/cli-harness.js';

/** The Debian package's binary by full path (see aws-cli.test.ts for why). */
const AWS = '/usr/bin/aws';
const SERVICE_ERROR = 254;
const COMMAND_TIMEOUT_MS = 60_000;

let server: TestServer;
let dir: string;
let env: NodeJS.ProcessEnv;

function aws(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(AWS, ['kms', ...args, '--endpoint-url', server.addr, '--region', 'us-east-1', '--output', 'json'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

async function ok(args: readonly string[]): Promise<Record<string, unknown>> {
  const r = await aws(args);
  assert.equal(r.code, 0, `aws kms ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim() === '' ? {} : (JSON.parse(r.stdout) as Record<string, unknown>);
}

function fileb(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return `fileb://${path}`;
}

const b64 = (v: unknown): Buffer => {
  assert.equal(typeof v, 'string', 'a base64 blob in the JSON output');
  return Buffer.from(v as string, 'base64');
};

before(async () => {
  assert.ok(existsSync(AWS), `${AWS} is missing: install the Debian package awscli (.ci/run does)`);
  server = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'coffer-aws-cli2-'));
  const k = await server.running.hsm.createAccessKey(server.running.dev!.userSession);
  const secret = Buffer.from(k.secretAccessKey.insecureBytes()).toString('ascii');
  k.secretAccessKey.destroy();
  env = {
    PATH: process.env.PATH,
    HOME: dir,
    AWS_ACCESS_KEY_ID: k.accessKeyId,
    AWS_SECRET_ACCESS_KEY: secret,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    AWS_MAX_ATTEMPTS: '1',
  };
});

after(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('aws kms re-encrypt, generate-data-key-pair(-without-plaintext) and the rotation commands', { timeout: 600_000 }, async () => {
  const a = (await ok(['create-key'])).KeyMetadata as { KeyId: string; Arn: string };
  const b = (await ok(['create-key'])).KeyMetadata as { KeyId: string; Arn: string };
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

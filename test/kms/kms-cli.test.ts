// `coffer kms access-key create|list|delete` against a dev server: the secret is printed by create
// only, and the created key signs KMS requests from the real SDK until it is deleted.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GenerateRandomCommand, KMSClient } from '@aws-sdk/client-kms';
import { runCli, startTestServer, type TestServer } from '../cli/cli-harness.js';

let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.close();
});

test('coffer kms access-key create, list, delete', async () => {
  const created = await runCli(['kms', 'access-key', 'create', '--output', 'json'], { env: server.env });
  assert.equal(created.code, 0, created.stderr);
  const key = JSON.parse(created.stdout.toString()) as { accessKeyId: string; secretAccessKey: string };
  assert.match(key.accessKeyId, /^CFR[A-Z2-7]{17}$/);
  assert.equal(key.secretAccessKey.length, 40);

  const kms = new KMSClient({ endpoint: server.addr, region: 'us-east-1', credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 1 });
  assert.equal((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 8 }))).Plaintext?.length, 8);

  const listed = await runCli(['kms', 'access-key', 'list', '--output', 'json'], { env: server.env });
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok(listed.stdout.toString().includes(key.accessKeyId));
  assert.ok(!listed.stdout.toString().includes(key.secretAccessKey), 'list never shows a secret');

  const deleted = await runCli(['kms', 'access-key', 'delete', key.accessKeyId], { env: server.env });
  assert.equal(deleted.code, 0, deleted.stderr);
  await assert.rejects(kms.send(new GenerateRandomCommand({ NumberOfBytes: 8 })), (e: Error) => e.name === 'InvalidSignatureException');
  kms.destroy();
});

// Worked example's program (docs/kms.md): envelope-encrypts rows of a SQLite table with data keys
// from KMS, rotates the KMS key (RotateKeyOnDemand), shows that old rows still decrypt while new
// rows use the new key version, and re-wraps one old row's data key with ReEncrypt. Prints a JSON
// summary; test/kms/envelope-example.test.ts runs it and checks it.
//
//   COFFER_ADDR=http://127.0.0.1:7700 AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… \
//     node dist/src/examples/envelope-sqlite/main.js orders.db

import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient, ListKeyRotationsCommand, NotFoundException, RotateKeyOnDemandCommand } from '@aws-sdk/client-kms';
import Database from 'better-sqlite3';
import { cofferBlobVersion, EncryptedOrders } from './orders.js';

const ALIAS = 'alias/orders';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`set ${name}`);
  return v;
}

/** The key behind alias/orders, created (with the alias) on the first run. */
async function ordersKey(kms: KMSClient): Promise<string> {
  try {
    return (await kms.send(new DescribeKeyCommand({ KeyId: ALIAS }))).KeyMetadata!.Arn!;
  } catch (e) {
    if (!(e instanceof NotFoundException)) throw e;
  }
  const md = (await kms.send(new CreateKeyCommand({ Description: 'orders table data keys' }))).KeyMetadata!;
  await kms.send(new CreateAliasCommand({ AliasName: ALIAS, TargetKeyId: md.KeyId! }));
  return md.Arn!;
}

async function main(): Promise<void> {
  const dbPath = process.argv[2];
  if (!dbPath) throw new Error('usage: main.js <database file>');
  // Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (a `coffer kms access-key create` key).
  const kms = new KMSClient({ endpoint: env('COFFER_ADDR'), region: process.env.AWS_REGION ?? 'us-east-1' });
  const db = new Database(dbPath);
  try {
    const keyArn = await ordersKey(kms);
    const orders = new EncryptedOrders(kms, db, ALIAS);
    for (const id of [1, 2, 3]) await orders.put(id, `order ${id}: ${id} × espresso`);
    // A new version of the KMS key (these two operations take a key id or ARN, not an alias, as on AWS):
    // new data keys are wrapped under it; old wrapped keys name theirs.
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: keyArn }));
    const rotations = (await kms.send(new ListKeyRotationsCommand({ KeyId: keyArn }))).Rotations ?? [];
    for (const id of [4, 5]) await orders.put(id, `order ${id}: ${id} × cortado`);
    // Optional: bring one old row's wrapped key to the new version without touching its body.
    await orders.rewrap(1);

    const rows = [];
    for (const id of [1, 2, 3, 4, 5]) rows.push({ id, text: await orders.get(id), keyVersion: cofferBlobVersion(orders.wrappedKey(id)) });

    // A row copied under another id does not decrypt: its data key's encryption context names the id.
    db.prepare('INSERT INTO orders SELECT 100, wrapped_key, iv, body, tag FROM orders WHERE id = 1').run();
    const moved = await orders.get(100).then(
      () => 'decrypted',
      (e: Error) => e.name,
    );
    db.prepare('DELETE FROM orders WHERE id = 100').run();

    console.log(JSON.stringify({ keyArn, rotations: rotations.map((r) => r.RotationType), rows, movedRow: moved }, null, 2));
  } finally {
    db.close();
    kms.destroy();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
  process.exitCode = 1;
});

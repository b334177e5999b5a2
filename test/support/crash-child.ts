// Child process for the crash-safety test: opens (or initialises) a SQLite vault and creates
// objects in a loop, printing each uid only after its transaction committed. The parent SIGKILLs
// it at a random moment. Usage: node crash-child.js <db path> <master key file>.
// `createOne` is the single unit of work, so it can later be switched to the full Hsm API.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SecretBytes } from '../../src/boundary/secret.js';
import type { Vault } from '../../src/boundary/store/types.js';
import { openVault } from '../../src/boundary/store/vault.js';
import { partition, secretValue, storedObject } from './store-fixtures.js';

export const CRASH_PARTITION = 'crash';
/** Printed once the vault is open and unsealed, so the parent can time its kill from there. */
export const READY = 'ready';

/** Creates one key with one sealed version and its audit record, in one transaction; returns its uid. */
export function createOne(vault: Vault): string {
  const uid = randomUUID();
  const secret = SecretBytes.from(secretValue(uid));
  try {
    vault.transaction(() => {
      vault.putObject(storedObject(uid, CRASH_PARTITION), new Map([[1, secret]]));
      vault.appendAudit({ actor: 'crash-child', partition: CRASH_PARTITION, op: 'key.generate', target: uid, outcome: 'ok' });
    });
  } finally {
    secret.destroy();
  }
  return uid;
}

function main(): void {
  const [path, keyFile] = process.argv.slice(2);
  if (!path || !keyFile) throw new TypeError('usage: crash-child <db> <key file>');
  const vault = openVault({ kind: 'sqlite', path });
  const key = SecretBytes.from(readFileSync(keyFile));
  if (vault.initialized) vault.unseal(key);
  else vault.initialize(key);
  key.destroy();
  if (!vault.getPartition(CRASH_PARTITION)) vault.putPartition(partition(CRASH_PARTITION));
  process.stdout.write(`${READY}\n`);
  for (;;) {
    const uid = createOne(vault);
    // Writes to a pipe are synchronous on Linux, so the line is out before the next commit starts.
    process.stdout.write(`${uid}\n`);
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) main();

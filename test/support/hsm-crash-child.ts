// Child process for the API-level crash test: opens the SQLite store through Hsm.open with the
// master key from a file, logs in, prints "ready", then generates AES-256 token keys in a loop,
// printing each uid only after generateKey resolved (its transaction committed). The parent
// SIGKILLs it at a random moment. Usage: node hsm-crash-child.js <db path> <master key file>.

import { readFileSync } from 'node:fs';
import { Hsm, SecretBytes } from '../../src/boundary/api.js';
import { PASSWORD, TEST_SCRYPT } from './hsm.js';

export const CRASH_USER = 'crasher';

async function main(): Promise<void> {
  const [path, keyFile] = process.argv.slice(2);
  if (!path || !keyFile) throw new TypeError('usage: hsm-crash-child <db> <key file>');
  const raw = readFileSync(keyFile);
  const masterKey = SecretBytes.from(raw);
  raw.fill(0);
  const hsm = await Hsm.open({ store: { kind: 'sqlite', path }, masterKey, scrypt: TEST_SCRYPT });
  masterKey.destroy();
  const status = hsm.status();
  if (status.state !== 'unsealed') throw new Error(`child: module is ${status.state}${status.error ? ` (${status.error})` : ''}`);
  const { session } = await hsm.login({ user: CRASH_USER, password: PASSWORD });
  process.stdout.write('ready\n');
  for (;;) {
    const uid = await hsm.generateKey(session, { template: { keyType: 'aes', valueLen: 32, token: true } });
    // Writes to a pipe are synchronous on Linux, so the line is out before the next key starts.
    process.stdout.write(`${uid}\n`);
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}

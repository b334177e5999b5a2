// Child process for the usage-counter durability test: opens the SQLite store with a 100 ms flush
// interval, signs 5 times with the given key, waits for the timer to flush, prints "flushed",
// signs 3 more times, prints "more" and waits to be SIGKILLed (so only a timer flush can have
// written anything). Usage: node usage-crash-child.js <db path> <master key file> <key uid>.

import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hsm, SecretBytes } from '../../src/boundary/api.js';
import { PASSWORD, TEST_SCRYPT } from './hsm.js';

async function main(): Promise<void> {
  const [path, keyFile, key] = process.argv.slice(2);
  if (!path || !keyFile || !key) throw new TypeError('usage: usage-crash-child <db> <key file> <uid>');
  const hsm = await Hsm.open({ store: { kind: 'sqlite', path }, masterKey: SecretBytes.from(readFileSync(keyFile)), scrypt: TEST_SCRYPT, usageFlushMs: 100 });
  const { session } = await hsm.login({ user: 'alice', password: PASSWORD });
  for (let i = 0; i < 5; i++) await hsm.sign(session, { key, mechanism: 'HMAC-SHA256', data: Buffer.from([i]) });
  await sleep(400);
  process.stdout.write('flushed\n');
  for (let i = 0; i < 3; i++) await hsm.sign(session, { key, mechanism: 'HMAC-SHA256', data: Buffer.from([i]) });
  process.stdout.write('more\n');
  await sleep(60_000);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}

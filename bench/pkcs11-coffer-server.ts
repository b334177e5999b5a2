// The Coffer side of the PKCS#11 benchmark: an in-memory module (partition p1, user alice) served
// on a unix socket in its own process, as `coffer server` would, so the clients and SoftHSM2 do
// not share its event loop. Prints `READY <socket>` and runs until killed.

import { startPkcs11Server } from '../src/frontends/pkcs11/server.js';
import { testHsm } from '../test/support/hsm.js';

const socketPath = process.argv[2];
if (!socketPath) throw new Error('usage: pkcs11-coffer-server <socket>');
const t = await testHsm();
const server = await startPkcs11Server({ hsm: t.hsm, socketPath, partitions: ['p1'], defaultAccounts: { user: 'alice', officer: 'officer' } });
process.stdout.write(`READY ${socketPath}\n`);
const stop = async (): Promise<void> => {
  await server.close();
  await t.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());

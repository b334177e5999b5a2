// A worker thread that serves the in-memory PKCS#11 fixture. pkcs11js calls are synchronous and
// block the calling thread while p11-kit-client.so waits on the socket, so the server must run
// on another event loop than the test that drives it; the worker's is that loop.

import { parentPort } from 'node:worker_threads';
import { p11Fixture } from './p11-fixture.js';
import { importTrustedWrapKey } from '../support/hsm.js';

if (!parentPort) throw new Error('p11-server-worker runs as a worker thread');
const port = parentPort;
const f = await p11Fixture();
port.postMessage({ kind: 'ready', socket: f.socket });
port.on('message', (m: { kind: string; value?: Uint8Array }) => {
  void (async () => {
    if (m.kind === 'close') {
      await f.close();
      port.postMessage({ kind: 'closed' });
      port.close();
    } else if (m.kind === 'trusted-aes' && m.value) {
      // The officer's trusted wrapping key (attacks.md A-12): only an officer may mark a key trusted.
      const uid = await importTrustedWrapKey(f.t, 'aes', m.value);
      port.postMessage({ kind: 'trusted-aes', uid });
    }
  })();
});

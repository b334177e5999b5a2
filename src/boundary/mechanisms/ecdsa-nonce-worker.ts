// The worker thread behind ecdsa-nonces.ts: computes batches of r‖k⁻¹ pairs and transfers each
// batch's buffer to the main thread, so no copy of it stays here. It holds no key and answers
// nothing else.

import { parentPort } from 'node:worker_threads';
import { computeNonces, type NonceCurve } from './ecdsa-nonces.js';

interface Request {
  curve: NonceCurve;
  count: number;
  generation: number;
}

const port = parentPort;
if (!port) throw new Error('ecdsa-nonce-worker runs only as a worker thread');
port.on('message', (m: Request) => {
  const nonces = computeNonces(m.curve, m.count);
  port.postMessage({ openssl: m.curve.openssl, generation: m.generation, nonces }, [nonces.buffer]);
});

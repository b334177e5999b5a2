// Sizes libuv's thread pool to the machine before anything uses it. Asynchronous node:crypto
// calls (signatures, key generation, scrypt) run there; libuv's default of four threads on a
// two-core machine made them compete with each other and with the event loop, costing 10–40 %
// of signing throughput (docs/performance.md). Import this module first; an operator's own
// UV_THREADPOOL_SIZE wins.

import { availableParallelism } from 'node:os';

process.env.UV_THREADPOOL_SIZE ??= String(Math.max(2, availableParallelism()));

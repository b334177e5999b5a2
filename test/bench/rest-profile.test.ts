// The REST benchmark's pure parts: the CPU-profile summary (areas, self time, callers of native
// frames) on a hand-made profile, and the table's ratio and per-request CPU columns.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatRestTable } from '../../bench/rest.js';
import { summariseProfile } from '../../bench/rest-profile.js';

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 9 }, children });

test('summariseProfile: self time by area and frame, and who called the hot native frame', () => {
  const profile = {
    nodes: [
      frame(1, '(root)', '', [2, 5, 6]),
      frame(2, 'signAsync', 'file:///x/dist/src/boundary/mechanisms/asymmetric-ops.js', [3]),
      frame(3, 'signOneShot', 'node:internal/crypto/sig', [4]),
      frame(4, 'run', ''),
      frame(5, 'route', 'file:///x/node_modules/fastify/fastify.js'),
      frame(6, '(idle)', ''),
    ],
    samples: [4, 4, 4, 5, 6],
  };
  const text = summariseProfile(profile, 3).join('\n');
  assert.match(text, /5 samples/);
  assert.match(text, /60\.0 %\s+native\/builtin/);
  assert.match(text, /20\.0 %\s+npm fastify/);
  assert.match(text, /20\.0 %\s+\(idle\)/);
  assert.match(text, /route fastify\/fastify\.js:10/);
  assert.match(text, /callers of native run:\n\s+60\.0 %\s+signOneShot node:internal\/crypto\/sig:10 ← signAsync src\/boundary\/mechanisms\/asymmetric-ops\.js:10/);
});

test('formatRestTable: ratio to the boundary and main-thread µs per request', () => {
  const table = formatRestTable([
    { operation: 'sign X', connections: 64, requestsPerSecond: 4000, p50: 10, p99: 40, errors: 0, serverElu: 0.98, serverCpu: 0.8, serverMainCpu: 0.44, clientCpu: 0.2, boundaryPerSecond: 10000, boundaryMainMicros: 17 },
  ]);
  const row = table.split('\n')[2]!;
  assert.match(row, /^sign X\s+64\s+4,000\s+10\.00\s+40\.00\s+0\s+0\.98\s+0\.80 \(0\.44\)\s+110\s+0\.20\s+10,000\s+17\s+0\.400$/);
});

// The benchmark's openssl baseline is only as good as its parser: these cases read output saved
// from this machine's OpenSSL 3.0.19 (-multi 2 and single-process forms) and check the figures.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseAsymSpeed, parseCipherSpeed } from '../../bench/openssl-speed.js';

// Compiled to dist/test/bench/, so the repo root is three levels up.
const fixture = (name: string): string =>
  readFileSync(new URL(`../../../test/bench/fixtures/${name}`, import.meta.url), 'utf8');

test('asymmetric rows of `openssl speed -multi 2` (children summed by openssl)', () => {
  const out = fixture('openssl-speed-multi2-asym.txt');
  assert.deepEqual(parseAsymSpeed(out, 'rsa2048'), { sign: 4507.0, verify: 55625.2 });
  assert.deepEqual(parseAsymSpeed(out, 'ecdsap256'), { sign: 25719.3, verify: 19969.7 });
  assert.deepEqual(parseAsymSpeed(out, 'ed25519'), { sign: 34039.7, verify: 9329.3 });
});

test('asymmetric row of a single-process run', () => {
  const out = fixture('openssl-speed-single-ed25519.txt');
  assert.deepEqual(parseAsymSpeed(out, 'ed25519'), { sign: 23691.9, verify: 8950.5 });
  assert.throws(() => parseAsymSpeed(out, 'rsa2048'), /no rsa2048 row/);
});

test('cipher rows: thousands of bytes per second become operations per second', () => {
  // 239347.18k B/s over 64-byte blocks; the -multi form has no "type … bytes" header.
  const r64 = parseCipherSpeed(fixture('openssl-speed-multi2-aes-256-gcm-64.txt'), 'AES-256-GCM', 64);
  assert.ok(Math.abs(r64 - (239347.18 * 1000) / 64) < 1e-6, String(r64));
  const r1k = parseCipherSpeed(fixture('openssl-speed-multi2-aes-256-gcm-1024.txt'), 'AES-256-GCM', 1024);
  assert.ok(Math.abs(r1k - (2565329.24 * 1000) / 1024) < 1e-6, String(r1k));
  const single = fixture('openssl-speed-single-aes-256-gcm-64.txt');
  assert.ok(Math.abs(parseCipherSpeed(single, 'AES-256-GCM', 64) - (127628.86 * 1000) / 64) < 1e-6);
  assert.throws(() => parseCipherSpeed(single, 'AES-256-GCM', 1024), /no 1024-byte column/);
  assert.throws(() => parseCipherSpeed(single, 'AES-128-GCM', 64), /no AES-128-GCM row/);
});

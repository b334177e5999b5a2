// Assertion for the boundary's coded refusals: passes only when the call (sync or async) fails
// with an HsmError of exactly the given code, and names the code it got otherwise.

import assert from 'node:assert/strict';
import { type ErrorCode, isHsmError } from '../../src/boundary/api.js';

export async function expectCode(fn: () => unknown, code: ErrorCode, message?: string): Promise<void> {
  let result: unknown;
  try {
    result = await fn();
  } catch (e) {
    if (isHsmError(e, code)) return;
    const got = isHsmError(e) ? `HsmError ${e.code} (${e.message})` : String(e);
    assert.fail(`${message ?? 'call'}: expected ${code}, got ${got}`);
  }
  assert.fail(`${message ?? 'call'}: expected ${code}, but it succeeded with ${typeof result === 'object' ? JSON.stringify(result)?.slice(0, 80) : String(result)}`);
}

// Test support for quorum approvals: a module with three more admins (four in all), each logged in,
// and a helper that runs a gated call expecting QUORUM_REQUIRED and returns the request it opened.

import assert from 'node:assert/strict';
import { isHsmError, QuorumRequiredError } from '../../src/boundary/api.js';
import { PASSWORD, type TestHsm, testHsm } from '../support/hsm.js';

export interface QuorumHsm extends TestHsm {
  /** Sessions of admin2, admin3, admin4 (t.admin is 'admin'). */
  admins: [string, string, string];
  login(name: string): Promise<string>;
}

export async function quorumHsm(): Promise<QuorumHsm> {
  const t = await testHsm();
  for (const name of ['admin2', 'admin3', 'admin4']) await t.hsm.createUser(t.admin, { name, password: PASSWORD, role: 'admin' });
  const login = async (name: string): Promise<string> => (await t.hsm.login({ user: name, password: PASSWORD })).session;
  const admins: [string, string, string] = [await login('admin2'), await login('admin3'), await login('admin4')];
  return { ...t, admins, login };
}

/** Runs a gated call that must not run yet: returns the request id and digest from the QUORUM_REQUIRED error. */
export async function expectPending(fn: () => unknown, message = 'gated call'): Promise<{ request: string; digest: string }> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof QuorumRequiredError) {
      assert.match(e.request, /^q-[0-9a-f]{24}$/, `${message}: request id`);
      assert.match(e.digest, /^[0-9a-f]{64}$/, `${message}: digest`);
      const body = e.toJSON();
      assert.equal(body.code, 'QUORUM_REQUIRED');
      assert.equal(body.request, e.request);
      return { request: e.request, digest: e.digest };
    }
    assert.fail(`${message}: expected QUORUM_REQUIRED, got ${isHsmError(e) ? e.code : String(e)}`);
  }
  assert.fail(`${message}: expected QUORUM_REQUIRED, but it ran`);
}

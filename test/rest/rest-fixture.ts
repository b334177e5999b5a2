// Test fixture for the REST route tests: a test HSM behind the REST app on a real socket, a
// small JSON client, and login over REST for each test account.

import assert from 'node:assert/strict';
import { buildRestApp } from '../../src/frontends/rest/app.js';
import { PASSWORD, type TestHsm, testHsm } from '../support/hsm.js';

export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
}

export interface RestFixture {
  t: TestHsm;
  base: string;
  /** Bearer tokens of alice (user, p1), officer (p1), admin, auditor. */
  user: string;
  officer: string;
  admin: string;
  auditor: string;
  call<T = Record<string, unknown>>(method: string, path: string, token: string | undefined, body?: unknown): Promise<Reply<T>>;
  login(user: string, password?: string): Promise<string>;
  close(): Promise<void>;
}

export async function restFixture(): Promise<RestFixture> {
  const t = await testHsm();
  const { app } = buildRestApp({ hsm: t.hsm, rateLimit: { perSecond: 0, burst: 0 } });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const call = async <T>(method: string, path: string, token: string | undefined, body?: unknown): Promise<Reply<T>> => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(`${base}${path}`, init);
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
  };
  const login = async (user: string, password = PASSWORD): Promise<string> => {
    const r = await call<{ token: string }>('POST', '/v1/auth/login', undefined, { user, password });
    assert.equal(r.status, 200, `login ${user}: ${JSON.stringify(r.body)}`);
    return r.body.token;
  };
  return {
    t,
    base,
    user: await login('alice'),
    officer: await login('officer'),
    admin: await login('admin'),
    auditor: await login('auditor'),
    call,
    login,
    close: async () => {
      await app.close();
      await t.close();
    },
  };
}

/** Asserts a coded error answer. */
export function expectError(r: Reply, status: number, code: string, what: string): void {
  const err = (r.body as { error?: { code?: string } }).error;
  assert.equal(r.status, status, `${what}: status (${JSON.stringify(r.body)})`);
  assert.equal(err?.code, code, `${what}: code`);
}

export function b64(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64');
}

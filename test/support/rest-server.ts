// Test support for REST tests that need a configured app (lockout, token lifetime, rate and body
// limits) and a raw client: node:http rather than fetch, so a test can send any bytes with any
// headers (a body on GET, a wrong Content-Length, a body that never finishes) and never hangs.

import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { ERROR_CATALOGUE, type HsmOptions } from '../../src/boundary/api.js';
import { buildRestApp, type RestApp, type RestOptions } from '../../src/frontends/rest/app.js';
import { PASSWORD, type TestHsm, testHsm } from './hsm.js';

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: unknown;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Milliseconds before the request is abandoned and the test fails (default 10 s). */
  timeoutMs?: number;
}

export interface RestServer {
  t: TestHsm;
  rest: RestApp;
  base: string;
  port: number;
  send(r: RawRequest): Promise<RawReply>;
  /** JSON request with an optional bearer token. */
  call(method: string, path: string, token?: string, body?: unknown): Promise<RawReply>;
  login(user: string, password?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startRest(hsmOptions: Partial<HsmOptions> = {}, restOptions: Omit<RestOptions, 'hsm'> = {}): Promise<RestServer> {
  const t = await testHsm(hsmOptions);
  const rest = buildRestApp({ hsm: t.hsm, ...restOptions });
  const base = await rest.app.listen({ host: '127.0.0.1', port: 0 });
  const port = Number(new URL(base).port);
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });

  const send = (r: RawRequest): Promise<RawReply> =>
    new Promise((resolvePromise, reject) => {
      const headers: Record<string, string> = { ...r.headers };
      if (r.body !== undefined && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
      const req = request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      });
      req.setTimeout(r.timeoutMs ?? 10_000, () => {
        req.destroy(new Error(`${r.method} ${r.path.slice(0, 80)}: no answer within ${r.timeoutMs ?? 10_000} ms`));
      });
      req.on('error', reject);
      req.end(r.body);
    });

  const call = (method: string, path: string, token?: string, body?: unknown): Promise<RawReply> => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return send({ method, path, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  };

  const login = async (user: string, password = PASSWORD): Promise<string> => {
    const r = await call('POST', '/v1/auth/login', undefined, { user, password });
    assert.equal(r.status, 200, `login ${user}: ${r.text}`);
    return (r.json as { token: string }).token;
  };

  return {
    t,
    rest,
    base,
    port,
    send,
    call,
    login,
    close: async () => {
      agent.destroy();
      await rest.app.close();
      await t.close();
    },
  };
}

/** Asserts a coded 4xx answer: status in 400..499, body { error: { code, message } }, code in the catalogue with that status. */
export function expectCoded4xx(r: RawReply, what: string): string {
  assert.ok(r.status >= 400 && r.status < 500, `${what}: expected a 4xx, got ${r.status} ${r.text.slice(0, 200)}`);
  const err = (r.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  assert.ok(err && typeof err.code === 'string' && typeof err.message === 'string', `${what}: body is not { error: { code, message } }: ${r.text.slice(0, 200)}`);
  assert.ok(Object.hasOwn(ERROR_CATALOGUE, err.code), `${what}: code ${err.code} is not in the catalogue`);
  assert.equal(r.status, ERROR_CATALOGUE[err.code as keyof typeof ERROR_CATALOGUE].http, `${what}: status ${r.status} differs from the catalogue's for ${err.code}`);
  return err.code;
}

/** Asserts an exact coded error. */
export function expectErrorCode(r: RawReply, status: number, code: string, what: string): void {
  assert.equal(expectCoded4xx(r, what), code, `${what}: code (${r.text.slice(0, 200)})`);
  assert.equal(r.status, status, `${what}: status`);
}

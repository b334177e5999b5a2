// REST authentication over a real socket: wrong passwords count and lock the account, unknown
// accounts answer like wrong passwords, malformed Authorization headers are 401s, logout and
// expiry revoke the token and end its boundary session, and tokens are kept only as hashes.

import assert from 'node:assert/strict';
import { Session } from 'node:inspector/promises';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TokenStore } from '../../src/frontends/rest/tokens.js';
import { PASSWORD } from '../support/hsm.js';
import { expectErrorCode, type RestServer, startRest } from '../support/rest-server.js';

let srv: RestServer;
before(async () => {
  srv = await startRest({ lockoutThreshold: 3 }, { rateLimit: { perSecond: 0, burst: 0 } });
});
after(async () => {
  await srv.close();
});

const whoami = (token: string) => srv.send({ method: 'GET', path: '/v1/auth/whoami', headers: { authorization: `Bearer ${token}` } });

test('lockout: wrong passwords answer PIN_INCORRECT until the threshold, then PIN_LOCKED even with the right password', async () => {
  await srv.call('POST', '/v1/users', await srv.login('admin'), { name: 'mallory', password: PASSWORD, role: 'user', partition: 'p1' });
  const live = await srv.login('mallory');
  for (let i = 1; i <= 2; i++) expectErrorCode(await srv.call('POST', '/v1/auth/login', undefined, { user: 'mallory', password: `wrong password ${i}` }), 401, 'PIN_INCORRECT', `wrong password ${i}`);
  // The failure that reaches the threshold (3) locks the account and says so.
  expectErrorCode(await srv.call('POST', '/v1/auth/login', undefined, { user: 'mallory', password: 'wrong password 3' }), 423, 'PIN_LOCKED', 'third failure');
  expectErrorCode(await srv.call('POST', '/v1/auth/login', undefined, { user: 'mallory', password: PASSWORD }), 423, 'PIN_LOCKED', 'right password, locked account');
  // Locking ends the account's sessions: a token issued before is dead too.
  const r = await whoami(live);
  assert.equal(r.status, 401, `a token of a locked account: ${r.text}`);

  // A successful login resets the count: two failures, a success, two more failures do not lock.
  for (let i = 0; i < 2; i++) await srv.call('POST', '/v1/auth/login', undefined, { user: 'alice', password: 'not the password' });
  await srv.login('alice');
  for (let i = 0; i < 2; i++) expectErrorCode(await srv.call('POST', '/v1/auth/login', undefined, { user: 'alice', password: 'not the password' }), 401, 'PIN_INCORRECT', `alice failure ${i} after a reset`);
  await srv.login('alice');
});

test('an unknown account answers exactly like a wrong password (no enumeration)', async () => {
  const unknown = await srv.call('POST', '/v1/auth/login', undefined, { user: 'nobody-here', password: PASSWORD });
  expectErrorCode(unknown, 401, 'PIN_INCORRECT', 'unknown user');
  const wrong = await srv.call('POST', '/v1/auth/login', undefined, { user: 'officer', password: 'not the password' });
  expectErrorCode(wrong, 401, 'PIN_INCORRECT', 'wrong password');
  assert.equal(unknown.text, wrong.text, 'same body for an unknown account and a wrong password');
  // A name the account rules would never allow is still just PIN_INCORRECT.
  expectErrorCode(await srv.call('POST', '/v1/auth/login', undefined, { user: '../../etc/passwd', password: PASSWORD }), 401, 'PIN_INCORRECT', 'impossible name');
});

test('missing, malformed and foreign Authorization headers are 401 UNAUTHENTICATED', async () => {
  const token = await srv.login('alice');
  const headers: [string, Record<string, string>][] = [
    ['no header', {}],
    ['garbage', { authorization: 'garbage' }],
    ['scheme only', { authorization: 'Bearer' }],
    ['scheme and a space', { authorization: 'Bearer ' }],
    ['spaces for a token', { authorization: 'Bearer     ' }],
    ['two spaces before the token', { authorization: `Bearer  ${token}` }],
    ['trailing junk', { authorization: `Bearer ${token} x` }],
    ['two tokens', { authorization: `Bearer ${token},Bearer ${token}` }],
    ['Basic scheme', { authorization: `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}` }],
    ['token without scheme', { authorization: token }],
    ['unknown token of the right shape', { authorization: `Bearer cft_${'A'.repeat(43)}` }],
    ['a token one character short', { authorization: `Bearer ${token.slice(0, -1)}` }],
    ['over-long token', { authorization: `Bearer ${'A'.repeat(5000)}` }],
    // Latin-1 bytes are the only non-ASCII a header can carry on the wire.
    ['non-ASCII token', { authorization: `Bearer ${token.slice(0, -2)}é` }],
    ['non-ASCII after the token', { authorization: `Bearer ${token}\u00ff` }],
    ['token in another header', { 'x-auth-token': token }],
  ];
  for (const [what, h] of headers) {
    expectErrorCode(await srv.send({ method: 'GET', path: '/v1/auth/whoami', headers: h }), 401, 'UNAUTHENTICATED', what);
    expectErrorCode(await srv.send({ method: 'GET', path: '/v1/keys', headers: h }), 401, 'UNAUTHENTICATED', `${what} (keys)`);
  }
  assert.equal((await whoami(token)).status, 200, 'the real token still works after all that');
  // RFC 7235 §2.1: the scheme name is case-insensitive.
  for (const scheme of ['bearer', 'BEARER']) {
    const r = await srv.send({ method: 'GET', path: '/v1/auth/whoami', headers: { authorization: `${scheme} ${token}` } });
    assert.equal(r.status, 200, `scheme spelled ${scheme}: ${r.text}`);
  }
});

test('logout revokes the token and ends the boundary session; other tokens of the same account live on', async () => {
  const a = await srv.login('alice');
  const b = await srv.login('alice');
  assert.notEqual(a, b, 'two logins give distinct tokens');
  assert.match(a, /^cft_[A-Za-z0-9_-]{43}$/, 'a token is 256 random bits in base64url');
  const sessionsBefore = srv.t.hsm.status().sessions;
  const out = await srv.send({ method: 'POST', path: '/v1/auth/logout', headers: { authorization: `Bearer ${a}` } });
  assert.equal(out.status, 200, out.text);
  assert.equal(srv.t.hsm.status().sessions, sessionsBefore - 1, 'the boundary session ended with the token');
  expectErrorCode(await whoami(a), 401, 'UNAUTHENTICATED', 'revoked token');
  expectErrorCode(await srv.send({ method: 'POST', path: '/v1/auth/logout', headers: { authorization: `Bearer ${a}` } }), 401, 'UNAUTHENTICATED', 'logout twice');
  const still = await whoami(b);
  assert.equal(still.status, 200, `the other token of the same account: ${still.text}`);
  assert.deepEqual(still.json, { user: 'alice', role: 'user', partition: 'p1' });
});

test('tokens expire after tokenTtlMs and their boundary session ends', async () => {
  const short = await startRest({}, { tokenTtlMs: 200 });
  try {
    const token = await short.login('alice');
    assert.equal((await short.send({ method: 'GET', path: '/v1/auth/whoami', headers: { authorization: `Bearer ${token}` } })).status, 200);
    const sessions = short.t.hsm.status().sessions;
    await sleep(300);
    expectErrorCode(await short.send({ method: 'GET', path: '/v1/auth/whoami', headers: { authorization: `Bearer ${token}` } }), 401, 'UNAUTHENTICATED', 'expired token');
    assert.equal(short.t.hsm.status().sessions, sessions - 1, 'expiry ended the boundary session');
    assert.equal(short.rest.tokens.size, 0, 'the expired token is gone from the store');
  } finally {
    await short.close();
  }
});

/**
 * Every string reachable from `root` through own properties, private fields and Map/Set entries,
 * read with the inspector: the TokenStore's map is a private field no test can otherwise see.
 */
async function reachableStrings(root: unknown, depth = 6): Promise<string[]> {
  const session = new Session();
  session.connect();
  const key = `__cofferProbe${Math.random().toString(36).slice(2)}`;
  (globalThis as Record<string, unknown>)[key] = root;
  const out: string[] = [];
  type Remote = { type: string; value?: unknown; objectId?: string };
  type Prop = { name: string; value?: Remote };
  const walk = async (objectId: string, left: number): Promise<void> => {
    if (left === 0) return;
    const props = (await session.post('Runtime.getProperties', { objectId, ownProperties: true })) as { result: Prop[]; internalProperties?: Prop[]; privateProperties?: Prop[] };
    for (const p of [...props.result, ...(props.internalProperties ?? []), ...(props.privateProperties ?? [])]) {
      if (p.name === '__proto__' || p.name === '[[Prototype]]') continue;
      out.push(p.name);
      if (p.value?.type === 'string') out.push(String(p.value.value));
      else if (p.value?.type === 'object' && p.value.objectId) await walk(p.value.objectId, left - 1);
    }
  };
  try {
    const { result } = (await session.post('Runtime.evaluate', { expression: `globalThis.${key}` })) as { result: Remote };
    if (result.objectId) await walk(result.objectId, depth);
  } finally {
    delete (globalThis as Record<string, unknown>)[key];
    session.disconnect();
  }
  return out;
}

test('the token store keeps SHA-256 hashes of tokens, never the tokens', async () => {
  const store = new TokenStore(60_000, () => {});
  const { token } = store.issue('session-handle-1');
  assert.equal(store.resolve(token), 'session-handle-1');
  const strings = await reachableStrings(store);
  assert.ok(strings.includes('session-handle-1'), `the walk reaches the entries (saw ${strings.length} strings)`);
  assert.ok(strings.includes(TokenStore.hash(token)), 'the entry is keyed by the hash');
  const secretPart = token.slice(4);
  assert.ok(!strings.some((s) => s.includes(secretPart)), 'the token text is nowhere in the store');
});

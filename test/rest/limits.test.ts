// REST request limits over a real socket: body size (declared and chunked), JSON depth, the
// per-token rate limit and its refill, and a time bound on receiving a request, so a client that
// trickles its headers or body (slow-loris, attacks.md D-07) cannot hold a connection forever.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PASSWORD } from '../support/hsm.js';
import { expectErrorCode, startRest } from '../support/rest-server.js';

test('a body over bodyLimit is 413 REQUEST_TOO_LARGE, declared or chunked; one at the limit is read', async () => {
  const srv = await startRest({}, { bodyLimit: 1024 });
  try {
    const big = JSON.stringify({ user: 'alice', password: 'x'.repeat(2000) });
    const json = { 'content-type': 'application/json' };
    expectErrorCode(await srv.send({ method: 'POST', path: '/v1/auth/login', headers: json, body: big }), 413, 'REQUEST_TOO_LARGE', 'declared length');
    expectErrorCode(await srv.send({ method: 'POST', path: '/v1/auth/login', headers: { ...json, 'transfer-encoding': 'chunked' }, body: big }), 413, 'REQUEST_TOO_LARGE', 'chunked, no length');
    const token = await srv.login('alice');
    const auth = { ...json, authorization: `Bearer ${token}` };
    expectErrorCode(await srv.send({ method: 'POST', path: '/v1/digest', headers: auth, body: big }), 413, 'REQUEST_TOO_LARGE', 'authenticated route');
    // Exactly 1024 bytes (padded with JSON whitespace) is parsed: the answer is about the password.
    const body = JSON.stringify({ user: 'alice', password: 'wrong password' });
    const atLimit = body + ' '.repeat(1024 - body.length);
    expectErrorCode(await srv.send({ method: 'POST', path: '/v1/auth/login', headers: json, body: atLimit }), 401, 'PIN_INCORRECT', 'a body of exactly bodyLimit bytes');
    assert.equal((await srv.send({ method: 'GET', path: '/v1/sys/health' })).status, 200, 'healthy after');
  } finally {
    await srv.close();
  }
});

test('JSON nested deeper than jsonDepth is 400 ARGUMENTS_BAD before parsing; brackets inside strings do not count', async () => {
  const srv = await startRest({}, { jsonDepth: 8 });
  try {
    const json = { 'content-type': 'application/json' };
    for (const [open, close] of [
      ['[', ']'],
      ['{"a":', '}'],
    ] as const) {
      const deep = `{"user":"alice","password":"p","x":${open.repeat(8)}1${close.repeat(8)}}`;
      const r = await srv.send({ method: 'POST', path: '/v1/auth/login', headers: json, body: deep });
      expectErrorCode(r, 400, 'ARGUMENTS_BAD', `nine levels of ${open}`);
      assert.match(r.text, /nested deeper than 8/);
      const ok = `{"user":"alice","password":"p","x":${open.repeat(7)}1${close.repeat(7)}}`;
      const r8 = await srv.send({ method: 'POST', path: '/v1/auth/login', headers: json, body: ok });
      expectErrorCode(r8, 400, 'ARGUMENTS_BAD', `eight levels of ${open}: parsed, refused by the schema`);
      assert.doesNotMatch(r8.text, /nested deeper/);
    }
    const bracketsInString = JSON.stringify({ user: 'alice', password: `${'[{'.repeat(50)}\\"]` });
    expectErrorCode(await srv.send({ method: 'POST', path: '/v1/auth/login', headers: json, body: bracketsInString }), 401, 'PIN_INCORRECT', 'brackets inside a string');
    // 100 000 levels: refused in one linear scan, and the server is fine afterwards.
    const huge = '['.repeat(100_000) + ']'.repeat(100_000);
    const started = Date.now();
    expectErrorCode(await srv.send({ method: 'POST', path: '/v1/auth/login', headers: json, body: huge }), 400, 'ARGUMENTS_BAD', '100 000 levels');
    assert.ok(Date.now() - started < 2000, 'refused quickly');
    assert.equal((await srv.send({ method: 'GET', path: '/v1/sys/health' })).status, 200);
  } finally {
    await srv.close();
  }
});

test('rate limit per token: the 6th quick request is 429 LIMIT_EXCEEDED, another token is unaffected, and a second later it works again', async () => {
  const srv = await startRest({}, { rateLimit: { perSecond: 5, burst: 5 } });
  try {
    const a = await srv.login('alice');
    const b = await srv.login('alice');
    const who = (t: string) => srv.send({ method: 'GET', path: '/v1/auth/whoami', headers: { authorization: `Bearer ${t}` } });
    for (let i = 1; i <= 5; i++) assert.equal((await who(a)).status, 200, `request ${i}`);
    expectErrorCode(await who(a), 429, 'LIMIT_EXCEEDED', 'the 6th request');
    expectErrorCode(await who(a), 429, 'LIMIT_EXCEEDED', 'the 7th request');
    assert.equal((await who(b)).status, 200, "another token's bucket is its own");
    // Unauthenticated requests are refused before the bucket: they cost the token nothing.
    for (let i = 0; i < 10; i++) expectErrorCode(await srv.send({ method: 'GET', path: '/v1/auth/whoami' }), 401, 'UNAUTHENTICATED', 'no token');
    // Health probes from a load balancer are never limited.
    for (let i = 0; i < 20; i++) assert.equal((await srv.send({ method: 'GET', path: '/v1/sys/health' })).status, 200);
    await sleep(1100);
    assert.equal((await who(a)).status, 200, 'refilled after a second');
  } finally {
    await srv.close();
  }
});

test(
  'logins and other calls without a token are throttled per client address (attacks.md D-09)',
  async () => {
    const srv = await startRest({}, { anonymousRateLimit: { perSecond: 5, burst: 5 } });
    try {
      // All at once: each refused login costs a full scrypt, so one after another would let the bucket refill.
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => srv.call('POST', '/v1/auth/login', undefined, { user: `nobody${i}`, password: PASSWORD })));
      const statuses = answers.map((a) => a.status);
      assert.ok(statuses.includes(429), `statuses: ${statuses.join(',')}`);
    } finally {
      await srv.close();
    }
  },
);

/**
 * Opens a raw connection, writes `head` and then one byte of `trickle` every `everyMs` (so no
 * idle timeout fires), and resolves with what the server answered and how long until it closed.
 */
function trickle(port: number, head: string, rest: string, everyMs: number, giveUpMs: number): Promise<{ closedAfterMs: number; answer: string; closed: boolean }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    let i = 0;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ closedAfterMs: Date.now() - started, answer, closed });
    };
    const timer = setInterval(() => {
      if (i < rest.length && socket.writable) socket.write(rest[i++]!);
    }, everyMs);
    const giveUp = setTimeout(() => finish(false), giveUpMs);
    socket.on('data', (d) => {
      answer += d.toString('latin1');
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.write(head);
  });
}

test('a request trickled in slowly is cut off after requestTimeoutMs (slow-loris)', async () => {
  const srv = await startRest({}, { requestTimeoutMs: 1000 });
  try {
    // A body promised at 200 bytes and sent one byte per 100 ms would take 20 s.
    const body = JSON.stringify({ user: 'alice', password: 'x'.repeat(200) });
    const head = `POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const slowBody = await trickle(srv.port, head, body, 100, 8000);
    assert.ok(slowBody.closed, `the server held a trickling body for ${slowBody.closedAfterMs} ms without closing`);
    assert.ok(slowBody.closedAfterMs < 4000, `closed after ${slowBody.closedAfterMs} ms`);
    assert.match(slowBody.answer, /^HTTP\/1\.1 408 /, `answer: ${slowBody.answer.slice(0, 80)}`);
    assert.match(slowBody.answer, /\{"error":\{"code":"LIMIT_EXCEEDED","message":"[^"]+"\}\}$/, 'the coded error body');

    // Headers trickled in the same way.
    const slowHead = await trickle(srv.port, 'GET /v1/sys/health HTTP/1.1\r\n', `Host: localhost\r\nX-Slow: ${'y'.repeat(200)}\r\n\r\n`, 100, 8000);
    assert.ok(slowHead.closed, `the server held trickling headers for ${slowHead.closedAfterMs} ms without closing`);
    assert.ok(slowHead.closedAfterMs < 4000, `closed after ${slowHead.closedAfterMs} ms`);

    // A prompt request on the same server is unaffected.
    assert.equal((await srv.send({ method: 'GET', path: '/v1/sys/health' })).status, 200);
  } finally {
    await srv.close();
  }
});

/** Writes raw bytes on a fresh connection and returns everything the server sent before closing. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within 5 s; got ${answer.slice(0, 120)}`));
    }, 5000);
    socket.on('data', (d) => {
      answer += d.toString('latin1');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on('error', () => {});
    socket.end(bytes);
  });
}

test('ambiguous or malformed HTTP framing is a coded 400 and the connection closes (attacks.md D-07)', async () => {
  const srv = await startRest();
  try {
    const body = '{"user":"alice","password":"x"}';
    const cases: [string, string, RegExp, string][] = [
      ['Content-Length with Transfer-Encoding', `POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`, /^HTTP\/1\.1 400 /, 'ARGUMENTS_BAD'],
      ['two different Content-Lengths', `POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nContent-Length: 5\r\n\r\n${body}`, /^HTTP\/1\.1 400 /, 'ARGUMENTS_BAD'],
      ['space before the colon', `POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\n{"a":`, /^HTTP\/1\.1 400 /, 'ARGUMENTS_BAD'],
      ['garbage request line', 'HELLO THERE\r\n\r\n', /^HTTP\/1\.1 400 /, 'ARGUMENTS_BAD'],
      ['headers over the size limit', `GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, /^HTTP\/1\.1 431 /, 'REQUEST_TOO_LARGE'],
    ];
    for (const [what, bytes, status, code] of cases) {
      const answer = await rawExchange(srv.port, bytes);
      assert.match(answer, status, `${what}: ${answer.slice(0, 100)}`);
      const json = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };
      assert.equal(json.error.code, code, what);
    }
    assert.equal((await srv.send({ method: 'GET', path: '/v1/sys/health' })).status, 200, 'healthy after');
  } finally {
    await srv.close();
  }
});

test('path limits agree with body limits: the longest alias PUT accepts can be addressed by path', async () => {
  const srv = await startRest();
  try {
    const token = await srv.login('alice');
    const made = await srv.call('POST', '/v1/keys', token, { template: { keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true } });
    const uid = (made.json as { key: { uid: string } }).key.uid;
    // Aliases are ASCII (letters, digits, / _ . -); slashes inside one are percent-encoded in the path.
    for (const alias of ['a'.repeat(256), `team/${'x/'.repeat(125)}k`]) {
      const put = await srv.call('PUT', `/v1/keys/${uid}/aliases`, token, { aliases: [alias] });
      assert.equal(put.status, 200, `PUT alias of ${alias.length} × ${alias[0]}: ${put.text.slice(0, 200)}`);
      const got = await srv.call('GET', `/v1/keys/${encodeURIComponent(`alias/${alias}`)}`, token);
      assert.equal(got.status, 200, `GET by alias of ${alias.length} × ${alias[0]}: ${got.text.slice(0, 200)}`);
      assert.equal((got.json as { key: { uid: string } }).key.uid, uid);
    }
    // Past the schema's bound it is a coded 400, not fastify's own body.
    const long = await srv.call('GET', `/v1/keys/${'A'.repeat(5000)}`, token);
    expectErrorCode(long, 400, 'ARGUMENTS_BAD', 'a 5000-character id');
    assert.doesNotMatch(long.text, /AAAA/, 'the path is not echoed');
  } finally {
    await srv.close();
  }
});

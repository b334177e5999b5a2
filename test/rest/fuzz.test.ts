// Bad input at every REST route over a real socket (attacks.md D-07, D-08; STYLE §8): malformed
// JSON, wrong media types, wrong JSON types, huge numbers, prototype-pollution keys, deep nesting,
// bad base64 in every byte field, oversized bodies and random JSON, with real and hostile path
// parameters. Every answer must be a coded 4xx, never a 5xx or a hang; afterwards the server is
// healthy and the store (objects of both partitions, accounts, partitions) is exactly as before.
// Routes come from ALL_ROUTES, so a route added later is fuzzed without touching this file.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { attributesToJson } from '../../src/boundary/api.js';
import { TEMPLATE_SCHEMA } from '../../src/frontends/rest/key-description.js';
import type { JsonSchema, RouteDef } from '../../src/frontends/rest/route.js';
import { ALL_ROUTES } from '../../src/frontends/rest/routes/index.js';
import { PASSWORD } from '../support/hsm.js';
import { type KeyKit, keyRequest, makeKeyKit } from '../support/rest-key-kit.js';
import { expectCoded4xx, type RawReply, type RestServer, startRest } from '../support/rest-server.js';

const SEED = Number(process.env.COFFER_FUZZ_SEED ?? Date.now() % 2 ** 31);
const RANDOM_BODIES_PER_ROUTE = 20;

let srv: RestServer;
let kit: KeyKit;
let bobKey: string;
let bobSession: string;
let tokens: { user: string; admin: string };

before(async () => {
  srv = await startRest({}, { rateLimit: { perSecond: 0, burst: 0 } });
  const admin = await srv.login('admin');
  assert.equal((await srv.call('POST', '/v1/partitions', admin, { name: 'p2' })).status, 201);
  assert.equal((await srv.call('POST', '/v1/users', admin, { name: 'bob', password: PASSWORD, role: 'user', partition: 'p2' })).status, 201);
  const bob = await srv.login('bob');
  const made = await srv.call('POST', '/v1/keys', bob, { template: { keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true } });
  bobKey = (made.json as { key: { uid: string } }).key.uid;
  bobSession = (await srv.t.hsm.login({ user: 'bob', password: PASSWORD })).session;
  const user = await srv.login('alice');
  kit = await makeKeyKit(srv, user, await srv.login('officer'));
  tokens = { user, admin };
});
after(async () => {
  await srv.close();
});

/** Everything a request could change: both partitions' objects, the accounts and the partitions. */
async function snapshot(): Promise<string> {
  const { hsm } = srv.t;
  const objects = async (session: string) => {
    const uids = (await hsm.findObjects(session)).sort();
    return Promise.all(uids.map(async (uid) => attributesToJson(await hsm.getAttributes(session, uid))));
  };
  return JSON.stringify(
    {
      state: hsm.status().state,
      p1: await objects(srv.t.user),
      p2: await objects(bobSession),
      users: hsm.listUsers(srv.t.admin),
      partitions: hsm.listPartitions(srv.t.admin),
      quorumPolicy: hsm.quorumPolicy(srv.t.admin),
      quorumRequests: hsm.listQuorumRequests(srv.t.admin),
    },
    null,
    1,
  );
}

// ───────────────────────────── what gets sent ─────────────────────────────

interface Body {
  what: string;
  bytes: string | Buffer;
  contentType?: string;
  /** JSON the parser accepts: it reaches the route's schema and maybe its handler. */
  parseable: boolean;
}

const JSON_TYPE = 'application/json';
const json = (what: string, value: unknown): Body => ({ what, bytes: JSON.stringify(value), contentType: JSON_TYPE, parseable: true });

const MALFORMED: Body[] = [
  '{',
  '{"a":',
  '{"a":1,}',
  "{'a':1}",
  '{"a":1}}',
  '[1,2',
  'nul',
  'NaN',
  'Infinity',
  '{"a":01}',
  '{"a":"\\x41"}',
  '{"a":"unterminated}',
  '\u0000',
  '\ufeff{"a":1}',
  '{"a":1} trailing',
  '/* comment */ {}',
].map((text) => ({ what: `malformed JSON ${JSON.stringify(text)}`, bytes: text, contentType: JSON_TYPE, parseable: false }));

const INVALID_UTF8: Body = { what: 'invalid UTF-8', bytes: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0x22, 0x7d]), contentType: JSON_TYPE, parseable: false };

const WRONG_MEDIA: Body[] = [
  ['text/plain', '{"a":1}'],
  ['application/x-www-form-urlencoded', 'a=1&b=2'],
  ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n'],
  ['application/octet-stream', '\u0001\u0002'],
  ['application/xml', '<a/>'],
  [undefined, '{"a":1}'],
].map(([ct, bytes]) => ({ what: `media type ${ct ?? '(none)'}`, bytes: bytes as string, ...(ct ? { contentType: ct } : {}), parseable: false }));

const POLLUTION: Body[] = [
  '{"__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"admin":true}}}',
  '{"template":{"__proto__":{"sign":true}}}',
  '{"params":{"constructor":{"prototype":{"iv":"AAAA"}}}}',
  '[{"__proto__":{"x":1}}]',
  '{"a":{"b":{"c":{"__proto__":{"polluted":1}}}}}',
].map((text) => ({ what: `pollution ${text}`, bytes: text, contentType: JSON_TYPE, parseable: false }));

const DEEP: Body[] = [
  { what: 'arrays 10 000 deep', bytes: '['.repeat(10_000) + ']'.repeat(10_000), contentType: JSON_TYPE, parseable: false },
  { what: 'objects 10 000 deep', bytes: `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, contentType: JSON_TYPE, parseable: false },
];

const OVERSIZED: Body = { what: '3 MiB body', bytes: JSON.stringify({ data: 'A'.repeat(3 * 1024 * 1024) }), contentType: JSON_TYPE, parseable: false };

const HUGE_NUMBERS = [1e308, -1, 2 ** 53 + 1, -0.5, 0.5, -(2 ** 63), 1e-308];
/** Number spellings JSON.stringify would not produce. */
const HUGE_TEXT = ['1e400', '-1e400', '9007199254740993', '123456789012345678901234567890', '-0'];

const WRONG_TYPES: Body[] = [
  json('an array', []),
  json('an array of objects', [{}, {}]),
  json('a string', 'text'),
  json('a number', 42),
  json('null', null),
  json('true', true),
  ...HUGE_NUMBERS.map((n) => json(`the number ${n}`, n)),
  ...HUGE_TEXT.map((t) => ({ what: `the number ${t}`, bytes: t, contentType: JSON_TYPE, parseable: true })),
  { what: 'an empty JSON body', bytes: '', contentType: JSON_TYPE, parseable: true },
];

const BAD_BASE64 = ['!!!!', 'AAA', 'AAAAA', 'A===', 'AA=A', '=', 'QQ==QQ==', 'QUJD RA==', ' QUJD', 'QUJD\n', '-_-_', 'QUJD%3D', '\u0000QUJD', 'QUJé', '\ud800QQ==', 'QUJD'.repeat(3) + '*'];

const BYTE_PARAMS = ['iv', 'aad', 'label', 'publicData', 'salt', 'info', 'context', 'dsaContext'];
const INT_PARAMS = ['tagLength', 'saltLength', 'length'];
/** Fields that carry base64 (or a coffer: envelope) though their schema is a plain string. */
const BASE64_BY_NAME = new Set(['ciphertext', 'wrapped', 'data', 'signature', 'mac', 'plaintext']);

const props = (s: JsonSchema | undefined): Record<string, JsonSchema> => ((s?.properties ?? (s?.then as JsonSchema | undefined)?.properties ?? {}) as Record<string, JsonSchema>);
const requiredOf = (s: JsonSchema | undefined): string[] => (s?.required as string[] | undefined) ?? [];

/** A plausible value for one schema property (well-typed, not necessarily meaningful). */
function plausible(name: string, s: JsonSchema): unknown {
  if (s === TEMPLATE_SCHEMA) return { keyType: 'aes', valueLen: 32, encrypt: true };
  if (Array.isArray(s.enum)) return s.enum[0];
  switch (s.type) {
    case 'integer':
    case 'number':
      return (s.minimum as number | undefined) ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return ['x'];
    case 'object':
      return {};
    default:
      return s.contentEncoding === 'base64' || BASE64_BY_NAME.has(name) ? 'QUJD' : name === 'key' || name === 'unwrappingKey' ? kit.extractable : 'x';
  }
}

/**
 * Bodies that are the route's required fields, plausibly filled, with exactly one field made
 * bad: bad base64 in every byte field (top level, params, template bytes), huge and negative
 * numbers everywhere a number or anything else goes, numbers inside templates. Each has one
 * field no handler may accept, so they go to real keys too.
 */
function mutatedBodies(route: RouteDef): Body[] {
  const schema = route.schema.body;
  const fields = props(schema);
  if (Object.keys(fields).length === 0) return [];
  const base: Record<string, unknown> = {};
  for (const r of requiredOf(schema)) base[r] = plausible(r, fields[r] ?? {});
  const out: Body[] = [];
  const put = (what: string, field: string, value: unknown) => out.push(json(`${what} in ${field}`, { ...base, [field]: value }));
  for (const [name, s] of Object.entries(fields)) {
    if (s.contentEncoding === 'base64' || BASE64_BY_NAME.has(name)) for (const b of BAD_BASE64) put(`bad base64 ${JSON.stringify(b)}`, name, b);
    if (name === 'params') {
      for (const p of BYTE_PARAMS) for (const b of BAD_BASE64.slice(0, 6)) put(`bad base64 ${JSON.stringify(b)} in params.${p}`, name, { [p]: b });
      for (const p of INT_PARAMS) for (const n of HUGE_NUMBERS) put(`${n} in params.${p}`, name, { [p]: n });
      put('an unknown parameter', name, { nonsense: 1 });
    }
    if (s === TEMPLATE_SCHEMA) {
      for (const b of BAD_BASE64.slice(0, 6)) {
        put(`bad base64 ${JSON.stringify(b)} in template.value`, name, { class: 'secret-key', keyType: 'aes', value: b });
        put(`bad base64 ${JSON.stringify(b)} in template.id`, name, { keyType: 'aes', valueLen: 32, id: b });
      }
      for (const n of HUGE_NUMBERS) {
        put(`valueLen ${n}`, name, { keyType: 'aes', valueLen: n, encrypt: true });
        put(`generic valueLen ${n}`, name, { keyType: 'generic-secret', valueLen: n, sign: true });
        put(`modulusBits ${n}`, name, { keyType: 'rsa', modulusBits: n, sign: true });
        put(`publicExponent ${n}`, name, { keyType: 'rsa', modulusBits: 2048, publicExponent: n, sign: true });
      }
      put('a nested template too deep', name, { keyType: 'aes', valueLen: 32, wrapTemplate: { wrapTemplate: { wrapTemplate: { wrapTemplate: {} } } } });
      put('an unknown attribute', name, { keyType: 'aes', valueLen: 32, isAdmin: true });
    }
    // Every field, whatever its type, also gets numbers it cannot take and values of other types.
    const fits = (n: number) => s.type === 'integer' && Number.isInteger(n) && n >= ((s.minimum as number | undefined) ?? 0) && n <= ((s.maximum as number | undefined) ?? 2 ** 53);
    for (const n of HUGE_NUMBERS) if (!fits(n)) put(`${n}`, name, n);
    if (s.type !== 'array') put('an array', name, ['QUJD']);
    if (s.type !== 'object') put('an object', name, { a: 1 });
    if (s.type !== 'boolean') put('a boolean', name, false);
    put('null', name, null);
    if (s.type === 'string' && typeof s.maxLength === 'number' && s.maxLength <= 100_000) put('a string over maxLength', name, 'Q'.repeat(s.maxLength + 4));
  }
  out.push(json('an unknown extra field', { ...base, isAdmin: true, __proto: 1 }));
  // Huge numbers as JSON text (1e400 parses to Infinity, 2^53+1 loses precision) in the first numeric field.
  const numeric = Object.entries(fields).find(([, s]) => s.type === 'integer');
  if (numeric) for (const t of HUGE_TEXT) out.push({ what: `${t} as text in ${numeric[0]}`, bytes: JSON.stringify({ ...base, [numeric[0]]: 0 }).replace(/:0(?=[,}])/, `:${t}`), contentType: JSON_TYPE, parseable: true });
  // Duplicate keys (attacks.md D-08): whichever value wins, it is a bad one.
  const first = Object.keys(fields)[0];
  if (first) out.push({ what: `duplicate key ${first}`, bytes: `{"${first}":${JSON.stringify(base[first] ?? 'x')},"${first}":-1e400}`, contentType: JSON_TYPE, parseable: true });
  return out;
}

/** Random JSON: arbitrary values, objects with random keys, and objects with the route's own field names and random values. */
function randomBodies(route: RouteDef, shaped: boolean, seed: number): Body[] {
  const names = Object.keys(props(route.schema.body));
  const arbs: fc.Arbitrary<unknown>[] = [fc.jsonValue(), fc.object(), fc.json().map((text) => ({ __text: text }))];
  if (shaped && names.length > 0) arbs.push(fc.dictionary(fc.constantFrom(...names), fc.jsonValue({ maxDepth: 3 }), { minKeys: 1 }));
  const values = fc.sample(fc.oneof(...arbs), { numRuns: RANDOM_BODIES_PER_ROUTE, seed });
  return values.map((v, i) => {
    const text = typeof v === 'object' && v !== null && '__text' in v ? String((v as { __text: string }).__text) : JSON.stringify(v);
    return { what: `random body #${i} ${text.slice(0, 60)}`, bytes: text ?? 'null', contentType: JSON_TYPE, parseable: true };
  });
}

// ───────────────────────────── where it goes ─────────────────────────────

/** Routes whose success changes nothing stored: any parseable body may go to their real keys. */
const READ_ONLY = new Set([
  'POST /v1/auth/login',
  'POST /v1/keys/:id/encrypt',
  'POST /v1/keys/:id/decrypt',
  'POST /v1/keys/:id/sign',
  'POST /v1/keys/:id/verify',
  'POST /v1/keys/:id/mac',
  'POST /v1/keys/:id/mac-verify',
  'POST /v1/keys/:id/wrap',
  'POST /v1/random',
  'POST /v1/digest',
]);
const label = (r: RouteDef): string => `${r.method} ${r.url}`;
const isReadOnly = (r: RouteDef): boolean => r.method === 'GET' || READ_ONLY.has(label(r));

interface ParamValue {
  value: string;
  /** Names a real object or account: a valid body would act on it. */
  real: boolean;
}

const LONG = 'A'.repeat(10 * 1024);
const HOSTILE: ParamValue[] = ['alias%2Fx', '..%2F..', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '__proto__', 'constructor', '%00', '%F0%9F%92%A3', LONG].map((value) => ({ value, real: false }));

function paramValues(route: RouteDef): ParamValue[] {
  if (route.url.includes(':id')) return [{ value: keyRequest(route, kit)?.id ?? kit.aes, real: true }, { value: bobKey, real: true }, ...HOSTILE];
  if (route.url.includes(':name')) return [{ value: 'alice', real: true }, { value: 'bob', real: true }, ...HOSTILE];
  return [{ value: '', real: true }];
}

function pathOf(route: RouteDef, p: ParamValue): string {
  return route.url.replace(/:[A-Za-z]+/, p.value);
}

/** Key and crypto routes as the partition user; everything else (sys, partitions, users, audit, quorum) as the admin, so bodies reach the handlers. */
const USER_TAGS = new Set(['keys', 'key operations', 'crypto', 'auth']);
function tokenFor(route: RouteDef): string | undefined {
  if (route.auth === 'none') return undefined;
  return route.tags.some((t) => USER_TAGS.has(t)) ? tokens.user : tokens.admin;
}

async function send(route: RouteDef, path: string, body: Body): Promise<RawReply> {
  const headers: Record<string, string> = {};
  const token = tokenFor(route);
  if (token) headers.authorization = `Bearer ${token}`;
  if (body.contentType) headers['content-type'] = body.contentType;
  try {
    return await srv.send({ method: route.method, path, headers, body: body.bytes, timeoutMs: 10_000 });
  } catch (e) {
    // The server may answer 413 and close before a large body is fully written: that answer is what counts.
    if (body === OVERSIZED && /ECONNRESET|EPIPE|socket hang up/.test(String(e))) return { status: 413, headers: {}, text: '{"error":{"code":"REQUEST_TOO_LARGE","message":"closed early"}}', json: { error: { code: 'REQUEST_TOO_LARGE', message: 'closed early' } } };
    throw e;
  }
}

interface Tally {
  requests: number;
  byStatus: Map<number, number>;
}

/** Sends every body to every parameter value of `route`, asserting coded 4xx answers. */
async function fuzzRoute(route: RouteDef, bodies: Body[], tally: Tally, seed: number): Promise<void> {
  const params = paramValues(route);
  const random = randomBodies(route, isReadOnly(route), seed);
  for (const p of params) {
    const path = pathOf(route, p);
    // A body the parser accepts may be a valid request: a route that changes the store gets those
    // only where nothing real can be hit. Mutated bodies carry
    // one field no handler may accept, so they go everywhere.
    // A route with no body schema (logout, seal, zeroize …) takes any parseable body as a valid call.
    const mayAct = !isReadOnly(route) && (p.real || route.schema.body === undefined);
    const list: [Body, 'strict' | 'random'][] = [
      ...bodies.filter((b) => !b.parseable || !mayAct).map((b) => [b, 'strict'] as [Body, 'strict']),
      // Body-level mutations are checked before any lookup of the parameter: real parameters are enough.
      ...(p.real ? mutatedBodies(route).map((b) => [b, 'strict'] as [Body, 'strict']) : []),
      ...(mayAct ? [] : (p.real ? random : random.slice(0, 3)).map((b) => [b, 'random'] as [Body, 'random'])),
    ];
    for (const [body, kind] of list) {
      const r = await send(route, path, body);
      const what = `${label(route)} [${p.value.slice(0, 40)}] ${body.what.slice(0, 120)} (seed ${SEED})`;
      tally.requests++;
      tally.byStatus.set(r.status, (tally.byStatus.get(r.status) ?? 0) + 1);
      assert.ok(r.status < 500, `${what}: ${r.status} ${r.text.slice(0, 200)}`);
      // fastify reads no body on GET, so a GET is its route's answer; a random body may happen to be valid on a read-only route.
      if (r.status < 300 && (route.method === 'GET' || kind === 'random')) continue;
      expectCoded4xx(r, what);
    }
    // The oversized body once per route, at the first parameter value.
    if (p === params[0]) {
      const r = await send(route, path, OVERSIZED);
      tally.requests++;
      if (!(route.method === 'GET' && r.status < 300)) expectCoded4xx(r, `${label(route)} 3 MiB body`);
    }
  }
}

test(`fuzz: every route answers bad bodies with a coded 4xx; the server stays healthy and the store unchanged (seed ${SEED})`, { timeout: 180_000 }, async () => {
  const before = await snapshot();
  assert.ok(before.includes(kit.aes) && before.includes(bobKey) && before.includes('"bob"'), 'the snapshot sees both partitions and the accounts');
  const tally: Tally = { requests: 0, byStatus: new Map() };
  const fixed = [...MALFORMED, INVALID_UTF8, ...WRONG_MEDIA, ...POLLUTION, ...DEEP, ...WRONG_TYPES];
  let seed = SEED;
  const started = Date.now();
  for (const route of ALL_ROUTES) {
    await fuzzRoute(route, fixed, tally, seed++);
    const health = await srv.send({ method: 'GET', path: '/v1/sys/health' });
    assert.equal(health.status, 200, `healthy after ${label(route)}`);
  }
  const after = await snapshot();
  assert.equal(after, before, 'the store is unchanged');
  const statuses = [...tally.byStatus.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
  console.log(`fuzz: ${ALL_ROUTES.length} routes, ${tally.requests} requests in ${Date.now() - started} ms (${statuses.join(' ')}), seed ${SEED}`);
  // The tokens still work: nothing above logged anyone out.
  assert.equal((await srv.call('GET', '/v1/auth/whoami', tokens.user)).status, 200);
});

test('fuzz: hostile query strings on GET routes are coded 4xx', async () => {
  const cases: [string, string][] = [
    ['/v1/keys', '?limit=-1'],
    ['/v1/keys', '?limit=0'],
    ['/v1/keys', '?limit=1e308'],
    ['/v1/keys', '?limit=9007199254740993'],
    ['/v1/keys', '?limit=1001'],
    ['/v1/keys', '?limit=1&limit=2'],
    ['/v1/keys', '?limit[]=1'],
    ['/v1/keys', '?cursor=!!!'],
    ['/v1/keys', `?cursor=${'A'.repeat(10_000)}`],
    ['/v1/keys', '?cursor=azE6Li4vLi4v'],
    ['/v1/keys', '?class=__proto__'],
    ['/v1/keys', '?__proto__[admin]=1'],
    ['/v1/keys', '?constructor[prototype][admin]=1'],
    ['/v1/keys', '?state=destroyed'],
    ['/v1/keys', `?label=${'x'.repeat(300)}`],
    ['/v1/keys', '?unknown=1'],
    [`/v1/keys/${kit.ecPublic}/public`, '?format=xml'],
    [`/v1/keys/${kit.ecPublic}/public`, '?format=pem&format=der'],
    [`/v1/keys/${kit.aes}/public`, ''],
  ];
  for (const [path, query] of cases) {
    const r = await srv.send({ method: 'GET', path: path + query, headers: { authorization: `Bearer ${tokens.user}` } });
    expectCoded4xx(r, `GET ${path}${query.slice(0, 60)}`);
  }
});

test('fuzz: a lone surrogate in a string attribute is refused; base64 has one spelling', async () => {
  const r = await srv.call('POST', '/v1/keys/import', tokens.user, { template: { class: 'data', label: 'bad \ud800 label', value: 'QUJD' } });
  expectCoded4xx(r, 'lone surrogate label');
  // 'QR==' decodes like 'QQ==' (non-zero pad bits): refused, so one value has one text (attacks.md D-08).
  const pad = await srv.call('POST', '/v1/keys/import', tokens.user, { template: { class: 'data', label: 'pad bits', value: 'QR==' } });
  expectCoded4xx(pad, 'non-canonical base64');
});

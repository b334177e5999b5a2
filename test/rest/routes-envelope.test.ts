// Property tests of the REST codecs (STYLE §8): the ciphertext envelope round-trips, has one
// spelling per value, and answers any other string with a coded error; the mechanism-params and
// list-cursor codecs likewise never throw anything but HsmError. Also: random strings sent to
// the decrypt route get a coded 400, never a 500.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { HsmError } from '../../src/boundary/api.js';
import { type CiphertextEnvelope, formatEnvelope, parseEnvelope } from '../../src/frontends/rest/ciphertext-envelope.js';
import { decodeCursor, encodeCursor } from '../../src/frontends/rest/key-list-cursor.js';
import { paramsFromJson, paramsToJson } from '../../src/frontends/rest/mechanism-params-json.js';
import { b64, type RestFixture, restFixture } from './rest-fixture.js';

const envelopeArb: fc.Arbitrary<CiphertextEnvelope> = fc
  .record({
    version: fc.integer({ min: 1, max: 999_999_999 }),
    mechanism: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/),
    iv: fc.option(fc.uint8Array({ minLength: 1, maxLength: 255 }), { nil: undefined }),
    data: fc.uint8Array({ maxLength: 300 }),
  })
  .map((r) => {
    const e: CiphertextEnvelope = { version: r.version, mechanism: r.mechanism, data: r.data };
    if (r.iv) e.iv = r.iv;
    return e;
  });

function hex(b: Uint8Array | undefined): string | undefined {
  return b ? Buffer.from(b).toString('hex') : undefined;
}

function codedOnly(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof HsmError)) throw e;
    assert.ok(e.httpStatus >= 400 && e.httpStatus < 500, `a caller error, not ${e.code}`);
  }
}

test('envelope: parse∘format = id, and format∘parse = id on every accepted string', () => {
  fc.assert(
    fc.property(envelopeArb, (e) => {
      const text = formatEnvelope(e);
      const back = parseEnvelope(text);
      assert.equal(back.version, e.version);
      assert.equal(back.mechanism, e.mechanism);
      assert.equal(hex(back.iv), hex(e.iv));
      assert.equal(hex(back.data), hex(e.data));
      assert.equal(formatEnvelope(back), text, 'one spelling per envelope');
    }),
    { numRuns: 2000 },
  );
});

test('envelope: random and mutated strings give a coded 400, never another exception', () => {
  const mutated = fc.tuple(envelopeArb, fc.nat(), fc.string({ minLength: 0, maxLength: 3 })).map(([e, at, ins]) => {
    const s = formatEnvelope(e);
    const i = at % (s.length + 1);
    return s.slice(0, i) + ins + s.slice(i + 1);
  });
  const prefixed = fc.string({ maxLength: 200 }).map((s) => `coffer:${s}`);
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 200 }), prefixed, mutated), (s) => {
      codedOnly(() => {
        const e = parseEnvelope(s);
        assert.equal(formatEnvelope(e), s, 'anything accepted is canonical');
      });
    }),
    { numRuns: 5000 },
  );
  // Non-canonical base64 (non-zero padding bits) and truncations are refused.
  assert.throws(() => parseEnvelope('coffer:v1:AES-GCM:AB=='), (e: unknown) => e instanceof HsmError && e.code === 'ARGUMENTS_BAD');
  assert.throws(() => parseEnvelope('coffer:v1:AES-GCM:DA=='), (e: unknown) => e instanceof HsmError && e.code === 'ARGUMENTS_BAD', 'IV length beyond the payload');
  assert.throws(() => parseEnvelope('coffer:v01:AES-GCM:AA=='), (e: unknown) => e instanceof HsmError, 'leading zero version');
  assert.throws(() => parseEnvelope('coffer:v0:AES-GCM:AA=='), (e: unknown) => e instanceof HsmError, 'version 0');
  assert.throws(() => parseEnvelope('coffer:v1:AES-GCM:'), (e: unknown) => e instanceof HsmError, 'empty payload');
});

test('mechanism params and list cursors: round trip, and coded errors for anything else', () => {
  fc.assert(
    fc.property(
      fc.record(
        { iv: fc.uint8Array({ maxLength: 32 }), aad: fc.uint8Array({ maxLength: 64 }), tagLength: fc.integer({ min: 0, max: 16 }), hash: fc.constantFrom('SHA-256', 'SHA-384'), prehashed: fc.boolean() },
        { requiredKeys: [] },
      ),
      (p) => {
        const json = JSON.parse(JSON.stringify(paramsToJson(p)));
        const back = paramsFromJson(json);
        assert.deepEqual(paramsToJson(back), paramsToJson(p));
      },
    ),
  );
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      codedOnly(() => paramsFromJson(v));
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.stringMatching(/^[0-9a-f]{32}$/), (uid) => {
      assert.equal(decodeCursor(encodeCursor(uid)), uid);
    }),
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 150 }), (s) => {
      codedOnly(() => decodeCursor(s));
    }),
    { numRuns: 2000 },
  );
});

let f: RestFixture;
before(async () => {
  f = await restFixture();
});
after(async () => {
  await f.close();
});

test('decrypt route: random ciphertext strings get a coded 4xx answer', async () => {
  const gen = await f.call<{ key: { uid: string } }>('POST', '/v1/keys', f.user, { template: { keyType: 'aes', valueLen: 32, encrypt: true, decrypt: true } });
  const uid = gen.body.key.uid;
  const good = (await f.call<{ ciphertext: string }>('POST', `/v1/keys/${uid}/encrypt`, f.user, { mechanism: 'AES-GCM', plaintext: b64('x') })).body.ciphertext;
  const samples = fc.sample(
    fc.oneof(
      fc.string({ minLength: 1, maxLength: 120 }),
      fc.string({ maxLength: 80 }).map((s) => `coffer:${s}`),
      fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 2 })).map(([at, ins]) => {
        const i = at % good.length;
        return good.slice(0, i) + ins + good.slice(i + 1);
      }),
    ),
    300,
  );
  for (const ciphertext of samples) {
    const r = await f.call<{ error?: { code: string } }>('POST', `/v1/keys/${uid}/decrypt`, f.user, { ciphertext, mechanism: ciphertext.startsWith('coffer:') ? undefined : 'AES-GCM' });
    if (r.status === 200) continue; // a mutation that left the envelope intact
    assert.ok(r.status >= 400 && r.status < 500, `${JSON.stringify(ciphertext)} → ${r.status}`);
    assert.equal(typeof r.body.error?.code, 'string');
  }
});

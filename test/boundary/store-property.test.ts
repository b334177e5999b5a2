// Property tests for the store's codecs and sealing: the JSON codec round-trips any value with
// byte fields; any edit to a sealed blob fails to open with a coded error, never a crash; random
// text fed to the codec gives a SyntaxError/TypeError, never anything else.

import assert from 'node:assert/strict';
import { createSecretKey } from 'node:crypto';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { isHsmError } from '../../src/boundary/errors.js';
import { SecretBytes } from '../../src/boundary/secret.js';
import { canonicalJson } from '../../src/boundary/store/canonical-json.js';
import { type CodecValue, decodeJson, encodeJson } from '../../src/boundary/store/json-codec.js';
import { materialAad, seal, unseal } from '../../src/boundary/store/material-seal.js';
import { openVault } from '../../src/boundary/store/vault.js';
import { masterKey, partition, secretValue, storedObject, tempDir } from '../support/store-fixtures.js';

// Keys deliberately include '$'-prefixed names such as "$b64" and "__proto__".
const key = fc.oneof(fc.string(), fc.constantFrom('$b64', '$$b64', '$', '__proto__', 'constructor'));
const { value: codecValue } = fc.letrec<{ value: CodecValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
    fc.string(),
    fc.uint8Array({ maxLength: 64 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true }),
  ),
}));

test('json codec: decode(encode(v)) deep-equals v for values with Uint8Array fields', () => {
  fc.assert(
    fc.property(codecValue, (v) => {
      const text = encodeJson(v);
      assert.equal(typeof text, 'string');
      assert.deepStrictEqual(decodeJson(text), v);
      // Canonical form of the encoded value is stable across a round trip.
      assert.equal(canonicalJson(JSON.parse(encodeJson(decodeJson(text)))), canonicalJson(JSON.parse(text)));
    }),
    { numRuns: 500 },
  );
});

test('json codec: "__proto__" and "$b64" keys stay plain data', () => {
  const tricky = JSON.parse('{"__proto__": {"$b64": "AQI="}, "$b64": "x", "a": {"$b64": "AQI="}}') as Record<string, unknown>;
  const back = decodeJson<Record<string, unknown>>(encodeJson(tricky));
  assert.deepStrictEqual(back, tricky);
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.ok(Object.hasOwn(back, '__proto__'));
  // Bytes written by the codec are recognised as bytes.
  assert.deepStrictEqual(decodeJson('{"a":{"$b64":"AQI="}}'), { a: Uint8Array.from([1, 2]) });
});

test('json codec: a StoredObject with bytes round-trips', () => {
  const obj = storedObject('k1', 'p1');
  obj.versions[0]!.publicData = Uint8Array.from([0x30, 0x59, 0, 255]);
  obj.meta.tags = { $b64: 'not bytes', $$x: 'y' };
  assert.deepStrictEqual(decodeJson(encodeJson(obj)), obj);
});

test('json codec: random text gives SyntaxError or TypeError, never another failure', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.constant('{"$b64": 5}'), fc.constant('{"$b64": null}')), (text) => {
      try {
        decodeJson(text);
      } catch (e) {
        assert.ok(e instanceof SyntaxError || e instanceof TypeError, `unexpected ${String(e)}`);
      }
    }),
  );
});

test('sealed material: any byte edit, truncation or extension fails with TAMPER_DETECTED', () => {
  const k = createSecretKey(Buffer.from(secretValue('partition key')));
  const obj = storedObject('k1', 'p1');
  const aad = materialAad(obj, 1);
  const sealed = seal(k, secretValue('secret'), aad);
  const opened = unseal(k, sealed, aad, 'sealed material');
  assert.deepEqual(Uint8Array.from(opened.insecureBytes()), secretValue('secret'));
  opened.destroy();
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('append' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  );
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
      let b = Buffer.from(sealed);
      for (const e of edits) {
        if (e.kind === 'flip') b[e.at % b.length]! ^= e.mask;
        else if (e.kind === 'cut') b = b.subarray(0, e.at % b.length);
        else b = Buffer.concat([b, e.extra]);
      }
      fc.pre(!b.equals(sealed));
      assert.throws(() => unseal(k, b, aad, 'sealed material'), (err) => isHsmError(err, 'TAMPER_DETECTED'));
    }),
    { numRuns: 1000 },
  );
  // Right bytes, wrong binding: another version, another attribute set.
  assert.throws(() => unseal(k, sealed, materialAad(obj, 2), 'm'), (err) => isHsmError(err, 'TAMPER_DETECTED'));
  assert.throws(() => unseal(k, sealed, materialAad(storedObject('k1', 'p1', { extractable: true }), 1), 'm'), (err) =>
    isHsmError(err, 'TAMPER_DETECTED'),
  );
});

test('vault: random edits to a stored sealed blob are caught at load (SQLite, live)', () => {
  const t = tempDir('coffer-prop-');
  const path = `${t.dir}/store.db`;
  const vault = openVault({ kind: 'sqlite', path });
  const db = new Database(path);
  try {
    vault.initialize(masterKey());
    vault.putPartition(partition('p1'));
    vault.putObject(storedObject('k1', 'p1'), new Map([[1, SecretBytes.from(secretValue('k1'))]]));
    const original = (db.prepare("SELECT sealed FROM material WHERE uid = 'k1'").get() as { sealed: Buffer }).sealed;
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (at, mask) => {
        const b = Buffer.from(original);
        b[at % b.length]! ^= mask;
        db.prepare("UPDATE material SET sealed = ? WHERE uid = 'k1'").run(b);
        assert.throws(() => vault.loadSecret(vault.getObject('k1')!, 1), (err) => isHsmError(err, 'TAMPER_DETECTED'));
      }),
      { numRuns: 50 },
    );
    db.prepare("UPDATE material SET sealed = ? WHERE uid = 'k1'").run(original);
    const s = vault.loadSecret(vault.getObject('k1')!, 1)!;
    assert.deepEqual(Uint8Array.from(s.insecureBytes()), secretValue('k1'));
    s.destroy();
  } finally {
    db.close();
    vault.close();
    t.cleanup();
  }
});

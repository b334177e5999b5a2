// Robustness: random byte strings and random JSON-ish values fed to the template checker and to
// every Hsm method's arguments get a coded HsmError (or succeed), never another exception type
// (STYLE 8; attacks.md A-23, A-24). Arguments mix real handles and mechanism names with random
// values so the calls reach deep into the guard pipeline and the mechanisms.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { HsmError, listMechanisms } from '../../src/boundary/api.js';
import { checkTemplateShape } from '../../src/boundary/policy/validator.js';
import { importTrustedWrapKey, testHsm } from '../support/hsm.js';

function codedOrOk(what: string, e: unknown): void {
  assert.ok(e instanceof HsmError, `${what}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} instead of an HsmError`);
}

test('fuzz: checkTemplateShape answers random bytes and JSON-ish values with a coded error', () => {
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array(), fc.jsonValue(), fc.anything({ withNullPrototype: true, withTypedArray: true, withMap: true, withSet: true, withDate: true })), (x) => {
      try {
        checkTemplateShape(x);
      } catch (e) {
        codedOrOk('checkTemplateShape', e);
      }
    }),
    { numRuns: 3000 },
  );
  // JSON text as a front end would parse it: still a coded answer.
  fc.assert(
    fc.property(fc.json(), (text) => {
      try {
        checkTemplateShape(JSON.parse(text));
      } catch (e) {
        codedOrOk('checkTemplateShape(JSON)', e);
      }
    }),
    { numRuns: 1000 },
  );
});

/** Methods that take a session first and never end the module or the test's own sessions. */
const METHODS = [
  'createObject',
  'generateKey',
  'generateKeyPair',
  'encrypt',
  'decrypt',
  'sign',
  'verify',
  'digest',
  'wrapKey',
  'unwrapKey',
  'deriveKey',
  'encapsulate',
  'decapsulate',
  'getAttributes',
  'getPublicKey',
  'setAttributes',
  'copyObject',
  'destroyObject',
  'findObjects',
  'randomBytes',
  'setKeyState',
  'scheduleDeletion',
  'cancelDeletion',
  'rotateKey',
  'setAliases',
  'setTags',
  'listAudit',
  'listUsers',
  'listPartitions',
  'createPartition',
  'createUser',
  'unlockUser',
  'deleteUser',
  'whoami',
] as const;

test('fuzz: every Hsm method answers random arguments with a coded error or a result', async () => {
  const t = await testHsm();
  try {
    const hsm = t.hsm as unknown as Record<string, (...args: unknown[]) => unknown>;
    const aes = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, decrypt: true, extractable: true } });
    const kek = await importTrustedWrapKey(t, 'aes', new Uint8Array(32).fill(9));
    const mac = await t.hsm.generateKey(t.user, { template: { keyType: 'generic-secret', sign: true, verify: true } });
    const base = await t.hsm.generateKey(t.user, { template: { keyType: 'generic-secret', derive: true } });
    const ec = await t.hsm.generateKeyPair(t.user, { privateTemplate: { keyType: 'ec', curve: 'P-256' } });
    const ecdh = await t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'ec', curve: 'P-256', verify: false }, privateTemplate: { keyType: 'ec', curve: 'P-256', derive: true } });
    const ed = await t.hsm.generateKeyPair(t.user, { privateTemplate: { keyType: 'ec-edwards', curve: 'Ed25519' } });
    const kem = await t.hsm.generateKeyPair(t.user, { privateTemplate: { keyType: 'ml-kem', parameterSet: 'ML-KEM-768' } });
    const rsa = await t.hsm.generateKeyPair(t.user, { publicTemplate: { keyType: 'rsa', modulusBits: 2048, encrypt: true }, privateTemplate: { keyType: 'rsa', decrypt: true } });
    const ecPub = await t.hsm.getPublicKey(t.user, ecdh.publicKey);
    const uids = [aes, kek, mac, base, ec.privateKey, ec.publicKey, ecdh.privateKey, ed.privateKey, ed.publicKey, kem.privateKey, kem.publicKey, rsa.privateKey, rsa.publicKey];
    // SLH-DSA signing takes long; its key type is left out so that no run stalls on it.
    const mechNames = listMechanisms()
      .map((m) => m.name)
      .filter((n) => !n.startsWith('SLH-DSA') && n !== 'RSA-PKCS-KEY-PAIR-GEN');
    const any = fc.anything({ maxDepth: 2, withTypedArray: true, withNullPrototype: true });
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.constant(ecPub), any);
    const params = fc.oneof(
      fc.constant(undefined),
      fc.record(
        {
          iv: bytes,
          aad: bytes,
          tagLength: fc.oneof(fc.integer({ min: -2, max: 40 }), any),
          hash: fc.oneof(fc.constantFrom('SHA-1', 'SHA-256', 'SHA-512', 'SHA3-256', 'MD5', ''), any),
          mgfHash: fc.oneof(fc.constantFrom('SHA-1', 'SHA-256'), any),
          label: bytes,
          saltLength: fc.oneof(fc.integer({ min: -5, max: 600 }), any),
          signatureFormat: fc.oneof(fc.constantFrom('der', 'raw'), any),
          prehashed: fc.oneof(fc.boolean(), any),
          publicData: bytes,
          salt: bytes,
          info: bytes,
          context: bytes,
          length: fc.oneof(fc.integer({ min: -5, max: 100 }), any),
          dsaContext: bytes,
          deterministic: fc.oneof(fc.boolean(), any),
        },
        { requiredKeys: [] },
      ),
      any,
    );
    const template = fc.oneof(
      fc.record(
        {
          class: fc.oneof(fc.constantFrom('secret-key', 'private-key', 'public-key', 'data'), any),
          keyType: fc.oneof(fc.constantFrom('aes', 'generic-secret', 'ec', 'ec-edwards', 'des3', 'ml-kem'), any),
          valueLen: fc.oneof(fc.integer({ min: -1, max: 80 }), any),
          curve: fc.oneof(fc.constantFrom('P-256', 'Ed25519', 'X25519'), any),
          sign: fc.boolean(),
          encrypt: fc.boolean(),
          decrypt: fc.boolean(),
          wrap: fc.boolean(),
          unwrap: fc.boolean(),
          derive: fc.boolean(),
          extractable: fc.boolean(),
          token: fc.constant(false),
          value: bytes,
          privateKey: bytes,
          publicKey: bytes,
          label: fc.oneof(fc.string(), any),
          wrapTemplate: any,
        },
        { requiredKeys: [] },
      ),
      any,
    );
    const ref = fc.oneof(fc.constantFrom(...uids), any);
    const input = fc.oneof(
      fc.record(
        {
          key: ref,
          wrappingKey: ref,
          unwrappingKey: ref,
          baseKey: ref,
          mechanism: fc.oneof(fc.constantFrom(...mechNames), any),
          data: bytes,
          signature: bytes,
          wrapped: bytes,
          ciphertext: bytes,
          params,
          template,
          publicTemplate: template,
          privateTemplate: template,
          keyVersion: fc.oneof(fc.integer({ min: -1, max: 3 }), any),
          user: any,
          password: any,
          name: any,
          role: any,
          partition: any,
        },
        { requiredKeys: [] },
      ),
      ref,
      any,
    );
    const tally = new Map<string, number>();
    // Regression: a null where bytes belong once escaped EdDSA as a TypeError.
    await assert.rejects(
      t.hsm.verify(t.user, { key: ed.publicKey, mechanism: 'EDDSA', data: new Uint8Array(3), signature: new Uint8Array(64), params: { dsaContext: null } as never }),
      (e: unknown) => e instanceof HsmError && e.code === 'MECHANISM_PARAM_INVALID',
    );
    const session = fc.oneof({ arbitrary: fc.constant(t.user), weight: 6 }, { arbitrary: fc.constantFrom(t.officer, t.admin, t.auditor), weight: 1 }, { arbitrary: any, weight: 1 });
    const second = fc.oneof(template, fc.integer({ min: -1, max: 40 }), fc.array(fc.string(), { maxLength: 3 }), fc.constantFrom('enabled', 'disabled'), any);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...METHODS), session, input, second, async (method, s, a, b) => {
        try {
          await hsm[method]!.call(t.hsm, s, a, b);
          tally.set('ok', (tally.get('ok') ?? 0) + 1);
        } catch (e) {
          if (e instanceof HsmError) tally.set(e.code, (tally.get(e.code) ?? 0) + 1);
          codedOrOk(`${method}(${typeof s}, ${JSON.stringify(a, (_k, v) => (v instanceof Uint8Array ? `bytes(${v.length})` : typeof v === 'bigint' ? `${v}n` : v))?.slice(0, 300)})`, e);
        }
      }),
      { numRuns: 1500 },
    );
    // Coherent calls (a key with a mechanism it takes) with random data, parameters and templates
    // reach the mechanisms' own parameter checks.
    const coherent: [string, string, string[]][] = [
      ['encrypt', aes, ['AES-GCM', 'AES-CBC', 'AES-CBC-PAD', 'AES-CTR', 'AES-KW', 'AES-KWP']],
      ['decrypt', aes, ['AES-GCM', 'AES-CBC', 'AES-CBC-PAD', 'AES-CTR', 'AES-KW', 'AES-KWP']],
      ['encrypt', rsa.publicKey, ['RSA-PKCS-OAEP']],
      ['decrypt', rsa.privateKey, ['RSA-PKCS-OAEP']],
      ['sign', mac, ['HMAC-SHA256', 'HMAC-SHA512']],
      ['verify', mac, ['HMAC-SHA256', 'HMAC-SHA1']],
      ['sign', ec.privateKey, ['ECDSA-SHA256', 'ECDSA-SHA384']],
      ['verify', ec.publicKey, ['ECDSA-SHA256', 'ECDSA-SHA1']],
      ['sign', ed.privateKey, ['EDDSA']],
      ['verify', ed.publicKey, ['EDDSA']],
      ['unwrapKey', kek, ['AES-KW', 'AES-KWP', 'AES-GCM']],
      ['deriveKey', base, ['HKDF', 'SP800-108-COUNTER-KDF']],
      ['deriveKey', ecdh.privateKey, ['ECDH1-DERIVE']],
      ['encapsulate', kem.publicKey, ['ML-KEM']],
      ['decapsulate', kem.privateKey, ['ML-KEM']],
    ];
    const call = fc.constantFrom(...coherent).chain(([method, key, mechs]) => fc.tuple(fc.constant(method), fc.constant(key), fc.constantFrom(...mechs)));
    await fc.assert(
      fc.asyncProperty(call, bytes, params, template, async ([method, key, mechanism], data, p, tpl) => {
        const arg = { key, wrappingKey: key, unwrappingKey: key, baseKey: key, mechanism, data, signature: data, wrapped: data, ciphertext: data, params: p, template: tpl };
        try {
          await hsm[method]!.call(t.hsm, t.user, arg);
          tally.set('ok', (tally.get('ok') ?? 0) + 1);
        } catch (e) {
          if (e instanceof HsmError) tally.set(e.code, (tally.get(e.code) ?? 0) + 1);
          codedOrOk(`${method} ${mechanism} params=${JSON.stringify(p, (_k, v) => (v instanceof Uint8Array ? `bytes(${v.length})` : typeof v === 'bigint' ? `${v}n` : v))?.slice(0, 300)}`, e);
        }
      }),
      { numRuns: 1500 },
    );
    // The calls must get past argument checking: successes and deep refusals both occur.
    console.log(`fuzz outcomes: ${JSON.stringify(Object.fromEntries([...tally].sort((x, y) => y[1] - x[1])))}`);
    assert.ok((tally.get('ok') ?? 0) > 20, 'some random calls succeed');
  } finally {
    await t.close();
  }
});

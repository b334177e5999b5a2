// Property tests of the attribute policy. The validator is pure, so it must be idempotent; and
// whatever boolean template a caller sends through any creation or change call, no object ever
// ends up holding a wrapping role with a data role, nor RSA sign with decrypt (attacks.md A-01,
// The validator is imported directly: tests are outside src/, and this
// is the one allowed exception to the one-door rule.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { HsmError, type KeyType, type ObjectClass, type Template } from '../../src/boundary/api.js';
import { changedAttributes, checkConsistency, checkTemplateShape, newAttributes } from '../../src/boundary/policy/validator.js';
import { importTrustedWrapKey, type TestHsm, testHsm } from '../support/hsm.js';

const USAGES = ['sign', 'verify', 'encrypt', 'decrypt', 'wrap', 'unwrap', 'derive', 'encapsulate', 'decapsulate'] as const;
const PROTECTION = ['sensitive', 'extractable', 'wrapWithTrusted'] as const;
const OTHER = ['token', 'private', 'modifiable', 'copyable', 'destroyable', 'auditUse'] as const;
const KEY_TYPES: KeyType[] = ['aes', 'des2', 'des3', 'generic-secret', 'rsa', 'ec', 'ec-edwards', 'ec-montgomery', 'ml-dsa', 'ml-kem', 'slh-dsa'];
const CLASSES: ObjectClass[] = ['secret-key', 'private-key', 'public-key'];

/** Optional booleans over the given names. */
function booleans<N extends string>(names: readonly N[]): fc.Arbitrary<Partial<Record<N, boolean>>> {
  return fc.record(Object.fromEntries(names.map((n) => [n, fc.boolean()])) as Record<N, fc.Arbitrary<boolean>>, { requiredKeys: [] });
}

const usageTemplate = booleans([...USAGES, ...PROTECTION]);
const KEY_USAGES = ['sign', 'verify', 'encrypt', 'decrypt', 'wrap', 'unwrap', 'derive'] as const;
/** Templates for secret and RSA keys: the usages they can carry plus the protection attributes. */
const keyTemplate = booleans([...KEY_USAGES, ...PROTECTION, 'token'] as const).map((t) => ({ ...t, token: false }) as Template);

function isHsmError(e: unknown): e is HsmError {
  return e instanceof HsmError;
}

test('property: the validator is idempotent (newAttributes/checkConsistency, set with no change, checkTemplateShape)', () => {
  const input = fc.record({
    tpl: fc.tuple(usageTemplate, booleans(OTHER)).map(([a, b]) => ({ ...a, ...b }) as Template),
    cls: fc.constantFrom(...CLASSES),
    keyType: fc.constantFrom(...KEY_TYPES),
    op: fc.constantFrom('create', 'generate', 'unwrap', 'derive') as fc.Arbitrary<'create' | 'generate' | 'unwrap' | 'derive'>,
    local: fc.boolean(),
    base: fc.option(booleans(['sensitive', 'extractable', 'alwaysSensitive', 'neverExtractable', 'wrapWithTrusted'] as const), { nil: undefined }),
  });
  fc.assert(
    fc.property(input, ({ tpl, cls, keyType, op, local, base }) => {
      const prov = base ? { local, base: { sensitive: false, extractable: false, alwaysSensitive: false, neverExtractable: false, ...base } } : { local };
      const attrs = newAttributes(op, tpl, cls, keyType, prov);
      assert.deepEqual(newAttributes(op, tpl, cls, keyType, prov), attrs, 'newAttributes is deterministic');
      try {
        checkConsistency(attrs);
      } catch (e) {
        assert.ok(isHsmError(e), `checkConsistency throws only HsmError, got ${String(e)}`);
        return;
      }
      const frozen = structuredClone(attrs);
      checkConsistency(attrs);
      assert.deepEqual(attrs, frozen, 'checking does not change the attributes');
      if (!attrs.modifiable) return;
      assert.deepEqual(changedAttributes('set', attrs, {}, 'user'), attrs, 'an empty set is the identity');
      const same: Record<string, boolean> = {};
      for (const u of USAGES) same[u] = attrs[u];
      if (cls !== 'public-key') for (const p of PROTECTION) same[p] = attrs[p];
      const again = changedAttributes('set', attrs, same as Template, 'user');
      assert.deepEqual(again, attrs, 'setting every attribute to its current value is the identity');
      checkConsistency(again);
    }),
    { numRuns: 2000 },
  );
  // Shape checking is a projection: a checked template checks to itself.
  const leaf = fc.record(
    {
      label: fc.string({ maxLength: 20 }),
      id: fc.uint8Array({ maxLength: 8 }),
      keyType: fc.constantFrom(...KEY_TYPES),
      class: fc.constantFrom(...CLASSES),
      allowedMechanisms: fc.array(fc.constantFrom('aes-gcm', 'AES-KWP', 'hmac-sha256', 'AES-GCM'), { maxLength: 4 }),
      startDate: fc.constantFrom('2024-01-01', '2030-12-31'),
      valueLen: fc.integer({ min: 1, max: 64 }),
      sign: fc.boolean(),
      wrap: fc.boolean(),
      sensitive: fc.boolean(),
    },
    { requiredKeys: [] },
  );
  const nested = fc.tuple(leaf, fc.option(leaf, { nil: undefined }), fc.option(leaf, { nil: undefined })).map(([a, w, u]) => ({
    ...a,
    ...(w ? { wrapTemplate: { ...w, ...(u ? { unwrapTemplate: u } : {}) } } : {}),
  }));
  fc.assert(
    fc.property(fc.oneof(nested, fc.anything()), (x) => {
      let once: Template;
      try {
        once = checkTemplateShape(x);
      } catch (e) {
        assert.ok(isHsmError(e), `checkTemplateShape throws only HsmError, got ${String(e)}`);
        return;
      }
      assert.deepEqual(checkTemplateShape(once), once);
    }),
    { numRuns: 2000 },
  );
});

/** The key-separation invariants every object must satisfy, with its pair half if any. */
function assertSeparated(where: string, a: Record<string, unknown>, pair?: Record<string, unknown>): void {
  const has = (u: string): boolean => a[u] === true || pair?.[u] === true;
  const name = `${where}: ${JSON.stringify(Object.fromEntries([...KEY_USAGES, 'extractable', 'sensitive'].map((k) => [k, a[k]])))}`;
  assert.ok(!(has('wrap') && (has('encrypt') || has('decrypt'))), `${name} wraps and encrypts/decrypts`);
  assert.ok(!(has('unwrap') && (has('encrypt') || has('decrypt'))), `${name} unwraps and encrypts/decrypts`);
  if (a.keyType === 'rsa') assert.ok(!(has('sign') && has('decrypt')), `${name} RSA signs and decrypts`);
  if (a.wrap === true || a.unwrap === true) assert.ok(a.extractable !== true, `${name} wrapping key is extractable (A-08)`);
  if (a.wrap === true && a.class !== 'public-key') assert.equal(a.sensitive, true, `${name} wrapping key is not sensitive`);
}

/** Runs a call that may be refused; refusals must be HsmErrors. Returns the result or undefined. */
async function attempt<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (e) {
    assert.ok(isHsmError(e), `${what}: refused with a non-HsmError ${String(e)}`);
    return undefined;
  }
}

async function check(t: TestHsm, where: string, uid: string | undefined): Promise<void> {
  if (uid === undefined) return;
  const a = (await t.hsm.getAttributes(t.user, uid)) as unknown as Record<string, unknown>;
  const peer = typeof a.peer === 'string' ? ((await t.hsm.getAttributes(t.user, a.peer)) as unknown as Record<string, unknown>) : undefined;
  assertSeparated(where, a, peer);
}

test('property: no random template yields a key that wraps and decrypts/encrypts, or an RSA key that signs and decrypts', async () => {
  const t = await testHsm();
  try {
    const K32 = new Uint8Array(32).fill(3);
    const kek = await importTrustedWrapKey(t, 'aes', K32);
    const victim = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', encrypt: true, extractable: true } });
    const { wrapped } = await t.hsm.wrapKey(t.user, { wrappingKey: kek, key: victim, mechanism: 'AES-KWP' });
    const base = await t.hsm.generateKey(t.user, { template: { keyType: 'generic-secret', derive: true } });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkcs8 = new Uint8Array(rsa.privateKey.export({ format: 'der', type: 'pkcs8' }));
    const spki = new Uint8Array(rsa.publicKey.export({ format: 'der', type: 'spki' }));
    const secret = fc.record({ keyType: fc.constantFrom('aes', 'des3', 'generic-secret') as fc.Arbitrary<KeyType>, a: keyTemplate, b: keyTemplate, c: keyTemplate, officer: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(secret, async ({ keyType, a, b, c, officer }) => {
        const value = keyType === 'des3' ? Uint8Array.from({ length: 24 }, (_, i) => i * 11 + 1) : K32;
        const made = [
          await attempt('generateKey', () => t.hsm.generateKey(t.user, { template: { ...a, keyType } })),
          await attempt('createObject', () => t.hsm.createObject(officer ? t.officer : t.user, { class: 'secret-key', keyType, value, ...a, ...(officer ? { trusted: true, token: true } : {}) })),
          await attempt('unwrapKey', () => t.hsm.unwrapKey(t.user, { unwrappingKey: kek, mechanism: 'AES-KWP', wrapped, template: { class: 'secret-key', keyType: keyType === 'des3' ? 'aes' : keyType, ...a } })),
          await attempt('deriveKey', () => t.hsm.deriveKey(t.user, { baseKey: base, mechanism: 'HKDF', params: { hash: 'SHA-256' }, template: { keyType, valueLen: keyType === 'des3' ? 24 : 32, ...a } })),
        ];
        // The officer's key is a token object (a session object would be visible to the officer's session only).
        for (const [i, uid] of made.entries()) await check(t, `made ${i}`, uid);
        const src = made.find((u) => u !== undefined);
        if (src) {
          await check(t, 'copy', await attempt('copyObject', () => t.hsm.copyObject(t.user, src, b)));
          await attempt('setAttributes', () => t.hsm.setAttributes(t.user, src, c));
          await check(t, 'set', src);
        }
        for (const uid of made) if (uid) await attempt('destroy', () => t.hsm.destroyObject(t.user, uid));
      }),
      { numRuns: 60 },
    );
    // RSA: clear imports of each half (fast), then a few generated pairs (each costs a key generation).
    await fc.assert(
      fc.asyncProperty(keyTemplate, keyTemplate, async (a, b) => {
        await check(t, 'RSA private import', await attempt('createObject private', () => t.hsm.createObject(t.user, { class: 'private-key', keyType: 'rsa', privateKey: pkcs8, ...a })));
        await check(t, 'RSA public import', await attempt('createObject public', () => t.hsm.createObject(t.user, { class: 'public-key', keyType: 'rsa', publicKey: spki, ...b })));
      }),
      { numRuns: 40 },
    );
    await fc.assert(
      fc.asyncProperty(keyTemplate, keyTemplate, async (a, b) => {
        const pair = await attempt('generateKeyPair', () => t.hsm.generateKeyPair(t.user, { publicTemplate: { ...b, keyType: 'rsa', modulusBits: 2048 }, privateTemplate: { ...a, keyType: 'rsa' } }));
        if (pair) {
          await check(t, 'RSA pair (private)', pair.privateKey);
          await check(t, 'RSA pair (public)', pair.publicKey);
        }
      }),
      { numRuns: 6 },
    );
  } finally {
    await t.close();
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testHsm } from '../support/hsm.js';

test('smoke: generate, sign, verify, encrypt, decrypt through the API', async () => {
  const t = await testHsm();
  try {
    const aes = await t.hsm.generateKey(t.user, { template: { keyType: 'aes', valueLen: 32 } });
    const enc = await t.hsm.encrypt(t.user, { key: aes, mechanism: 'AES-GCM', data: Buffer.from('hello') });
    const dec = await t.hsm.decrypt(t.user, { key: aes, mechanism: 'AES-GCM', data: enc.data, params: enc.params! });
    assert.equal(Buffer.from(dec).toString(), 'hello');
    const pair = await t.hsm.generateKeyPair(t.user, { privateTemplate: { keyType: 'ec', curve: 'P-256' } });
    const sig = await t.hsm.sign(t.user, { key: pair.privateKey, mechanism: 'ECDSA-SHA256', data: Buffer.from('m') });
    assert.equal(await t.hsm.verify(t.user, { key: pair.publicKey, mechanism: 'ECDSA-SHA256', data: Buffer.from('m'), signature: sig.signature }), true);
    assert.equal(await t.hsm.verify(t.user, { key: pair.publicKey, mechanism: 'ECDSA-SHA256', data: Buffer.from('x'), signature: sig.signature }), false);
  } finally {
    await t.close();
  }
});

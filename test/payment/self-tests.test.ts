// Payment self-tests (issue 7): every payment primitive's known-answer test runs before service and
// passes; a forced failure of any one latches the error state, named in status, with every call refused.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hsm, SecretBytes } from '../../src/boundary/api.js';
import { PAYMENT_SELF_TESTS } from '../../src/boundary/mechanisms/payment/self-tests.js';
import { expectCode } from '../support/expect-code.js';
import { PASSWORD, TEST_SCRYPT } from '../support/hsm.js';

const NAMES = ['PAYMENT-PIN-BLOCK', 'PAYMENT-KCV', 'PAYMENT-IBM3624', 'PAYMENT-VISA-PVV', 'PAYMENT-CVV', 'PAYMENT-EMV', 'PAYMENT-ISO9797-MAC', 'PAYMENT-DUKPT-TDES', 'PAYMENT-DUKPT-AES'];

test('every payment primitive has a known-answer test, and each passes', () => {
  assert.deepEqual(
    PAYMENT_SELF_TESTS.map((p) => p.name),
    NAMES,
  );
  for (const p of PAYMENT_SELF_TESTS) assert.doesNotThrow(() => p.run(), p.name);
});

test('the module runs the payment self-tests before service: none failed at open', async () => {
  const hsm = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT, forceSelfTestFailure: 'random-health' });
  // A forced run (fresh, not the process cache) lists the failures: only the forced one.
  assert.deepEqual(hsm.status().selfTests.failed, ['random-health']);
  hsm.close();
});

for (const name of ['PAYMENT-PIN-BLOCK', 'PAYMENT-DUKPT-AES', 'PAYMENT-EMV']) {
  test(`a forced ${name} failure latches the error state and refuses payment calls with DEVICE_ERROR`, async () => {
    const hsm = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT, forceSelfTestFailure: name });
    const st = hsm.status();
    assert.equal(st.state, 'error');
    assert.deepEqual(st.selfTests.failed, [name]);
    assert.match(st.error ?? '', new RegExp(`self-test failed: .*${name}`));
    await expectCode(() => hsm.initialize(SecretBytes.random(32), { name: 'admin', password: PASSWORD }), 'DEVICE_ERROR', 'initialise');
    await expectCode(() => hsm.paymentTranslatePinFromDukpt('any', { bdk: 'k', ksn: 'FFFF9876543210E00008', format: 'ISO0', pinBlock: new Uint8Array(8), pan: '4012345678909', outKey: 'z', outFormat: 'ISO0' }), 'DEVICE_ERROR', 'payment');
    hsm.close();
  });
}

test('a forced failure must name a real test', async () => {
  await assert.rejects(Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT, forceSelfTestFailure: 'PAYMENT-NOTHING' }), TypeError);
});

// Function-level DUKPT tests against the shared vectors (dukpt_tdes, dukpt_aes): IPEK/initial key,
// transaction keys and every working key the vectors publish, which the API never returns. Cases are
// named payment:<group>:<index>; the API-level tests are in dukpt-api.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HsmError } from '../../src/boundary/errors.js';
import { loadSymmetricKey } from '../../src/boundary/keytypes/symmetric.js';
import { aesInitialKey, aesTransactionKey, aesWorkingKey } from '../../src/boundary/mechanisms/payment/dukpt-aes.js';
import { tdesIpek, tdesWorkingKey } from '../../src/boundary/mechanisms/payment/dukpt-tdes.js';
import type { LoadedKey } from '../../src/boundary/types.js';
import { loadPaymentVectors, type PaymentVectors, s } from './vectors.js';

const H = (x: string): Buffer => Buffer.from(x, 'hex');
const hex = (k: LoadedKey): string => {
  const b = k.secret?.insecureBytes();
  assert.ok(b);
  return b.toString('hex').toUpperCase();
};
const V: PaymentVectors = loadPaymentVectors() ?? assert.fail('payment vectors missing');

test('TDES DUKPT: IPEK, transaction key, PIN key and data-request key (dukpt_tdes)', () => {
  assert.equal(V.dukpt_tdes?.length, 14);
  for (const [i, v] of (V.dukpt_tdes ?? []).entries()) {
    const bdk = loadSymmetricKey('des2', H(s(v.inputs.bdk)));
    const ksn = s(v.inputs.ksn);
    assert.equal(hex(tdesIpek(bdk, ksn)), v.expected.ipek, `payment:dukpt_tdes:${i} ipek`);
    assert.equal(hex(tdesWorkingKey(bdk, ksn, 'none')), v.expected.txn_key, `payment:dukpt_tdes:${i} txn_key`);
    assert.equal(hex(tdesWorkingKey(bdk, ksn, 'pin')), v.verifier_computed?.pin_key, `payment:dukpt_tdes:${i} pin_key`);
    assert.equal(hex(tdesWorkingKey(bdk, ksn, 'data-request')), v.verifier_computed?.data_request_key, `payment:dukpt_tdes:${i} data key`);
  }
});

test('AES DUKPT: initial key, transaction key and working keys (dukpt_aes)', () => {
  assert.equal(V.dukpt_aes?.length, 12);
  const working = [
    ['pin_key_aes128', 'pin', 'aes128'],
    ['pin_key_aes256', 'pin', 'aes256'],
    ['cmac_aes128_key', 'mac-generate', 'aes128'],
    ['cmac_aes256_key', 'mac-generate', 'aes256'],
    ['data_aes128_key', 'data-encrypt', 'aes128'],
    ['data_aes256_key', 'data-encrypt', 'aes256'],
  ] as const;
  let checked = 0;
  for (const [i, v] of (V.dukpt_aes ?? []).entries()) {
    const bdk = loadSymmetricKey('aes', H(s(v.inputs.bdk)));
    const ksn = s(v.inputs.ksn);
    assert.equal(hex(aesInitialKey(bdk, ksn)), v.expected.initial_key, `payment:dukpt_aes:${i} initial_key`);
    assert.equal(hex(aesTransactionKey(bdk, ksn)), v.expected.txn_key, `payment:dukpt_aes:${i} txn_key`);
    for (const [field, usage, type] of working) {
      if (v.expected[field] === undefined) continue;
      assert.equal(hex(aesWorkingKey(bdk, ksn, usage, type)), v.expected[field], `payment:dukpt_aes:${i} ${field}`);
      checked++;
    }
  }
  assert.ok(checked >= 20, `working keys checked: ${checked}`);
});

test('DUKPT refuses KSNs no device produces and working keys longer than the BDK', () => {
  const tdes = loadSymmetricKey('des2', H('0123456789ABCDEFFEDCBA9876543210'));
  const aes = loadSymmetricKey('aes', H('FEDCBA9876543210F1F1F1F1F1F1F1F1'));
  const code = (fn: () => unknown, c: string): void => assert.throws(fn, (e) => e instanceof HsmError && e.code === c);
  code(() => tdesWorkingKey(tdes, 'FFFF9876543210E00000', 'pin'), 'MECHANISM_PARAM_INVALID'); // counter 0
  code(() => tdesWorkingKey(tdes, 'FFFF9876543210FFFFFF', 'pin'), 'MECHANISM_PARAM_INVALID'); // 21 one-bits
  code(() => tdesWorkingKey(tdes, 'FFFF9876543210E000', 'pin'), 'MECHANISM_PARAM_INVALID'); // short
  code(() => tdesWorkingKey(aes, 'FFFF9876543210E00001', 'pin'), 'KEY_TYPE_INCONSISTENT');
  code(() => aesWorkingKey(aes, '12345678901234560001FFFF', 'pin', 'aes128'), 'MECHANISM_PARAM_INVALID'); // 17 one-bits
  code(() => aesWorkingKey(aes, '123456789012345600000001', 'pin', 'aes256'), 'KEY_SIZE_RANGE');
  code(() => aesWorkingKey(tdes, '123456789012345600000001', 'pin', 'aes128'), 'KEY_TYPE_INCONSISTENT');
});

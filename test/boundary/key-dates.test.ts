// checkKeyUsable's validity dates (SP 800-57 §5.3) with its cached UTC day: the day it compares with
// changes exactly at UTC midnight, also when the clock steps back, and keys without dates never fail on dates.

import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { HsmError } from '../../src/boundary/errors.js';
import { checkKeyUsable } from '../../src/boundary/module/core.js';
import type { Attributes, StoredObject } from '../../src/boundary/types.js';

function object(attrs: Partial<Attributes>): StoredObject {
  // Only the fields checkKeyUsable reads: the state and the two dates.
  return { uid: 'k', partition: 'p', attrs: { class: 'secret-key', keyType: 'aes', ...attrs }, meta: { state: 'enabled' }, versions: [], revision: 1 } as unknown as StoredObject;
}

const refused = (e: unknown): boolean => e instanceof HsmError && e.code === 'KEY_STATE_INVALID';

test('start and end dates follow the UTC day across midnight, forwards and backwards', (t) => {
  mock.timers.enable({ apis: ['Date'], now: Date.UTC(2031, 2, 14, 23, 59, 58) });
  t.after(() => mock.timers.reset());
  const starts = object({ startDate: '2031-03-15' });
  const ends = object({ endDate: '2031-03-14' });
  assert.throws(() => checkKeyUsable(starts, 'encrypt'), refused);
  assert.throws(() => checkKeyUsable(starts, 'verify'), refused); // before the start date, no use at all
  checkKeyUsable(ends, 'encrypt'); // the end date's own day is still inside
  mock.timers.tick(2_000); // 2031-03-15T00:00:00Z
  checkKeyUsable(starts, 'encrypt');
  assert.throws(() => checkKeyUsable(ends, 'encrypt'), refused);
  checkKeyUsable(ends, 'verify'); // after the end date only originating uses are refused
  mock.timers.setTime(Date.UTC(2031, 2, 14, 12)); // the clock steps back a day: the cached day must follow
  assert.throws(() => checkKeyUsable(starts, 'encrypt'), refused);
  checkKeyUsable(ends, 'encrypt');
});

test('a key without dates is usable whatever the clock says; a disabled key never is', (t) => {
  mock.timers.enable({ apis: ['Date'], now: Date.UTC(1999, 11, 31, 23, 59, 59) });
  t.after(() => mock.timers.reset());
  checkKeyUsable(object({}), 'sign');
  const disabled = object({});
  disabled.meta.state = 'disabled';
  assert.throws(() => checkKeyUsable(disabled, 'verify'), refused);
});

// The error catalogue is the contract every front end maps from: each code needs a PKCS#11
// number, an HTTP status and a finished sentence; HsmError serialises to code and message only,
// so nothing else (stack, detail object, cause) can reach a client through JSON.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CATALOGUE, type ErrorCode, HsmError, isHsmError } from '../../src/boundary/api.js';

const codes = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

test('every catalogue entry has a CKR number, an HTTP error status and a message', () => {
  assert.ok(codes.length >= 30, `catalogue has ${codes.length} codes`);
  for (const code of codes) {
    const e = ERROR_CATALOGUE[code];
    assert.equal(typeof e.ckr, 'number', `${code}.ckr is a number`);
    assert.ok(Number.isSafeInteger(e.ckr) && e.ckr >= 0, `${code}.ckr is a non-negative integer`);
    assert.ok(Number.isSafeInteger(e.http) && e.http >= 400 && e.http <= 599, `${code}.http ${e.http} is an error status`);
    assert.equal(typeof e.message, 'string', `${code}.message is a string`);
    assert.ok(e.message.trim().length > 0, `${code}.message is not empty`);
  }
});

test('no catalogue message contains a placeholder', () => {
  const placeholder = /\{[^}]*\}|%[sdioOjf]|\$\{|<[a-z_ ]+>|\bTODO\b|\bFIXME\b|\bXXX\b|\bTBD\b/i;
  for (const code of codes) {
    assert.doesNotMatch(ERROR_CATALOGUE[code].message, placeholder, `${code} message has a placeholder`);
  }
});

test('codes are upper snake case and the catalogue is frozen against typos (const keys)', () => {
  for (const code of codes) assert.match(code, /^[A-Z][A-Z0-9_]*$/, code);
});

test('HsmError carries the code, the catalogue numbers, and the detail after the message', () => {
  const e = new HsmError('KEY_SIZE_RANGE', 'RSA keys are 2048 to 16384 bits');
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'HsmError');
  assert.equal(e.code, 'KEY_SIZE_RANGE');
  assert.equal(e.ckr, ERROR_CATALOGUE.KEY_SIZE_RANGE.ckr);
  assert.equal(e.httpStatus, ERROR_CATALOGUE.KEY_SIZE_RANGE.http);
  assert.equal(e.message, `${ERROR_CATALOGUE.KEY_SIZE_RANGE.message}: RSA keys are 2048 to 16384 bits`);
  assert.equal(new HsmError('SEALED').message, ERROR_CATALOGUE.SEALED.message);
  assert.equal(isHsmError(e), true);
  assert.equal(isHsmError(e, 'KEY_SIZE_RANGE'), true);
  assert.equal(isHsmError(e, 'SEALED'), false);
  assert.equal(isHsmError(new TypeError('bug')), false);
});

test('HsmError.toJSON has exactly code and message', () => {
  for (const code of codes) {
    const e = new HsmError(code, 'some detail');
    const json = JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json).sort(), ['code', 'message'], code);
    assert.equal(json.code, code);
    assert.equal(json.message, e.message);
    assert.ok(!('stack' in json) && !('detail' in json), `${code}: no stack or detail in JSON`);
  }
});

// SecretBytes is the one place raw secret bytes live: these tests prove that none of the usual
// ways a value reaches a log (toString, JSON, util.inspect, template literals, console formatting)
// shows the bytes, that destroy() zero-fills the buffer callers were handed, and that use after
// destroy is a bug (TypeError), not silent zeros.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { format, inspect } from 'node:util';
import { SecretBytes } from '../../src/boundary/api.js';

// A recognisable value: if any rendering leaks it, one of these spellings shows up.
const VALUE = Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x41, 0x42, 0x43, 0x44, 0x13, 0x37, 0xca, 0xfe]);
const SPELLINGS = [
  Buffer.from(VALUE).toString('hex'),
  Buffer.from(VALUE).toString('base64'),
  Buffer.from(VALUE).toString('latin1'),
  'de ad be ef',
  '222', // 0xde as decimal, as in Uint8Array/Buffer inspection and JSON arrays
  'ABCD',
];

function assertRedacted(rendered: string, how: string): void {
  for (const s of SPELLINGS) assert.ok(!rendered.toLowerCase().includes(s.toLowerCase()), `${how} leaked ${JSON.stringify(s)}: ${rendered}`);
  assert.match(rendered, /redacted/i, `${how} says it is redacted: ${rendered}`);
}

test('no rendering of SecretBytes shows the bytes', () => {
  const s = SecretBytes.from(VALUE);
  assertRedacted(String(s), 'String()');
  assertRedacted(s.toString(), 'toString()');
  assertRedacted(`${s}`, 'template literal');
  assertRedacted(`prefix ${s} suffix`, 'template literal inside text');
  assertRedacted('' + s, 'string concatenation');
  assertRedacted(JSON.stringify(s), 'JSON.stringify');
  assertRedacted(JSON.stringify({ key: s, nested: [s] }), 'JSON.stringify in an object');
  assertRedacted(inspect(s), 'util.inspect');
  assertRedacted(inspect({ key: s }, { depth: 10, showHidden: true }), 'util.inspect showHidden');
  assertRedacted(format('%s %o %O %j', s, s, s, s), 'util.format');
  // Control: the bytes are really inside, so the checks above are not vacuous.
  assert.deepEqual(Uint8Array.from(s.insecureBytes()), VALUE);
  s.destroy();
});

test('from() copies in: changing the caller buffer does not change the secret', () => {
  const mine = Uint8Array.from(VALUE);
  const s = SecretBytes.from(mine);
  mine.fill(0);
  assert.deepEqual(Uint8Array.from(s.insecureBytes()), VALUE);
  s.destroy();
});

test('destroy() zero-fills the buffer that insecureBytes() handed out', () => {
  const s = SecretBytes.from(VALUE);
  const view = s.insecureBytes();
  assert.deepEqual(Uint8Array.from(view), VALUE);
  s.destroy();
  assert.equal(s.destroyed, true);
  assert.equal(view.length, VALUE.length);
  assert.ok(view.every((b) => b === 0), `zeroed after destroy: ${view.toString('hex')}`);
  s.destroy(); // idempotent
});

test('adopt() zero-fills the adopted buffer on destroy', () => {
  const buf = Buffer.from(VALUE);
  const s = SecretBytes.adopt(buf);
  s.destroy();
  assert.ok(buf.every((b) => b === 0));
});

test('use after destroy throws TypeError', () => {
  const s = SecretBytes.from(VALUE);
  const other = SecretBytes.from(VALUE);
  s.destroy();
  assert.throws(() => s.insecureBytes(), TypeError);
  assert.throws(() => s.toKeyObject(), TypeError);
  assert.throws(() => s.equals(other), TypeError);
  assert.throws(() => other.equals(s), TypeError);
  // Rendering a destroyed secret stays harmless.
  assert.match(String(s), /redacted/i);
  other.destroy();
});

test('equals compares values; random() gives distinct secrets of the asked length', () => {
  const a = SecretBytes.from(VALUE);
  const b = SecretBytes.from(VALUE);
  const c = SecretBytes.random(VALUE.length);
  assert.equal(a.equals(b), true);
  assert.equal(a.equals(c), false);
  assert.equal(c.length, VALUE.length);
  assert.equal(a.equals(SecretBytes.from(VALUE.subarray(1))), false);
  for (const x of [a, b, c]) x.destroy();
});

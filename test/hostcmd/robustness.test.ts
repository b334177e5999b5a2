// The host-command port under bad input: malformed, truncated, oversized and empty frames, a
// connection dropped mid-command, pipelined and byte-by-byte frames, a socket fuzz batch, and a
// fast-check property over the codec (random and mutated real frames). Every bad frame gets a coded
// answer or its own connection closed; the server and the other connections carry on.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { CommandContext } from '../../src/frontends/hostcmd/command.js';
import { dispatch } from '../../src/frontends/hostcmd/dispatch.js';
import { FrameReader, FrameTooLarge } from '../../src/frontends/hostcmd/frame.js';
import { type HostCmdServer, startHostCmdServer } from '../../src/frontends/hostcmd/server.js';
import { PASSWORD, type TestHsm, testHsm } from '../support/hsm.js';
import { frame, hostClient, keyRef } from './client.js';
import { H, iso0Block } from './payment-crypto.js';

const HDR = '0001';
let t: TestHsm;
let server: HostCmdServer;
let zpk: string;
let realFrames: Buffer[];

before(async () => {
  t = await testHsm();
  server = await startHostCmdServer({ hsm: t.hsm, host: '127.0.0.1', port: 0, account: { user: 'alice', password: PASSWORD }, maxFrameBytes: 4096 });
  const ZPK = H('0123456789ABCDEFFEDCBA9876543210');
  zpk = keyRef(await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'des2', value: ZPK, token: true, keyUsage: 'P0' }));
  const mac = keyRef(await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'des2', value: randomBytes(16), token: true, keyUsage: 'M3' }));
  const block = iso0Block(ZPK, '1234', '400000123456').toString('hex').toUpperCase();
  realFrames = [
    `${HDR}NC`,
    `${HDR}BU021${zpk}`,
    `${HDR}CC${zpk}${zpk}12${block}0101400000123456`,
    `${HDR}CA${zpk}${zpk}12${block}0147400000123456\x19TR`,
    `${HDR}EA${zpk}${zpk}12${block}0104400000123456${'0123456789012345'}NNNNNNNNNNNN1234FFFFFFFF`,
    `${HDR}EC${zpk}${zpk}${block}0140000012345610000`,
    `${HDR}CW${zpk}4123456789012345;2812101`,
    `${HDR}CY${zpk}1234123456789012345;2812101`,
    `${HDR}M601032008${mac}0004DEADBEEF`,
    `${HDR}M801032008${mac}0004DEADBEEF0011223344556677`,
    `${HDR}KQ11${zpk}\x40\x00\x00\x12\x34\x56\x78\x01\x00\x1c\x1a\x2b\x3c\x4d08ABCDEFGH;12345678\x30\x30`,
  ].map((s) => Buffer.from(s, 'latin1'));
});

after(async () => {
  await server.close();
  await t.close();
});

async function serverStillServes(): Promise<void> {
  const c = await hostClient(server.port);
  try {
    assert.equal(await c.send(`${HDR}NC`), `${HDR}ND000000000000000000COFFER-01`);
  } finally {
    c.close();
  }
}

const RESPONSE = /^[\s\S]{0,4}(ZZ|[A-Z0-9][\x31-\x5b])[0-9A-Z]{2}/;

test('frame reader: frames split anywhere, several in one chunk, and an oversized length', () => {
  const big = randomBytes(4000);
  const stream = Buffer.concat([frame(big), frame('AB'), frame(''), frame('CDE')]);
  const r = new FrameReader(4096);
  const got: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 1 + (i % 3)) got.push(...r.push(stream.subarray(i, Math.min(stream.length, i + 1 + (i % 3)))));
  assert.deepEqual(got.map((b) => b.toString('hex')), [big.toString('hex'), '4142', '', '434445']);
  assert.equal(r.pending, 0);
  const all = new FrameReader(4096).push(stream);
  assert.equal(all.length, 4);
  assert.throws(() => new FrameReader(4096).push(Buffer.from([0x10, 0x01])), FrameTooLarge);
});

test('pipelined frames in one write, and a frame sent byte by byte, are answered in order', async () => {
  const c = await hostClient(server.port);
  try {
    c.raw(Buffer.concat([frame(`AAAANC`), frame(`BBBBZY`), frame(`CCCCBU021${zpk}`)]));
    assert.match(await c.next(), /^AAAAND00/);
    assert.equal(await c.next(), 'BBBBZZ68');
    assert.match(await c.next(), /^CCCCBV00[0-9A-F]{6}$/);
    const f = frame(`DDDDNC`);
    for (const byte of f) {
      c.raw(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    assert.match(await c.next(), /^DDDDND00/);
  } finally {
    c.close();
  }
});

test('an empty frame and one shorter than header + command answer ZZ15; the connection stays open', async () => {
  const c = await hostClient(server.port);
  try {
    c.raw(frame(''));
    assert.equal(await c.next(), 'ZZ15');
    assert.equal(await c.send('00N'), '00NZZ15');
    assert.match(await c.send(`${HDR}NC`), /^0001ND00/);
  } finally {
    c.close();
  }
});

test('a declared length over the limit closes that connection only; the server and another connection carry on', async () => {
  const other = await hostClient(server.port);
  const c = await hostClient(server.port);
  c.raw(Buffer.from([0xff, 0xff, 0x30, 0x30]));
  await c.closed();
  assert.match(await other.send(`${HDR}NC`), /^0001ND00/);
  other.close();
  await serverStillServes();
});

test('a truncated frame followed by a hang-up, and a connection dropped mid-command, leave the server serving', async () => {
  const c = await hostClient(server.port);
  const f = frame(`${HDR}CC${zpk}${zpk}`);
  c.raw(f.subarray(0, 10));
  c.socket.end();
  await c.closed();
  const d = await hostClient(server.port);
  d.raw(Buffer.concat([frame(`${HDR}BU021${zpk}`), frame(`${HDR}BU021${zpk}`), frame(`${HDR}NC`)]));
  d.close(); // gone before the answers are written
  await d.closed();
  await serverStillServes();
  for (let i = 0; i < 50 && server.connections() > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.connections(), 0, 'the dropped connections are cleaned up');
});

test('socket fuzz batch: 300 random and mutated frames on one connection each get one coded answer', async () => {
  const c = await hostClient(server.port);
  try {
    const n = 300;
    const bodies: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      if (i % 2 === 0) bodies.push(randomBytes(i % 97));
      else {
        const b = Buffer.from(realFrames[i % realFrames.length] as Buffer);
        b[4 + ((i * 7) % Math.max(1, b.length - 4))] ^= 1 << (i % 8);
        bodies.push(b.subarray(0, b.length - (i % 5)));
      }
    }
    c.raw(Buffer.concat(bodies.map((b) => frame(b))));
    for (let i = 0; i < n; i++) assert.match(await c.next(), RESPONSE, `answer ${i}`);
    assert.match(await c.send(`${HDR}NC`), /^0001ND00/);
  } finally {
    c.close();
  }
});

test('codec property: any body, random or a mutated real frame, gets header + response code + error code, never an exception', async () => {
  const ctx: CommandContext = { hsm: t.hsm, call: (fn) => fn(t.user) };
  const faults: unknown[] = [];
  const onFault = (e: unknown): void => {
    faults.push(e);
  };
  const mutated = fc
    .tuple(fc.constantFrom(...realFrames), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'insert', 'set')), { maxLength: 4 }))
    .map(([base, ops]) => {
      let b = Buffer.from(base);
      for (const [at, v, op] of ops) {
        const i = at % Math.max(1, b.length);
        if (op === 'flip') b[i] = (b[i] ?? 0) ^ (1 << (v % 8));
        else if (op === 'set') b[i] = v;
        else if (op === 'cut') b = b.subarray(0, i);
        else b = Buffer.concat([b.subarray(0, i), Buffer.from([v]), b.subarray(i)]);
      }
      return b;
    });
  const body = fc.oneof(fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)), mutated);
  await fc.assert(
    fc.asyncProperty(body, async (b) => {
      const out = await dispatch(b, 4, ctx, onFault);
      assert.ok(out.subarray(0, Math.min(4, b.length)).equals(b.subarray(0, Math.min(4, b.length))), 'header echoed');
      assert.match(out.subarray(Math.min(4, b.length)).toString('latin1'), /^(ZZ|[A-Z0-9][\x31-\x5b])[0-9A-Z]{2}/);
    }),
    { numRuns: 400 },
  );
  assert.deepEqual(faults, [], 'no input reaches an internal error');
});

test('when the port session idles out, the next command logs in again and is answered', async () => {
  const idle = await testHsm({ sessionIdleMs: 300 });
  const port = await startHostCmdServer({ hsm: idle.hsm, host: '127.0.0.1', port: 0, account: { user: 'alice', password: PASSWORD } });
  const c = await hostClient(port.port);
  try {
    const key = keyRef(await idle.hsm.createObject(idle.user, { class: 'secret-key', keyType: 'des2', value: H('0123456789ABCDEFFEDCBA9876543210'), token: true, keyUsage: 'P0' }));
    assert.match(await c.send(`${HDR}BU021${key}`), /^0001BV00/);
    await new Promise((r) => setTimeout(r, 700));
    // Sessions idle that long have ended (the test's own proves it), so the port must log in again.
    await assert.rejects(idle.hsm.getAttributes(idle.user, key.slice(3)), (e: unknown) => (e as { code?: string }).code === 'SESSION_INVALID');
    assert.match(await c.send(`${HDR}BU021${key}`), /^0001BV00/, 'answered after the session expired');
  } finally {
    c.close();
    await port.close();
    await idle.close();
  }
});

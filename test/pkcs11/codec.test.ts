// The RPC codec against bytes from reference/p11-kit-rpc.md §8 (real p11-kit traffic), and
// fuzzed (STYLE §8, attacks.md A-24): random bytes and mutated real frames give a coded
// ProtocolError or a reply, never an escaping exception; a hostile connection is closed
// while every other connection carries on.

import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { CALLS, callByName } from '../../src/frontends/pkcs11/calls.js';
import { decodeArgs, decodeHead, encodeError, encodeReply } from '../../src/frontends/pkcs11/codec.js';
import { Connection } from '../../src/frontends/pkcs11/connection.js';
import { SlotTable } from '../../src/frontends/pkcs11/slots.js';
import { ProtocolError, Reader, Writer } from '../../src/frontends/pkcs11/wire.js';
import { type P11Fixture, p11Fixture } from './p11-fixture.js';
import { HANDSHAKE, initialized, RpcClient } from './rpc-client.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const V0 = { version: 0, clientVersion: 0 };

let f: P11Fixture;
before(async () => {
  f = await p11Fixture();
});
after(async () => {
  await f.close();
});

test('reference §8 frames: C_Initialize, C_FindObjectsInit, C_SignInit (CKM_ECDSA) and OAEP/PSS mechanisms decode', () => {
  const init = hex(`00000001 00000005 6179796179 01 00000029 ${Buffer.from(HANDSHAKE).toString('hex')} 00 01 00000001 00`);
  const r = new Reader(init);
  const a = decodeArgs(decodeHead(r), r, V0);
  assert.equal(Buffer.from(a.ay(0)!).toString(), 'PRIVATE-GNOME-KEYRING-PKCS11-PROTOCOL-V-1');
  assert.equal(a.y(1), 0);

  const find = hex('0000001a 00000003 756141 0000000000000011 00000001 00000000 01 00000008 0000000000000003');
  const r2 = new Reader(find);
  const b = decodeArgs(decodeHead(r2), r2, V0);
  assert.equal(b.u(0), 0x11);
  assert.deepEqual(b.aA(1), [{ type: 0, length: 8, value: { kind: 'ulong', v: 3n } }]);

  const sign = hex('0000002a 00000003 754d75 0000000000000011 00001041 ffffffff 0000000000000003');
  const r3 = new Reader(sign);
  const c = decodeArgs(decodeHead(r3), r3, V0);
  assert.deepEqual(c.M(1), { type: 0x1041, param: { kind: 'none' } });
  assert.equal(c.u(2), 3);

  const pss = hex('0000002a 00000003 754d75 0000000000000011 0000000d 0000000000000250 0000000000000002 0000000000000020 0000000000000003');
  const r4 = new Reader(pss);
  assert.deepEqual(decodeArgs(decodeHead(r4), r4, V0).M(1), { type: 0xd, param: { kind: 'pss', hash: 0x250n, mgf: 2n, sLen: 32n } });
  const oaep = hex('00000021 00000003 754d75 0000000000000011 00000009 0000000000000250 0000000000000002 0000000000000001 00000003 414243 0000000000000003');
  const r5 = new Reader(oaep);
  assert.deepEqual(decodeArgs(decodeHead(r5), r5, V0).M(1), { type: 0x9, param: { kind: 'oaep', hash: 0x250n, mgf: 2n, source: 1n, sourceData: new Uint8Array(Buffer.from('ABC')) } });
  // Protocol 2 (p11-kit 0.25.6+): a parameterless mechanism is the bare type (§9).
  const v2 = hex('0000002a 00000003 754d75 0000000000000011 00001041 0000000000000003');
  const r6 = new Reader(v2);
  assert.deepEqual(decodeArgs(decodeHead(r6), r6, { version: 2, clientVersion: 2 }).M(1), { type: 0x1041, param: { kind: 'none' } });
});

test('reference §8 replies: the encoder writes the same bytes p11-kit did', () => {
  assert.deepEqual(encodeReply(callByName('C_Login'), [], V0), hex('00000012 00000000'));
  assert.deepEqual(encodeError(0xa0), hex('00000000 00000001 75 00000000000000a0'));
  assert.deepEqual(encodeReply(callByName('C_GetSlotList'), [{ count: 1 }], V0), hex('00000004 00000002 6175 00 00000001'));
  assert.deepEqual(encodeReply(callByName('C_GetSlotList'), [{ items: [0x11] }], V0), hex('00000004 00000002 6175 01 00000001 0000000000000011'));
  assert.deepEqual(
    encodeReply(callByName('C_GetAttributeValue'), [[{ type: 0x181, length: 0x43, value: { kind: 'bytes', v: null } }], 0], V0),
    hex('00000018 00000003 614175 00000001 00000181 01 00000043 ffffffff 0000000000000000'),
  );
  assert.throws(() => encodeError(0), TypeError, 'an error reply never carries CKR_OK');
});

function decodeAll(body: Uint8Array, version: number): void {
  const r = new Reader(body);
  decodeArgs(decodeHead(r), r, { version, clientVersion: version });
}

test('fuzz: random bodies decode or fail with a ProtocolError, for every protocol version', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 256 }), fc.integer({ min: 0, max: 2 }), (body, version) => {
      try {
        decodeAll(body, version);
      } catch (e) {
        assert.ok(e instanceof ProtocolError, `escaped: ${String(e)}`);
      }
    }),
    { numRuns: 3000 },
  );
  // A random tail behind a valid head, for every call in the table: the argument decoders themselves.
  fc.assert(
    fc.property(fc.constantFrom(...CALLS.values()), fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 2 }), (call, tail, version) => {
      const body = Buffer.concat([new Writer().u32(call.id).byteArray(Buffer.from(call.request, 'latin1')).finish(), tail]);
      try {
        decodeAll(body, version);
      } catch (e) {
        assert.ok(e instanceof ProtocolError, `escaped: ${String(e)}`);
      }
    }),
    { numRuns: 3000 },
  );
});

test('A-24: nested templates 10^5 deep, 2^32-1 attributes and oversized byte arrays are ProtocolErrors, not crashes', () => {
  const nest = new Writer().u32(callByName('C_CreateObject').id).byteArray(Buffer.from('uaA')).u64(1);
  for (let i = 0; i < 100_000; i++) nest.u32(1).u32(0x40000211).u8(1).u32(24);
  assert.throws(() => decodeAll(nest.finish(), 0), (e: unknown) => e instanceof ProtocolError && e.code === 'TOO_DEEP');
  const many = new Writer().u32(callByName('C_CreateObject').id).byteArray(Buffer.from('uaA')).u64(1).u32(0xffffffff).finish();
  assert.throws(() => decodeAll(many, 0), (e: unknown) => e instanceof ProtocolError && e.code === 'BAD_LENGTH');
  const big = new Writer().u32(callByName('C_Login').id).byteArray(Buffer.from('uuay')).u64(1).u64(1).u8(1).u32(0x7ffffffe).finish();
  assert.throws(() => decodeAll(big, 0), (e: unknown) => e instanceof ProtocolError && e.code === 'TRUNCATED');
});

/** Real request bodies (as p11-kit 0.24 sends them) for the mutation fuzzer. */
const SEEDS: Uint8Array[] = [
  hex(`00000001 00000005 6179796179 01 00000029 ${Buffer.from(HANDSHAKE).toString('hex')} 00 01 00000001 00`),
  hex('00000004 00000003 796675 00 00000000'),
  hex('0000000a 00000002 7575 0000000000000011 0000000000000006'),
  hex('00000012 00000004 75756179 0000000000000011 0000000000000001 01 00000004 31323334'),
  hex('0000001a 00000003 756141 0000000000000011 00000001 00000000 01 00000008 0000000000000003'),
  hex('00000018 00000004 75756641 0000000000000011 0000000000000003 00000001 00000181 00000000'),
  hex('0000002a 00000003 754d75 0000000000000011 0000000d 0000000000000250 0000000000000002 0000000000000020 0000000000000003'),
  hex('0000002b 00000005 7561796679 0000000000000011 01 00000020 68656c6c6f20776f726c642c2074686973206973203332206279746573212121 00000200'),
  hex('0000003b 00000006 754d61416141 0000000000000011 00001040 ffffffff 00000002 00000000 01 00000008 0000000000000002 40000211 01 00000018 00000001 00000162 01 00000001 01 00000001 00000000 01 00000008 0000000000000003'),
];

class StubSocket extends EventEmitter {
  written: Uint8Array[] = [];
  destroyed = false;
  write(b: Uint8Array): boolean {
    this.written.push(b);
    return true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  pause(): void {}
  resume(): void {}
}

test('fuzz: mutated real frames through a live connection always get an answer or a close, never an exception', async () => {
  const ctx = { hsm: f.t.hsm, slots: new SlotTable(['p1']), defaultAccounts: {}, locked: new Set<string>() };
  const conn = new Connection(new StubSocket() as unknown as Socket, ctx, () => {});
  assert.ok(await conn.answer(SEEDS[0]!), 'C_Initialize answered');
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...SEEDS),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.option(fc.nat(), { nil: undefined }),
      async (seed, flips, cut) => {
        const body = Uint8Array.from(seed);
        for (const [at, v] of flips) body[at % body.length] = v;
        const input = cut === undefined ? body : body.subarray(0, cut % (body.length + 1));
        const reply = await conn.answer(input);
        assert.ok(reply === undefined || reply instanceof Uint8Array);
      },
    ),
    { numRuns: 1500 },
  );
});

test('a hostile connection is closed (unknown call, bad signature, absurd frame length); other connections carry on', async () => {
  const good = await initialized(f.socket);
  const hostile = [
    new Writer().u32(999).byteArray(new Uint8Array(0)).finish(), // unknown call id
    new Writer().u32(1).byteArray(Buffer.from('uu')).finish(), // wrong signature
  ];
  for (const body of hostile) {
    const bad = await RpcClient.open(f.socket);
    const reply = await bad.raw(body);
    assert.equal(reply.length, 0, 'no reply: the connection is closed');
    assert.ok(bad.closed);
  }
  const huge = await RpcClient.open(f.socket);
  const head = Buffer.alloc(12);
  head.writeUInt32BE(0x10, 0);
  head.writeUInt32BE(0, 4);
  head.writeUInt32BE(0xfffffff0, 8);
  huge.socket.write(head);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(huge.closed, 'a 4 GiB frame announcement closes the connection');
  // Malformed arguments of a known call: CKR_DEVICE_ERROR and the connection stays.
  const r = await good.raw(new Writer().u32(callByName('C_GetSlotList').id).byteArray(Buffer.from('yfu')).u8(0).finish());
  assert.equal(r.readUInt32BE(12), 0, 'error reply');
  assert.equal(r.readBigUInt64BE(12 + 9), 0x30n, 'CKR_DEVICE_ERROR');
  const slots = await good.call('C_GetSlotList', 0, 8);
  assert.ok(slots.ok, 'the good connection still works');
  // Dropped mid-frame: the server keeps serving.
  const dropped = await RpcClient.open(f.socket);
  dropped.socket.write(Buffer.from('0000001000000006', 'hex'));
  dropped.close();
  const fresh = await initialized(f.socket);
  assert.ok((await fresh.call('C_GetInfo')).ok);
  fresh.close();
  good.close();
});

test('Writer: any sequence of u8/u32/u64/byteArray/raw writes the big-endian bytes, across buffer growth (property)', () => {
  const op = fc.oneof(
    fc.record({ k: fc.constant('u8' as const), v: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ k: fc.constant('u32' as const), v: fc.integer({ min: 0, max: 0xffffffff }) }),
    fc.record({ k: fc.constant('u64' as const), v: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
    fc.record({ k: fc.constant('bytes' as const), v: fc.uint8Array({ maxLength: 300 }) }),
    fc.record({ k: fc.constant('raw' as const), v: fc.uint8Array({ maxLength: 300 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const w = new Writer();
      const expected: Buffer[] = [];
      for (const o of ops) {
        if (o.k === 'u8') {
          w.u8(o.v);
          expected.push(Buffer.of(o.v));
        } else if (o.k === 'u32') {
          w.u32(o.v);
          const b = Buffer.alloc(4);
          b.writeUInt32BE(o.v);
          expected.push(b);
        } else if (o.k === 'u64') {
          w.u64(o.v);
          const b = Buffer.alloc(8);
          b.writeBigUInt64BE(o.v);
          expected.push(b);
        } else if (o.k === 'bytes') {
          w.byteArray(o.v);
          const len = Buffer.alloc(4);
          len.writeUInt32BE(o.v.length);
          expected.push(len, Buffer.from(o.v));
        } else {
          w.raw(o.v);
          expected.push(Buffer.from(o.v));
        }
      }
      assert.deepEqual(Buffer.from(w.finish()), Buffer.concat(expected));
    }),
    { numRuns: 300 },
  );
  // Every offset around the first two growths, for each value kind: the write that crosses the
  // end of the buffer is the one most likely to land in the old buffer.
  for (let pad = 100; pad <= 280; pad++) {
    const w = new Writer();
    w.raw(new Uint8Array(pad).fill(7)).u8(0xab).u32(0x01020304).u64(0x1112131415161718n).byteArray(Uint8Array.of(9, 9));
    const expected = Buffer.concat([Buffer.alloc(pad, 7), Buffer.from('ab01020304111213141516171800000002' + '0909', 'hex')]);
    assert.deepEqual(Buffer.from(w.finish()), expected, `after ${pad} bytes`);
  }
});

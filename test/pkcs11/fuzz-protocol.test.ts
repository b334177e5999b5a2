// Robustness of the PKCS#11 socket at every protocol version (issue 5, attacks.md A-24), with
// fast-check over real connections: mutated real frames of each version, random bodies, unknown
// call ids, wrong signature strings, absurd lengths and connections dropped mid-frame or
// mid-call. Each frame gets a well-formed reply or the connection is closed; never a hang. After
// every batch a logged-in bystander connection and a fresh one still work.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { writeAttributes } from '../../src/frontends/pkcs11/attribute-wire.js';
import { CALLS, callByName, signatureParts } from '../../src/frontends/pkcs11/calls.js';
import { CKA, CKR, CKU } from '../../src/frontends/pkcs11/constants.js';
import { NO_PARAMS } from '../../src/frontends/pkcs11/mechanism-wire.js';
import { slotFor } from '../../src/frontends/pkcs11/slots.js';
import { Reader, Writer } from '../../src/frontends/pkcs11/wire.js';
import { type P11Fixture, p11Fixture, USER_PIN } from './p11-fixture.js';
import { boolAttr, bytesAttr, HANDSHAKE, initialized, type Mech, RpcClient, ulongAttr } from './rpc-client.js';

const SLOT = slotFor('p1').id;
/** Longest any single frame may take to be answered on a loaded 2-core machine. */
const FRAME_TIMEOUT = 20_000;

let f: P11Fixture;
let bystander: { c: RpcClient; s: bigint };

before(async () => {
  f = await p11Fixture();
  const c = await initialized(f.socket, 0);
  const s = (await c.call('C_OpenSession', SLOT, 6)) as { ok: true; values: bigint[] };
  assert.ok((await c.call('C_Login', s.values[0], CKU.USER, Buffer.from(USER_PIN))).ok);
  bystander = { c, s: s.values[0]! };
});
after(async () => {
  bystander.c.close();
  await f.close();
});

/** A request body exactly as RpcClient.call would send it, at protocol `v`. */
function body(v: number, name: string, ...args: unknown[]): Uint8Array {
  const row = callByName(name);
  const w = new Writer().u32(row.id).byteArray(Buffer.from(row.request, 'latin1'));
  for (const [i, p] of signatureParts(row.request).entries()) {
    const a = args[i];
    if (p === 'y') w.u8(a as number);
    else if (p === 'u') w.u64(a as number | bigint);
    else if (p === 'z' || p === 's') w.byteArray(a as Uint8Array);
    else if (p === 'ay') a === null ? w.u8(0).u32(0) : w.u8(1).byteArray(a as Uint8Array);
    else if (p === 'fy' || p === 'fu') w.u32(a as number);
    else if (p === 'aA') writeAttributes(w, a as Parameters<typeof writeAttributes>[1], v);
    else if (p === 'fA') {
      const list = a as [number, number][];
      w.u32(list.length);
      for (const [t, c] of list) w.u32(t).u32(c);
    } else if (p === 'M') {
      const m = a as Mech;
      w.u32(m.type).raw(m.param ?? new Uint8Array(0));
    } else throw new TypeError(p);
  }
  return w.finish();
}

function mech(v: number, type: number, layout?: Uint8Array): Mech {
  if (v >= 2) return { type, param: NO_PARAMS.has(type) ? new Uint8Array(0) : layout ? Buffer.concat([Uint8Array.of(1), layout]) : Uint8Array.of(0) };
  return { type, param: layout ?? Buffer.from('ffffffff', 'hex') };
}

/** Real frames of protocol `v` for a logged-in session `s`: the corpus the mutations start from. */
function seeds(v: number, s: bigint): Uint8Array[] {
  const gcm = new Writer().byteArray(new Uint8Array(12)).u64(96).byteArray(Buffer.from('aad')).u64(128).finish();
  const ecdh = new Writer().u64(1).byteArray(null).byteArray(new Uint8Array(65).fill(4)).finish();
  const aes = [ulongAttr(CKA.CLASS, 4), ulongAttr(CKA.KEY_TYPE, 0x1f), ulongAttr(CKA.VALUE_LEN, 32), boolAttr(CKA.ENCRYPT, true), boolAttr(CKA.TOKEN, false), bytesAttr(CKA.LABEL, Buffer.from('fz'))];
  const out = [
    body(v, 'C_GetInfo'),
    body(v, 'C_GetSlotList', 1, 8),
    body(v, 'C_GetTokenInfo', SLOT),
    body(v, 'C_GetMechanismInfo', SLOT, 0x1041),
    body(v, 'C_OpenSession', SLOT, 6),
    body(v, 'C_GetSessionInfo', s),
    body(v, 'C_FindObjectsInit', s, [ulongAttr(CKA.CLASS, 4), bytesAttr(CKA.LABEL, Buffer.from('fz'))]),
    body(v, 'C_FindObjects', s, 16),
    body(v, 'C_FindObjectsFinal', s),
    body(v, 'C_GenerateKey', s, mech(v, 0x1080), aes),
    body(v, 'C_GetAttributeValue', s, 1, [
      [CKA.CLASS, 8],
      [CKA.UNIQUE_ID, 0],
      [CKA.ALLOWED_MECHANISMS, 64],
    ]),
    body(v, 'C_EncryptInit', s, mech(v, 0x1087, gcm), 1),
    body(v, 'C_Encrypt', s, Buffer.from('data'), 64),
    body(v, 'C_SignInit', s, mech(v, 0x1041), 2),
    body(v, 'C_Sign', s, new Uint8Array(32), 0),
    body(v, 'C_DigestInit', s, mech(v, 0x250)),
    body(v, 'C_DigestUpdate', s, Buffer.from('part')),
    body(v, 'C_DigestFinal', s, 64),
    body(v, 'C_GenerateRandom', s, 16),
    body(v, 'C_DeriveKey', s, mech(v, 0x1050, ecdh), 3, aes),
    body(v, 'C_SessionCancel', s, 0x800),
    body(v, 'C_MessageSignInit', s, mech(v, 0x1044), 2),
    body(v, 'C_SignMessageNext', s, null, Buffer.from('x'), 1, 64),
    body(v, 'C_EncryptMessage', s, null, null, Buffer.from('p'), 64),
    body(v, 'C_InitToken2', SLOT, Buffer.from('so'), Buffer.alloc(32, 0x20)),
  ];
  if (v >= 2) out.push(body(v, 'C_DeriveKey2', s, mech(v, 0x1050, ecdh), 3, aes));
  return out;
}

/** A reply frame must be the error body (`u`, a CKR below 2^32, never 0) or the request's call with its response signature. */
function checkReply(frame: Buffer, request: Uint8Array): void {
  assert.equal(frame.readUInt32BE(4), 0, 'no options in replies');
  assert.equal(frame.length, 12 + frame.readUInt32BE(8));
  const r = new Reader(new Uint8Array(frame.subarray(12)));
  const id = r.u32();
  const sig = Buffer.from(r.byteArray() ?? []).toString('latin1');
  if (id === 0) {
    assert.equal(sig, 'u');
    const rv = r.u64();
    assert.ok(rv > 0n && rv < 2n ** 32n, `error CKR ${rv}`);
    return;
  }
  const asked = new DataView(request.buffer, request.byteOffset).getUint32(0);
  assert.equal(id, asked, 'a reply answers the call that was asked');
  assert.equal(sig, CALLS.get(id)?.response);
}

type Outcome = 'reply' | 'closed';

async function exchange(c: RpcClient, frame: Uint8Array): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((res) => {
    timer = setTimeout(() => res('late'), FRAME_TIMEOUT);
  });
  const got = await Promise.race([c.raw(frame), late]);
  clearTimeout(timer);
  if (got === 'late') assert.fail('no reply and no close: the connection hangs');
  if (got.length === 0) return 'closed';
  checkReply(got, frame);
  return 'reply';
}

/** Opens a connection at `v`, initialises it, opens a session and logs in, all unmutated. */
async function ready(v: number): Promise<{ c: RpcClient; s: bigint }> {
  const c = await initialized(f.socket, v);
  const s = ((await c.call('C_OpenSession', SLOT, 6)) as { values: bigint[] }).values[0]!;
  await c.call('C_Login', s, CKU.USER, Buffer.from(USER_PIN));
  return { c, s };
}

/** The server and every other connection carry on: the bystander (logged in before the batch) and a fresh connection. */
async function othersStillWork(): Promise<void> {
  const r = await bystander.c.call('C_GenerateRandom', bystander.s, 16);
  assert.ok(r.ok && (r.values[0] as { data: Uint8Array }).data.length === 16, 'the bystander connection still works');
  const fresh = await initialized(f.socket, 2);
  const slots = await fresh.call('C_GetSlotList', 0, 8);
  assert.ok(slots.ok, 'a new connection is served');
  fresh.close();
}

const mutation = fc.record({
  flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
  tail: fc.option(fc.uint8Array({ maxLength: 24 }), { nil: undefined }),
});

function mutate(seed: Uint8Array, m: { flips: [number, number][]; cut: number | undefined; tail: Uint8Array | undefined }): Uint8Array {
  let out = Uint8Array.from(seed);
  for (const [at, v] of m.flips) out[at % out.length] = v;
  if (m.cut !== undefined) out = out.subarray(0, m.cut % (out.length + 1));
  if (m.tail) out = Buffer.concat([out, m.tail]);
  return out;
}

for (const v of [0, 1, 2]) {
  test(`fuzz, protocol ${v}: mutated real frames get a well-formed reply or a close, never a hang; the others carry on`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(), mutation), { minLength: 1, maxLength: 10 }), async (batch) => {
        const { c, s } = await ready(v);
        const corpus = seeds(v, s);
        try {
          for (const [pick, m] of batch) if ((await exchange(c, mutate(corpus[pick % corpus.length]!, m))) === 'closed') break;
        } finally {
          c.close();
        }
        await othersStillWork();
      }),
      { numRuns: 40 },
    );
  });
}

test('fuzz: random bodies at every version; unknown call ids and wrong signature strings close the connection', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(0, 1, 2), fc.uint8Array({ maxLength: 96 }), async (v, junk) => {
      const c = await initialized(f.socket, v);
      await exchange(c, junk);
      c.close();
    }),
    { numRuns: 60 },
  );
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(0, 1, 2),
      fc.oneof(fc.constant(0), fc.integer({ min: 90, max: 0xffffffff })),
      fc.string({ maxLength: 8 }),
      async (v, id, sig) => {
        const c = await initialized(f.socket, v);
        assert.equal(await exchange(c, new Writer().u32(id).byteArray(Buffer.from(sig)).finish()), 'closed', `unknown call ${id}`);
        c.close();
      },
    ),
    { numRuns: 40 },
  );
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(0, 1, 2),
      fc.constantFrom(...CALLS.values()),
      fc.string({ maxLength: 10 }),
      async (v, call, sig) => {
        fc.pre(sig !== call.request);
        const c = await initialized(f.socket, v);
        assert.equal(await exchange(c, new Writer().u32(call.id).byteArray(Buffer.from(sig)).finish()), 'closed', `${call.name} signed "${sig}"`);
        c.close();
      },
    ),
    { numRuns: 60 },
  );
  await othersStillWork();
});

test('absurd lengths: a byte array, an attribute count or a mechanism array of 2^31…2^32-2 is CKR_DEVICE_ERROR on a connection that stays; a frame over 16 MiB closes', async () => {
  for (const v of [0, 1, 2]) {
    const { c, s } = await ready(v);
    const absurd = [0x7fffffff, 0x80000000, 0xfffffffe];
    for (const n of absurd) {
      const sign = new Writer().u32(43).byteArray(Buffer.from('uayfy')).u64(s).u8(1).u32(n).u32(64).finish();
      const tpl = new Writer().u32(26).byteArray(Buffer.from('uaA')).u64(s).u32(n).finish();
      const mechs = new Writer().u32(26).byteArray(Buffer.from('uaA')).u64(s).u32(1).u32(CKA.ALLOWED_MECHANISMS).u8(1).u32(8).u32(n).finish();
      const req = new Writer().u32(24).byteArray(Buffer.from('uufA')).u64(s).u64(1).u32(n).finish();
      for (const b of [sign, tpl, mechs, req]) {
        const frame = await c.raw(b);
        assert.ok(frame.length > 0, `v${v} length ${n}: answered`);
        assert.equal(frame.readUInt32BE(12), 0, 'error reply');
        assert.equal(frame.readBigUInt64BE(12 + 9), BigInt(CKR.DEVICE_ERROR));
      }
    }
    assert.ok((await c.call('C_GetSessionInfo', s)).ok, 'the connection is still usable');
    c.close();
    for (const [opts, len] of [
      [0, 16 * 1024 * 1024 + 1],
      [0xffffffff, 0],
      [8, 0xfffffff0],
    ] as const) {
      const h = await RpcClient.open(f.socket, v);
      const head = Buffer.alloc(12);
      head.writeUInt32BE(0x10, 0);
      head.writeUInt32BE(opts, 4);
      head.writeUInt32BE(len, 8);
      h.socket.write(head);
      await new Promise<void>((res) => (h.closed ? res() : h.socket.once('close', () => res())));
      assert.ok(h.closed, `v${v} frame announcing ${opts}+${len} bytes closes`);
    }
  }
  await othersStillWork();
});

test('connections dropped mid-frame and mid-call (key generation and logins in flight) leave the server and the others working', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(0, 1, 2), fc.integer({ min: 1, max: 60 }), fc.nat({ max: 4 }), async (v, keep, inFlight) => {
      // Mid-frame: a header promising more than is sent, then the socket goes.
      const a = await initialized(f.socket, v);
      const frame = Buffer.concat([Buffer.from([0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 64]), Buffer.from(body(v, 'C_GetInfo'))]);
      a.socket.write(frame.subarray(0, Math.min(keep, frame.length - 1)));
      a.close();
      // Mid-call: work queued on the connection when it drops (the server must not write to a dead socket or leak its state).
      const { c, s } = await ready(v);
      const ec = [boolAttr(CKA.TOKEN, false), bytesAttr(CKA.EC_PARAMS, Buffer.from('06082a8648ce3d030107', 'hex'))];
      for (let i = 0; i <= inFlight; i++) {
        void c.raw(body(v, 'C_GenerateKeyPair', s, mech(v, 0x1040), ec, [boolAttr(CKA.TOKEN, false), boolAttr(CKA.SIGN, true)]));
        void c.raw(body(v, 'C_Login', s, CKU.USER, Buffer.from(USER_PIN)));
      }
      c.close();
      await othersStillWork();
    }),
    { numRuns: 25 },
  );
  // C_Initialize as the only thing a half-open connection ever sent, and the version byte alone.
  const lone = await RpcClient.open(f.socket, 2);
  lone.close();
  const half = await RpcClient.open(f.socket, 1);
  half.socket.write(Buffer.concat([Buffer.from('0000001000000000', 'hex'), Buffer.from(body(1, 'C_Initialize', HANDSHAKE, 0, Uint8Array.of(0))).subarray(0, 3)]));
  half.close();
  await othersStillWork();
});

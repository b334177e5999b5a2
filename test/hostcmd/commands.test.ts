// Every supported host command over a real TCP socket, checked against independent computations
// (test/hostcmd/payment-crypto.ts) or the boundary API, and every error code the port maps
// (docs/hostcmd.md): 00 01 04 05 10 11 12 13 15 17 20 23 24 26 27 28 29 68 80 86.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Hsm, SecretBytes } from '../../src/boundary/api.js';
import { type HostCmdServer, startHostCmdServer } from '../../src/frontends/hostcmd/server.js';
import { PASSWORD, TEST_SCRYPT, type TestHsm, testHsm } from '../support/hsm.js';
import { type HostClient, hostClient, keyRef } from './client.js';
import { arpcMethod1, H, iccMasterKeyA, iso0Block, iso0Clear, retailMac, sessionKeyMastercard, tdesEcb } from './payment-crypto.js';

const HDR = '0001';
const ZPK_A = H('0123456789ABCDEFFEDCBA9876543210');
const ZPK_B = H('89ABCDEF0123456776543210FEDCBA98');
const ACCOUNT = '400000123456'; // 12 right-most PAN digits excluding the check digit
const PAN = `${ACCOUNT}0`; // what the API takes for the same account (docs/hostcmd.md)
const up = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

let t: TestHsm;
let server: HostCmdServer;
let c: HostClient;
const k: Record<string, string> = {};

async function stored(value: Buffer, keyUsage: string, keyType: 'des2' | 'des3' | 'aes' = value.length === 24 ? 'des3' : 'des2'): Promise<string> {
  return keyRef(await t.hsm.createObject(t.user, { class: 'secret-key', keyType, value, token: true, keyUsage }));
}

/** Two-key TDES value with distinct halves (a key with equal halves is single DES and refused). */
const tdes2 = (): Buffer => randomBytes(16);

before(async () => {
  t = await testHsm();
  server = await startHostCmdServer({ hsm: t.hsm, host: '127.0.0.1', port: 0, account: { user: 'alice', password: PASSWORD, partition: 'p1' } });
  c = await hostClient(server.port);
  // The port acts as alice; generation commands (CW, and the offsets/PVVs made here for the checks) need her grants.
  t.hsm.paymentGrant(t.officer, { account: 'alice', grant: 'issuer' });
  t.hsm.paymentGrant(t.officer, { account: 'alice', grant: 'card-production' });
  k.zpkA = await stored(ZPK_A, 'P0');
  k.zpkB = await stored(ZPK_B, 'P0');
  k.tpk = await stored(ZPK_A, 'P0');
  k.ibmPvk = await stored(tdes2(), 'V1');
  k.visaPvk = await stored(tdes2(), 'V2');
  k.cvk = await stored(tdes2(), 'C0');
  k.cvk3 = await stored(randomBytes(24), 'C0');
});

after(async () => {
  c.close();
  await server.close();
  await t.close();
});

test('NC: diagnostics answer ND 00 with the fixed check value and the version; the header is echoed', async () => {
  assert.equal(await c.send(`${HDR}NC`), `${HDR}ND000000000000000000COFFER-01`);
  assert.equal(await c.send('WXYZNC'), 'WXYZND000000000000000000COFFER-01');
});

test('A0 generates a stored key and returns its reference and check value; BU gives the same check value', async () => {
  const r = await c.send(`${HDR}A00001U`);
  assert.match(r, /^0001A100R32[0-9a-f]{32}[0-9A-F]{6}$/);
  const ref = r.slice(8, 8 + 35);
  const kcv = r.slice(-6);
  assert.equal(await c.send(`${HDR}BU021${ref}`), `${HDR}BV00${kcv}`);
  // It is a P0 key: CC accepts it as a source ZPK (a wrong-usage key would answer 29).
  const pinBlock = iso0Block(ZPK_A, '1234', ACCOUNT);
  const cc = await c.send(`${HDR}CC${ref}${k.zpkB}12${up(pinBlock)}0101${ACCOUNT}`);
  assert.match(cc, /^0001CD(00|20)/, 'the generated key is usable as a ZPK');
  // Key-block form: key type FFF, scheme S, then '#' usage V2, algorithm T2, mode of use N, version 00, exportability E, no optional blocks.
  const fff = await c.send(`${HDR}A00FFFS#V2T2N00E00`);
  assert.match(fff, /^0001A100R32[0-9a-f]{32}[0-9A-F]{6}$/);
  const aes = await c.send(`${HDR}A00FFFS#M6A3N00N00`);
  assert.match(aes, /^0001A100R32[0-9a-f]{32}[0-9A-F]{6}$/, 'AES-256 with M6 usage');
  assert.equal(await c.send(`${HDR}A00999U`), `${HDR}A104`, 'unknown key type code: 04');
  assert.equal(await c.send(`${HDR}A00001Q`), `${HDR}A126`, 'unknown key scheme: 26');
  assert.equal(await c.send(`${HDR}A00FFFS#V2Z9N00E00`), `${HDR}A128`, 'unknown algorithm: 28');
  assert.equal(await c.send(`${HDR}A00FFFS#Q9T2N00E00`), `${HDR}A115`, 'unknown TR-31 usage: 15');
});

/** A TR-31 block in a response at `at`: 'S' + block, whose length is in header characters 2-5. */
function blockAt(r: string, at: number): string {
  assert.equal(r[at], 'S', 'key block scheme');
  const n = Number(r.slice(at + 2, at + 6));
  return r.slice(at + 1, at + 1 + n);
}

test('A0 mode 1 exports the new key under a ZMK as a TR-31 block; A6 imports it back (same check value); A8 exports; an S-block under the partition KBPK works as a working key', async () => {
  const zmkUid = await t.hsm.createObject(t.officer, { class: 'secret-key', keyType: 'aes', value: randomBytes(32), wrap: true, unwrap: true, trusted: true, keyUsage: 'K0', token: true });
  const zmk = keyRef(zmkUid);
  const r = await c.send(`${HDR}A01001U;0${zmk}S`);
  assert.match(r, /^0001A100R32[0-9a-f]{32}S/);
  const block = blockAt(r, 43);
  assert.match(block, /^D/, 'version D under an AES ZMK');
  const kcv = r.slice(44 + block.length);
  assert.match(kcv, /^[0-9A-F]{6}$/);
  const imported = await c.send(`${HDR}A6FFF${zmk}S${block}S`);
  assert.match(imported, /^0001A700R32[0-9a-f]{32}[0-9A-F]{6}$/);
  assert.equal(imported.slice(-6), kcv, 'the imported key is the generated key');
  const ref = imported.slice(8, 43);
  const exported = await c.send(`${HDR}A8001${zmk}${ref}S`);
  assert.match(exported, /^0001A900S/);
  assert.equal(exported.slice(-6), kcv);
  assert.equal(await c.send(`${HDR}A6FFF${zmk}${ref}S`), `${HDR}A711`, 'an import needs a key block, not a reference');
  assert.equal(await c.send(`${HDR}A8001${zmk}${ref}U`), `${HDR}A926`, 'export only as a key block');
  // A working key held by the switch as a block under the partition's own KBPK ('R09partition').
  await t.hsm.paymentCreatePartitionKbpk(t.officer);
  assert.equal(await c.send(`${HDR}A8001${keyRef('partition')}${k.zpkA}S`), `${HDR}A917`, 'C-10: a key with exportability N never leaves');
  const exportable = keyRef(await t.hsm.createObject(t.user, { class: 'secret-key', keyType: 'des2', value: ZPK_A, token: true, keyUsage: 'P0', exportability: 'E' }));
  const zpkBlock = blockAt(await c.send(`${HDR}A8001${keyRef('partition')}${exportable}S`), 8);
  const pinBlock = up(iso0Block(ZPK_A, '1234', ACCOUNT));
  const viaBlock = await c.send(`${HDR}CC${`S${zpkBlock}`}${k.zpkB}12${pinBlock}0101${ACCOUNT}`);
  const viaRef = await c.send(`${HDR}CC${k.zpkA}${k.zpkB}12${pinBlock}0101${ACCOUNT}`);
  assert.match(viaBlock, /^0001CD00/);
  assert.equal(viaBlock, viaRef, 'the block and the stored key are the same ZPK');
  const badLength = `S${zpkBlock.slice(0, 1)}9999${zpkBlock.slice(5)}`;
  assert.equal(await c.send(`${HDR}CC${badLength}${k.zpkB}12${pinBlock}0101${ACCOUNT}`), `${HDR}CD10`, 'a block longer than the frame is a malformed first key');
  const tampered = `S${zpkBlock.slice(0, -1)}${zpkBlock.endsWith('0') ? '1' : '0'}`;
  assert.equal(await c.send(`${HDR}CC${tampered}${k.zpkB}12${pinBlock}0101${ACCOUNT}`), `${HDR}CD15`, 'a block whose MAC fails: one code (UNWRAP_FAILED)');
});

test('CI translates a DUKPT PIN block (ANSI X9.24-1 test vector, KSN counter 1) to a ZPK', async () => {
  const bdk = await stored(H('0123456789ABCDEFFEDCBA9876543210'), 'B0');
  const account = '401234567890'; // PAN 4012345678909
  const r = await c.send(`${HDR}CI${bdk}${k.zpkB}A05FFFF9876543210E000011B9C1845EB993A7A01${account}`);
  assert.match(r, /^0001CJ0000[0-9A-F]{16}01$/);
  assert.equal(up(tdesEcb(ZPK_B, H(r.slice(10, 26)), true)), up(iso0Clear('1234', account)));
  assert.equal(await c.send(`${HDR}CI${bdk}${k.zpkB}FFFFFFF9876543210E000011B9C1845EB993A7A01${account}`), `${HDR}CJ15`, 'KSN descriptor too long');
  assert.equal(await c.send(`${HDR}CI${k.zpkA}${k.zpkB}A05FFFF9876543210E000011B9C1845EB993A7A01${account}`), `${HDR}CJ29`, 'a ZPK is not a BDK');
});

test('BU: the check value is the first 3 bytes of TDES-ECB of zeros (X9.24-1); bad key length flag 05', async () => {
  const want = up(tdesEcb(ZPK_A, Buffer.alloc(8)).subarray(0, 3));
  assert.equal(await c.send(`${HDR}BU021${k.zpkA}`), `${HDR}BV00${want}`);
  assert.equal(await c.send(`${HDR}BU029${k.zpkA}`), `${HDR}BV05`);
});

test('CC and CA translate a PIN block: ISO 0 → ISO 0 and ISO 0 → ISO 3 under the destination ZPK; a trailer is echoed', async () => {
  const block = iso0Block(ZPK_A, '1234', ACCOUNT);
  const r = await c.send(`${HDR}CC${k.zpkA}${k.zpkB}12${up(block)}0101${ACCOUNT}`);
  assert.match(r, /^0001CD0000[0-9A-F]{16}01$/);
  assert.equal(up(tdesEcb(ZPK_B, H(r.slice(10, 26)), true)), up(iso0Clear('1234', ACCOUNT)));
  const r3 = await c.send(`${HDR}CC${k.zpkA}${k.zpkB}12${up(block)}0147${ACCOUNT}`);
  assert.match(r3, /^0001CD0000[0-9A-F]{16}47$/);
  const clear3 = tdesEcb(ZPK_B, H(r3.slice(10, 26)), true);
  const pinField = Buffer.from(clear3.map((x, i) => x ^ (H(`0000${ACCOUNT}`)[i] ?? 0)));
  assert.equal(up(pinField).slice(0, 6), '341234', 'ISO 3: control 3, length 4, the PIN');
  const ca = await c.send(`${HDR}CA${k.tpk}${k.zpkB}12${up(block)}0101${ACCOUNT}\x19TRAILER`);
  assert.equal(ca, `${HDR}CB0000${r.slice(10, 26)}01\x19TRAILER`, 'CA: same translation, trailer echoed');
});

test('PIN errors: 23 format, 15 PCI rule (ISO 0 → ISO 1), A6 wrong usage, 12 no such key, 10/11 malformed keys, 20 bad block, 24 length field', async () => {
  const block = up(iso0Block(ZPK_A, '1234', ACCOUNT));
  const cc = (src: string, dst: string, body: string): Promise<string> => c.send(`${HDR}CC${src}${dst}${body}`);
  assert.equal(await cc(k.zpkA, k.zpkB, `12${block}0199${ACCOUNT}`), `${HDR}CD23`);
  assert.equal(await cc(k.zpkA, k.zpkB, `12${block}0105${ACCOUNT}`), `${HDR}CD15`, 'C-03: PAN-bound format never becomes ISO 1');
  assert.equal(await cc(k.cvk, k.zpkB, `12${block}0101${ACCOUNT}`), `${HDR}CD29`, 'C-07: a CVK is not a ZPK');
  assert.equal(await cc(keyRef('alias/nothing-here'), k.zpkB, `12${block}0101${ACCOUNT}`), `${HDR}CD12`);
  assert.equal(await cc('U0123456789ABCDEF0123456789ABCDEF', k.zpkB, `12${block}0101${ACCOUNT}`), `${HDR}CD10`, 'an LMK-encrypted key is not a Coffer key reference');
  assert.equal(await cc(k.zpkA, 'R99short', `12${block}0101${ACCOUNT}`), `${HDR}CD11`);
  assert.equal(await cc(k.zpkA, k.zpkB, `12${up(tdesEcb(ZPK_A, H('0412FFFFFFFFFFFF').map((x) => x ^ 0x5a) as Buffer))}0101${ACCOUNT}`), `${HDR}CD20`);
  assert.equal(await cc(k.zpkA, k.zpkB, `03${block}0101${ACCOUNT}`), `${HDR}CD24`);
  assert.equal(await cc(k.zpkA, k.zpkB, `12${block}0101${ACCOUNT.slice(1)}`), `${HDR}CD15`, 'truncated account number');
  assert.equal(await cc(k.zpkA, k.zpkB, `12${block}0101${ACCOUNT}XX`), `${HDR}CD15`, 'data after the last field');
});

test('EA and DA verify a PIN by IBM 3624 offset with a registered decimalisation table (01 on a wrong offset)', async () => {
  const table = '0123456789012345';
  await t.hsm.paymentRegisterDecimalisationTable(t.officer, { name: table, table });
  const block = iso0Block(ZPK_A, '4321', ACCOUNT);
  const zpk = k.zpkA.slice(3);
  const pvk = k.ibmPvk.slice(3);
  const offset = await t.hsm.paymentGenerateIbm3624Offset(t.user, { pin: { key: zpk, format: 'ISO0', pinBlock: block, pan: PAN }, pvk, table });
  const field = (o: string): string => o.padEnd(12, 'F');
  const body = (pinKey: string, o: string, tbl = table): string => `${pinKey}${k.ibmPvk}12${up(block)}0104${ACCOUNT}${tbl.padEnd(16, ' ')}${'N'.repeat(12)}${field(o)}`;
  assert.equal(await c.send(`${HDR}EA${body(k.zpkA, offset)}`), `${HDR}EB00`);
  assert.equal(await c.send(`${HDR}DA${body(k.tpk, offset)}`), `${HDR}DB00`);
  const wrong = offset.replace(/^./, (d) => String((Number(d) + 1) % 10));
  assert.equal(await c.send(`${HDR}EA${body(k.zpkA, wrong)}`), `${HDR}EB01`);
  assert.equal(await c.send(`${HDR}EA${body(k.zpkA, offset, 'unregistered')}`), `${HDR}EB15`, 'C-01: only a registered table');
});

test('EC and DC verify a PIN by Visa PVV; five failures for one PAN lock it (86)', async () => {
  const block = iso0Block(ZPK_A, '5555', ACCOUNT);
  const pvv = await t.hsm.paymentGeneratePvv(t.user, { pin: { key: k.zpkA.slice(3), format: 'ISO0', pinBlock: block, pan: PAN }, pvk: k.visaPvk.slice(3), pvki: 1 });
  assert.equal(await c.send(`${HDR}EC${k.zpkA}${k.visaPvk}${up(block)}01${ACCOUNT}1${pvv}`), `${HDR}ED00`);
  assert.equal(await c.send(`${HDR}DC${k.tpk}${k.visaPvk}${up(block)}01${ACCOUNT}1${pvv}`), `${HDR}DD00`);
  const other = '400000999999';
  const otherBlock = up(iso0Block(ZPK_A, '5555', other));
  for (let i = 0; i < 5; i++) assert.equal(await c.send(`${HDR}EC${k.zpkA}${k.visaPvk}${otherBlock}01${other}10000`), `${HDR}ED01`);
  assert.equal(await c.send(`${HDR}EC${k.zpkA}${k.visaPvk}${otherBlock}01${other}10000`), `${HDR}ED86`, 'C-13: attempt limit per PAN');
});

test('CW generates the CVV the API generates; CY verifies it (01 when wrong); a triple-length CVK answers 27', async () => {
  const pan = '4123456789012345';
  const want = await t.hsm.paymentGenerateCvv(t.user, { key: k.cvk.slice(3), pan, expiry: '2812', serviceCode: '101' });
  assert.equal(await c.send(`${HDR}CW${k.cvk}${pan};2812101`), `${HDR}CX00${want}`);
  assert.equal(await c.send(`${HDR}CY${k.cvk}${want}${pan};2812101`), `${HDR}CZ00`);
  const wrong = String((Number(want) + 1) % 1000).padStart(3, '0');
  assert.equal(await c.send(`${HDR}CY${k.cvk}${wrong}${pan};2812101`), `${HDR}CZ01`);
  assert.equal(await c.send(`${HDR}CW${k.cvk3}${pan};2812101`), `${HDR}CX27`);
  assert.equal(await c.send(`${HDR}CW${k.cvk}${pan}2812101`), `${HDR}CX15`, 'missing delimiter');
  // The port's account's grants apply: a port acting as a user without card-production may verify, not generate.
  await t.hsm.createUser(t.admin, { name: 'bob', password: PASSWORD, role: 'user', partition: 'p1' });
  const bobPort = await startHostCmdServer({ hsm: t.hsm, host: '127.0.0.1', port: 0, account: { user: 'bob', password: PASSWORD, partition: 'p1' } });
  const bob = await hostClient(bobPort.port);
  try {
    assert.equal(await bob.send(`${HDR}CW${k.cvk}${pan};2812101`), `${HDR}CX17`, 'no card-production grant: 17');
    assert.equal(await bob.send(`${HDR}CY${k.cvk}${want}${pan};2812101`), `${HDR}CZ00`);
  } finally {
    bob.close();
    await bobPort.close();
  }
});

test('KQ verifies an M/Chip ARQC and returns the ARPC (method 1) computed independently; 01 on a bad cryptogram; mode 2 and scheme 0 answer 68', async () => {
  const imk = tdes2();
  const mkac = await stored(imk, 'E0');
  const panPsn = H('4000001234567801');
  const atc = H('001C');
  const un = H('1A2B3C4D');
  const data = Buffer.from('0000000010000000000000000826000000000008261901010012345678', 'hex');
  const sk = sessionKeyMastercard(iccMasterKeyA(imk, panPsn.toString('hex')), atc, un);
  const padded = Buffer.concat([data, Buffer.alloc((8 - (data.length % 8)) % 8)]);
  const arqc = retailMac(sk, padded, 1);
  const arc = Buffer.from('3030', 'hex');
  const len = data.length.toString(16).toUpperCase().padStart(2, '0');
  const body = (mode: string, cryptogram: Buffer, scheme = '1'): Buffer =>
    Buffer.concat([Buffer.from(`${HDR}KQ${mode}${scheme}${mkac}`, 'latin1'), panPsn, atc, un, ...(mode === '2' ? [] : [Buffer.from(len, 'latin1'), data, Buffer.from(';')]), cryptogram, ...(mode === '0' ? [] : [arc])]);
  const r1 = Buffer.from(await c.send(body('1', arqc)), 'latin1');
  assert.equal(r1.subarray(0, 8).toString('latin1'), `${HDR}KR00`);
  assert.equal(up(r1.subarray(8)), up(arpcMethod1(sk, arqc, arc)));
  assert.equal(await c.send(body('0', arqc)), `${HDR}KR00`);
  const bad = Buffer.from(arqc);
  bad[7] = (bad[7] ?? 0) ^ 1;
  assert.equal(await c.send(body('1', bad)), `${HDR}KR01`, 'C-12: no ARPC for a cryptogram that does not verify');
  assert.equal(await c.send(body('2', arqc)), `${HDR}KR68`);
  assert.equal(await c.send(body('0', arqc, '0')), `${HDR}KR68`);
});

test('M6 generates an ISO 9797-1 alg 3 MAC equal to an independent one (binary, hex, text input); M8 verifies it; 80, 04 and 29 refusals', async () => {
  const key = tdes2();
  const mac3 = await stored(key, 'M3');
  const mac1 = await stored(tdes2(), 'M1');
  const msg = Buffer.from('0200 4000001234567890 000000010000 TEST MESSAGE');
  const want = up(retailMac(key, msg, 2));
  const len = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');
  // mode 0, input format (0 binary, 1 hex, 2 text), algorithm 03, padding method, key type 008 (ZAK)
  const m = (cmd: string, format: string, padding: string, key: string, keyType = '008'): string => `${HDR}${cmd}0${format}03${padding}${keyType}${key}`;
  assert.equal(await c.send(Buffer.concat([Buffer.from(`${m('M6', '0', '2', mac3)}${len(msg.length)}`, 'latin1'), msg])), `${HDR}M700${want}`, 'binary input');
  assert.equal(await c.send(`${m('M6', '1', '2', mac3)}${len(msg.length)}${up(msg)}`), `${HDR}M700${want}`, 'hex input');
  assert.equal(await c.send(`${m('M6', '2', '2', mac3)}${len(msg.length)}${msg.toString('latin1')}`), `${HDR}M700${want}`, 'text input');
  const pad1 = up(retailMac(key, msg, 1));
  assert.equal(await c.send(`${m('M6', '1', '1', mac3)}${len(msg.length)}${up(msg)}`), `${HDR}M700${pad1}`, 'padding method 1');
  assert.equal(await c.send(`${m('M8', '1', '2', mac3)}${len(msg.length)}${up(msg)}${want}`), `${HDR}M900`);
  const flipped = `${want.slice(0, -1)}${want.endsWith('0') ? '1' : '0'}`;
  assert.equal(await c.send(`${m('M8', '1', '2', mac3)}${len(msg.length)}${up(msg)}${flipped}`), `${HDR}M901`);
  assert.equal(await c.send(`${m('M6', '1', '0', mac3)}${len(5)}${up(msg.subarray(0, 5))}`), `${HDR}M780`, 'padding 0 needs whole blocks');
  assert.equal(await c.send(`${m('M6', '1', '2', mac3)}0000`), `${HDR}M780`, 'empty message');
  assert.equal(await c.send(`${m('M6', '1', '2', mac3, '001')}${len(msg.length)}${up(msg)}`), `${HDR}M704`, 'key type must be TAK or ZAK');
  assert.equal(await c.send(`${m('M6', '1', '2', mac1)}${len(msg.length)}${up(msg)}`), `${HDR}M729`, 'an M1 key does not do algorithm 3');
});

test('unknown and unsupported commands answer 68 with the advanced response code', async () => {
  assert.equal(await c.send(`${HDR}ZY`), `${HDR}ZZ68`);
  assert.equal(await c.send(`${HDR}A6`), `${HDR}A715`, 'import with no fields: input data error');
  assert.equal(await c.send(`${HDR}G0`), `${HDR}G168`);
  assert.equal(await c.send(`${HDR}a0`), `${HDR}ZZ68`, 'not a command code at all');
  assert.equal(await c.send('00'), '00ZZ15', 'shorter than header + command code');
});

test('a port whose account is not a partition user answers 17; it refuses at start when the module is unsealed', async () => {
  const master = randomBytes(32);
  const hsm = await Hsm.open({ store: { kind: 'memory' }, scrypt: TEST_SCRYPT });
  await hsm.initialize(SecretBytes.from(master), { name: 'admin', password: PASSWORD });
  const admin = (await hsm.login({ user: 'admin', password: PASSWORD })).session;
  hsm.createPartition(admin, { name: 'p1' });
  await hsm.createUser(admin, { name: 'officer', password: PASSWORD, role: 'officer', partition: 'p1' });
  await assert.rejects(startHostCmdServer({ hsm, host: '127.0.0.1', port: 0, account: { user: 'officer', password: PASSWORD } }), /not a user of partition/);
  hsm.seal();
  const port = await startHostCmdServer({ hsm, host: '127.0.0.1', port: 0, account: { user: 'officer', password: PASSWORD } });
  const client = await hostClient(port.port);
  try {
    assert.equal(await client.send(`${HDR}NC`), `${HDR}ND13`, 'sealed: 13');
    assert.equal(await client.send(`${HDR}BU021${k.zpkA}`), `${HDR}BV13`, 'sealed: 13');
    hsm.unseal(SecretBytes.from(master));
    assert.equal(await client.send(`${HDR}BU021${k.zpkA}`), `${HDR}BV17`, 'unsealed, but the account is an officer: 17');
  } finally {
    client.close();
    await port.close();
    hsm.close();
  }
});

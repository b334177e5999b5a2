// /v1/payments/…: the payment functions of issue 7 over REST. Each route maps a JSON body onto one
// boundary `payment…` call; binary fields are hex, as payment systems write them (PIN blocks, MACs,
// cryptograms). Nothing here decides policy: key usages, roles and attempt limits are the boundary's.

import { HsmError } from '../../../boundary/api.js';
import type { JsonSchema, RouteDef } from '../route.js';

/** A key reference: a key id or alias in the caller's partition, or a TR-31 block under the partition's KBPK. */
const KEY_REF: JsonSchema = {
  oneOf: [
    { type: 'string', minLength: 1, maxLength: 256, description: 'key id or alias' },
    {
      type: 'object',
      required: ['keyBlock'],
      additionalProperties: false,
      properties: { keyBlock: { type: 'string', pattern: '^[ -~]{16,16384}$', description: "a TR-31 key block under the partition's own KBPK" } },
    },
  ],
};
type KeyRefJson = string | { keyBlock: string };
/** A KBPK: a K0/K1 key reference, or "partition" for the partition's own. */
const KBPK_REF: JsonSchema = { type: 'string', minLength: 1, maxLength: 256, description: 'a K0/K1 key id or alias, or "partition" for the partition\'s own KBPK' };
const KSN: JsonSchema = { type: 'string', pattern: '^([0-9A-Fa-f]{20}|[0-9A-Fa-f]{24})$', description: 'key serial number: 10 bytes (TDES DUKPT) or 12 bytes (AES DUKPT), hex' };
const DUKPT: Record<string, JsonSchema> = {
  bdk: KEY_REF,
  ksn: KSN,
  workingKeyType: { type: 'string', enum: ['des2', 'des3', 'aes128', 'aes192', 'aes256'], description: 'AES DUKPT working key (default aes128)' },
};
const PAN: JsonSchema = { type: 'string', pattern: '^[0-9]{12,19}$', description: 'primary account number' };
const PIN_FORMAT: JsonSchema = { type: 'string', enum: ['ISO0', 'ISO1', 'ISO3', 'ISO4'] };
const DIGITS = (min: number, max: number, description: string): JsonSchema => ({ type: 'string', pattern: `^[0-9]{${min},${max}}$`, description });
const VALID: JsonSchema = { type: 'object', properties: { valid: { type: 'boolean' } } };

/** Hex of `min`–`max` bytes (an even number of digits, either case). */
function hex(min: number, max: number, description: string): JsonSchema {
  return { type: 'string', pattern: '^([0-9A-Fa-f]{2})*$', minLength: min * 2, maxLength: max * 2, description };
}

/** Strict hex decoding; the schema has already checked the alphabet, this guards direct callers too. */
function unhex(s: string, field: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9A-Fa-f]*$/.test(s)) throw new HsmError('ARGUMENTS_BAD', `${field} is not hex`);
  return Buffer.from(s, 'hex');
}

const upperHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

const PIN_IN: JsonSchema = {
  type: 'object',
  required: ['key', 'format', 'pinBlock'],
  additionalProperties: false,
  properties: { key: KEY_REF, format: PIN_FORMAT, pinBlock: hex(8, 16, 'the encrypted PIN block'), pan: PAN },
};

interface PinInJson {
  key: KeyRefJson;
  format: string;
  pinBlock: string;
  pan?: string;
}

function pinIn(p: PinInJson): { key: KeyRefJson; format: string; pinBlock: Uint8Array; pan?: string } {
  const out: { key: KeyRefJson; format: string; pinBlock: Uint8Array; pan?: string } = { key: p.key, format: p.format, pinBlock: unhex(p.pinBlock, 'pinBlock') };
  if (p.pan !== undefined) out.pan = p.pan;
  return out;
}

function body(required: string[], properties: Record<string, JsonSchema>): JsonSchema {
  return { type: 'object', required, additionalProperties: false, properties };
}

function post(url: string, summary: string, schema: { body: JsonSchema; response: JsonSchema }, handler: RouteDef['handler']): RouteDef {
  return { method: 'POST', url, summary, tags: ['payments'], auth: 'session', schema: { body: schema.body, response: { 200: schema.response } }, handler };
}

const MAC_BODY = {
  key: KEY_REF,
  algorithm: { enum: [1, 3, 'cmac'], description: 'ISO/IEC 9797-1 MAC algorithm 1 (M0/M1 keys) or 3 (M3), or cmac (TDES-/AES-CMAC, M6 keys)' },
  padding: { type: 'integer', enum: [1, 2, 3], description: 'ISO/IEC 9797-1 padding method (algorithms 1 and 3)' },
  data: hex(0, 65_536, 'the message'),
};
type MacAlgorithm = 1 | 3 | 'cmac';
const CVV_KIND: JsonSchema = { type: 'string', enum: ['cvv', 'cvv2', 'icvv', 'cvc', 'cvc2', 'icvc'], description: 'cvv2/cvc2 use service code 000, icvv/icvc 999' };

export const PAYMENT_ROUTES: RouteDef[] = [
  post(
    '/v1/payments/kcv',
    'Key check value of a payment key (TDES: ECB of zeros; AES: CMAC of zeros), 2-5 bytes',
    { body: body(['key'], { key: KEY_REF, length: { type: 'integer', minimum: 2, maximum: 5 } }), response: { type: 'object', properties: { kcv: { type: 'string' } } } },
    async ({ hsm, session }, req) => {
      const b = req.body as { key: KeyRefJson; length?: number };
      const input: { key: KeyRefJson; length?: number } = { key: b.key };
      if (b.length !== undefined) input.length = b.length;
      return { kcv: upperHex(await hsm.paymentKeyCheckValue(session, input)) };
    },
  ),
  post(
    '/v1/payments/decimalisation-tables',
    'Officer: register a named decimalisation table for IBM 3624 (callers never pass one inline: attacks.md C-01)',
    { body: body(['name', 'table'], { name: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' }, table: DIGITS(16, 16, '16 decimal digits') }), response: { type: 'object', properties: { name: { type: 'string' } } } },
    async ({ hsm, session }, req) => {
      const b = req.body as { name: string; table: string };
      await hsm.paymentRegisterDecimalisationTable(session, b);
      return { name: b.name };
    },
  ),
  post(
    '/v1/payments/pin/translate',
    'Translate an encrypted PIN block from one PIN key (and format) to another, under the PCI format rules',
    {
      body: body(['in', 'outKey', 'outFormat'], { in: PIN_IN, outKey: KEY_REF, outFormat: PIN_FORMAT, outPan: PAN }),
      response: { type: 'object', properties: { pinBlock: { type: 'string' } } },
    },
    async ({ hsm, session }, req) => {
      const b = req.body as { in: PinInJson; outKey: KeyRefJson; outFormat: string; outPan?: string };
      const input: { in: ReturnType<typeof pinIn>; outKey: KeyRefJson; outFormat: string; outPan?: string } = { in: pinIn(b.in), outKey: b.outKey, outFormat: b.outFormat };
      if (b.outPan !== undefined) input.outPan = b.outPan;
      return { pinBlock: upperHex(await hsm.paymentTranslatePin(session, input)) };
    },
  ),
  post(
    '/v1/payments/pin/ibm3624/offset',
    'Issuer (needs the issuer grant): generate the IBM 3624 offset of an encrypted PIN',
    { body: body(['pin', 'pvk', 'table'], { pin: PIN_IN, pvk: KEY_REF, table: { type: 'string', minLength: 1, maxLength: 64 } }), response: { type: 'object', properties: { offset: { type: 'string' } } } },
    async ({ hsm, session }, req) => {
      const b = req.body as { pin: PinInJson; pvk: KeyRefJson; table: string };
      return { offset: await hsm.paymentGenerateIbm3624Offset(session, { pin: pinIn(b.pin), pvk: b.pvk, table: b.table }) };
    },
  ),
  post(
    '/v1/payments/pin/ibm3624/verify',
    'Verify an encrypted PIN against an IBM 3624 offset (attempts per PAN are limited)',
    {
      body: body(['pin', 'pvk', 'table', 'offset'], { pin: PIN_IN, pvk: KEY_REF, table: { type: 'string', minLength: 1, maxLength: 64 }, offset: DIGITS(4, 12, 'the offset') }),
      response: VALID,
    },
    async ({ hsm, session }, req) => {
      const b = req.body as { pin: PinInJson; pvk: KeyRefJson; table: string; offset: string };
      return { valid: await hsm.paymentVerifyPinIbm3624(session, { pin: pinIn(b.pin), pvk: b.pvk, table: b.table, offset: b.offset }) };
    },
  ),
  post(
    '/v1/payments/pin/pvv',
    'Issuer (needs the issuer grant): generate the Visa PVV of an encrypted PIN',
    { body: body(['pin', 'pvk', 'pvki'], { pin: PIN_IN, pvk: KEY_REF, pvki: { type: 'integer', minimum: 0, maximum: 9 } }), response: { type: 'object', properties: { pvv: { type: 'string' } } } },
    async ({ hsm, session }, req) => {
      const b = req.body as { pin: PinInJson; pvk: KeyRefJson; pvki: number };
      return { pvv: await hsm.paymentGeneratePvv(session, { pin: pinIn(b.pin), pvk: b.pvk, pvki: b.pvki }) };
    },
  ),
  post(
    '/v1/payments/pin/pvv/verify',
    'Verify an encrypted PIN against a Visa PVV (attempts per PAN are limited)',
    { body: body(['pin', 'pvk', 'pvki', 'pvv'], { pin: PIN_IN, pvk: KEY_REF, pvki: { type: 'integer', minimum: 0, maximum: 9 }, pvv: DIGITS(4, 4, 'the PVV') }), response: VALID },
    async ({ hsm, session }, req) => {
      const b = req.body as { pin: PinInJson; pvk: KeyRefJson; pvki: number; pvv: string };
      return { valid: await hsm.paymentVerifyPvv(session, { pin: pinIn(b.pin), pvk: b.pvk, pvki: b.pvki, pvv: b.pvv }) };
    },
  ),
  post(
    '/v1/payments/cvv',
    'Card production (needs the card-production grant): generate a Visa CVV/CVV2/iCVV or Mastercard CVC/CVC2/iCVC',
    { body: body(['key', 'pan', 'expiry'], { key: KEY_REF, pan: PAN, expiry: DIGITS(4, 4, 'YYMM'), serviceCode: DIGITS(3, 3, 'service code'), kind: CVV_KIND }), response: { type: 'object', properties: { cvv: { type: 'string' } } } },
    async ({ hsm, session }, req) => {
      const b = req.body as Parameters<typeof hsm.paymentGenerateCvv>[1];
      return { cvv: await hsm.paymentGenerateCvv(session, b) };
    },
  ),
  post(
    '/v1/payments/cvv/verify',
    'Verify a Visa CVV/CVV2/iCVV or Mastercard CVC/CVC2/iCVC (attempts per PAN are limited)',
    {
      body: body(['key', 'pan', 'expiry', 'cvv'], { key: KEY_REF, pan: PAN, expiry: DIGITS(4, 4, 'YYMM'), serviceCode: DIGITS(3, 3, 'service code'), kind: CVV_KIND, cvv: DIGITS(3, 3, 'the CVV') }),
      response: VALID,
    },
    async ({ hsm, session }, req) => {
      const b = req.body as Parameters<typeof hsm.paymentVerifyCvv>[1];
      return { valid: await hsm.paymentVerifyCvv(session, b) };
    },
  ),
  post(
    '/v1/payments/cvc3/verify',
    'Verify a Mastercard dynamic CVC3',
    {
      body: body(['key', 'pan', 'psn', 'trackData', 'un', 'atc', 'cvc3'], {
        key: KEY_REF,
        pan: PAN,
        psn: DIGITS(2, 2, 'PAN sequence number'),
        trackData: hex(1, 256, 'the track data the card MACs'),
        un: { type: 'string', pattern: '^[0-9A-Fa-f]{8}$', description: 'unpredictable number' },
        atc: { type: 'string', pattern: '^[0-9A-Fa-f]{4}$', description: 'application transaction counter' },
        cvc3: DIGITS(3, 5, 'the CVC3'),
      }),
      response: VALID,
    },
    async ({ hsm, session }, req) => {
      const b = req.body as { key: KeyRefJson; pan: string; psn: string; trackData: string; un: string; atc: string; cvc3: string };
      return { valid: await hsm.paymentVerifyCvc3(session, { ...b, trackData: unhex(b.trackData, 'trackData') }) };
    },
  ),
  post(
    '/v1/payments/emv/arqc/verify',
    'Verify an EMV ARQC/TC/AAC and, when asked, produce the ARPC (method 1 or 2)',
    {
      body: body(['key', 'pan', 'psn', 'sessionKey', 'data', 'arqc'], {
        key: KEY_REF,
        pan: PAN,
        psn: DIGITS(2, 2, 'PAN sequence number'),
        derivation: { type: 'string', enum: ['A', 'B'] },
        sessionKey: {
          oneOf: [
            { type: 'object', required: ['method', 'r'], additionalProperties: false, properties: { method: { const: 'common' }, r: { type: 'string', pattern: '^[0-9A-Fa-f]{16}$' } } },
            { type: 'object', required: ['method', 'atc', 'un'], additionalProperties: false, properties: { method: { const: 'mastercard' }, atc: { type: 'string', pattern: '^[0-9A-Fa-f]{4}$' }, un: { type: 'string', pattern: '^[0-9A-Fa-f]{8}$' } } },
          ],
        },
        data: hex(1, 1024, 'the transaction data the card MACed'),
        padding: { type: 'string', enum: ['emv', 'visa'], description: 'emv: ISO 9797-1 padding 2; visa: padding 1 (CVN 10)' },
        arqc: hex(8, 8, 'the cryptogram'),
        arpc: {
          oneOf: [
            { type: 'object', required: ['method', 'arc'], additionalProperties: false, properties: { method: { const: 1 }, arc: { type: 'string', pattern: '^[0-9A-Fa-f]{4}$' }, key: { type: 'string', enum: ['session', 'icc'] } } },
            { type: 'object', required: ['method', 'csu'], additionalProperties: false, properties: { method: { const: 2 }, csu: { type: 'string', pattern: '^[0-9A-Fa-f]{8}$' }, proprietary: hex(0, 8, 'proprietary authentication data') } },
          ],
        },
      }),
      response: { type: 'object', properties: { valid: { type: 'boolean' }, arpc: { type: 'string' } } },
    },
    async ({ hsm, session }, req) => {
      const b = req.body as Parameters<typeof hsm.paymentVerifyArqc>[1] & { data: string; arqc: string; arpc?: { method: 1; arc: string; key?: 'session' | 'icc' } | { method: 2; csu: string; proprietary?: string } };
      const input: Parameters<typeof hsm.paymentVerifyArqc>[1] = { ...b, data: unhex(b.data, 'data'), arqc: unhex(b.arqc, 'arqc') };
      if (b.arpc?.method === 2) {
        const a2: { method: 2; csu: string; proprietary?: Uint8Array } = { method: 2, csu: b.arpc.csu };
        if (b.arpc.proprietary !== undefined) a2.proprietary = unhex(b.arpc.proprietary, 'arpc.proprietary');
        input.arpc = a2;
      }
      const res = await hsm.paymentVerifyArqc(session, input);
      return res.arpc ? { valid: res.valid, arpc: upperHex(res.arpc) } : { valid: res.valid };
    },
  ),
  post(
    '/v1/payments/mac',
    'Generate a payment MAC: ISO/IEC 9797-1 algorithm 1 (M0/M1 keys) or 3 (M3), or TDES-/AES-CMAC (M6)',
    { body: body(['key', 'algorithm', 'data'], { ...MAC_BODY, length: { type: 'integer', minimum: 4, maximum: 16 } }), response: { type: 'object', properties: { mac: { type: 'string' } } } },
    async ({ hsm, session }, req) => {
      const b = req.body as { key: KeyRefJson; algorithm: MacAlgorithm; padding?: 1 | 2 | 3; data: string; length?: number };
      const input: Parameters<typeof hsm.paymentGenerateMac>[1] = { key: b.key, algorithm: b.algorithm, data: unhex(b.data, 'data') };
      if (b.padding !== undefined) input.padding = b.padding;
      if (b.length !== undefined) input.length = b.length;
      return { mac: upperHex(await hsm.paymentGenerateMac(session, input)) };
    },
  ),
  post(
    '/v1/payments/mac/verify',
    'Verify a payment MAC (ISO/IEC 9797-1 algorithm 1 or 3, or CMAC)',
    { body: body(['key', 'algorithm', 'data', 'mac'], { ...MAC_BODY, mac: hex(4, 16, 'the MAC') }), response: VALID },
    async ({ hsm, session }, req) => {
      const b = req.body as { key: KeyRefJson; algorithm: MacAlgorithm; padding?: 1 | 2 | 3; data: string; mac: string };
      const input: Parameters<typeof hsm.paymentVerifyMac>[1] = { key: b.key, algorithm: b.algorithm, data: unhex(b.data, 'data'), mac: unhex(b.mac, 'mac') };
      if (b.padding !== undefined) input.padding = b.padding;
      return { valid: await hsm.paymentVerifyMac(session, input) };
    },
  ),
  post(
    '/v1/payments/partition-kbpk',
    "Officer: create the partition's own key-block protection key (AES K0), under which switches keep keys as TR-31 blocks",
    { body: body([], {}), response: { type: 'object', properties: { key: { type: 'string' } } } },
    async ({ hsm, session }) => ({ key: await hsm.paymentCreatePartitionKbpk(session) }),
  ),
  post(
    '/v1/payments/policy',
    'Officer: the partition payment policy (tr31LegacyImport: accept TR-31 versions A and C on import)',
    { body: body(['tr31LegacyImport'], { tr31LegacyImport: { type: 'boolean' } }), response: { type: 'object', properties: { tr31LegacyImport: { type: 'boolean' } } } },
    async ({ hsm, session }, req) => {
      const b = req.body as { tr31LegacyImport: boolean };
      await hsm.paymentSetPartitionPolicy(session, b);
      return b;
    },
  ),
  post(
    '/v1/payments/keys/export',
    'Export a payment key as a TR-31 / X9.143 key block (version B or D) under a K0/K1 KBPK; its usage, mode and exportability are bound by the MAC',
    {
      body: body(['key', 'kbpk', 'version'], {
        key: KEY_REF,
        kbpk: KBPK_REF,
        version: { type: 'string', enum: ['B', 'D'] },
        exportability: { type: 'string', enum: ['E', 'N', 'S'], description: "narrower than the key's own; never wider" },
        optionalBlocks: {
          type: 'array',
          maxItems: 16,
          items: { type: 'object', required: ['id', 'data'], additionalProperties: false, properties: { id: { type: 'string', pattern: '^[0-9A-Z]{2}$' }, data: { type: 'string', pattern: '^[ -~]{0,1000}$' } } },
        },
      }),
      response: { type: 'object', properties: { keyBlock: { type: 'string' } } },
    },
    async ({ hsm, session }, req) => ({ keyBlock: await hsm.paymentExportKeyBlock(session, req.body as Parameters<typeof hsm.paymentExportKeyBlock>[1]) }),
  ),
  post(
    '/v1/payments/keys/import',
    'Import a TR-31 / X9.143 key block under a K0/K1 KBPK; every header field becomes a fixed attribute of the new key',
    {
      body: body(['kbpk', 'keyBlock'], { kbpk: KBPK_REF, keyBlock: { type: 'string', pattern: '^[ -~]{16,16384}$' }, label: { type: 'string', minLength: 1, maxLength: 128 } }),
      response: { type: 'object', properties: { key: { type: 'string' } } },
    },
    async ({ hsm, session }, req) => ({ key: await hsm.paymentImportKeyBlock(session, req.body as Parameters<typeof hsm.paymentImportKeyBlock>[1]) }),
  ),
  post(
    '/v1/payments/components',
    'Officer: open the forming of a key from 2 or 3 clear components, each entered by a different custodian (attacks.md C-08)',
    {
      body: body(['keyType', 'usage', 'components', 'label'], {
        keyType: { type: 'string', enum: ['des2', 'des3', 'aes'] },
        usage: { type: 'string', pattern: '^[A-Z0-9]{2}$', description: 'TR-31 key usage' },
        components: { type: 'integer', enum: [2, 3] },
        label: { type: 'string', minLength: 1, maxLength: 128 },
        modeOfUse: { type: 'string', pattern: '^[A-Z0-9]$' },
        exportability: { type: 'string', enum: ['E', 'N', 'S'] },
        parity: { type: 'string', enum: ['odd', 'any'] },
      }),
      response: { type: 'object', properties: { forming: { type: 'string' }, expiresAt: { type: 'string' } } },
    },
    async ({ hsm, session }, req) => hsm.paymentBeginComponents(session, req.body as Parameters<typeof hsm.paymentBeginComponents>[1]),
  ),
  post(
    '/v1/payments/components/:forming',
    "A custodian enters one clear component (hex); the answer is that component's check value, and with the last one the formed key's id and check value (the key is usable once an officer confirms it)",
    {
      body: body(['component'], { component: hex(16, 32, 'the clear component') }),
      response: {
        type: 'object',
        properties: { kcv: { type: 'string' }, entered: { type: 'integer' }, remaining: { type: 'integer' }, key: { type: 'string' }, keyKcv: { type: 'string' } },
      },
    },
    async ({ hsm, session }, req) => {
      const forming = (req.params as { forming: string }).forming;
      const component = unhex((req.body as { component: string }).component, 'component');
      try {
        const r = await hsm.paymentEnterComponent(session, { forming, component });
        const out: Record<string, unknown> = { kcv: upperHex(r.kcv), entered: r.entered, remaining: r.remaining };
        if (r.key !== undefined) out.key = r.key;
        if (r.keyKcv !== undefined) out.keyKcv = upperHex(r.keyKcv);
        return out;
      } finally {
        component.fill(0);
      }
    },
  ),
  post(
    '/v1/payments/components/:forming/confirm',
    "Officer who entered no component: state the formed key's check value (6 hex digits) read on the custodians' forms; equal, the key is stored and usable (attacks.md C-08)",
    {
      body: body(['kcv'], { kcv: { type: 'string', pattern: '^[0-9A-Fa-f]{6}$', description: 'the formed key check value' } }),
      response: { type: 'object', properties: { key: { type: 'string' }, kcv: { type: 'string' } } },
    },
    async ({ hsm, session }, req) => {
      const forming = (req.params as { forming: string }).forming;
      const r = await hsm.paymentConfirmComponents(session, { forming, kcv: (req.body as { kcv: string }).kcv });
      return { key: r.key, kcv: upperHex(r.kcv) };
    },
  ),
  post(
    '/v1/payments/dukpt/pin/translate',
    'Translate a PIN block encrypted by a DUKPT terminal (BDK B0 + KSN) to a zone PIN key, under the PCI format rules; a replayed or older KSN counter is refused',
    {
      body: body(['bdk', 'ksn', 'format', 'pinBlock', 'outKey', 'outFormat'], {
        ...DUKPT,
        format: PIN_FORMAT,
        pinBlock: hex(8, 16, 'the encrypted PIN block'),
        pan: PAN,
        outKey: KEY_REF,
        outFormat: PIN_FORMAT,
        outPan: PAN,
      }),
      response: { type: 'object', properties: { pinBlock: { type: 'string' } } },
    },
    async ({ hsm, session }, req) => {
      const b = req.body as Parameters<typeof hsm.paymentTranslatePinFromDukpt>[1] & { pinBlock: string };
      return { pinBlock: upperHex(await hsm.paymentTranslatePinFromDukpt(session, { ...b, pinBlock: unhex(b.pinBlock, 'pinBlock') })) };
    },
  ),
  post(
    '/v1/payments/dukpt/mac/verify',
    "Verify a DUKPT terminal's request MAC (ANSI X9.19 or CMAC)",
    { body: body(['bdk', 'ksn', 'data', 'mac'], { ...DUKPT, data: hex(0, 65_536, 'the message'), mac: hex(4, 16, 'the MAC'), algorithm: { type: 'string', enum: ['x9.19', 'cmac'] } }), response: VALID },
    async ({ hsm, session }, req) => {
      const b = req.body as Parameters<typeof hsm.paymentVerifyDukptMac>[1] & { data: string; mac: string };
      return { valid: await hsm.paymentVerifyDukptMac(session, { ...b, data: unhex(b.data, 'data'), mac: unhex(b.mac, 'mac') }) };
    },
  ),
  post(
    '/v1/payments/dukpt/mac',
    'Generate the response MAC for a DUKPT terminal (ANSI X9.19 or CMAC)',
    {
      body: body(['bdk', 'ksn', 'data'], { ...DUKPT, data: hex(0, 65_536, 'the message'), algorithm: { type: 'string', enum: ['x9.19', 'cmac'] }, length: { type: 'integer', minimum: 4, maximum: 16 } }),
      response: { type: 'object', properties: { mac: { type: 'string' } } },
    },
    async ({ hsm, session }, req) => {
      const b = req.body as Parameters<typeof hsm.paymentGenerateDukptMac>[1] & { data: string };
      return { mac: upperHex(await hsm.paymentGenerateDukptMac(session, { ...b, data: unhex(b.data, 'data') })) };
    },
  ),
  post(
    '/v1/payments/dukpt/decrypt',
    "Decrypt data a DUKPT terminal encrypted under its transaction's data key",
    { body: body(['bdk', 'ksn', 'data'], { ...DUKPT, data: hex(8, 65_536, 'the ciphertext'), iv: hex(8, 16, 'the IV (default zeros)') }), response: { type: 'object', properties: { data: { type: 'string' } } } },
    async ({ hsm, session }, req) => {
      const b = req.body as Parameters<typeof hsm.paymentDecryptDukptData>[1] & { data: string; iv?: string };
      const input: Parameters<typeof hsm.paymentDecryptDukptData>[1] = { ...b, data: unhex(b.data, 'data') };
      if (b.iv !== undefined) input.iv = unhex(b.iv, 'iv');
      else delete input.iv;
      return { data: upperHex(await hsm.paymentDecryptDukptData(session, input)) };
    },
  ),
  post(
    '/v1/payments/grants',
    'Officer or admin: give (or, with revoke, take back) the issuer or card-production grant of a partition user',
    {
      body: body(['account', 'grant'], { account: { type: 'string', minLength: 1, maxLength: 64 }, grant: { type: 'string', enum: ['issuer', 'card-production'] }, revoke: { type: 'boolean' } }),
      response: { type: 'object', properties: { account: { type: 'string' }, grant: { type: 'string' }, revoked: { type: 'boolean' } } },
    },
    async ({ hsm, session }, req) => {
      const b = req.body as Parameters<typeof hsm.paymentGrant>[1];
      await hsm.paymentGrant(session, b);
      return { account: b.account, grant: b.grant, revoked: b.revoke === true };
    },
  ),
  post(
    '/v1/payments/attempts/reset',
    "Officer: reset a PAN's PIN or card-verification failure counter",
    { body: body(['pan'], { pan: PAN, kind: { type: 'string', enum: ['pin', 'cvv'] } }), response: { type: 'object', properties: { reset: { type: 'boolean' } } } },
    async ({ hsm, session }, req) => {
      await hsm.paymentResetAttempts(session, req.body as Parameters<typeof hsm.paymentResetAttempts>[1]);
      return { reset: true };
    },
  ),
  post(
    '/v1/payments/attempts/limit',
    'Officer: the failed verifications allowed per PAN before further attempts are refused (1-20, default 5)',
    { body: body(['limit'], { limit: { type: 'integer', minimum: 1, maximum: 20 } }), response: { type: 'object', properties: { limit: { type: 'integer' } } } },
    async ({ hsm, session }, req) => {
      const b = req.body as { limit: number };
      await hsm.paymentSetAttemptLimit(session, b);
      return b;
    },
  ),
];

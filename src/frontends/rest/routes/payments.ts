// /v1/payments/…: the payment functions of issue 7 over REST. Each route maps a JSON body onto one
// boundary `payment…` call; binary fields are hex, as payment systems write them (PIN blocks, MACs,
// cryptograms). Nothing here decides policy: key usages, roles and attempt limits are the boundary's.

import { HsmError } from '../../../boundary/api.js';
import type { JsonSchema, RouteDef } from '../route.js';

/** A key reference: a key id or alias in the caller's partition. */
const KEY_REF: JsonSchema = { type: 'string', minLength: 1, maxLength: 256, description: 'key id or alias' };
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
  key: string;
  format: string;
  pinBlock: string;
  pan?: string;
}

function pinIn(p: PinInJson): { key: string; format: string; pinBlock: Uint8Array; pan?: string } {
  const out: { key: string; format: string; pinBlock: Uint8Array; pan?: string } = { key: p.key, format: p.format, pinBlock: unhex(p.pinBlock, 'pinBlock') };
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
  algorithm: { type: 'integer', enum: [1, 3], description: 'ISO/IEC 9797-1 MAC algorithm' },
  padding: { type: 'integer', enum: [1, 2, 3], description: 'ISO/IEC 9797-1 padding method' },
  data: hex(0, 65_536, 'the message'),
};

export const PAYMENT_ROUTES: RouteDef[] = [
  post(
    '/v1/payments/kcv',
    'Key check value of a payment key (TDES: ECB of zeros; AES: CMAC of zeros), 2-5 bytes',
    { body: body(['key'], { key: KEY_REF, length: { type: 'integer', minimum: 2, maximum: 5 } }), response: { type: 'object', properties: { kcv: { type: 'string' } } } },
    async ({ hsm, session }, req) => {
      const b = req.body as { key: string; length?: number };
      const input: { key: string; length?: number } = { key: b.key };
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
      const b = req.body as { in: PinInJson; outKey: string; outFormat: string; outPan?: string };
      const input: { in: ReturnType<typeof pinIn>; outKey: string; outFormat: string; outPan?: string } = { in: pinIn(b.in), outKey: b.outKey, outFormat: b.outFormat };
      if (b.outPan !== undefined) input.outPan = b.outPan;
      return { pinBlock: upperHex(await hsm.paymentTranslatePin(session, input)) };
    },
  ),
  post(
    '/v1/payments/pin/ibm3624/offset',
    'Issuer: generate the IBM 3624 offset of an encrypted PIN',
    { body: body(['pin', 'pvk', 'table'], { pin: PIN_IN, pvk: KEY_REF, table: { type: 'string', minLength: 1, maxLength: 64 } }), response: { type: 'object', properties: { offset: { type: 'string' } } } },
    async ({ hsm, session }, req) => {
      const b = req.body as { pin: PinInJson; pvk: string; table: string };
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
      const b = req.body as { pin: PinInJson; pvk: string; table: string; offset: string };
      return { valid: await hsm.paymentVerifyPinIbm3624(session, { pin: pinIn(b.pin), pvk: b.pvk, table: b.table, offset: b.offset }) };
    },
  ),
  post(
    '/v1/payments/pin/pvv',
    'Issuer: generate the Visa PVV of an encrypted PIN',
    { body: body(['pin', 'pvk', 'pvki'], { pin: PIN_IN, pvk: KEY_REF, pvki: { type: 'integer', minimum: 0, maximum: 9 } }), response: { type: 'object', properties: { pvv: { type: 'string' } } } },
    async ({ hsm, session }, req) => {
      const b = req.body as { pin: PinInJson; pvk: string; pvki: number };
      return { pvv: await hsm.paymentGeneratePvv(session, { pin: pinIn(b.pin), pvk: b.pvk, pvki: b.pvki }) };
    },
  ),
  post(
    '/v1/payments/pin/pvv/verify',
    'Verify an encrypted PIN against a Visa PVV (attempts per PAN are limited)',
    { body: body(['pin', 'pvk', 'pvki', 'pvv'], { pin: PIN_IN, pvk: KEY_REF, pvki: { type: 'integer', minimum: 0, maximum: 9 }, pvv: DIGITS(4, 4, 'the PVV') }), response: VALID },
    async ({ hsm, session }, req) => {
      const b = req.body as { pin: PinInJson; pvk: string; pvki: number; pvv: string };
      return { valid: await hsm.paymentVerifyPvv(session, { pin: pinIn(b.pin), pvk: b.pvk, pvki: b.pvki, pvv: b.pvv }) };
    },
  ),
  post(
    '/v1/payments/cvv',
    'Card production: generate a Visa CVV (service code 000 gives CVV2, 999 iCVV)',
    { body: body(['key', 'pan', 'expiry', 'serviceCode'], { key: KEY_REF, pan: PAN, expiry: DIGITS(4, 4, 'YYMM'), serviceCode: DIGITS(3, 3, 'service code') }), response: { type: 'object', properties: { cvv: { type: 'string' } } } },
    async ({ hsm, session }, req) => {
      const b = req.body as { key: string; pan: string; expiry: string; serviceCode: string };
      return { cvv: await hsm.paymentGenerateCvv(session, b) };
    },
  ),
  post(
    '/v1/payments/cvv/verify',
    'Verify a Visa CVV/CVV2/iCVV (attempts per PAN are limited)',
    {
      body: body(['key', 'pan', 'expiry', 'serviceCode', 'cvv'], { key: KEY_REF, pan: PAN, expiry: DIGITS(4, 4, 'YYMM'), serviceCode: DIGITS(3, 3, 'service code'), cvv: DIGITS(3, 3, 'the CVV') }),
      response: VALID,
    },
    async ({ hsm, session }, req) => {
      const b = req.body as { key: string; pan: string; expiry: string; serviceCode: string; cvv: string };
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
      const b = req.body as { key: string; pan: string; psn: string; trackData: string; un: string; atc: string; cvc3: string };
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
    'Generate an ISO/IEC 9797-1 MAC (algorithm 1 with M0/M1 keys, algorithm 3 with M3 keys)',
    { body: body(['key', 'algorithm', 'padding', 'data'], { ...MAC_BODY, length: { type: 'integer', minimum: 4, maximum: 8 } }), response: { type: 'object', properties: { mac: { type: 'string' } } } },
    async ({ hsm, session }, req) => {
      const b = req.body as { key: string; algorithm: 1 | 3; padding: 1 | 2 | 3; data: string; length?: number };
      const input: Parameters<typeof hsm.paymentGenerateMac>[1] = { key: b.key, algorithm: b.algorithm, padding: b.padding, data: unhex(b.data, 'data') };
      if (b.length !== undefined) input.length = b.length;
      return { mac: upperHex(await hsm.paymentGenerateMac(session, input)) };
    },
  ),
  post(
    '/v1/payments/mac/verify',
    'Verify an ISO/IEC 9797-1 MAC',
    { body: body(['key', 'algorithm', 'padding', 'data', 'mac'], { ...MAC_BODY, mac: hex(4, 8, 'the MAC') }), response: VALID },
    async ({ hsm, session }, req) => {
      const b = req.body as { key: string; algorithm: 1 | 3; padding: 1 | 2 | 3; data: string; mac: string };
      return { valid: await hsm.paymentVerifyMac(session, { key: b.key, algorithm: b.algorithm, padding: b.padding, data: unhex(b.data, 'data'), mac: unhex(b.mac, 'mac') }) };
    },
  ),
];

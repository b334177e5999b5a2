// /v1/keys/:id/<operation>: cryptographic operations with a key. Outputs of versioned keys say
// which version made them (STYLE §10): encrypt answers a `coffer:v<n>:<mechanism>:…` envelope
// that decrypt reads back; signatures and MACs come with keyVersion, which verify accepts.
// Failures keep the boundary's uniform codes (DECRYPT_FAILED, valid:false for bad signatures).

import { decodeBase64, HsmError, type MechanismParams, mechanismInfo, templateFromJson } from '../../../boundary/api.js';
import { type CiphertextEnvelope, formatEnvelope, isEnvelope, parseEnvelope } from '../ciphertext-envelope.js';
import { KEY_ID_PARAMS, KEY_SCHEMA, TEMPLATE_SCHEMA } from '../key-description.js';
import { PARAMS_OUT_SCHEMA, PARAMS_SCHEMA, paramsFromJson, paramsToJson } from '../mechanism-params-json.js';
import { b64, type JsonSchema, type RouteDef } from '../route.js';
import { describe } from './keys.js';

const MECHANISM = { type: 'string', minLength: 1, maxLength: 64 };
const KEY_VERSION = { type: 'integer', minimum: 1, maximum: 999_999_999 };
/** The approved-service indicator on every answer (FIPS 140-3 IG 2.4.C; attacks.md E-09). */
const APPROVED: JsonSchema = { type: 'boolean', description: 'true when the call used a FIPS-approved service (mechanism, key and parameters)' };
const VALID: JsonSchema = { type: 'object', properties: { valid: { type: 'boolean' }, approved: APPROVED } };

function body(required: string[], properties: Record<string, JsonSchema>): JsonSchema {
  return { type: 'object', required, additionalProperties: false, properties };
}

function idOf(req: { params: unknown }): string {
  return (req.params as { id: string }).id;
}

function b64out(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** The registry's spelling of a mechanism (aliases and case folded), for the envelope. */
function canonicalMechanism(name: string): string {
  return mechanismInfo(name)?.name ?? name;
}

const SECRET_KEY_TYPES = new Set(['aes', 'des2', 'des3', 'generic-secret']);

/** /mac and /mac-verify take MAC mechanisms only (secret-key signatures); signatures go through /sign. */
function macMechanism(name: string): string {
  const info = mechanismInfo(name);
  if (info && !info.keyTypes.every((k) => SECRET_KEY_TYPES.has(k))) throw new HsmError('MECHANISM_INVALID', `${info.name} is not a MAC mechanism`);
  return name;
}

interface DecryptBody {
  mechanism?: string;
  ciphertext: string;
  params?: unknown;
  keyVersion?: number;
}

/** What decrypt runs with: from the envelope when given one, else from the explicit fields. */
function decryptInput(b: DecryptBody): { mechanism: string; data: Uint8Array; params: MechanismParams; keyVersion?: number } {
  const params = paramsFromJson(b.params);
  if (!isEnvelope(b.ciphertext)) {
    if (b.mechanism === undefined) throw new HsmError('ARGUMENTS_BAD', 'mechanism is required unless the ciphertext is a coffer: envelope');
    const out: { mechanism: string; data: Uint8Array; params: MechanismParams; keyVersion?: number } = { mechanism: b.mechanism, data: decodeBase64(b.ciphertext, 'ciphertext'), params };
    if (b.keyVersion !== undefined) out.keyVersion = b.keyVersion;
    return out;
  }
  const env: CiphertextEnvelope = parseEnvelope(b.ciphertext);
  if (b.mechanism !== undefined && canonicalMechanism(b.mechanism) !== env.mechanism) throw new HsmError('ARGUMENTS_BAD', 'mechanism differs from the envelope');
  if (b.keyVersion !== undefined && b.keyVersion !== env.version) throw new HsmError('ARGUMENTS_BAD', 'keyVersion differs from the envelope');
  if (env.iv) {
    if (params.iv !== undefined) throw new HsmError('MECHANISM_PARAM_INVALID', 'the iv is in the envelope');
    params.iv = env.iv;
  }
  return { mechanism: env.mechanism, data: env.data, params, keyVersion: env.version };
}

export const KEY_OP_ROUTES: RouteDef[] = [
  {
    method: 'POST',
    url: '/v1/keys/:id/encrypt',
    summary: 'Encrypt; the answer is a coffer:v<version>:<mechanism>:<base64> envelope carrying any IV the module chose',
    tags: ['key operations'],
    auth: 'session',
    schema: {
      params: KEY_ID_PARAMS,
      body: body(['mechanism', 'plaintext'], { mechanism: MECHANISM, plaintext: b64('data to encrypt'), params: PARAMS_SCHEMA }),
      response: {
        200: {
          type: 'object',
          properties: { ciphertext: { type: 'string', description: 'coffer:v<version>:<mechanism>:base64([ivLen][iv][output])' }, keyVersion: { type: 'integer' }, params: PARAMS_OUT_SCHEMA, approved: APPROVED },
        },
      },
    },
    async handler({ hsm, session }, req) {
      const b = req.body as { mechanism: string; plaintext: string; params?: unknown };
      const params = paramsFromJson(b.params);
      const res = await hsm.encrypt(session, { key: idOf(req), mechanism: b.mechanism, data: decodeBase64(b.plaintext, 'plaintext'), params });
      const { iv, ...rest } = res.params ?? {};
      const env: CiphertextEnvelope = { version: res.keyVersion, mechanism: canonicalMechanism(b.mechanism), data: res.data };
      // The caller's own IV goes in the envelope too, so decrypt needs only the envelope (and any aad/label).
      const envIv = iv ?? params.iv;
      if (envIv) env.iv = envIv;
      const out: { ciphertext: string; keyVersion: number; params?: Record<string, unknown>; approved: boolean } = { ciphertext: formatEnvelope(env), keyVersion: res.keyVersion, approved: res.approved };
      if (Object.keys(rest).length > 0) out.params = paramsToJson(rest);
      return out;
    },
  },
  {
    method: 'POST',
    url: '/v1/keys/:id/decrypt',
    summary: 'Decrypt a coffer: envelope (version, mechanism and IV read from it) or raw base64 with mechanism, params and keyVersion',
    tags: ['key operations'],
    auth: 'session',
    schema: {
      params: KEY_ID_PARAMS,
      body: body(['ciphertext'], {
        mechanism: MECHANISM,
        ciphertext: { type: 'string', minLength: 1, maxLength: 1_400_200, description: 'coffer: envelope or base64' },
        params: PARAMS_SCHEMA,
        keyVersion: KEY_VERSION,
      }),
      response: { 200: { type: 'object', properties: { plaintext: { type: 'string', contentEncoding: 'base64' }, approved: APPROVED } } },
    },
    async handler({ hsm, session }, req) {
      const input = decryptInput(req.body as DecryptBody);
      const res = await hsm.decryptWithIndicator(session, { key: idOf(req), ...input });
      return { plaintext: b64out(res.data), approved: res.approved };
    },
  },
  {
    method: 'POST',
    url: '/v1/keys/:id/sign',
    summary: 'Sign data (or a digest, with a prehashed mechanism or params.prehashed)',
    tags: ['key operations'],
    auth: 'session',
    schema: {
      params: KEY_ID_PARAMS,
      body: body(['mechanism', 'data'], { mechanism: MECHANISM, data: b64('data to sign'), params: PARAMS_SCHEMA }),
      response: { 200: { type: 'object', properties: { signature: { type: 'string', contentEncoding: 'base64' }, keyVersion: { type: 'integer' }, approved: APPROVED } } },
    },
    async handler({ hsm, session }, req) {
      const b = req.body as { mechanism: string; data: string; params?: unknown };
      const res = await hsm.sign(session, { key: idOf(req), mechanism: b.mechanism, data: decodeBase64(b.data, 'data'), params: paramsFromJson(b.params) });
      return { signature: b64out(res.signature), keyVersion: res.keyVersion, approved: res.approved };
    },
  },
  {
    method: 'POST',
    url: '/v1/keys/:id/verify',
    summary: 'Verify a signature: valid true or false (false for any bad or malformed signature)',
    tags: ['key operations'],
    auth: 'session',
    schema: {
      params: KEY_ID_PARAMS,
      body: body(['mechanism', 'data', 'signature'], { mechanism: MECHANISM, data: b64('signed data'), signature: b64('signature'), params: PARAMS_SCHEMA, keyVersion: KEY_VERSION }),
      response: { 200: VALID },
    },
    async handler({ hsm, session }, req) {
      const b = req.body as { mechanism: string; data: string; signature: string; params?: unknown; keyVersion?: number };
      const input = { key: idOf(req), mechanism: b.mechanism, data: decodeBase64(b.data, 'data'), signature: decodeBase64(b.signature, 'signature'), params: paramsFromJson(b.params) };
      return await hsm.verifyWithIndicator(session, b.keyVersion !== undefined ? { ...input, keyVersion: b.keyVersion } : input);
    },
  },
  {
    method: 'POST',
    url: '/v1/keys/:id/mac',
    summary: 'Compute a MAC (HMAC, CMAC, retail MAC) with a secret key',
    tags: ['key operations'],
    auth: 'session',
    schema: {
      params: KEY_ID_PARAMS,
      body: body(['mechanism', 'data'], { mechanism: MECHANISM, data: b64('data to authenticate'), params: PARAMS_SCHEMA }),
      response: { 200: { type: 'object', properties: { mac: { type: 'string', contentEncoding: 'base64' }, keyVersion: { type: 'integer' }, approved: APPROVED } } },
    },
    async handler({ hsm, session }, req) {
      const b = req.body as { mechanism: string; data: string; params?: unknown };
      const res = await hsm.sign(session, { key: idOf(req), mechanism: macMechanism(b.mechanism), data: decodeBase64(b.data, 'data'), params: paramsFromJson(b.params) });
      return { mac: b64out(res.signature), keyVersion: res.keyVersion, approved: res.approved };
    },
  },
  {
    method: 'POST',
    url: '/v1/keys/:id/mac-verify',
    summary: 'Verify a MAC in constant time: valid true or false',
    tags: ['key operations'],
    auth: 'session',
    schema: {
      params: KEY_ID_PARAMS,
      body: body(['mechanism', 'data', 'mac'], { mechanism: MECHANISM, data: b64('authenticated data'), mac: b64('MAC'), params: PARAMS_SCHEMA, keyVersion: KEY_VERSION }),
      response: { 200: VALID },
    },
    async handler({ hsm, session }, req) {
      const b = req.body as { mechanism: string; data: string; mac: string; params?: unknown; keyVersion?: number };
      const input = { key: idOf(req), mechanism: macMechanism(b.mechanism), data: decodeBase64(b.data, 'data'), signature: decodeBase64(b.mac, 'mac'), params: paramsFromJson(b.params) };
      return await hsm.verifyWithIndicator(session, b.keyVersion !== undefined ? { ...input, keyVersion: b.keyVersion } : input);
    },
  },
  {
    method: 'POST',
    url: '/v1/keys/:id/wrap',
    summary: 'Export another key (body.key) encrypted under this wrapping key',
    tags: ['key operations'],
    auth: 'session',
    schema: {
      params: KEY_ID_PARAMS,
      body: body(['key', 'mechanism'], { key: { type: 'string', minLength: 1, maxLength: 300, description: 'uid or alias/<name> of the key to wrap' }, mechanism: MECHANISM, params: PARAMS_SCHEMA }),
      response: { 200: { type: 'object', properties: { wrapped: { type: 'string', contentEncoding: 'base64' }, params: PARAMS_OUT_SCHEMA, approved: APPROVED } } },
    },
    async handler({ hsm, session }, req) {
      const b = req.body as { key: string; mechanism: string; params?: unknown };
      const res = await hsm.wrapKey(session, { wrappingKey: idOf(req), key: b.key, mechanism: b.mechanism, params: paramsFromJson(b.params) });
      const out: { wrapped: string; params?: Record<string, unknown>; approved: boolean } = { wrapped: b64out(res.wrapped), approved: res.approved };
      if (res.params) out.params = paramsToJson(res.params);
      return out;
    },
  },
  {
    method: 'POST',
    url: '/v1/keys/:id/derive',
    summary: 'Derive a new secret key from this key (HKDF, SP 800-108, ECDH with params.publicData)',
    tags: ['key operations'],
    auth: 'session',
    status: 201,
    schema: {
      params: KEY_ID_PARAMS,
      body: body(['mechanism', 'template'], { mechanism: MECHANISM, params: PARAMS_SCHEMA, template: TEMPLATE_SCHEMA }),
      response: { 201: { type: 'object', properties: { key: KEY_SCHEMA, approved: APPROVED } } },
    },
    async handler({ hsm, session }, req) {
      const b = req.body as { mechanism: string; params?: unknown; template: unknown };
      const res = await hsm.deriveKeyWithIndicator(session, { baseKey: idOf(req), mechanism: b.mechanism, params: paramsFromJson(b.params), template: templateFromJson(b.template) });
      return { key: await describe(hsm, session, res.key), approved: res.approved };
    },
  },
  {
    method: 'POST',
    url: '/v1/keys/:id/encapsulate',
    summary: 'KEM encapsulation with this public key: a ciphertext for the holder of the private key, and the shared key stored here',
    tags: ['key operations'],
    auth: 'session',
    status: 201,
    schema: {
      params: KEY_ID_PARAMS,
      body: body(['mechanism'], { mechanism: MECHANISM, params: PARAMS_SCHEMA, template: TEMPLATE_SCHEMA }),
      response: { 201: { type: 'object', properties: { ciphertext: { type: 'string', contentEncoding: 'base64' }, key: KEY_SCHEMA, approved: APPROVED } } },
    },
    async handler({ hsm, session }, req) {
      const b = req.body as { mechanism: string; params?: unknown; template?: unknown };
      const input = { key: idOf(req), mechanism: b.mechanism, params: paramsFromJson(b.params) };
      const res = await hsm.encapsulate(session, b.template !== undefined ? { ...input, template: templateFromJson(b.template) } : input);
      return { ciphertext: b64out(res.ciphertext), key: await describe(hsm, session, res.key), approved: res.approved };
    },
  },
  {
    method: 'POST',
    url: '/v1/keys/:id/decapsulate',
    summary: 'KEM decapsulation with this private key: the shared key is stored here',
    tags: ['key operations'],
    auth: 'session',
    status: 201,
    schema: {
      params: KEY_ID_PARAMS,
      body: body(['mechanism', 'ciphertext'], { mechanism: MECHANISM, ciphertext: b64('KEM ciphertext'), params: PARAMS_SCHEMA, template: TEMPLATE_SCHEMA }),
      response: { 201: { type: 'object', properties: { key: KEY_SCHEMA, approved: APPROVED } } },
    },
    async handler({ hsm, session }, req) {
      const b = req.body as { mechanism: string; ciphertext: string; params?: unknown; template?: unknown };
      const input = { key: idOf(req), mechanism: b.mechanism, ciphertext: decodeBase64(b.ciphertext, 'ciphertext'), params: paramsFromJson(b.params) };
      const res = await hsm.decapsulateWithIndicator(session, b.template !== undefined ? { ...input, template: templateFromJson(b.template) } : input);
      return { key: await describe(hsm, session, res.key), approved: res.approved };
    },
  },
];

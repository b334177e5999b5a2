// /v1/sys ceremony routes: initialise with Shamir shares, unseal by shares (no token: nobody can
// log in while sealed), seal, rekey and master-key rotation (docs/ceremony.md). Shares travel as
// base64 text; custodian public keys as base64 SPKI DER. The boundary checks every value.

import { type Custodian, decodeBase64, type ShareSpec } from '../../../boundary/api.js';
import { b64, type JsonSchema, type RouteDef } from '../route.js';

const CUSTODIAN: JsonSchema = {
  oneOf: [
    { type: 'null' },
    {
      type: 'object',
      required: ['kind', 'publicKey'],
      additionalProperties: false,
      properties: { kind: { type: 'string', enum: ['x25519', 'rsa-oaep'] }, publicKey: b64('the custodian public key, SPKI DER') },
    },
    {
      type: 'object',
      required: ['kind', 'passphrase'],
      additionalProperties: false,
      properties: { kind: { type: 'string', const: 'passphrase' }, passphrase: { type: 'string', minLength: 1, maxLength: 1024 } },
    },
  ],
};

const SPEC_PROPS = {
  shares: { type: 'integer', minimum: 1, maximum: 16, description: 'N: how many shares' },
  threshold: { type: 'integer', minimum: 1, maximum: 16, description: 'M: how many shares rebuild the master key' },
  custodians: { type: 'array', maxItems: 16, items: CUSTODIAN, description: 'custodian i receives share i encrypted to it; null leaves it clear' },
};

const SHARE_OUT = {
  type: 'object',
  properties: { index: { type: 'integer' }, encoding: { type: 'string' }, share: { type: 'string' } },
};
const ISSUED = { type: 'object', properties: { shares: { type: 'array', items: SHARE_OUT }, threshold: { type: 'integer' }, epoch: { type: 'integer' } } };
const REKEY = {
  type: 'object',
  properties: {
    nonce: { type: 'string' },
    progress: { type: 'integer' },
    threshold: { type: 'integer' },
    newShares: { type: 'integer' },
    newThreshold: { type: 'integer' },
    complete: { type: 'boolean' },
    issued: ISSUED,
  },
};
const SHARE_IN = { type: 'string', minLength: 1, maxLength: 200, description: 'one clear share, base64 (custodians decrypt theirs first)' };

type CustodianJson = { kind: 'x25519' | 'rsa-oaep'; publicKey: string } | { kind: 'passphrase'; passphrase: string } | null;
type SpecJson = { shares?: number; threshold?: number; custodians?: CustodianJson[] };

function custodiansFrom(list: CustodianJson[] | undefined): (Custodian | null)[] | undefined {
  return list?.map((c, i) => {
    if (c === null || c.kind === 'passphrase') return c;
    return { kind: c.kind, publicKey: decodeBase64(c.publicKey, `custodians[${i}].publicKey`, 4096) };
  });
}

function specFrom(body: SpecJson): Partial<ShareSpec> {
  const spec: Partial<ShareSpec> = {};
  if (body.shares !== undefined) spec.shares = body.shares;
  if (body.threshold !== undefined) spec.threshold = body.threshold;
  const custodians = custodiansFrom(body.custodians);
  if (custodians) spec.custodians = custodians;
  return spec;
}

export const CEREMONY_ROUTES: RouteDef[] = [
  {
    method: 'GET',
    url: '/v1/sys/seal-status',
    summary: 'Initialised?, sealed?, shares, threshold and unseal/rekey progress (no token needed; reveals no share)',
    tags: ['sys'],
    auth: 'none',
    schema: {
      response: {
        200: {
          type: 'object',
          properties: {
            initialized: { type: 'boolean' },
            state: { type: 'string' },
            shares: { type: 'integer' },
            threshold: { type: 'integer' },
            epoch: { type: 'integer' },
            unsealProgress: { type: 'integer' },
            rekey: REKEY,
          },
        },
      },
    },
    async handler({ hsm }) {
      return hsm.ceremonyStatus();
    },
  },
  {
    method: 'POST',
    url: '/v1/sys/init',
    summary: 'Initialise an empty module: master key made inside, split into N shares (threshold M), first admin; returns each share once and leaves the module sealed',
    tags: ['sys'],
    auth: 'none',
    schema: {
      body: {
        type: 'object',
        required: ['shares', 'threshold', 'admin'],
        additionalProperties: false,
        properties: {
          ...SPEC_PROPS,
          admin: {
            type: 'object',
            required: ['name', 'password'],
            additionalProperties: false,
            properties: { name: { type: 'string', maxLength: 64 }, password: { type: 'string', maxLength: 1024 } },
          },
        },
      },
      response: { 200: ISSUED },
    },
    async handler({ hsm }, req) {
      const body = req.body as SpecJson & { shares: number; threshold: number; admin: { name: string; password: string } };
      return hsm.initializeWithShares({ ...specFrom(body), shares: body.shares, threshold: body.threshold, admin: body.admin });
    },
  },
  {
    method: 'POST',
    url: '/v1/sys/unseal',
    summary: 'Submit one share towards unsealing (no token): progress k of M; a share not of this module is SHARE_INVALID',
    tags: ['sys'],
    auth: 'none',
    schema: {
      body: { type: 'object', required: ['share'], additionalProperties: false, properties: { share: SHARE_IN } },
      response: { 200: { type: 'object', properties: { progress: { type: 'integer' }, threshold: { type: 'integer' }, unsealed: { type: 'boolean' } } } },
    },
    async handler({ hsm }, req) {
      return hsm.submitUnsealShare((req.body as { share: string }).share);
    },
  },
  {
    method: 'POST',
    url: '/v1/sys/seal',
    summary: 'Seal (admin): forget the master key and every unsealed key, end every session',
    tags: ['sys'],
    auth: 'session',
    schema: { response: { 200: { type: 'object', properties: { state: { type: 'string' } } } } },
    async handler({ hsm, session }) {
      hsm.sealModule(session);
      return { state: hsm.status().state };
    },
  },
  {
    method: 'POST',
    url: '/v1/sys/rekey/init',
    summary: 'Start a rekey (admin): new shares (N, M) for the same master key once M current shares are submitted with the returned nonce',
    tags: ['sys'],
    auth: 'session',
    schema: {
      body: { type: 'object', required: ['shares', 'threshold'], additionalProperties: false, properties: SPEC_PROPS },
      response: { 200: REKEY },
    },
    async handler({ hsm, session }, req) {
      const body = req.body as SpecJson & { shares: number; threshold: number };
      return hsm.rekeyInit(session, { ...specFrom(body), shares: body.shares, threshold: body.threshold });
    },
  },
  {
    method: 'POST',
    url: '/v1/sys/rekey/cancel',
    summary: 'Cancel the rekey in progress (admin); its submitted shares are zeroed',
    tags: ['sys'],
    auth: 'session',
    schema: { response: { 200: { type: 'object', properties: { cancelled: { type: 'boolean' } } } } },
    async handler({ hsm, session }) {
      hsm.rekeyCancel(session);
      return { cancelled: true };
    },
  },
  {
    method: 'POST',
    url: '/v1/sys/rekey',
    summary: 'Submit one current share towards the rekey named by nonce (no token); the completing call returns the new shares, once',
    tags: ['sys'],
    auth: 'none',
    schema: {
      body: { type: 'object', required: ['share', 'nonce'], additionalProperties: false, properties: { share: SHARE_IN, nonce: { type: 'string', maxLength: 64 } } },
      response: { 200: REKEY },
    },
    async handler({ hsm }, req) {
      const body = req.body as { share: string; nonce: string };
      return hsm.submitRekeyShare({ share: body.share, nonce: body.nonce });
    },
  },
  {
    method: 'POST',
    url: '/v1/sys/rotate-master-key',
    summary: 'Rotate the master key (admin): partition keys re-wrapped, every row re-tagged, new shares returned once; the old shares stop working',
    tags: ['sys'],
    auth: 'session',
    schema: {
      body: { type: 'object', additionalProperties: false, properties: SPEC_PROPS },
      response: { 200: ISSUED },
    },
    async handler({ hsm, session }, req) {
      return hsm.rotateMasterKey(session, specFrom((req.body ?? {}) as SpecJson));
    },
  },
];

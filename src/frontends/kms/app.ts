// Mounts the AWS-KMS-compatible endpoint on a fastify app (the REST listener): POST / with
// Content-Type application/x-amz-json-1.1 and X-Amz-Target TrentService.<Operation>, which is what
// the AWS SDKs' `endpoint` and `aws --endpoint-url` send. Every request is SigV4-authenticated first.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Hsm } from '../../boundary/api.js';
import { parseJsonBody } from '../rest/json-body.js';
import { ENVELOPE_OPERATIONS } from './envelope-operations.js';
import { KmsError, toKmsError } from './errors.js';
import { type Handler, OPERATIONS } from './operations.js';
import { DEFAULT_RATE_LIMIT, type RateLimit, RateLimiter } from './rate-limit.js';
import { ROTATION_OPERATIONS } from './rotation-operations.js';
import { authenticate, ReplayCache } from './sigv4.js';

export const KMS_CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET = /^TrentService\.([A-Za-z]{1,64})$/;
/** KMS operations Coffer does not implement yet: named as such rather than unknown. */
const NOT_YET = new Set(['GetKeyPolicy', 'PutKeyPolicy', 'ListKeyPolicies', 'CreateGrant', 'ListGrants', 'RetireGrant', 'RevokeGrant', 'ListRetirableGrants', 'UpdateKeyDescription', 'ReplicateKey', 'UpdatePrimaryRegion', 'GetParametersForImport', 'ImportKeyMaterial', 'DeleteImportedKeyMaterial', 'CreateCustomKeyStore', 'DescribeCustomKeyStores', 'ConnectCustomKeyStore', 'DisconnectCustomKeyStore', 'UpdateCustomKeyStore', 'DeleteCustomKeyStore']);

const ALL_OPERATIONS: Record<string, Handler> = { ...OPERATIONS, ...ENVELOPE_OPERATIONS, ...ROTATION_OPERATIONS };
/** How often automatic key rotation looks for due keys (it also looks once at start). */
const ROTATION_CHECK_MS = 60 * 60_000;

export interface KmsOptions {
  /** Deepest JSON nesting accepted (default 16). */
  jsonDepth?: number;
  /** Test-only clock for the signature window. */
  now?: () => number;
  /** Per-access-key request rate (default 2000/s, burst 4000; perSecond 0: no limit). */
  rateLimit?: RateLimit;
  /** Test-only: the clock automatic rotation compares due dates with, and how often it looks. */
  rotationClock?: () => number;
  rotationCheckMs?: number;
}

export function registerKms(app: FastifyInstance, hsm: Hsm, options: KmsOptions = {}): void {
  const replay = new ReplayCache();
  const now = options.now ?? Date.now;
  // perSecond 0 switches the limit off (the configuration's kms_rate_per_second = 0).
  const limiter = options.rateLimit?.perSecond === 0 ? undefined : new RateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT);
  startAutomaticRotation(app, hsm, options.rotationClock ?? Date.now, options.rotationCheckMs ?? ROTATION_CHECK_MS);
  // The raw body is kept: the SigV4 payload hash is over the exact bytes received.
  app.addContentTypeParser(KMS_CONTENT_TYPE, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  const sweep = setInterval(() => {
    replay.sweep(now());
    limiter?.sweep(now());
  }, 60_000);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));

  const send = (reply: FastifyReply, err: unknown, req: FastifyRequest): FastifyReply => {
    const { status, body, internal } = toKmsError(err);
    if (internal) req.log.error({ err: { name: (err as Error)?.name, stack: (err as Error)?.stack } }, 'KMS internal error');
    return reply.code(status).type(KMS_CONTENT_TYPE).send(JSON.stringify(body));
  };

  app.route({
    method: 'POST',
    url: '/',
    errorHandler: (err, req, reply) => {
      void send(reply, err, req);
    },
    handler: async (req, reply) => {
      try {
        const ct = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (ct !== KMS_CONTENT_TYPE) throw new KmsError('SerializationException', `send ${KMS_CONTENT_TYPE}`);
        const target = TARGET.exec(String(req.headers['x-amz-target'] ?? ''));
        const op = target ? ALL_OPERATIONS[target[1]!] : undefined;
        if (target && NOT_YET.has(target[1]!)) throw new KmsError('UnsupportedOperationException', `${target[1]} is not supported by Coffer yet (docs/kms.md)`);
        if (!op || !Object.hasOwn(ALL_OPERATIONS, target![1]!)) throw new KmsError('UnknownOperationException', 'unknown operation');
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const q = (req.query ?? {}) as Record<string, string | string[]>;
        const caller = await authenticate(hsm, { method: req.method, path: req.url.split('?')[0]!, query: q, headers: req.headers, body }, replay, now());
        limiter?.take(caller.accessKeyId, now());
        const input = parse(body, options.jsonDepth ?? 16);
        const out = await op({ hsm, caller }, input);
        return reply.code(200).type(KMS_CONTENT_TYPE).send(JSON.stringify(out));
      } catch (e) {
        return send(reply, e, req);
      }
    },
  });
}

/** Rotates keys whose automatic rotation is due, once at start and then every `everyMs`, while the module is unsealed. */
function startAutomaticRotation(app: FastifyInstance, hsm: Hsm, clock: () => number, everyMs: number): void {
  let running = false;
  const check = async (): Promise<void> => {
    if (running || hsm.status().state !== 'unsealed') return;
    running = true;
    try {
      const n = await hsm.rotateDueKeys(new Date(clock()));
      if (n > 0) app.log.info({ rotated: n }, 'KMS automatic key rotation');
    } catch (e) {
      app.log.error({ err: { name: (e as Error)?.name, code: (e as { code?: string })?.code } }, 'KMS automatic key rotation failed');
    } finally {
      running = false;
    }
  };
  const first = setImmediate(() => void check());
  const timer = setInterval(() => void check(), everyMs);
  timer.unref();
  app.addHook('onClose', async () => {
    clearImmediate(first);
    clearInterval(timer);
  });
}

function parse(body: Buffer, maxDepth: number): Record<string, unknown> {
  if (body.length === 0) return {};
  // The REST parser's depth check before JSON.parse and its prototype-key refusal (attacks.md A-23).
  const v = parseJsonBody(body, maxDepth);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new KmsError('SerializationException', 'the body is a JSON object');
  return v as Record<string, unknown>;
}

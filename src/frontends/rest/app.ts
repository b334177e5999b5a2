// The REST front end: a fastify app that registers every route table, authenticates bearer
// tokens, applies the request limits, and maps every error to { error: { code, message } }
// with the catalogue's status. It holds protocol state (tokens, buckets) and nothing secret.

import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import { HsmError, type Hsm } from '../../boundary/api.js';
import { clientErrorResponse, toHttpError } from './errors.js';
import { parseJsonBody } from './json-body.js';
import { openApiDocument } from './openapi.js';
import { type RateLimitConfig, RateLimiter } from './rate-limit.js';
import type { RouteDef } from './route.js';
import { ALL_ROUTES } from './routes/index.js';
import { TokenStore } from './tokens.js';

export interface RequestObservation {
  route: string;
  method: string;
  status: number;
  seconds: number;
  mechanism?: string;
}

export interface RestOptions {
  hsm: Hsm;
  routes?: readonly RouteDef[];
  /** Largest request body in bytes (default 2 MiB: 1 MiB of data in base64 plus room). */
  bodyLimit?: number;
  /** Deepest JSON nesting accepted (default 32). */
  jsonDepth?: number;
  /** Per-token request rate (default 1000/s, burst 2000); perSecond 0 disables. */
  rateLimit?: RateLimitConfig;
  /**
   * Per-client-address rate of calls that need no token (login, unseal, init: each may cost an
   * scrypt hash), default 20/s with a burst of 40; perSecond 0 disables (attacks.md D-09, D-13).
   */
  anonymousRateLimit?: RateLimitConfig;
  /** Bearer-token lifetime (default 1 hour). */
  tokenTtlMs?: number;
  /** Longest time to receive a whole request, headers and body (default 30 s): bounds slow-loris clients (attacks.md D-07). */
  requestTimeoutMs?: number;
  logger?: FastifyServerOptions['logger'];
  https?: { key: Buffer; cert: Buffer; ca?: Buffer; requestCert?: boolean };
  version?: string;
  observe?: (o: RequestObservation) => void;
}

declare module 'fastify' {
  interface FastifyRequest {
    cofferStart?: bigint;
  }
}

// RFC 7235 §2.1: the auth-scheme is case-insensitive (the token alphabet already has both cases).
const BEARER = /^Bearer ([A-Za-z0-9_-]{1,200})$/i;

export interface RestApp {
  app: FastifyInstance;
  tokens: TokenStore;
}

export function buildRestApp(options: RestOptions): RestApp {
  const { hsm } = options;
  const routes = options.routes ?? ALL_ROUTES;
  const jsonDepth = options.jsonDepth ?? 32;
  const limiter = new RateLimiter(options.rateLimit ?? { perSecond: 1000, burst: 2000 });
  const anonymousLimiter = new RateLimiter(options.anonymousRateLimit ?? { perSecond: 20, burst: 40 });
  let requestCounter = 0;
  const tokens = new TokenStore(options.tokenTtlMs ?? 3_600_000, (session) => {
    try {
      hsm.logout(session);
    } catch {
      // The session may already be gone (sealed, expired): nothing left to end.
    }
  });
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  // Node takes these only when it creates the server (setting requestTimeout later does nothing on
  // Node 20), and checks the deadlines on a timer (default every 30 s): check often enough that the bound holds.
  const serverTimers = {
    requestTimeout,
    headersTimeout: Math.min(60_000, requestTimeout),
    connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(requestTimeout / 4))),
  };
  const fastifyOptions: FastifyServerOptions & { https?: unknown; http?: typeof serverTimers } = {
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 2 * 1024 * 1024,
    // fastify's default 0 lets a client trickle a body forever, holding the socket.
    requestTimeout,
    http: serverTimers,
    clientErrorHandler: (err, socket) => {
      if ((err as { code?: string }).code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable) socket.write(clientErrorResponse(err as { code?: string }));
      socket.destroy();
    },
    // A path parameter may be `alias/<name>` with a 256-character name, percent-encoded (up to 9 bytes
    // a character); the route schemas bound the decoded length. fastify's default of 100 cut off at ~92.
    routerOptions: { maxParamLength: 4096 },
    // Router refusals (a bad percent-encoding, a path parameter over the length limit) get the coded
    // body too; fastify's own echoes the whole path back.
    frameworkErrors: (err, _req, reply) => {
      const { status, body } = toHttpError(err);
      void (reply as unknown as FastifyReply).code(status).send(body);
    },
    // Request ids are ours; never echo a caller-supplied one into logs.
    genReqId: () => (++requestCounter).toString(36),
    ajv: { customOptions: { removeAdditional: false, useDefaults: true, coerceTypes: false, allErrors: false } },
  };
  if (options.https) fastifyOptions.https = { ...options.https, rejectUnauthorized: options.https.requestCert === true, ...serverTimers };
  const app = Fastify(fastifyOptions as FastifyServerOptions);

  app.removeAllContentTypeParsers();
  // As bytes: the parser refuses invalid UTF-8 rather than decoding it lossily.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer, jsonDepth));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, body, internal } = toHttpError(err);
    if (internal) req.log.error({ err: { name: (err as Error)?.name, stack: (err as Error)?.stack } }, 'internal error');
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).send({ error: new HsmError('NOT_FOUND').toJSON() });
  });

  app.addHook('onRequest', async (req) => {
    req.cofferStart = process.hrtime.bigint();
  });
  // Draining: once close() has begun, every answer still going out asks the client to close its
  // connection, so a keep-alive socket does not hold shutdown for fastify's 72 s keep-alive timeout.
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (draining) reply.header('connection', 'close');
    return payload;
  });
  if (options.observe) {
    const observe = options.observe;
    app.addHook('onResponse', async (req, reply) => {
      const seconds = Number(process.hrtime.bigint() - (req.cofferStart ?? process.hrtime.bigint())) / 1e9;
      const body = req.body as { mechanism?: unknown } | undefined;
      const o: RequestObservation = { route: req.routeOptions.url ?? 'unknown', method: req.method, status: reply.statusCode, seconds };
      if (body && typeof body.mechanism === 'string' && body.mechanism.length <= 64) o.mechanism = body.mechanism;
      observe(o);
    });
  }

  for (const r of routes) {
    app.route({
      method: r.method,
      url: r.url,
      schema: r.schema,
      handler: async (req, reply) => {
        let session = '';
        let token = '';
        if (r.auth === 'session') {
          const m = BEARER.exec(req.headers.authorization ?? '');
          const s = m ? tokens.resolve(m[1]!) : undefined;
          if (!m || !s) throw new HsmError('UNAUTHENTICATED');
          if (!limiter.take(TokenStore.hash(m[1]!))) throw new HsmError('LIMIT_EXCEEDED', 'request rate limit');
          session = s;
          token = m[1]!;
        } else if (r.method !== 'GET' && !anonymousLimiter.take(`ip:${req.ip}`)) {
          throw new HsmError('LIMIT_EXCEEDED', 'request rate limit for calls without a token');
        }
        const out = await r.handler({ hsm, session, token, tokens }, req, reply);
        if (r.status) reply.code(r.status);
        return out ?? {};
      },
    });
  }

  const doc = openApiDocument(routes, options.version ?? '0.1.0');
  app.get('/v1/openapi.json', async () => doc);
  const sweep = setInterval(() => tokens.sweep(), 60_000);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));
  return { app, tokens };
}

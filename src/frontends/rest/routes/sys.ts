// /v1/sys: health for load balancers (no token), status and sealing for operators.

import type { RouteDef } from '../route.js';

/** Health codes a load balancer understands: 200 ready, 501 uninitialised, 503 sealed, 500 error. */
const HEALTH_STATUS = { unsealed: 200, uninitialized: 501, sealed: 503, error: 500 } as const;

/** The last tamper signal and the response taken (issue 4); health omits the detail, status has it. */
export const TAMPER = {
  type: 'object',
  properties: {
    signal: { type: 'string', enum: ['store-integrity', 'rollback', 'sensor', 'software-integrity', 'zeroize'] },
    at: { type: 'string' },
    response: { type: 'string', enum: ['seal', 'erase'] },
    detail: { type: 'string' },
    auditArchive: { type: 'string' },
  },
};

const STATUS = {
  type: 'object',
  properties: {
    state: { type: 'string', enum: ['uninitialized', 'sealed', 'unsealed', 'error'] },
    error: { type: 'string' },
    selfTests: { type: 'object', properties: { passed: { type: 'integer' }, failed: { type: 'array', items: { type: 'string' } }, at: { type: 'string' } } },
    tamper: TAMPER,
    warnings: { type: 'array', items: { type: 'string' } },
    sessions: { type: 'integer' },
    cachedKeys: { type: 'integer' },
  },
};

export const SYS_ROUTES: RouteDef[] = [
  {
    method: 'GET',
    url: '/v1/sys/health',
    summary: 'Health: 200 ready, 501 not initialised, 503 sealed, 500 error (no token needed)',
    tags: ['sys'],
    auth: 'none',
    schema: { response: { 200: STATUS, 500: STATUS, 501: STATUS, 503: STATUS } },
    async handler({ hsm }, _req, reply) {
      const status = hsm.status();
      reply.code(HEALTH_STATUS[status.state]);
      // Which self-test failed, and any tamper response, for the operator's load balancer view (attacks.md E-01).
      const out: Record<string, unknown> = { state: status.state, error: status.error };
      if (status.selfTests.failed.length > 0) out.selfTests = { passed: status.selfTests.passed, failed: status.selfTests.failed };
      if (status.tamper) out.tamper = { signal: status.tamper.signal, at: status.tamper.at, response: status.tamper.response };
      return out;
    },
  },
  {
    method: 'GET',
    url: '/v1/sys/status',
    summary: 'Module status: state, self-test results, sessions, cached keys',
    tags: ['sys'],
    auth: 'session',
    schema: { response: { 200: STATUS } },
    async handler({ hsm, session }) {
      hsm.whoami(session);
      return hsm.status();
    },
  },
];

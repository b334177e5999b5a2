// /v1/sys/selftest and /v1/sys/zeroize: the admin's on-demand self-tests (attacks.md E-11) and
// the explicit zeroize command (D-17, E-06), which takes the configured tamper response. The
// boundary checks the admin role; health (sys.ts) shows what followed.

import type { RouteDef } from '../route.js';
import { TAMPER } from './sys.js';

const SELF_TEST_RESULT = {
  type: 'object',
  properties: {
    passed: { type: 'integer' },
    failed: { type: 'array', items: { type: 'string' } },
    at: { type: 'string' },
    state: { type: 'string', enum: ['uninitialized', 'sealed', 'unsealed', 'error'] },
  },
};

export const SELF_PROTECTION_ROUTES: RouteDef[] = [
  {
    method: 'POST',
    url: '/v1/sys/selftest',
    summary: 'Run every self-test now (admin): known answers, random-source health, software integrity; a failure puts the module in the error state',
    tags: ['sys'],
    auth: 'session',
    schema: { response: { 200: SELF_TEST_RESULT } },
    async handler({ hsm, session }) {
      const r = await hsm.runSelfTests(session);
      return { ...r, state: hsm.status().state };
    },
  },
  {
    method: 'POST',
    url: '/v1/sys/zeroize',
    summary: 'Zeroize (admin): the configured tamper response, seal (forget every key) or erase (also destroy the stored key hierarchy)',
    tags: ['sys'],
    auth: 'session',
    schema: { response: { 200: { type: 'object', properties: { tamper: TAMPER, state: SELF_TEST_RESULT.properties.state } } } },
    async handler({ hsm, session }) {
      const tamper = await hsm.zeroize(session);
      return { tamper, state: hsm.status().state };
    },
  },
];

// /v1/quorum: M-of-N approvals (docs/ceremony.md "Quorum"). A gated call (partition create, user
// create/delete, key destroy, zeroize, backup …) answers 403 QUORUM_REQUIRED with `request` and
// `digest` in its error body; approvers read the request here and approve naming that digest.

import { QUORUM_CLASSES, type QuorumPolicyChange, type QuorumStatus } from '../../../boundary/api.js';
import type { RouteDef } from '../route.js';

const STATUSES = ['pending', 'approved', 'executing', 'executed', 'rejected', 'failed', 'expired'];

const RULE = {
  type: 'object',
  properties: { quorum: { type: 'integer' }, approverRole: { type: 'string' }, selfApproval: { type: 'boolean' } },
};

const POLICY = {
  type: 'object',
  properties: {
    expiryMs: { type: 'integer' },
    classes: { type: 'object', additionalProperties: RULE },
    partitions: { type: 'object', additionalProperties: { type: 'object', additionalProperties: RULE } },
  },
};

const REQUEST = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    class: { type: 'string' },
    requester: { type: 'string' },
    partition: { type: 'string' },
    operation: { type: 'object', additionalProperties: true, description: 'the exact operation that will run' },
    canonical: { type: 'string', description: 'the canonical JSON whose SHA-256 is digest' },
    digest: { type: 'string', description: 'SHA-256 (hex) of canonical: name it when approving' },
    createdAt: { type: 'string' },
    expiresAt: { type: 'string' },
    status: { type: 'string', enum: STATUSES },
    quorum: { type: 'integer' },
    approverRole: { type: 'string' },
    selfApproval: { type: 'boolean' },
    approvals: { type: 'array', items: { type: 'object', properties: { approver: { type: 'string' }, at: { type: 'string' } } } },
    closedAt: { type: 'string' },
    closedBy: { type: 'string' },
    reason: { type: 'string' },
    result: { description: "the operation's non-secret result" },
    error: { type: 'string' },
  },
};

const ID_PARAMS = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
};

const APPROVE_BODY = {
  type: 'object',
  required: ['digest'],
  additionalProperties: false,
  properties: { digest: { type: 'string', minLength: 64, maxLength: 64, description: 'the digest shown by GET /v1/quorum/requests/{id}' } },
};

const REJECT_BODY = { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 200 } } };

const POLICY_BODY = {
  type: 'object',
  additionalProperties: false,
  description: 'either { class, quorum, [partition], [approverRole], [selfApproval] } or { expiryMs }',
  properties: {
    class: { type: 'string', enum: [...QUORUM_CLASSES] },
    partition: { type: 'string', minLength: 1, maxLength: 63 },
    quorum: { type: 'integer', minimum: 1, maximum: 16 },
    approverRole: { type: 'string', enum: ['admin', 'officer', 'user'] },
    selfApproval: { type: 'boolean' },
    expiryMs: { type: 'integer', minimum: 1000 },
  },
};

const REQUEST_REPLY = { type: 'object', properties: { request: REQUEST } };

export const QUORUM_ROUTES: RouteDef[] = [
  {
    method: 'GET',
    url: '/v1/quorum/policy',
    summary: 'The quorum policy per operation class (admin, auditor, officer)',
    tags: ['quorum'],
    auth: 'session',
    schema: { response: { 200: { type: 'object', properties: { policy: POLICY } } } },
    async handler({ hsm, session }) {
      return { policy: hsm.quorumPolicy(session) };
    },
  },
  {
    method: 'PUT',
    url: '/v1/quorum/policy',
    summary: "Change one class's rule or the request expiry (admin; needs the quorum of the rule it replaces)",
    tags: ['quorum'],
    auth: 'session',
    schema: { body: POLICY_BODY, response: { 200: { type: 'object', properties: { policy: POLICY } } } },
    async handler({ hsm, session }, req) {
      return { policy: hsm.setQuorumPolicy(session, req.body as QuorumPolicyChange) };
    },
  },
  {
    method: 'GET',
    url: '/v1/quorum/requests',
    summary: 'Quorum requests this account may see, newest first',
    tags: ['quorum'],
    auth: 'session',
    schema: {
      querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: STATUSES } } },
      response: { 200: { type: 'object', properties: { requests: { type: 'array', items: REQUEST } } } },
    },
    async handler({ hsm, session }, req) {
      const { status } = req.query as { status?: QuorumStatus };
      return { requests: hsm.listQuorumRequests(session, status ? { status } : {}) };
    },
  },
  {
    method: 'GET',
    url: '/v1/quorum/requests/:id',
    summary: 'One request: the exact operation, its canonical JSON and digest',
    tags: ['quorum'],
    auth: 'session',
    schema: { params: ID_PARAMS, response: { 200: REQUEST_REPLY } },
    async handler({ hsm, session }, req) {
      return { request: hsm.showQuorumRequest(session, (req.params as { id: string }).id) };
    },
  },
  {
    method: 'POST',
    url: '/v1/quorum/requests/:id/approve',
    summary: 'Approve, naming the digest seen; the approval that reaches M runs the operation',
    tags: ['quorum'],
    auth: 'session',
    schema: { params: ID_PARAMS, body: APPROVE_BODY, response: { 200: REQUEST_REPLY } },
    async handler({ hsm, session }, req) {
      const { digest } = req.body as { digest: string };
      return { request: await hsm.approveQuorumRequest(session, { request: (req.params as { id: string }).id, digest }) };
    },
  },
  {
    method: 'POST',
    url: '/v1/quorum/requests/:id/reject',
    summary: 'Reject (an approver) or withdraw (the requester) a request',
    tags: ['quorum'],
    auth: 'session',
    schema: { params: ID_PARAMS, body: REJECT_BODY, response: { 200: REQUEST_REPLY } },
    async handler({ hsm, session }, req) {
      const { reason } = (req.body ?? {}) as { reason?: string };
      const input: { request: string; reason?: string } = { request: (req.params as { id: string }).id };
      if (reason !== undefined) input.reason = reason;
      return { request: hsm.rejectQuorumRequest(session, input) };
    },
  },
];

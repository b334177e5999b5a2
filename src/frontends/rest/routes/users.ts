// /v1/users: accounts. The admin manages every account, an officer the users of its partition,
// and anyone may change their own password; the boundary enforces who may do what.

import type { Role } from '../../../boundary/api.js';
import type { RouteDef } from '../route.js';

const USER = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    role: { type: 'string' },
    partition: { type: 'string' },
    failedLogins: { type: 'integer' },
    locked: { type: 'boolean' },
    createdAt: { type: 'string' },
  },
};

const NAME_PARAMS = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1, maxLength: 64 } },
};

const password = { type: 'string', minLength: 1, maxLength: 1024 };

const CREATE_BODY = {
  type: 'object',
  required: ['name', 'password', 'role'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64 },
    password,
    role: { type: 'string', enum: ['admin', 'auditor', 'officer', 'user'] },
    partition: { type: 'string', minLength: 1, maxLength: 63, description: 'required for officer and user' },
  },
};

const EMPTY = { type: 'object', properties: {} };

export const USER_ROUTES: RouteDef[] = [
  {
    method: 'GET',
    url: '/v1/users',
    summary: 'List accounts (admin: all; officer: its partition)',
    tags: ['users'],
    auth: 'session',
    schema: { response: { 200: { type: 'object', properties: { users: { type: 'array', items: USER } } } } },
    async handler({ hsm, session }) {
      return { users: hsm.listUsers(session) };
    },
  },
  {
    method: 'POST',
    url: '/v1/users',
    summary: 'Create an account (admin; an officer creates users of its partition)',
    tags: ['users'],
    auth: 'session',
    status: 201,
    schema: { body: CREATE_BODY, response: { 201: { type: 'object', properties: { user: USER } } } },
    async handler({ hsm, session }, req) {
      const body = req.body as { name: string; password: string; role: Role; partition?: string };
      await hsm.createUser(session, body);
      const user: Record<string, unknown> = { name: body.name, role: body.role, failedLogins: 0, locked: false };
      if (body.partition !== undefined) user.partition = body.partition;
      return { user };
    },
  },
  {
    method: 'DELETE',
    url: '/v1/users/:name',
    summary: 'Delete an account and end its sessions',
    tags: ['users'],
    auth: 'session',
    status: 204,
    schema: { params: NAME_PARAMS, response: { 204: EMPTY } },
    async handler({ hsm, session }, req) {
      hsm.deleteUser(session, (req.params as { name: string }).name);
      return undefined;
    },
  },
  {
    method: 'PUT',
    url: '/v1/users/:name/role',
    summary: "Change an account's role (admin; ends its sessions; quorum-gated when a policy says so)",
    tags: ['users'],
    auth: 'session',
    status: 204,
    schema: {
      params: NAME_PARAMS,
      body: {
        type: 'object',
        required: ['role'],
        additionalProperties: false,
        properties: { role: { type: 'string', enum: ['admin', 'auditor', 'officer', 'user'] }, partition: { type: 'string', minLength: 1, maxLength: 63 } },
      },
      response: { 204: EMPTY },
    },
    async handler({ hsm, session }, req) {
      const body = req.body as { role: 'admin' | 'auditor' | 'officer' | 'user'; partition?: string };
      hsm.changeUserRole(session, { name: (req.params as { name: string }).name, role: body.role, ...(body.partition ? { partition: body.partition } : {}) });
      return undefined;
    },
  },
  {
    method: 'POST',
    url: '/v1/users/:name/unlock',
    summary: 'Unlock an account locked after failed logins',
    tags: ['users'],
    auth: 'session',
    status: 204,
    schema: { params: NAME_PARAMS, response: { 204: EMPTY } },
    async handler({ hsm, session }, req) {
      hsm.unlockUser(session, (req.params as { name: string }).name);
      return undefined;
    },
  },
  {
    method: 'PUT',
    url: '/v1/users/:name/password',
    summary: "Set an account's password (one's own, or as its admin/officer); ends the account's other sessions",
    tags: ['users'],
    auth: 'session',
    status: 204,
    schema: {
      params: NAME_PARAMS,
      body: { type: 'object', required: ['password'], additionalProperties: false, properties: { password } },
      response: { 204: EMPTY },
    },
    async handler({ hsm, session }, req) {
      const { name } = req.params as { name: string };
      await hsm.changePassword(session, { name, password: (req.body as { password: string }).password });
      return undefined;
    },
  },
];

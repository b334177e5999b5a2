// /v1/auth: log in with name and password for a bearer token; log out (revokes the token and
// ends the boundary session); whoami.

import type { RouteDef } from '../route.js';

const LOGIN_BODY = {
  type: 'object',
  required: ['user', 'password'],
  additionalProperties: false,
  properties: {
    user: { type: 'string', minLength: 1, maxLength: 64 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
};

const IDENTITY = {
  type: 'object',
  properties: { user: { type: 'string' }, role: { type: 'string' }, partition: { type: 'string' } },
};

export const AUTH_ROUTES: RouteDef[] = [
  {
    method: 'POST',
    url: '/v1/auth/login',
    summary: 'Log in: returns a bearer token with its expiry',
    tags: ['auth'],
    auth: 'none',
    schema: {
      body: LOGIN_BODY,
      response: {
        200: {
          type: 'object',
          properties: { token: { type: 'string' }, expiresAt: { type: 'string' }, role: { type: 'string' }, partition: { type: 'string' } },
        },
      },
    },
    async handler({ hsm, tokens }, req) {
      const { user, password } = req.body as { user: string; password: string };
      const login = await hsm.login({ user, password });
      const t = tokens.issue(login.session);
      return { token: t.token, expiresAt: t.expiresAt.toISOString(), role: login.role, partition: login.partition };
    },
  },
  {
    method: 'POST',
    url: '/v1/auth/logout',
    summary: 'Log out: revokes this token and ends its session',
    tags: ['auth'],
    auth: 'session',
    schema: { response: { 200: { type: 'object', properties: {} } } },
    async handler({ hsm, session, token, tokens }) {
      tokens.revoke(token);
      hsm.logout(session);
      return {};
    },
  },
  {
    method: 'GET',
    url: '/v1/auth/whoami',
    summary: 'The account, role and partition of this token',
    tags: ['auth'],
    auth: 'session',
    schema: { response: { 200: IDENTITY } },
    async handler({ hsm, session }) {
      return hsm.whoami(session);
    },
  },
];

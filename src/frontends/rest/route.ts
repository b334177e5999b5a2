// The shape of a REST route: method, path, JSON Schemas, help text and handler side by side
// (STYLE §9). app.ts registers every route from these tables; openapi.ts generates the OpenAPI
// document from the same tables, so the schemas are written once.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Hsm } from '../../boundary/api.js';
import type { TokenStore } from './tokens.js';

export type JsonSchema = Record<string, unknown>;

/** Who may call a route: nobody logged in, or any session (the boundary checks roles itself). */
export type RouteAuth = 'none' | 'session';

export interface RouteContext {
  hsm: Hsm;
  /** The boundary session of the caller's bearer token (routes with auth 'session'). */
  session: string;
  /** The bearer token itself (logout revokes it). */
  token: string;
  tokens: TokenStore;
}

export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  summary: string;
  tags: string[];
  auth: RouteAuth;
  schema: {
    body?: JsonSchema;
    params?: JsonSchema;
    querystring?: JsonSchema;
    /** Success response body, by status code. */
    response?: Record<number, JsonSchema>;
  };
  /** Status code of a success (default 200). */
  status?: number;
  handler(ctx: RouteContext, req: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}

/** Schema helpers: base64 strings and the common error body. */
export const b64 = (description: string): JsonSchema => ({ type: 'string', contentEncoding: 'base64', maxLength: 1_400_000, description });
export const ERROR_BODY: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
};

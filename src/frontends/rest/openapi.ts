// OpenAPI 3.1 generated from the route tables: every route's schemas appear once, here and in
// fastify's validation, from the same objects.

import type { JsonSchema, RouteDef } from './route.js';
import { ERROR_BODY } from './route.js';

function toOpenApiPath(url: string): string {
  return url.replace(/:([A-Za-z_]+)/g, '{$1}');
}

function parameters(schema: JsonSchema | undefined, where: 'path' | 'query'): JsonSchema[] {
  const props = (schema?.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema?.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => ({ name, in: where, required: where === 'path' || required.has(name), schema: s }));
}

export function openApiDocument(routes: readonly RouteDef[], version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const r of routes) {
    const path = toOpenApiPath(r.url);
    const op: JsonSchema = {
      summary: r.summary,
      tags: r.tags,
      operationId: `${r.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      parameters: [...parameters(r.schema.params, 'path'), ...parameters(r.schema.querystring, 'query')],
      responses: {
        ...Object.fromEntries(
          Object.entries(r.schema.response ?? { [r.status ?? 200]: { type: 'object' } }).map(([code, schema]) => [
            code,
            { description: 'success', content: { 'application/json': { schema } } },
          ]),
        ),
        default: { description: 'a coded error', content: { 'application/json': { schema: ERROR_BODY } } },
      },
    };
    if (r.auth === 'session') op.security = [{ bearer: [] }];
    if (r.schema.body) op.requestBody = { required: true, content: { 'application/json': { schema: r.schema.body } } };
    paths[path] = { ...paths[path], [r.method.toLowerCase()]: op };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Coffer REST API', version, description: 'A software HSM: keys generated, stored and used inside; binary values are base64.' },
    servers: [{ url: '/' }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}

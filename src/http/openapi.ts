// The OpenAPI 3.1 document of the HTTP API, built from the route list (api-routes.ts) and the
// zod schemas it names, with zod 4's JSON Schema conversion (requests as they are sent, answers
// as they are answered). Served at GET /api/openapi.json; docs/api.md is the prose.
import { z } from 'zod';
import type { Config } from '../config/config.js';
import { errorAnswerSchema } from '../protocol/answers.js';
import { apiRoutes, type ApiRoute } from '../protocol/api-routes.js';

type Json = Record<string, unknown>;

const ERROR_WORDS: Record<number, string> = {
  400: 'a query, path parameter or body that its schema refuses, or a body that is not JSON; `fields` names each',
  401: 'a caller beyond loopback without the API token (Authorization: Bearer <token>)',
  403: 'a web page of another origin; or something the configuration turns off (shell commands in jobs, Obsidian eval) or a token a route needs even from this machine',
  404: 'no such route, or no such id',
  405: 'the path does not take that method',
  409: 'the request contradicts what is stored (or this machine has no speech engine or sound player)',
  413: 'the body is over its limit (the message names it and its setting)',
  415: 'a body that is not JSON',
  426: 'a plain request to the WebSocket feed',
  502: "a service token-api relies on (Obsidian's Local REST API plugin) did not answer, or answered wrongly; the message names it",
  503: 'the database refused the write; nothing changed, try again',
};

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  return rest;
}

/** Path and query parameters, one per property of their object schemas. */
function parameters(r: ApiRoute): Json[] {
  const out: Json[] = [];
  for (const [where, schema] of [
    ['path', r.params],
    ['query', r.query],
  ] as const) {
    if (!schema) continue;
    const json = schemaOf(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, s] of Object.entries(json.properties ?? {})) {
      out.push({ name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema: s, ...(typeof s.description === 'string' ? { description: s.description } : {}) });
    }
  }
  return out;
}

function requestBody(r: ApiRoute): Json | undefined {
  if (!r.body) return undefined;
  if ('type' in r.body) return { required: true, description: r.body.description, content: { [r.body.type]: { schema: { type: 'string' } } } };
  return { required: !r.body.optional, content: { 'application/json': { schema: schemaOf(r.body.schema, 'input') } } };
}

function responses(r: ApiRoute): Json {
  const out: Json = {};
  for (const [status, a] of Object.entries(r.answers)) {
    const content: Json = {};
    if (a.schema) content['application/json'] = { schema: schemaOf(a.schema, 'output') };
    if (a.text) content[a.text.type] = { schema: { type: 'string' }, example: a.text.example };
    out[status] = { description: a.description, ...(Object.keys(content).length > 0 ? { content } : {}) };
  }
  const errors = new Set<number>([401, 403, ...(r.errors ?? [])]);
  if (r.params || r.query || r.body) errors.add(400);
  if (r.body && !('type' in r.body)) errors.add(413).add(415);
  if (r.method !== 'get') errors.add(503);
  for (const status of [...errors].sort()) out[String(status)] = { $ref: `#/components/responses/E${status}` };
  return out;
}

export function openApiDocument(config: Pick<Config, 'modes' | 'stateVariables'>, version: string): Json {
  const paths: Record<string, Json> = {};
  for (const r of apiRoutes(config)) {
    paths[r.path] ??= {};
    paths[r.path]![r.method] = {
      tags: [r.tag],
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      operationId: `${r.method}${r.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      parameters: parameters(r),
      ...(r.body ? { requestBody: requestBody(r) } : {}),
      responses: responses(r),
    };
  }
  const error = schemaOf(errorAnswerSchema, 'output');
  const errorResponses: Json = {};
  for (const [status, words] of Object.entries(ERROR_WORDS)) errorResponses[`E${status}`] = { description: words, content: { 'application/json': { schema: error } } };
  return {
    openapi: '3.1.0',
    info: {
      title: 'token-api',
      version,
      description: 'A local control plane for AI coding agents. Every answer that changes state comes after the change is committed. See docs/api.md.',
    },
    servers: [{ url: 'http://127.0.0.1:7777' }],
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: { token: { type: 'http', scheme: 'bearer', description: 'needed beyond loopback (token-api token prints it)' } },
      responses: errorResponses,
    },
    paths,
  };
}

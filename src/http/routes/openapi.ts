// GET /api/openapi.json: the OpenAPI 3.1 document of this server's API (its mode names and
// state variables included), built once from the route list and the request schemas.
import Router from '@koa/router';
import type { Config } from '../../config/config.js';
import { parseOr400 } from '../errors.js';
import { openApiDocument } from '../openapi.js';
import { emptyQuerySchema } from '../../protocol/api.js';

export interface OpenApiRoutes {
  config: Pick<Config, 'modes' | 'stateVariables'>;
  version: string;
}

export function openApiRouter(deps: OpenApiRoutes): Router {
  const router = new Router();
  let document: string | null = null;
  router.get('/api/openapi.json', (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    document ??= JSON.stringify(openApiDocument(deps.config, deps.version), null, 2);
    ctx.type = 'application/json';
    ctx.body = document;
  });
  return router;
}

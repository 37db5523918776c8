// The configuration over HTTP: GET /api/config (as it runs, and what the file holds; secrets
// masked) and PUT /api/config (a change to the file, checked by its own schema, written
// atomically with a backup, applied at once where the setting allows).
import Router from '@koa/router';
import type { ConfigEditor } from '../../config/editor.js';
import { configChangeSchema } from '../../protocol/config.js';
import { jsonBody } from '../body.js';
import { parseOr400 } from '../errors.js';
import { emptyQuerySchema } from '../../protocol/api.js';

export type ConfigRoutes = Pick<ConfigEditor, 'view' | 'update'> & { bodyLimitBytes: number };

export function configRouter(d: ConfigRoutes): Router {
  const router = new Router({ prefix: '/api/config' });

  router.get('/', (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    ctx.body = d.view();
  });

  router.put('/', jsonBody(d.bodyLimitBytes), async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const raw = (ctx.request.body ?? {}) as { set?: Record<string, unknown>; unset?: string[] };
    const change = parseOr400(configChangeSchema, raw, 'body');
    // The values as sent are merged into the file (the schema only checked them).
    ctx.body = await d.update(raw.set ?? {}, change.unset ?? []);
  });

  return router;
}

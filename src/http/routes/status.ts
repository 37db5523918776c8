// GET /api/status: the service's state and configuration summary (src/system/status.ts).
import Router from '@koa/router';
import type { StatusView } from '../../system/status.js';
import { parseOr400 } from '../errors.js';
import { emptyQuerySchema } from '../schemas.js';

export interface StatusRouteDeps {
  status: () => StatusView;
}

export function statusRouter(d: StatusRouteDeps): Router {
  const router = new Router();
  router.get('/api/status', (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    ctx.body = d.status();
  });
  return router;
}

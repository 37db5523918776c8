// GET /api/status: the service's state and configuration summary (composed by src/system/status.ts).
import Router from '@koa/router';
import type { StatusAnswer } from '../../protocol/status.js';
import { parseOr400 } from '../errors.js';
import { emptyQuerySchema } from '../../protocol/api.js';

export interface StatusRoutes {
  status: () => StatusAnswer;
}

export function statusRouter(d: StatusRoutes): Router {
  const router = new Router();
  router.get('/api/status', (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    ctx.body = d.status();
  });
  return router;
}

// GET /health: is it up, is the database answering, how many actors are live, and whether
// speech and sound can play here (a missing engine or player is reported here, once). The
// figures come from every part of the running system (src/system/views.ts).
import Router from '@koa/router';
import { parseOr400 } from '../errors.js';
import { emptyQuerySchema } from '../../protocol/api.js';

export interface HealthRoutes {
  health(): Promise<unknown>;
}

export function healthRouter(deps: HealthRoutes): Router {
  const router = new Router();
  router.get('/health', async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    ctx.body = await deps.health();
  });
  return router;
}

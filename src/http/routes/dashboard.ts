// GET /api/dashboard: what the terminal dashboard shows, in one answer (src/system/views.ts
// gathers it from the instances, the event log, usage, the mode and the gate).
import Router from '@koa/router';
import { parseOr400 } from '../errors.js';
import { dashboardQuerySchema } from '../../protocol/api.js';

export interface DashboardRoutes {
  /** `events`: how many recent events. */
  dashboard(q: { events: number }): Promise<unknown>;
}

export function dashboardRouter(deps: DashboardRoutes): Router {
  const router = new Router();
  router.get('/api/dashboard', async (ctx) => {
    const q = parseOr400(dashboardQuerySchema, ctx.query, 'query');
    ctx.body = await deps.dashboard(q);
  });
  return router;
}

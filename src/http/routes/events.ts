// The event log, newest first: every hook, registration, stop and decision, with details.
import Router from '@koa/router';
import { eventView } from '../../actors/runtime/event-log.js';
import { listEvents } from '../../db/queries/events.js';
import type { AppDeps } from '../deps.js';
import { parseOr400 } from '../errors.js';
import { eventsQuerySchema } from '../../protocol/api.js';

export function eventsRouter(deps: AppDeps): Router {
  const router = new Router();
  router.get('/api/events', async (ctx) => {
    const q = parseOr400(eventsQuerySchema, ctx.query, 'query');
    const rows = await listEvents(deps.db, {
      limit: q.limit,
      since: q.since,
      until: q.until,
      beforeId: q.before,
      instance: q.instance,
      device: q.device,
      type: q.type,
    });
    ctx.body = { events: rows.map(eventView), count: rows.length };
  });
  return router;
}

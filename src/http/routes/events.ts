// The event log, newest first: every hook, registration, stop and decision, with details.
import Router from '@koa/router';
import type { EventLog } from '../../actors/runtime/event-log.js';
import { parseOr400 } from '../errors.js';
import { eventsQuerySchema } from '../../protocol/api.js';

export type EventsRoutes = Pick<EventLog, 'list'>;

export function eventsRouter(deps: EventsRoutes): Router {
  const router = new Router();
  router.get('/api/events', async (ctx) => {
    const q = parseOr400(eventsQuerySchema, ctx.query, 'query');
    const events = await deps.list({
      limit: q.limit,
      since: q.since,
      until: q.until,
      beforeId: q.before,
      instance: q.instance,
      device: q.device,
      type: q.type,
    });
    ctx.body = { events, count: events.length };
  });
  return router;
}

// GET /api/dashboard: what the terminal dashboard shows, in one answer.
import Router from '@koa/router';
import { instanceView } from '../../actors/instances/instance-view.js';
import { eventView } from '../../actors/runtime/event-log.js';
import { listEvents } from '../../db/queries/events.js';
import { listInstances } from '../../db/queries/instances.js';
import type { AppDeps } from '../deps.js';
import { parseOr400 } from '../errors.js';
import { dashboardQuerySchema } from '../../protocol/api.js';

/** The mode, focus and gate, under the seed's names too (productivity_active, focus_enabled). */
function dashboardModeFields(deps: AppDeps) {
  const mode = deps.workMode.view();
  const gate = deps.gate.productivity();
  return { mode: mode.mode, mode_deadline: mode.deadline, focus: mode.focus, focus_enabled: mode.focus, productivity_active: gate.productive, gate };
}

export function dashboardRouter(deps: AppDeps): Router {
  const router = new Router();
  router.get('/api/dashboard', async (ctx) => {
    const q = parseOr400(dashboardQuerySchema, ctx.query, 'query');
    const [instances, events] = await Promise.all([
      listInstances(deps.db, { status: 'active', limit: 1000 }),
      listEvents(deps.db, { limit: q.events }),
    ]);
    const counts: Record<string, number> = { idle: 0, working: 0, awaiting: 0 };
    for (const i of instances) counts[i.state] = (counts[i.state] ?? 0) + 1;
    // Tokens per instance (records, cost) and today's totals per device, for the dashboard.
    const [tokens, today] = await Promise.all([deps.usage.totalsOfInstances(instances.map((i) => i.id)), deps.usage.devicesToday()]);
    ctx.body = {
      instances: instances.map(instanceView),
      counts,
      recent_events: events.map(eventView),
      ...dashboardModeFields(deps),
      usage: {
        instances: Object.fromEntries(instances.map((i) => [i.id, tokens.get(i.id) ?? null])),
        today,
      },
    };
  });
  return router;
}

// The metrics store over HTTP: GET /api/metrics (every value), GET/POST/DELETE /api/metrics/{key}.
// A set or a delete answers after commit; reads answer from memory.
import Router from '@koa/router';
import type { Context } from 'koa';
import type { MetricsStore } from '../../metrics/store.js';
import { metricBodySchema, metricParamsSchema } from '../../protocol/metrics.js';
import { jsonBody } from '../body.js';
import { parseOr400 } from '../errors.js';
import { emptyQuerySchema } from '../../protocol/api.js';

export type MetricsRoutes = Pick<MetricsStore, 'list' | 'get' | 'set' | 'delete'> & { bodyLimitBytes: number };

export function metricsRouter(d: MetricsRoutes): Router {
  const router = new Router({ prefix: '/api/metrics' });
  const keyOf = (ctx: Context) => parseOr400(metricParamsSchema, ctx.params, 'params').key;
  const noQuery = (ctx: Context) => parseOr400(emptyQuerySchema, ctx.query, 'query');

  router.get('/', (ctx) => {
    noQuery(ctx);
    const list = d.list();
    ctx.body = { count: list.length, metrics: Object.fromEntries(list.map((m) => [m.key, m])) };
  });

  router.get('/:key', (ctx) => {
    const key = keyOf(ctx);
    noQuery(ctx);
    ctx.body = d.get(key);
  });

  router.post('/:key', jsonBody(d.bodyLimitBytes), async (ctx) => {
    const key = keyOf(ctx);
    noQuery(ctx);
    const body = parseOr400(metricBodySchema, ctx.request.body ?? {}, 'body');
    const r = await d.set(key, body.value, body.ttl_seconds);
    ctx.status = r.created ? 201 : 200;
    ctx.body = { ...r.metric, created: r.created };
  });

  router.delete('/:key', async (ctx) => {
    const key = keyOf(ctx);
    noQuery(ctx);
    ctx.body = await d.delete(key);
  });

  return router;
}

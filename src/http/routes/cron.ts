// Scheduled jobs over HTTP: list, create, change, delete, run now, and each job's runs. Changes
// answer after commit; a run started by hand answers once its start is committed (202), or
// with `wait`, once it ended (200).
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Cron } from '../../cron/service.js';
import { createJobSchema, executeBodySchema, jobParamsSchema, runsQuerySchema, updateJobSchema } from '../../protocol/cron.js';
import { jsonBody } from '../body.js';
import { parseOr400 } from '../errors.js';
import { emptyQuerySchema } from '../../protocol/api.js';

export type CronRoutes = Pick<Cron, 'list' | 'get' | 'create' | 'update' | 'remove' | 'execute' | 'runs'> & { bodyLimitBytes: number };

export function cronRouter(d: CronRoutes): Router {
  const router = new Router({ prefix: '/api/cron/jobs' });
  const body = jsonBody(d.bodyLimitBytes);
  const idOf = (ctx: Context) => parseOr400(jobParamsSchema, ctx.params, 'params').id;
  const noQuery = (ctx: Context) => parseOr400(emptyQuerySchema, ctx.query, 'query');

  router.get('/', (ctx) => {
    noQuery(ctx);
    const jobs = d.list();
    ctx.body = { count: jobs.length, jobs };
  });

  router.post('/', body, async (ctx) => {
    noQuery(ctx);
    const job = parseOr400(createJobSchema, ctx.request.body ?? {}, 'body');
    ctx.status = 201;
    ctx.body = await d.create(job);
  });

  router.get('/:id', (ctx) => {
    const id = idOf(ctx);
    noQuery(ctx);
    ctx.body = d.get(id);
  });

  router.put('/:id', body, async (ctx) => {
    const id = idOf(ctx);
    noQuery(ctx);
    const patch = parseOr400(updateJobSchema, ctx.request.body ?? {}, 'body');
    ctx.body = await d.update(id, patch);
  });

  router.delete('/:id', async (ctx) => {
    const id = idOf(ctx);
    noQuery(ctx);
    ctx.body = await d.remove(id);
  });

  router.post('/:id/execute', body, async (ctx) => {
    const id = idOf(ctx);
    noQuery(ctx);
    const { wait } = parseOr400(executeBodySchema, ctx.request.body ?? {}, 'body');
    const run = await d.execute(id, wait ?? false);
    ctx.status = wait ? 200 : 202;
    ctx.body = run;
  });

  router.get('/:id/runs', async (ctx) => {
    const id = idOf(ctx);
    const q = parseOr400(runsQuerySchema, ctx.query, 'query');
    const runs = await d.runs(id, q);
    ctx.body = { count: runs.length, runs };
  });

  return router;
}

// The work mode and the state variables: GET/POST /api/mode, GET/POST /api/state. Changes
// answer after commit; reads answer from memory.
import Router from '@koa/router';
import type { Context } from 'koa';
import { ModeUnavailableError, type ModeUpdate } from '../../actors/mode-gate/work-mode.js';
import { jsonBody } from '../body.js';
import type { AppDeps } from '../deps.js';
import { HttpError, parseOr400 } from '../errors.js';
import { modeBodySchema, stateBodySchema } from '../../protocol/mode-gate.js';
import { emptyQuerySchema } from '../../protocol/api.js';

/** GET /api/state: the mode, focus, state variables, the gate and instance counts by state. */
export function stateView(deps: AppDeps) {
  const { modes: _modes, ...mode } = deps.workMode.view();
  const counts: Record<string, number> = { idle: 0, working: 0, awaiting: 0 };
  const live = deps.instances.live();
  for (const i of live) counts[i.state] = (counts[i.state] ?? 0) + 1;
  return { ...mode, ...deps.workMode.context().vars, gate: deps.gate.productivity(), instances: { ...counts, total: live.length } };
}

async function update(deps: AppDeps, u: ModeUpdate) {
  try {
    return await deps.workMode.update(u);
  } catch (err) {
    if (err instanceof ModeUnavailableError) throw new HttpError(503, 'unavailable', 'the work mode is not running; see the server log');
    throw err;
  }
}

export function modeRouter(deps: AppDeps): Router {
  const router = new Router({ prefix: '/api' });
  const body = jsonBody(deps.config.bodyLimitBytes);
  const modes = Object.keys(deps.config.modes);
  const modeSchema = modeBodySchema(modes);
  const stateSchema = stateBodySchema(modes, deps.config.stateVariables);
  const noQuery = (ctx: Context) => parseOr400(emptyQuerySchema, ctx.query, 'query');

  router.get('/mode', (ctx) => {
    noQuery(ctx);
    ctx.body = deps.workMode.view();
  });

  router.post('/mode', body, async (ctx) => {
    noQuery(ctx);
    const b = parseOr400(modeSchema, ctx.request.body ?? {}, 'body');
    ctx.body = await update(deps, { mode: b.mode, minutes: b.minutes ?? null });
  });

  router.get('/state', (ctx) => {
    noQuery(ctx);
    ctx.body = stateView(deps);
  });

  router.post('/state', body, async (ctx) => {
    noQuery(ctx);
    const { mode, minutes, focus, ...vars } = parseOr400(stateSchema, ctx.request.body ?? {}, 'body');
    await update(deps, {
      ...(mode !== undefined ? { mode, minutes: minutes ?? null } : {}),
      ...(focus !== undefined ? { focus } : {}),
      ...(Object.keys(vars).length > 0 ? { vars: vars as Record<string, boolean | number | string> } : {}),
    });
    ctx.body = stateView(deps);
  });

  return router;
}

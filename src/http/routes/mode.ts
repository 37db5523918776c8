// The work mode and the state variables: GET/POST /api/mode, GET/POST /api/state. Changes
// answer after commit; reads answer from memory. A mode actor that is not running is the work
// mode's DomainError (not_running), answered 503 by errors.ts.
import Router from '@koa/router';
import type { Context } from 'koa';
import type { WorkMode } from '../../actors/mode-gate/work-mode.js';
import type { Config } from '../../config/config.js';
import { jsonBody } from '../body.js';
import { parseOr400 } from '../errors.js';
import { modeBodySchema, stateBodySchema } from '../../protocol/mode-gate.js';
import { emptyQuerySchema } from '../../protocol/api.js';

export interface ModeRoutes {
  view: WorkMode['view'];
  update: WorkMode['update'];
  /** GET /api/state: the mode, focus, state variables, the gate and instance counts by state. */
  state(): unknown;
  modes: Config['modes'];
  stateVariables: Config['stateVariables'];
  bodyLimitBytes: number;
}

export function modeRouter(deps: ModeRoutes): Router {
  const router = new Router({ prefix: '/api' });
  const body = jsonBody(deps.bodyLimitBytes);
  const modes = Object.keys(deps.modes);
  const modeSchema = modeBodySchema(modes);
  const stateSchema = stateBodySchema(modes, deps.stateVariables);
  const noQuery = (ctx: Context) => parseOr400(emptyQuerySchema, ctx.query, 'query');

  router.get('/mode', (ctx) => {
    noQuery(ctx);
    ctx.body = deps.view();
  });

  router.post('/mode', body, async (ctx) => {
    noQuery(ctx);
    const b = parseOr400(modeSchema, ctx.request.body ?? {}, 'body');
    ctx.body = await deps.update({ mode: b.mode, minutes: b.minutes ?? null });
  });

  router.get('/state', (ctx) => {
    noQuery(ctx);
    ctx.body = deps.state();
  });

  router.post('/state', body, async (ctx) => {
    noQuery(ctx);
    const { mode, minutes, focus, ...vars } = parseOr400(stateSchema, ctx.request.body ?? {}, 'body');
    await deps.update({
      ...(mode !== undefined ? { mode, minutes: minutes ?? null } : {}),
      ...(focus !== undefined ? { focus } : {}),
      ...(Object.keys(vars).length > 0 ? { vars: vars as Record<string, boolean | number | string> } : {}),
    });
    ctx.body = deps.state();
  });

  return router;
}

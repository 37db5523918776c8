// Accounts for managed sessions: GET /api/accounts (each with its rate limit, sessions and
// today's tokens), POST /api/accounts/{id}/reset-limit (clears a limit by hand, recorded with
// who asked).
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Accounts } from '../../sessions/accounts.js';
import { emptyBodySchema, emptyQuerySchema } from '../../protocol/api.js';
import { accountParamsSchema } from '../../protocol/sessions.js';
import { jsonBody } from '../body.js';
import { parseOr400 } from '../errors.js';
import { actionBy } from '../auth.js';

export interface AccountsRoutes {
  list: Accounts['list'];
  resetLimit: Accounts['resetLimit'];
  bodyLimitBytes: number;
}

export function accountsRouter(deps: AccountsRoutes): Router {
  const router = new Router({ prefix: '/api/accounts' });
  const noQuery = (ctx: Context) => parseOr400(emptyQuerySchema, ctx.query, 'query');

  router.get('/', async (ctx) => {
    noQuery(ctx);
    ctx.body = { accounts: await deps.list() };
  });

  router.post('/:id/reset-limit', jsonBody(deps.bodyLimitBytes), async (ctx) => {
    const { id } = parseOr400(accountParamsSchema, ctx.params, 'params');
    noQuery(ctx);
    parseOr400(emptyBodySchema, ctx.request.body ?? {}, 'body');
    ctx.body = await deps.resetLimit(id, actionBy(ctx));
  });

  return router;
}

// The productivity gate: GET /api/productivity and GET /api/check?app=. Both answer from
// memory; a check's `gate.check` event row is written behind the answer (see
// src/actors/mode-gate/productivity-gate.ts for why it does not wait for the commit).
import Router from '@koa/router';
import type { Context } from 'koa';
import type { CheckSource } from '../../actors/mode-gate/productivity-gate.js';
import type { AppDeps } from '../deps.js';
import { parseOr400 } from '../errors.js';
import { checkQuerySchema } from '../../protocol/mode-gate.js';
import { isLoopbackAddress } from '../../lib/net.js';
import { emptyQuerySchema } from '../../protocol/api.js';

/** Who is asking, for the check's event row. */
export function checkSource(deps: AppDeps, ctx: Context, via: CheckSource['via']): CheckSource {
  const remoteAddress = deps.peerAddress ? deps.peerAddress(ctx.req) : ctx.req.socket.remoteAddress;
  return { via, remoteAddress, local: isLoopbackAddress(remoteAddress) };
}

export function gateRouter(deps: AppDeps): Router {
  const router = new Router({ prefix: '/api' });

  router.get('/productivity', (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    ctx.body = deps.gate.productivity();
  });

  router.get('/check', (ctx) => {
    const q = parseOr400(checkQuerySchema, ctx.query, 'query');
    ctx.body = deps.gate.check(q.app, checkSource(deps, ctx, 'api'));
  });

  return router;
}

// The productivity gate: GET /api/productivity and GET /api/check?app=. Both answer from
// memory; a check's `gate.check` event row is written behind the answer (see
// src/actors/mode-gate/productivity-gate.ts for why it does not wait for the commit).
import Router from '@koa/router';
import type { Context } from 'koa';
import type { CheckSource, ProductivityGate } from '../../actors/mode-gate/productivity-gate.js';
import { parseOr400 } from '../errors.js';
import { checkQuerySchema } from '../../protocol/mode-gate.js';
import { peerOfContext } from '../request.js';
import { emptyQuerySchema } from '../../protocol/api.js';

export type GateRoutes = Pick<ProductivityGate, 'productivity' | 'check'>;

/** Who is asking, for the check's event row. */
export function checkSource(ctx: Context, via: CheckSource['via']): CheckSource {
  const peer = peerOfContext(ctx);
  return { via, remoteAddress: peer.address, local: peer.local };
}

export function gateRouter(deps: GateRoutes): Router {
  const router = new Router({ prefix: '/api' });

  router.get('/productivity', (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    ctx.body = deps.productivity();
  });

  router.get('/check', (ctx) => {
    const q = parseOr400(checkQuerySchema, ctx.query, 'query');
    ctx.body = deps.check(q.app, checkSource(ctx, 'api'));
  });

  return router;
}

// GET /: the service's name and version; with `?app=`, the legacy gate check for MacroDroid:
// a text/plain body of exactly `allowed` or `blocked`, status 200 both ways.
import Router from '@koa/router';
import type { ProductivityGate } from '../../actors/mode-gate/productivity-gate.js';
import { parseOr400 } from '../errors.js';
import { rootQuerySchema } from '../../protocol/mode-gate.js';
import { checkSource } from './gate.js';

export interface RootRoutes {
  check: ProductivityGate['check'];
  version: string;
}

export function rootRouter(deps: RootRoutes): Router {
  const router = new Router();
  router.get('/', (ctx) => {
    const q = parseOr400(rootQuerySchema, ctx.query, 'query');
    if (q.app === undefined) {
      ctx.body = { service: 'token-api', version: deps.version };
      return;
    }
    const answer = deps.check(q.app, checkSource(ctx, 'legacy'));
    ctx.type = 'text/plain';
    ctx.body = answer.allowed ? 'allowed' : 'blocked';
  });
  return router;
}

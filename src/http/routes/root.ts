// GET /: the service's name and version (the legacy gate check lives here too, with the gate).
import Router from '@koa/router';
import type { AppDeps } from '../deps.js';

export function rootRouter(deps: AppDeps): Router {
  const router = new Router();
  router.get('/', (ctx) => {
    ctx.body = { service: 'token-api', version: deps.version };
  });
  return router;
}

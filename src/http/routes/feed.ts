// GET /ws as a plain HTTP request: the live feed is a WebSocket, so say how to reach it
// (426) rather than answer "no route". The upgrade itself is src/http/feed-upgrade.ts.
import Router from '@koa/router';
import { HttpError } from '../errors.js';

export function feedRouter(): Router {
  const router = new Router();
  router.get('/ws', (ctx) => {
    ctx.set('Upgrade', 'websocket');
    ctx.set('Connection', 'Upgrade');
    throw new HttpError(426, 'upgrade_required', `the live feed is a WebSocket: connect to ws://${ctx.host}/ws (see docs/websocket.md)`);
  });
  return router;
}

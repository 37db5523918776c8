// createApp(deps): the Koa app, without listening. Error shaping comes first, then one
// router per resource; unknown paths are 404 and unknown methods 405, in the error shape.
import type Router from '@koa/router';
import Koa from 'koa';
import type { AppDeps } from './deps.js';
import { errorMiddleware } from './errors.js';
import { dashboardRouter } from './routes/dashboard.js';
import { devicesRouter } from './routes/devices.js';
import { eventsRouter } from './routes/events.js';
import { healthRouter } from './routes/health.js';
import { hooksRouter } from './routes/hooks.js';
import { hookSpoolRouter } from './routes/hook-spool.js';
import { codexRouter } from './routes/codex.js';
import { instancesRouter } from './routes/instances.js';
import { notificationsRouter } from './routes/notifications.js';
import { rootRouter } from './routes/root.js';
import { authMiddleware } from './auth.js';
import { gateRouter } from './routes/gate.js';
import { modeRouter } from './routes/mode.js';
import { gateFastPath } from './gate-fast-path.js';
import { hookFastPath, withFastPaths } from './fast-paths.js';
import { usageRouter } from './routes/usage.js';
import { feedRouter } from './routes/feed.js';
import { openApiRouter } from './routes/openapi.js';
import { webRouter } from './routes/web.js';
import { webStatic } from './web-static.js';

/** Every router of the API (src/http/api-routes.ts lists each of their routes for OpenAPI). */
export function apiRouters(deps: AppDeps): Router[] {
  return [
    hooksRouter(deps),
    instancesRouter(deps),
    devicesRouter(deps),
    eventsRouter(deps),
    dashboardRouter(deps),
    healthRouter(deps),
    notificationsRouter(deps),
    rootRouter(deps),
    hookSpoolRouter(deps),
    codexRouter(deps),
    modeRouter(deps),
    gateRouter(deps),
    usageRouter(deps),
    feedRouter(deps),
    openApiRouter(deps),
    webRouter(deps),
  ];
}

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.silent = true;
  app.on('error', (err: Error) => deps.logger.debug({ err }, 'koa error'));
  app.use(errorMiddleware(deps.logger));
  // The web page's files are public (they hold no data; the login form must load).
  app.use(webStatic(deps.webRoot));
  app.use(authMiddleware(deps.auth, deps.peerAddress));
  for (const router of apiRouters(deps)) {
    app.use(router.routes());
    // A known path with another method: 405 (or 501 for a method no route uses) with Allow,
    // put in words by the error middleware.
    app.use(router.allowedMethods());
  }
  return withFastPaths(app, [gateFastPath(deps), hookFastPath(deps)], deps.logger);
}

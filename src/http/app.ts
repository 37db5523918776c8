// createApp(deps): the Koa app, without listening. Error shaping comes first, then the web
// page's files (public: src/http/web-static.ts), the peer (src/http/request.ts) and the access
// policy, then the given routers; unknown paths are 404 and unknown methods 405, in the error
// shape. The fast paths in front of it are composed by src/http/handler.ts, not patched in.
import type Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import { authMiddleware, type AuthPolicy } from './auth.js';
import { errorMiddleware } from './errors.js';
import { peerMiddleware, type PeerAddress } from './request.js';
import { webStatic } from './web-static.js';

export interface AppDeps {
  logger: Logger;
  auth: AuthPolicy;
  /** Where a request comes from, when not its socket's address (tests stand in for other hosts). */
  peerAddress?: PeerAddress;
  /** The API's routers (src/http/routers.ts apiRouters); a test may give one. */
  routers: readonly Router[];
  /** Where the built web page is (default dist/web). */
  webRoot?: string;
}

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.silent = true;
  app.on('error', (err: Error) => deps.logger.debug({ err }, 'koa error'));
  app.use(errorMiddleware(deps.logger));
  // The web page's files are public (they hold no data; the login form must load).
  app.use(webStatic(deps.webRoot));
  app.use(peerMiddleware(deps.peerAddress));
  app.use(authMiddleware(deps.auth));
  for (const router of deps.routers) {
    app.use(router.routes());
    // A known path with another method: 405 (or 501 for a method no route uses) with Allow,
    // put in words by the error middleware.
    app.use(router.allowedMethods());
  }
  return app;
}

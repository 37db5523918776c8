// The web page's session routes: who this browser is (GET /api/web/session), logging in with
// the API token or a one-time code (POST /api/web/login: cookies), logging out, and minting a
// one-time login link (POST /api/web/link, for `token-api web link`; this machine or the
// token only, never a cookie session).
import Router from '@koa/router';
import type { Context } from 'koa';
import { publicBase } from '../../lib/net.js';
import { emptyQuerySchema } from '../../protocol/api.js';
import { webLoginBodySchema } from '../../protocol/web.js';
import type { AuthDecision, AuthPolicy } from '../auth.js';
import { jsonBody } from '../body.js';
import { HttpError, parseOr400 } from '../errors.js';
import { peerOfContext } from '../request.js';
import { CSRF_COOKIE, SESSION_COOKIE, setCookie, type WebSessions } from '../web-session.js';
import { WEB_PREFIX } from '../web-static.js';

export interface WebRoutes {
  sessions: Pick<WebSessions, 'issue' | 'fromCookie' | 'mintCode' | 'consumeCode'>;
  tokenMatches: AuthPolicy['tokenMatches'];
  /** web.public_url (null: not set). */
  publicUrl: string | null;
  /** Where token-api listens: a login link's address when no public URL is set. */
  host: string;
  port: number;
  bodyLimitBytes: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Whether the browser reaches the page over TLS: web.public_url is https, the socket is TLS,
 * or a proxy on this machine (`tailscale serve`) says so with X-Forwarded-Proto.
 */
function overTls(ctx: Context, deps: WebRoutes): boolean {
  if (deps.publicUrl?.startsWith('https:')) return true;
  if ((ctx.req.socket as { encrypted?: boolean }).encrypted) return true;
  return peerOfContext(ctx).local && ctx.get('x-forwarded-proto').split(',')[0]?.trim() === 'https';
}

function setSession(ctx: Context, deps: WebRoutes): number {
  const s = deps.sessions.issue();
  const secure = overTls(ctx, deps);
  ctx.append('Set-Cookie', setCookie(SESSION_COOKIE, s.session, { maxAgeS: s.maxAgeS, httpOnly: true, secure }));
  ctx.append('Set-Cookie', setCookie(CSRF_COOKIE, s.csrf, { maxAgeS: s.maxAgeS, httpOnly: false, secure }));
  return s.expiresAt;
}

export function webRouter(deps: WebRoutes): Router {
  const router = new Router({ prefix: '/api/web' });
  const body = jsonBody(deps.bodyLimitBytes);
  const web = deps.sessions;
  const decision = (ctx: Context) => ctx.state.auth as Extract<AuthDecision, { ok: true }>;
  // No cache anywhere: these answers set or describe credentials.
  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });

  router.get('/session', (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const via = decision(ctx).via;
    const session = via === 'cookie' ? web.fromCookie(ctx.get('cookie')) : null;
    ctx.body = { via, expires_at: session ? iso(session.expiresAt) : null };
  });

  router.post('/login', body, (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const b = parseOr400(webLoginBodySchema, ctx.request.body ?? {}, 'body');
    if (b.token !== undefined && !deps.tokenMatches(b.token)) {
      throw new HttpError(401, 'unauthorized', "that is not this server's API token (run `token-api token` on the server to see it)", { token: 'is not the API token' });
    }
    if (b.code !== undefined && !web.consumeCode(b.code)) {
      throw new HttpError(401, 'unauthorized', 'that login link is unknown, was used already or has expired; run `token-api web link` for a new one', { code: 'is unknown, used or expired' });
    }
    ctx.body = { via: 'cookie', expires_at: iso(setSession(ctx, deps)) };
  });

  router.post('/logout', body, (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const secure = overTls(ctx, deps);
    ctx.append('Set-Cookie', setCookie(SESSION_COOKIE, '', { maxAgeS: 0, httpOnly: true, secure }));
    ctx.append('Set-Cookie', setCookie(CSRF_COOKIE, '', { maxAgeS: 0, httpOnly: false, secure }));
    ctx.status = 204;
  });

  router.post('/link', body, (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const via = decision(ctx).via;
    if (via !== 'loopback' && via !== 'token') {
      throw new HttpError(403, 'forbidden', 'login links are made on the server itself (token-api web link) or with the API token, not from a web session');
    }
    const { code, expiresAt } = web.mintCode();
    const { base, reachable } = publicBase(deps, ctx.req.socket.localPort ?? deps.port);
    ctx.body = { url: `${base}${WEB_PREFIX}#code=${code}`, expires_at: iso(expiresAt), reachable };
  });

  return router;
}

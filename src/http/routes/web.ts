// The web page's session routes: who this browser is (GET /api/web/session), logging in with
// the API token or a one-time code (POST /api/web/login: cookies), logging out, and minting a
// one-time login link (POST /api/web/link, for `token-api web link`; this machine or the
// token only, never a cookie session).
import { networkInterfaces } from 'node:os';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '../../config.js';
import type { AuthDecision } from '../auth.js';
import { jsonBody } from '../body.js';
import type { AppDeps } from '../deps.js';
import { HttpError, parseOr400 } from '../errors.js';
import { isLoopbackAddress } from '../remote.js';
import { emptyQuerySchema } from '../schemas.js';
import { webLoginBodySchema } from '../web-schemas.js';
import { CSRF_COOKIE, SESSION_COOKIE, setCookie, type WebSessions } from '../web-session.js';
import { WEB_PREFIX } from '../web-static.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** This machine's address as others see it: a Tailscale one (100.64.0.0/10) first, else any non-loopback IPv4. */
export function outwardAddress(interfaces = networkInterfaces()): string | null {
  const all = Object.values(interfaces).flatMap((list) => list ?? []).filter((i) => i.family === 'IPv4' && !i.internal);
  const tailscale = all.find((i) => {
    const [a, b] = i.address.split('.').map(Number);
    return a === 100 && b! >= 64 && b! <= 127;
  });
  return (tailscale ?? all[0])?.address ?? null;
}

/** Where a browser elsewhere reaches the page: web.public_url, else this server's address. */
export function publicBase(config: Pick<Config, 'host' | 'web'>, port: number, address = outwardAddress): { base: string; reachable: boolean } {
  if (config.web.publicUrl) return { base: config.web.publicUrl, reachable: true };
  const wildcard = config.host === '0.0.0.0' || config.host === '::';
  if (!wildcard && (isLoopbackAddress(config.host) || config.host === 'localhost')) return { base: `http://127.0.0.1:${port}`, reachable: false };
  const host = wildcard ? address() : config.host;
  if (!host) return { base: `http://127.0.0.1:${port}`, reachable: false };
  return { base: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, reachable: true };
}

/**
 * Whether the browser reaches the page over TLS: web.public_url is https, the socket is TLS,
 * or a proxy on this machine (`tailscale serve`) says so with X-Forwarded-Proto.
 */
function overTls(ctx: Context, deps: AppDeps): boolean {
  if (deps.config.web.publicUrl?.startsWith('https:')) return true;
  if ((ctx.req.socket as { encrypted?: boolean }).encrypted) return true;
  const peer = deps.peerAddress ? deps.peerAddress(ctx.req) : ctx.req.socket.remoteAddress;
  return isLoopbackAddress(peer) && ctx.get('x-forwarded-proto').split(',')[0]?.trim() === 'https';
}

function setSession(ctx: Context, deps: AppDeps, web: WebSessions): number {
  const s = web.issue();
  const secure = overTls(ctx, deps);
  ctx.append('Set-Cookie', setCookie(SESSION_COOKIE, s.session, { maxAgeS: s.maxAgeS, httpOnly: true, secure }));
  ctx.append('Set-Cookie', setCookie(CSRF_COOKIE, s.csrf, { maxAgeS: s.maxAgeS, httpOnly: false, secure }));
  return s.expiresAt;
}

export function webRouter(deps: AppDeps): Router {
  const router = new Router({ prefix: '/api/web' });
  const body = jsonBody(deps.config.bodyLimitBytes);
  const web = deps.web;
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
    if (b.token !== undefined && !deps.auth.tokenMatches(b.token)) {
      throw new HttpError(401, 'unauthorized', "that is not this server's API token (run `token-api token` on the server to see it)", { token: 'is not the API token' });
    }
    if (b.code !== undefined && !web.consumeCode(b.code)) {
      throw new HttpError(401, 'unauthorized', 'that login link is unknown, was used already or has expired; run `token-api web link` for a new one', { code: 'is unknown, used or expired' });
    }
    ctx.body = { via: 'cookie', expires_at: iso(setSession(ctx, deps, web)) };
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
    const { base, reachable } = publicBase(deps.config, ctx.req.socket.localPort ?? deps.config.port);
    ctx.body = { url: `${base}${WEB_PREFIX}#code=${code}`, expires_at: iso(expiresAt), reachable };
  });

  return router;
}

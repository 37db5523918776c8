// Who may call: requests from loopback to localhost or an IP address always; gate checks (GET /api/check, GET /) from the
// configured networks (loopback and Tailscale's 100.64.0.0/10 by default) without a token;
// everything else from beyond loopback needs `Authorization: Bearer <token>`. Whatever the
// address, a request a web browser sends for a page of another origin is refused: a site open
// in the person's browser must not post fake hook events or read the live feed. The policy is
// a plain function of the request's facts, so the WebSocket feed applies the same rules.
// The web page beyond loopback logs in once (POST /api/web/login, open to all but other
// origins) and is then let in by its session cookie; its writes must carry X-CSRF-Token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Context, Next } from 'koa';
import { isMachineToken } from '../fleet/tokens.js';
import { isLoopbackAddress, networkMatcher } from '../lib/net.js';
import { HttpError } from './errors.js';
import { peerOfContext, requestLine, type RequestLine } from './request.js';
import { CSRF_HEADER, type WebSessions } from './web-session.js';

export interface AuthPolicy {
  /** Whether `token` is the API token (constant time). */
  tokenMatches(token: string): boolean;
  /** Whether an address may ask the gate without the token. */
  mayCheckWithoutToken(address: string | undefined): boolean;
  /** The web page's cookie sessions (none: cookies let nobody in). */
  web?: Pick<WebSessions, 'fromCookie' | 'csrfMatches'>;
  /** The origin the page is published at (web.public_url), same-origin whatever the Host says. */
  publicOrigin?: string | null;
}

export interface RequestFacts {
  method: string;
  /** Path without the query string. */
  path: string;
  remoteAddress: string | undefined;
  /** The Authorization header, if any. */
  authorization: string | undefined;
  /** The Origin header (browsers send it; scripts, automations and the dashboard do not). */
  origin?: string | undefined;
  /** The Host header the request was sent to. */
  host?: string | undefined;
  /** The Cookie header (the web page's session). */
  cookie?: string | undefined;
  /** The X-CSRF-Token header (the web page's writes). */
  csrf?: string | undefined;
}

export type AuthDecision =
  | { ok: true; via: 'loopback' | 'check_network' | 'token' | 'cookie' | 'login' | 'link' | 'machine' }
  | { ok: false; status: 401 | 403; reason: string };

/** A browser's request from a page of another origin (Origin "null" included). */
export function isCrossOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return false;
  if (!host) return true;
  try {
    return new URL(origin).host !== host.toLowerCase();
  } catch {
    return true;
  }
}

/**
 * Whether the Host a request was sent to names this machine directly: `localhost` or an IP
 * address (or no Host at all). A web page can point a DNS name of its own at 127.0.0.1 (DNS
 * rebinding) and then call token-api as its own origin, from loopback; only requests to such
 * a name are refused the loopback exemption, never those to localhost or an address.
 */
export function isDirectHost(host: string | undefined): boolean {
  if (!host) return true;
  const h = host.toLowerCase();
  if (h.startsWith('[')) return true; // only IPv6 addresses are written in brackets
  const name = h.replace(/:\d*$/, '').replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || isIP(name) !== 0;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export function createAuthPolicy(o: { token: string; gateCheckNetworks: readonly string[]; web?: AuthPolicy['web']; publicOrigin?: string | null }): AuthPolicy {
  const want = digest(o.token);
  const inNetworks = networkMatcher(o.gateCheckNetworks);
  return {
    tokenMatches: (token) => timingSafeEqual(digest(token), want),
    mayCheckWithoutToken: inNetworks,
    web: o.web,
    publicOrigin: o.publicOrigin ?? null,
  };
}

/** The web page's login: open to every address (it is how a browser gets in), never to other origins. */
export function isWebLogin(method: string, path: string): boolean {
  return method === 'POST' && path === '/api/web/login';
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Read-only gate checks: the only requests some networks may make without the token. */
export function isGateCheck(method: string, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && (path === '/api/check' || path === '/');
}

/**
 * A one-time approve/deny link (GET /api/approvals/{id}/approve?t=…, or another machine's as its
 * hub relays it: /v1/machines/{machine}/approvals/{id}/approve?t=…): its signature is its
 * authority, checked by the route (by the machine, for a relayed one).
 */
export function isApprovalLink(method: string, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && /^(\/api|\/v1\/machines\/[^/]{1,200})\/approvals\/[A-Za-z0-9._:-]{1,128}\/(approve|deny)$/.test(path);
}

/**
 * The routes a machine calls on its hub with its own token (`tam_...`), which the route checks
 * (src/http/routes/machines.ts): registering, its two documents, its WebSocket.
 */
export function isMachineRoute(method: string, path: string): boolean {
  return (
    (method === 'POST' && path === '/v1/machines') ||
    (method === 'PUT' && /^\/v1\/machines\/[^/]+\/(metadata|daemon-state)$/.test(path)) ||
    (method === 'GET' && path === '/v1/machines/connect')
  );
}

export function bearerToken(header: string | undefined): string | null {
  const m = header ? /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header) : null;
  return m ? m[1]! : null;
}

export function authorize(policy: AuthPolicy, r: RequestFacts): AuthDecision {
  if (isCrossOrigin(r.origin, r.host) && !(policy.publicOrigin && r.origin === policy.publicOrigin)) {
    return { ok: false, status: 403, reason: `requests from web pages of another origin (${String(r.origin).slice(0, 100)}) are refused` };
  }
  const loopback = isLoopbackAddress(r.remoteAddress);
  if (loopback && isDirectHost(r.host)) return { ok: true, via: 'loopback' };
  if (isWebLogin(r.method, r.path)) return { ok: true, via: 'login' };
  if (isGateCheck(r.method, r.path) && policy.mayCheckWithoutToken(r.remoteAddress)) return { ok: true, via: 'check_network' };
  if (isApprovalLink(r.method, r.path)) return { ok: true, via: 'link' };
  const token = bearerToken(r.authorization);
  if (token !== null && policy.tokenMatches(token)) return { ok: true, via: 'token' };
  if (isMachineToken(token) && isMachineRoute(r.method, r.path)) return { ok: true, via: 'machine' };
  const session = token === null ? (policy.web?.fromCookie(r.cookie) ?? null) : null;
  if (session) {
    if (!SAFE_METHODS.has(r.method) && !policy.web!.csrfMatches(session, r.csrf)) {
      return { ok: false, status: 403, reason: `a change made with the web page's session needs the X-CSRF-Token header (the ta_csrf cookie's value); reload the page` };
    }
    return { ok: true, via: 'cookie' };
  }
  const who = loopback ? `this machine to the name ${String(r.host).slice(0, 100)} (only localhost and IP addresses are trusted without a token)` : (r.remoteAddress ?? 'an unknown address');
  return {
    ok: false,
    status: 401,
    reason:
      token === null
        ? `requests from ${who} need "Authorization: Bearer <token>" (run \`token-api token\` on the server to see it)`
        : `the token sent from ${who} is not this server's token (run \`token-api token\` on the server to see it)`,
  };
}

/** The facts of a raw Node request (an HTTP request or a WebSocket upgrade); the peer from src/http/request.ts. */
export function requestFacts(req: IncomingMessage, line: RequestLine, remoteAddress: string | undefined): RequestFacts {
  return {
    method: line.method,
    path: line.path,
    remoteAddress,
    authorization: req.headers.authorization,
    origin: req.headers.origin,
    host: req.headers.host,
    cookie: req.headers.cookie,
    csrf: typeof req.headers[CSRF_HEADER] === 'string' ? req.headers[CSRF_HEADER] : undefined,
  };
}

/** Koa middleware: 401 (in the error shape, before any route runs) when the policy refuses. */
export function authMiddleware(policy: AuthPolicy) {
  return async function auth(ctx: Context, next: Next): Promise<void> {
    const d = authorize(policy, requestFacts(ctx.req, requestLine(ctx.req), peerOfContext(ctx).address));
    if (!d.ok) {
      if (d.status === 403) throw new HttpError(403, 'forbidden', d.reason);
      ctx.set('WWW-Authenticate', 'Bearer realm="token-api"');
      throw new HttpError(401, 'unauthorized', d.reason);
    }
    ctx.state.auth = d;
    await next();
  };
}

/** Who asked for an action, as recorded with it: a caller on loopback, or one with the token. */
export function actionBy(ctx: Context): 'loopback' | 'token' {
  return (ctx.state.auth as { via?: string } | undefined)?.via === 'loopback' ? 'loopback' : 'token';
}

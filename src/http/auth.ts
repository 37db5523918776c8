// Who may call: requests from loopback to localhost or an IP address always; gate checks (GET /api/check, GET /) from the
// configured networks (loopback and Tailscale's 100.64.0.0/10 by default) without a token;
// everything else from beyond loopback needs `Authorization: Bearer <token>`. Whatever the
// address, a request a web browser sends for a page of another origin is refused: a site open
// in the person's browser must not post fake hook events or read the live feed. The policy is
// a plain function of the request's facts, so the WebSocket feed applies the same rules.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Context, Next } from 'koa';
import { isMachineToken } from '../fleet/tokens.js';
import { isLoopbackAddress, networkMatcher } from '../lib/net.js';
import { HttpError } from './errors.js';
import { peerOfContext, requestLine, type RequestLine } from './request.js';

export interface AuthPolicy {
  /** Whether `token` is the API token (constant time). */
  tokenMatches(token: string): boolean;
  /** Whether an address may ask the gate without the token. */
  mayCheckWithoutToken(address: string | undefined): boolean;
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
}

export type AuthDecision =
  | { ok: true; via: 'loopback' | 'check_network' | 'token' | 'machine' }
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

export function createAuthPolicy(o: { token: string; gateCheckNetworks: readonly string[] }): AuthPolicy {
  const want = digest(o.token);
  const inNetworks = networkMatcher(o.gateCheckNetworks);
  return {
    tokenMatches: (token) => timingSafeEqual(digest(token), want),
    mayCheckWithoutToken: inNetworks,
  };
}

/** Read-only gate checks: the only requests some networks may make without the token. */
export function isGateCheck(method: string, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && (path === '/api/check' || path === '/');
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
  if (isCrossOrigin(r.origin, r.host)) {
    return { ok: false, status: 403, reason: `requests from web pages of another origin (${String(r.origin).slice(0, 100)}) are refused` };
  }
  const loopback = isLoopbackAddress(r.remoteAddress);
  if (loopback && isDirectHost(r.host)) return { ok: true, via: 'loopback' };
  if (isGateCheck(r.method, r.path) && policy.mayCheckWithoutToken(r.remoteAddress)) return { ok: true, via: 'check_network' };
  const token = bearerToken(r.authorization);
  if (token !== null && policy.tokenMatches(token)) return { ok: true, via: 'token' };
  if (isMachineToken(token) && isMachineRoute(r.method, r.path)) return { ok: true, via: 'machine' };
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
    await next();
  };
}

// The hot path of gate checks (`GET /?app=`, `GET /api/check?app=`), answered by node:http
// in front of Koa: automations ask these many times and want a fast, certain answer, and
// Koa's context and middleware chain cost more than the whole decision. It answers only a
// well-formed, authorised check, with the same status, headers and body as the Koa routes
// (routes/root.ts, routes/gate.ts); anything else (a bad or extra parameter, a refused
// caller, another method) falls through to Koa, whose routes and one error middleware
// answer it. The access policy and the app schema are the same ones the routes use.
import { authorize, requestFacts } from '../auth.js';
import type { AppDeps } from '../deps.js';
import type { FastPath } from './hook.js';
import { appSchema } from '../../protocol/mode-gate.js';
import { isLoopbackAddress } from '../../lib/net.js';

/** The single `app` parameter of a query string, or null when there is anything else. */
export function soleApp(query: string): string | null {
  if (!query.startsWith('app=') || query.includes('&')) return null;
  try {
    return decodeURIComponent(query.slice(4).replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

export function gateFastPath(deps: AppDeps): FastPath {
  return (req, res) => {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if (q === -1) return false;
    const path = url.slice(0, q);
    const legacy = path === '/';
    if (!legacy && path !== '/api/check') return false;
    const raw = soleApp(url.slice(q + 1));
    if (raw === null) return false;
    const parsed = appSchema.safeParse(raw);
    if (!parsed.success) return false;
    const remoteAddress = deps.peerAddress ? deps.peerAddress(req) : req.socket.remoteAddress;
    if (!authorize(deps.auth, requestFacts(req, remoteAddress)).ok) return false;

    const answer = deps.gate.check(parsed.data, { via: legacy ? 'legacy' : 'api', remoteAddress, local: isLoopbackAddress(remoteAddress) });
    const body = legacy ? (answer.allowed ? 'allowed' : 'blocked') : JSON.stringify(answer);
    res.writeHead(200, {
      'Content-Type': legacy ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(method === 'HEAD' ? undefined : body);
    return true;
  };
}

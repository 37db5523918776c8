// The hot path of gate checks (`GET /?app=`, `GET /api/check?app=`), answered by node:http
// in front of Koa (src/http/handler.ts): automations ask these many times and want a fast,
// certain answer, and Koa's context and middleware chain cost more than the whole decision. It
// answers only a well-formed, authorised check, with the same status, headers and body as the
// Koa routes (routes/root.ts, routes/gate.ts); anything else (a bad or extra parameter, a
// refused caller, another method) falls through to Koa, whose routes and one error middleware
// answer it. The access policy and the app schema are the same ones the routes use.
import type { ProductivityGate } from '../../actors/mode-gate/productivity-gate.js';
import { appSchema } from '../../protocol/mode-gate.js';
import { authorize, requestFacts, type AuthPolicy } from '../auth.js';
import type { FastPath } from '../handler.js';
import { peerOf, type PeerAddress } from '../request.js';

/** The single `app` parameter of a query string, or null when there is anything else. */
export function soleApp(query: string): string | null {
  if (!query.startsWith('app=') || query.includes('&')) return null;
  try {
    return decodeURIComponent(query.slice(4).replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

export interface GateFastPathDeps {
  auth: AuthPolicy;
  peerAddress?: PeerAddress;
  check: ProductivityGate['check'];
}

export function gateFastPath(deps: GateFastPathDeps): FastPath {
  return (req, res, line) => {
    const method = line.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const legacy = line.path === '/';
    if (!legacy && line.path !== '/api/check') return false;
    const raw = soleApp(line.query);
    if (raw === null) return false;
    const parsed = appSchema.safeParse(raw);
    if (!parsed.success) return false;
    const peer = peerOf(req, deps.peerAddress);
    if (!authorize(deps.auth, requestFacts(req, line, peer.address)).ok) return false;

    const answer = deps.check(parsed.data, { via: legacy ? 'legacy' : 'api', remoteAddress: peer.address, local: peer.local });
    const body = legacy ? (answer.allowed ? 'allowed' : 'blocked') : JSON.stringify(answer);
    res.writeHead(200, {
      'Content-Type': legacy ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(method === 'HEAD' ? undefined : body);
    return true;
  };
}

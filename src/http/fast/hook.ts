// The two hottest requests are answered by node:http in front of Koa: gate checks (which
// automations ask constantly) and hook events (sent before and after every tool call).
// Koa's context and middleware chain cost more than either answer, measured. A fast path
// takes only requests it fully handles, with the same access policy, schemas, handler and
// error shape as the Koa routes; everything else falls through to Koa.
import { parse as parseQuery } from 'node:querystring';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Koa from 'koa';
import { authorize, requestFacts } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { errorAnswer } from '../errors.js';
import { isLoopbackAddress } from '../../lib/net.js';
import { readRawBody } from '../body.js';
import { runHookRequest } from '../hook-call.js';

/** Answers a request and returns true, or returns false to leave it to Koa. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

type KoaHandler = ReturnType<Koa['callback']>;
const ANSWERED = Promise.resolve();

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** POST /api/hooks from an authorised caller, answered without Koa. */
export function hookFastPath(deps: AppDeps): FastPath {
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path !== '/api/hooks') return false;
    const remoteAddress = deps.peerAddress ? deps.peerAddress(req) : req.socket.remoteAddress;
    if (!authorize(deps.auth, requestFacts(req, remoteAddress)).ok) return false;
    void (async () => {
      try {
        const text = await readRawBody(req, deps.config.hookBodyLimitBytes, 'the hook event', 'hook_body_limit_bytes');
        const sshHeader = req.headers['x-token-api-ssh-client'];
        const r = await runHookRequest(deps.instances.handleHook, {
          query: q === -1 ? {} : parseQuery(url.slice(q + 1)),
          sshHeader: typeof sshHeader === 'string' && sshHeader !== '' ? sshHeader : undefined,
          text,
          local: isLoopbackAddress(remoteAddress),
        });
        sendJson(res, r.status, r.body);
      } catch (err) {
        const answer = errorAnswer(err, deps.logger, { method: 'POST', path });
        sendJson(res, answer.status, answer.body);
      }
    })();
    return true;
  };
}

/** The app's request handler with the fast paths tried before Koa. */
export function withFastPaths(app: Koa, paths: readonly FastPath[], logger: AppDeps['logger']): Koa {
  const koaCallback = app.callback.bind(app);
  app.callback = (): KoaHandler => {
    const koa = koaCallback();
    // token-api serves HTTP/1.1 only (node:http), so requests are IncomingMessages.
    return (req, res) => {
      try {
        for (const fast of paths) if (fast(req as IncomingMessage, res as ServerResponse)) return ANSWERED;
      } catch (err) {
        // A throw here would escape node:http's request listener and end the process.
        const answer = errorAnswer(err, logger, { method: req.method ?? '', path: (req.url ?? '').split('?')[0]! });
        sendJson(res as ServerResponse, answer.status, answer.body);
        return ANSWERED;
      }
      return koa(req, res);
    };
  };
  return app;
}

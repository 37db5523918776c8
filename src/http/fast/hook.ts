// POST /api/hooks answered in front of Koa (src/http/handler.ts): hook events come before and
// after every tool call, and Koa's context and middleware chain cost more than the answer,
// measured. It takes only an authorised POST /api/hooks, with the same access policy, schemas,
// handler (src/http/hook-call.ts) and error shape as the Koa route; anything else falls through.
import { parse as parseQuery } from 'node:querystring';
import type { Logger } from 'pino';
import { authorize, requestFacts, type AuthPolicy } from '../auth.js';
import { readRawBody } from '../body.js';
import { errorAnswer } from '../errors.js';
import { sendJson, type FastPath } from '../handler.js';
import { runHookRequest, type HandleHook } from '../hook-call.js';
import { peerOf, type PeerAddress } from '../request.js';

export interface HookFastPathDeps {
  auth: AuthPolicy;
  peerAddress?: PeerAddress;
  handleHook: HandleHook;
  bodyLimitBytes: number;
  logger: Logger;
}

export function hookFastPath(deps: HookFastPathDeps): FastPath {
  return (req, res, line) => {
    if (line.method !== 'POST' || line.path !== '/api/hooks') return false;
    const peer = peerOf(req, deps.peerAddress);
    if (!authorize(deps.auth, requestFacts(req, line, peer.address)).ok) return false;
    void (async () => {
      try {
        const text = await readRawBody(req, deps.bodyLimitBytes, 'the hook event', 'hook_body_limit_bytes');
        const sshHeader = req.headers['x-token-api-ssh-client'];
        const r = await runHookRequest(deps.handleHook, {
          query: line.query === '' ? {} : parseQuery(line.query),
          sshHeader: typeof sshHeader === 'string' && sshHeader !== '' ? sshHeader : undefined,
          text,
          local: peer.local,
        });
        sendJson(res, r.status, r.body);
      } catch (err) {
        const answer = errorAnswer(err, deps.logger, { method: 'POST', path: line.path });
        sendJson(res, answer.status, answer.body);
      }
    })();
    return true;
  };
}

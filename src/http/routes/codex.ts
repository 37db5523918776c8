// POST /api/codex/notify: the JSON Codex passes its `notify` program (`token-api
// codex-notify` forwards it here unchanged). Answers after commit: 200 when it moved or
// re-read a session, 202 when it was only recorded.
import Router from '@koa/router';
import type { CodexIntegration } from '../../codex/codex.js';
import { parseOr400 } from '../errors.js';
import { peerOfContext } from '../request.js';
import { emptyQuerySchema } from '../../protocol/api.js';
import { jsonBody } from '../body.js';
import { codexNotifySchema } from '../../protocol/codex.js';

export interface CodexRoutes {
  notify: CodexIntegration['notify'];
  bodyLimitBytes: number;
}

export function codexRouter(deps: CodexRoutes): Router {
  const router = new Router();
  router.post('/api/codex/notify', jsonBody(deps.bodyLimitBytes, 'hook_body_limit_bytes'), async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const payload = parseOr400(codexNotifySchema, ctx.request.body, 'body');
    const { 'last-assistant-message': last, ...rest } = payload;
    const r = await deps.notify({ ...rest, ...(last ? { 'last-assistant-message': last } : {}) }, peerOfContext(ctx).local);
    ctx.status = r.outcome === 'recorded' ? 202 : 200;
    ctx.body = r;
  });
  return router;
}

// POST /api/hooks: the JSON Claude Code hands a hook, as it sends it, plus what the hook
// script adds (ssh_client, pid, tab_name, tty, event_id) in the body or as query parameters.
// Answers after the resulting state is committed: 200 when an actor took the event (or it
// was a duplicate of one already taken), 202 when it was only recorded; 204 with reply=none.
// An authorised POST /api/hooks is answered in front of Koa by the hook fast path
// (src/http/fast/hook.ts) with the same function (src/http/hook-call.ts); this route answers the
// rest and gives the path its 405 for other methods.
import Router from '@koa/router';
import { readRawBody } from '../body.js';
import { runHookRequest, type HandleHook } from '../hook-call.js';
import { peerOfContext } from '../request.js';

export interface HooksRoutes {
  handleHook: HandleHook;
  bodyLimitBytes: number;
}

export function hooksRouter(deps: HooksRoutes): Router {
  const router = new Router();
  router.post('/api/hooks', async (ctx) => {
    const text = await readRawBody(ctx.req, deps.bodyLimitBytes, 'the hook event', 'hook_body_limit_bytes');
    const r = await runHookRequest(deps.handleHook, { query: ctx.query, sshHeader: ctx.get('x-token-api-ssh-client') || undefined, text, local: peerOfContext(ctx).local });
    ctx.status = r.status;
    if (r.body !== undefined) ctx.body = r.body;
  });
  return router;
}

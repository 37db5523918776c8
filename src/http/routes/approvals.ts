// Permission requests: the PermissionRequest hook's call that waits for a decision
// (POST /api/approvals/wait), the list and one approval, a decision (POST /api/approvals/{id},
// by loopback or token), and the signed one-time links a phone opens (GET …/approve?t=,
// …/deny?t=). A link fetched as a prefetch, or with HEAD, is answered without deciding.
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Approvals, HookAnswer } from '../../approvals/service.js';
import { approvalParamsSchema, approvalsQuerySchema, decisionBodySchema, linkQuerySchema } from '../../protocol/approvals.js';
import { emptyQuerySchema } from '../../protocol/api.js';
import { jsonBody, readRawBody } from '../body.js';
import { HttpError, parseOr400 } from '../errors.js';
import { parseHookRequest } from '../hook-call.js';
import { isPrefetch, peerOfContext } from '../request.js';

export type ApprovalsRoutes = Pick<Approvals, 'requestFromHook' | 'list' | 'get' | 'decide' | 'decideByLink'> & { bodyLimitBytes: number; hookBodyLimitBytes: number };

/** The hook's answer as Claude Code reads it. */
export function hookOutput(a: { behavior: 'allow' | 'deny'; message: string | null }): unknown {
  return { hookSpecificOutput: { hookEventName: 'PermissionRequest', decision: a.message === null ? { behavior: a.behavior } : { behavior: a.behavior, message: a.message } } };
}

/** Who decided, as the access policy let the caller in (src/http/auth.ts sets it): a web page's session was opened with the token. */
const deciderOf = (ctx: Context): 'loopback' | 'token' => {
  const via = (ctx.state.auth as { via?: string } | undefined)?.via;
  return via === 'token' || via === 'cookie' ? 'token' : 'loopback';
};

export function approvalsRouter(deps: ApprovalsRoutes): Router {
  const router = new Router({ prefix: '/api/approvals' });
  const body = jsonBody(deps.bodyLimitBytes);
  const idOf = (ctx: Context) => parseOr400(approvalParamsSchema, ctx.params, 'params').id;

  router.post('/wait', async (ctx) => {
    const text = await readRawBody(ctx.req, deps.hookBodyLimitBytes, 'the hook event', 'hook_body_limit_bytes');
    const req = parseHookRequest({ query: ctx.query, sshHeader: ctx.get('x-token-api-ssh-client') || undefined, text, local: peerOfContext(ctx).local });
    if (req.input.hookEventName !== 'PermissionRequest') throw new HttpError(400, 'validation_failed', 'only a PermissionRequest hook waits here; other events go to POST /api/hooks', { hook_event_name: 'PermissionRequest expected' });
    // The hook going away (killed, its connection closed) withdraws the request.
    const gone = new AbortController();
    ctx.res.once('close', () => {
      if (!ctx.res.writableFinished) gone.abort();
    });
    const answer: HookAnswer = await deps.requestFromHook({ input: req.input, local: peerOfContext(ctx).local, eventId: req.eventId }, gone.signal);
    if (answer === 'stopping') {
      // Dropped without an answer: the hook script calls again (the same approval) once token-api is back.
      ctx.respond = false;
      ctx.req.socket.destroy();
      return;
    }
    if (answer === null) {
      ctx.status = 204;
      return;
    }
    ctx.body = hookOutput(answer);
  });

  router.get('/', async (ctx) => {
    const q = parseOr400(approvalsQuerySchema, ctx.query, 'query');
    const approvals = await deps.list({ state: q.state, instance: q.instance, limit: q.limit });
    ctx.body = { approvals, count: approvals.length };
  });

  router.get('/:id', async (ctx) => {
    const id = idOf(ctx);
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const a = await deps.get(id);
    if (!a) throw new HttpError(404, 'not_found', `no approval ${id}; GET /api/approvals lists them`);
    ctx.body = a;
  });

  router.post('/:id', body, async (ctx) => {
    const id = idOf(ctx);
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const d = parseOr400(decisionBodySchema, ctx.request.body ?? {}, 'body');
    ctx.body = await deps.decide(id, d, deciderOf(ctx));
  });

  for (const [path, behavior] of [['approve', 'allow'], ['deny', 'deny']] as const) {
    router.get(`/:id/${path}`, async (ctx) => {
      const id = idOf(ctx);
      const { t } = parseOr400(linkQuerySchema, ctx.query, 'query');
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Referrer-Policy', 'no-referrer');
      if (ctx.method === 'HEAD' || isPrefetch(ctx)) {
        const a = await deps.get(id);
        if (!a) throw new HttpError(404, 'not_found', `no approval ${id}`);
        ctx.body = a;
        return;
      }
      ctx.body = await deps.decideByLink(id, behavior, t);
    });
  }

  return router;
}

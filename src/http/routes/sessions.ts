// Managed sessions over HTTP: GET /api/repos, GET/POST /api/sessions, GET/PATCH/DELETE
// /api/sessions/{id}, POST .../send, .../oneshot and .../cancel, DELETE /api/sessions/cleanup. Thin:
// parse, call the service, answer; every action records who asked (loopback or token).
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Sessions } from '../../sessions/sessions.js';
import { actionBy as byOf } from '../auth.js';
import { emptyBodySchema, emptyQuerySchema } from '../../protocol/api.js';
import { sessionOutputQuerySchema, sessionParamsSchema, sessionPatchSchema, sessionSendSchema, sessionStartSchema } from '../../protocol/sessions.js';
import { jsonBody } from '../body.js';
import { parseOr400, tooLarge } from '../errors.js';

export interface SessionsRoutes {
  repos: Sessions['repos'];
  list: Sessions['list'];
  external: Sessions['external'];
  get: Sessions['get'];
  output: Sessions['output'];
  start: Sessions['start'];
  send: Sessions['send'];
  oneshot: Sessions['oneshot'];
  cancel: Sessions['cancel'];
  stop: Sessions['stop'];
  rename: Sessions['rename'];
  cleanup: Sessions['cleanup'];
  promptMaxBytes: number;
  bodyLimitBytes: number;
}

export function sessionsRouter(deps: SessionsRoutes): Router {
  const router = new Router({ prefix: '/api' });
  // A prompt may be as large as its own limit; the body around it gets the usual allowance.
  const body = jsonBody(deps.promptMaxBytes + deps.bodyLimitBytes);
  const noQuery = (ctx: Context) => parseOr400(emptyQuerySchema, ctx.query, 'query');
  const idOf = (ctx: Context) => parseOr400(sessionParamsSchema, ctx.params, 'params').id;
  const checkPrompt = (prompt: string | undefined) => {
    if (prompt !== undefined && Buffer.byteLength(prompt) > deps.promptMaxBytes) throw tooLarge(deps.promptMaxBytes, 'the prompt', 'sessions.prompt_max_bytes');
  };

  router.get('/repos', (ctx) => {
    noQuery(ctx);
    ctx.body = { repos: deps.repos() };
  });

  router.get('/sessions', async (ctx) => {
    noQuery(ctx);
    const sessions = await deps.list();
    ctx.body = { sessions, count: sessions.length, external: await deps.external() };
  });

  router.post('/sessions', body, async (ctx) => {
    noQuery(ctx);
    const b = parseOr400(sessionStartSchema, ctx.request.body ?? {}, 'body');
    checkPrompt(b.prompt);
    ctx.status = 201;
    ctx.body = await deps.start({ ...b, by: byOf(ctx) });
  });

  // Before /sessions/:id, which would otherwise take "cleanup" as an id.
  router.delete('/sessions/cleanup', async (ctx) => {
    noQuery(ctx);
    const forgotten = await deps.cleanup(byOf(ctx));
    ctx.body = { forgotten, count: forgotten.length };
  });

  router.get('/sessions/:id', async (ctx) => {
    const id = idOf(ctx);
    const q = parseOr400(sessionOutputQuerySchema, ctx.query, 'query');
    const view = await deps.get(id);
    ctx.body = { ...view, output: await deps.output(id, q.after, q.limit) };
  });

  router.patch('/sessions/:id', body, async (ctx) => {
    const id = idOf(ctx);
    noQuery(ctx);
    const b = parseOr400(sessionPatchSchema, ctx.request.body ?? {}, 'body');
    ctx.body = await deps.rename(id, b.name, byOf(ctx));
  });

  router.post('/sessions/:id/send', body, async (ctx) => {
    const id = idOf(ctx);
    noQuery(ctx);
    const b = parseOr400(sessionSendSchema, ctx.request.body ?? {}, 'body');
    checkPrompt(b.prompt);
    await deps.send(id, b.prompt, byOf(ctx));
    ctx.status = 202;
    ctx.body = { session: await deps.get(id), bytes: Buffer.byteLength(b.prompt) };
  });

  router.post('/sessions/:id/oneshot', body, async (ctx) => {
    const id = idOf(ctx);
    noQuery(ctx);
    const b = parseOr400(sessionSendSchema, ctx.request.body ?? {}, 'body');
    checkPrompt(b.prompt);
    ctx.body = await deps.oneshot(id, b.prompt, byOf(ctx));
  });

  router.post('/sessions/:id/cancel', body, async (ctx) => {
    const id = idOf(ctx);
    noQuery(ctx);
    parseOr400(emptyBodySchema, ctx.request.body ?? {}, 'body');
    ctx.body = await deps.cancel(id, byOf(ctx));
  });

  router.delete('/sessions/:id', async (ctx) => {
    const id = idOf(ctx);
    noQuery(ctx);
    ctx.body = await deps.stop(id, byOf(ctx));
  });

  return router;
}

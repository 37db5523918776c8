// Notifications over HTTP: send one (routed like an intent), speak or play on this machine,
// read the history with delivery status and attempts, and retry what failed. Each answer
// comes after the outbox row is committed; delivery happens after that.
import Router from '@koa/router';
import { NotifyRequestError } from '../../notifications/service.js';
import { jsonBody } from '../body.js';
import type { AppDeps } from '../deps.js';
import { HttpError, parseOr400 } from '../errors.js';
import { notificationParamsSchema, notificationsQuerySchema, notifyBodySchema, soundBodySchema, ttsBodySchema } from '../../protocol/notifications.js';
import { emptyQuerySchema } from '../../protocol/api.js';

function httpErrorOf(err: unknown): unknown {
  if (!(err instanceof NotifyRequestError)) return err;
  const fields = err.field ? { [err.field]: err.message } : undefined;
  switch (err.kind) {
    case 'invalid':
      return new HttpError(400, 'validation_failed', err.message, fields);
    case 'not_found':
      return new HttpError(404, 'not_found', err.message, fields);
    case 'conflict':
      return new HttpError(409, 'conflict', err.message, fields);
    case 'unavailable':
      // The machine lacks the engine or player: a state of the server, reported as such.
      return new HttpError(409, 'unavailable', err.message, fields);
  }
}

async function answer<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw httpErrorOf(err);
  }
}

export function notificationsRouter(deps: AppDeps): Router {
  const router = new Router();
  const body = jsonBody(deps.config.bodyLimitBytes);
  const n = deps.notifications;

  router.post('/api/notify', body, async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const req = parseOr400(notifyBodySchema, ctx.request.body ?? {}, 'body');
    ctx.status = 202;
    ctx.body = await answer(() => n.send(req));
  });

  router.post('/api/notify/tts', body, async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const req = parseOr400(ttsBodySchema, ctx.request.body ?? {}, 'body');
    ctx.status = 202;
    ctx.body = await answer(() => n.speak(req));
  });

  router.post('/api/notify/sound', body, async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const req = parseOr400(soundBodySchema, ctx.request.body ?? {}, 'body');
    ctx.status = 202;
    ctx.body = await answer(() => n.playSound(req));
  });

  router.get('/api/notifications', async (ctx) => {
    const q = parseOr400(notificationsQuerySchema, ctx.query, 'query');
    const list = await n.list({ limit: q.limit, before: q.before, device: q.device, instance: q.instance, status: q.status, channel: q.channel });
    ctx.body = { notifications: list, count: list.length };
  });

  router.get('/api/notifications/:id', async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const { id } = parseOr400(notificationParamsSchema, ctx.params, 'params');
    const view = await n.get(id);
    if (!view) throw new HttpError(404, 'not_found', `no notification ${id}`);
    ctx.body = view;
  });

  router.post('/api/notifications/:id/retry', async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const { id } = parseOr400(notificationParamsSchema, ctx.params, 'params');
    ctx.status = 202;
    ctx.body = await answer(() => n.retry(id));
  });

  return router;
}

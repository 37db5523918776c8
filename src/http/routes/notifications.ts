// Notifications over HTTP: send one (routed like an intent), speak or play on this machine,
// read the history with delivery status and attempts, and retry what failed. Each answer
// comes after the outbox row is committed; delivery happens after that. What the service
// refuses (an unknown device, no speech engine here) is its DomainError, shaped by errors.ts.
import Router from '@koa/router';
import type { Notifications } from '../../notifications/service.js';
import { jsonBody } from '../body.js';
import { HttpError, parseOr400 } from '../errors.js';
import { notificationParamsSchema, notificationsQuerySchema, notifyBodySchema, soundBodySchema, ttsBodySchema } from '../../protocol/notifications.js';
import { emptyQuerySchema } from '../../protocol/api.js';

export type NotificationsRoutes = Pick<Notifications, 'send' | 'speak' | 'playSound' | 'list' | 'get' | 'retry'> & { bodyLimitBytes: number };

export function notificationsRouter(n: NotificationsRoutes): Router {
  const router = new Router();
  const body = jsonBody(n.bodyLimitBytes);

  router.post('/api/notify', body, async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const req = parseOr400(notifyBodySchema, ctx.request.body ?? {}, 'body');
    ctx.status = 202;
    ctx.body = await n.send(req);
  });

  router.post('/api/notify/tts', body, async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const req = parseOr400(ttsBodySchema, ctx.request.body ?? {}, 'body');
    ctx.status = 202;
    ctx.body = await n.speak(req);
  });

  router.post('/api/notify/sound', body, async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const req = parseOr400(soundBodySchema, ctx.request.body ?? {}, 'body');
    ctx.status = 202;
    ctx.body = await n.playSound(req);
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
    ctx.body = await n.retry(id);
  });

  return router;
}

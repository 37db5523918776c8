// Devices: the desktop, the phone, a laptop; an SSH source IP resolves to one of them.
import Router from '@koa/router';
import { DeviceConflictError } from '../../actors/devices.js';
import { jsonBody } from '../body.js';
import type { AppDeps } from '../deps.js';
import { HttpError, parseOr400 } from '../errors.js';
import { deviceRegisterSchema, emptyQuerySchema } from '../schemas.js';

export function devicesRouter(deps: AppDeps): Router {
  const router = new Router({ prefix: '/api/devices' });

  router.get('/', (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const devices = deps.devices.list();
    ctx.body = { devices, count: devices.length };
  });

  router.post('/register', jsonBody(deps.config.bodyLimitBytes), async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const input = parseOr400(deviceRegisterSchema, ctx.request.body ?? {}, 'body');
    try {
      const r = await deps.devices.register(input);
      ctx.status = r.created ? 201 : 200;
      ctx.body = { ...r.device, created: r.created };
    } catch (err) {
      if (err instanceof DeviceConflictError) throw new HttpError(409, 'conflict', err.message, { [err.field]: err.message });
      throw err;
    }
  });

  return router;
}

// Devices: the desktop, the phone, a laptop; an SSH source IP resolves to one of them. A
// registration of a known id and a PATCH both merge: only the fields named change.
import Router from '@koa/router';
import type { Context } from 'koa';
import { DeviceConflictError, type DeviceChange } from '../../actors/instances/devices.js';
import { jsonBody } from '../body.js';
import type { AppDeps } from '../deps.js';
import { HttpError, parseOr400 } from '../errors.js';
import { deviceIdParamsSchema, devicePatchSchema, deviceRegisterSchema, emptyQuerySchema } from '../../protocol/api.js';

async function change(run: () => Promise<DeviceChange | null>): Promise<DeviceChange | null> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof DeviceConflictError) throw new HttpError(409, 'conflict', err.message, { [err.field]: err.message });
    throw err;
  }
}

const answer = (r: DeviceChange) => ({ ...r.device, created: r.created, outcome: r.outcome, changed: r.changed });

export function devicesRouter(deps: AppDeps): Router {
  const router = new Router({ prefix: '/api/devices' });
  const body = jsonBody(deps.config.bodyLimitBytes);
  const idOf = (ctx: Context) => parseOr400(deviceIdParamsSchema, ctx.params, 'params').id;

  router.get('/', (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const devices = deps.devices.list();
    ctx.body = { devices, count: devices.length };
  });

  router.post('/register', body, async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const input = parseOr400(deviceRegisterSchema, ctx.request.body ?? {}, 'body');
    const r = (await change(() => deps.devices.register(input)))!;
    ctx.status = r.created ? 201 : 200;
    ctx.body = answer(r);
  });

  router.get('/:id', (ctx) => {
    const id = idOf(ctx);
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const device = deps.devices.get(id);
    if (!device) throw new HttpError(404, 'not_found', `no device ${id}; GET /api/devices lists them`);
    ctx.body = device;
  });

  router.patch('/:id', body, async (ctx) => {
    const id = idOf(ctx);
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const fields = parseOr400(devicePatchSchema, ctx.request.body ?? {}, 'body');
    const r = await change(() => deps.devices.update(id, fields));
    if (!r) throw new HttpError(404, 'not_found', `no device ${id}; POST /api/devices/register creates one`);
    ctx.body = answer(r);
  });

  return router;
}

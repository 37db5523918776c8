// Devices: the desktop, the phone, a laptop; an SSH source IP resolves to one of them. A
// registration of a known id and a PATCH both merge: only the fields named change. A conflict
// (an IP another device has) is the directory's DomainError, answered 409 by errors.ts.
import Router from '@koa/router';
import type { Context } from 'koa';
import type { DeviceChange, DeviceDirectory } from '../../actors/instances/devices.js';
import { jsonBody } from '../body.js';
import { HttpError, parseOr400 } from '../errors.js';
import { deviceIdParamsSchema, devicePatchSchema, deviceRegisterSchema, emptyQuerySchema } from '../../protocol/api.js';

export type DevicesRoutes = Pick<DeviceDirectory, 'list' | 'get' | 'register' | 'update'> & { bodyLimitBytes: number };

const answer = (r: DeviceChange) => ({ ...r.device, created: r.created, outcome: r.outcome, changed: r.changed });

export function devicesRouter(deps: DevicesRoutes): Router {
  const router = new Router({ prefix: '/api/devices' });
  const body = jsonBody(deps.bodyLimitBytes);
  const idOf = (ctx: Context) => parseOr400(deviceIdParamsSchema, ctx.params, 'params').id;

  router.get('/', (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const devices = deps.list();
    ctx.body = { devices, count: devices.length };
  });

  router.post('/register', body, async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const input = parseOr400(deviceRegisterSchema, ctx.request.body ?? {}, 'body');
    const r = await deps.register(input);
    ctx.status = r.created ? 201 : 200;
    ctx.body = answer(r);
  });

  router.get('/:id', (ctx) => {
    const id = idOf(ctx);
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const device = deps.get(id);
    if (!device) throw new HttpError(404, 'not_found', `no device ${id}; GET /api/devices lists them`);
    ctx.body = device;
  });

  router.patch('/:id', body, async (ctx) => {
    const id = idOf(ctx);
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const fields = parseOr400(devicePatchSchema, ctx.request.body ?? {}, 'body');
    const r = await deps.update(id, fields);
    if (!r) throw new HttpError(404, 'not_found', `no device ${id}; POST /api/devices/register creates one`);
    ctx.body = answer(r);
  });

  return router;
}

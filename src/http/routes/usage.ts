// Token usage: totals by device, day, model, instance (GET /api/usage, GET /api/usage/{deviceId}),
// records pushed by another machine (POST /api/usage/{deviceId}, idempotent by record key) and
// a rescan of this machine's transcripts (PUT /api/usage/sync). POST and PUT change state: the
// API token policy applies to them beyond loopback like every other write.
import Router from '@koa/router';
import type { Context } from 'koa';
import { jsonBody } from '../body.js';
import { HttpError, parseOr400 } from '../errors.js';
import { randomUUID } from 'node:crypto';
import { emptyBodySchema, emptyQuerySchema } from '../../protocol/api.js';
import {
  deviceParamsSchema,
  deviceUsageQuerySchema,
  pushBodySchema,
  resolveBound,
  simpleUsageBodySchema,
  usageQuerySchema,
} from '../../protocol/usage.js';
import type { UsageService } from '../../usage/service.js';
import type { UsageRecord } from '../../usage/types.js';

export interface UsageRoutes {
  usage: Pick<UsageService, 'report' | 'sync' | 'receive' | 'hasDevice' | 'deviceToday' | 'devicesToday' | 'timezone'>;
  /** Whether a device is registered (its usage may be asked before it has any). */
  knownDevice(id: string): boolean;
  /** The time a simple usage body without `at` is recorded at. */
  now(): number;
  bodyLimitBytes: number;
  usageBodyLimitBytes: number;
}

/** "sync" and "ccusage" are actions, never devices. */
function deviceOf(ctx: Context): string {
  const { deviceId } = parseOr400(deviceParamsSchema, ctx.params, 'params');
  if (deviceId === 'sync') throw new HttpError(405, 'method_not_allowed', 'PUT /api/usage/sync rescans the transcripts; "sync" is not a device id');
  if (deviceId === 'ccusage') throw new HttpError(405, 'method_not_allowed', 'POST /api/usage/ccusage reads the transcripts now and answers today\'s totals; "ccusage" is not a device id');
  return deviceId;
}

export function usageRouter(deps: UsageRoutes): Router {
  const router = new Router({ prefix: '/api/usage' });
  const { usage } = deps;

  router.get('/', async (ctx) => {
    const q = parseOr400(usageQuerySchema, ctx.query, 'query');
    const timezone = q.timezone ?? usage.timezone;
    ctx.body = await usage.report({
      since: resolveBound(q.since, 'since', timezone),
      until: resolveBound(q.until, 'until', timezone),
      device: q.device,
      instance: q.instance,
      session: q.session,
      groupBy: q.group_by ?? ['device'],
      timezone,
    });
  });

  router.put('/sync', jsonBody(deps.bodyLimitBytes), async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    parseOr400(emptyBodySchema, ctx.request.body ?? {}, 'body');
    ctx.body = await usage.sync();
  });

  // Before a prompt (seed 001's "ccusage sync"): read what the transcripts gained, answer today.
  router.post('/ccusage', jsonBody(deps.bodyLimitBytes), async (ctx) => {
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    parseOr400(emptyBodySchema, ctx.request.body ?? {}, 'body');
    const synced = await usage.sync();
    ctx.body = { synced, today: await usage.devicesToday() };
  });

  router.get('/:deviceId', async (ctx) => {
    const deviceId = deviceOf(ctx);
    const q = parseOr400(deviceUsageQuerySchema, ctx.query, 'query');
    const timezone = q.timezone ?? usage.timezone;
    if (!deps.knownDevice(deviceId) && !(await usage.hasDevice(deviceId))) {
      throw new HttpError(404, 'not_found', `no device ${deviceId} and no usage recorded for it`);
    }
    const report = await usage.report({
      since: resolveBound(q.since, 'since', timezone),
      until: resolveBound(q.until, 'until', timezone),
      device: deviceId,
      instance: q.instance,
      session: q.session,
      groupBy: q.group_by ?? ['day'],
      timezone,
    });
    ctx.body = { device_id: deviceId, ...report, today: await usage.deviceToday(deviceId, timezone) };
  });

  router.post('/:deviceId', jsonBody(deps.usageBodyLimitBytes, 'usage_body_limit_bytes'), async (ctx) => {
    const deviceId = deviceOf(ctx);
    parseOr400(emptyQuerySchema, ctx.query, 'query');
    const raw = ctx.request.body ?? {};
    // Records, or the simple form: the one the body looks like words its refusal.
    if (typeof raw === 'object' && raw !== null && !('records' in raw)) {
      const b = parseOr400(simpleUsageBodySchema, raw, 'body');
      const record: UsageRecord = {
        key: b.key ?? `simple:${deviceId}:${randomUUID()}`,
        source: b.source ?? 'claude',
        sessionId: b.session_id ?? null,
        project: null,
        model: b.model ?? 'unknown',
        at: b.at ?? deps.now(),
        input: b.tokens,
        output: 0,
        cacheCreation: 0,
        cacheRead: 0,
      };
      ctx.body = await usage.receive(deviceId, [record]);
      return;
    }
    const body = parseOr400(pushBodySchema, raw, 'body');
    const records: UsageRecord[] = body.records.map((r) => ({
      key: r.key,
      source: r.source,
      sessionId: r.session_id ?? null,
      project: r.project ?? null,
      model: r.model,
      at: r.timestamp,
      input: r.input_tokens,
      output: r.output_tokens,
      cacheCreation: r.cache_creation_tokens,
      cacheRead: r.cache_read_tokens,
    }));
    ctx.body = await usage.receive(deviceId, records);
  });

  return router;
}

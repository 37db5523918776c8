// zod schemas of what the HTTP API answers, for the OpenAPI document (src/http/openapi.ts)
// and the examples of docs/api.md that a test checks against it. Loose: an answer may carry
// more than is listed, as a newer server adds fields; what is listed is always there.
import { z } from 'zod';
import { eventItemSchema, gateViewSchema, instanceViewSchema, modeViewSchema, usageTotalsSchema } from './feed.js';

const iso = z.string().describe('an ISO 8601 time, UTC');

export const errorAnswerSchema = z
  .object({
    error: z.string().describe('a stable code: validation_failed, invalid_json, unauthorized, forbidden, not_found, method_not_allowed, conflict, unavailable, payload_too_large, unsupported_media_type, …'),
    message: z.string().describe('what was wrong and what is expected, in words'),
    fields: z.record(z.string(), z.string()).optional().describe('each bad field: what was wrong and what is expected'),
  })
  .describe('Every refusal');

export { instanceViewSchema, modeViewSchema };

export const instanceListSchema = z.looseObject({ instances: z.array(instanceViewSchema), count: z.number().int() });
export const instanceDetailsSchema = instanceViewSchema.extend({
  usage: usageTotalsSchema.extend({ models: z.array(z.string()), unpriced_models: z.array(z.string()), first_at: iso.nullable(), last_at: iso.nullable() }).loose(),
});
export const registeredSchema = instanceViewSchema.extend({ instance_id: z.string(), created: z.boolean() });

export const hookOutcomeSchema = z.looseObject({
  outcome: z.enum(['applied', 'recorded', 'duplicate']),
  registered: z.boolean(),
  instance: instanceViewSchema.nullable(),
  event_type: z.string(),
  from: z.string().nullable(),
  to: z.string().nullable(),
});
export const codexNotifyOutcomeSchema = hookOutcomeSchema.partial().extend({ outcome: z.enum(['applied', 'recorded', 'duplicate', 'scanned']), session_id: z.string().nullable() }).loose();

export const spoolReportSchema = z.looseObject({
  replayed: z.number().int(),
  duplicates: z.number().int(),
  invalid: z.array(z.looseObject({ line: z.number().int(), reason: z.string() })),
});

export const deviceSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  tailscale_ip: z.string().nullable(),
  notification_method: z.string().nullable(),
  webhook_url: z.string().nullable(),
  tts_engine: z.string().nullable(),
  created_at: iso,
  updated_at: iso,
});
export const deviceListSchema = z.looseObject({ devices: z.array(deviceSchema), count: z.number().int() });
export const deviceChangeSchema = deviceSchema.extend({
  created: z.boolean(),
  outcome: z.enum(['created', 'merged']).describe('merged: a known device; only the fields named changed'),
  changed: z.array(z.string()).describe('the fields this change set'),
});

export const eventViewSchema = eventItemSchema.extend({ id: z.number().int() });
export const eventListSchema = z.looseObject({ events: z.array(eventViewSchema), count: z.number().int() });

export const productivitySchema = gateViewSchema;
export const checkAnswerSchema = z.looseObject({
  app: z.string(),
  allowed: z.boolean(),
  reason: z.string(),
  rule: z.string(),
  mode: z.string(),
  focus: z.boolean(),
  productive: z.boolean(),
  working: z.number().int(),
  grace_until: iso.nullable(),
});
export const stateViewSchema = modeViewSchema
  .omit({ modes: true })
  .extend({ gate: gateViewSchema, instances: z.looseObject({ idle: z.number().int(), working: z.number().int(), awaiting: z.number().int(), total: z.number().int() }) })
  .loose()
  .describe('the mode, focus, each state variable the config declares (by its name), the gate and instances by state');

const deliverySchema = z.looseObject({
  channel: z.enum(['speech', 'sound', 'webhook']),
  status: z.enum(['pending', 'delivered', 'failed', 'expired', 'unavailable', 'superseded']),
  target: z.string().nullable(),
  attempts: z.number().int(),
  next_attempt_at: iso.nullable(),
  expires_at: iso,
  last_attempt_at: iso.nullable(),
  delivered_at: iso.nullable(),
  last_error: z.string().nullable(),
  response_status: z.number().int().nullable(),
  response_body: z.string().nullable(),
});
export const notificationSchema = z.looseObject({
  id: z.string(),
  created_at: iso,
  source: z.enum(['intent', 'api']),
  event: z.string().describe('finished, failed, needs_permission, needs_input, expired, mode_timer_ended, coalesced, answered, notify, tts, sound'),
  device: z.string().nullable(),
  instance: z.string().nullable(),
  title: z.string(),
  message: z.string(),
  urgency: z.enum(['normal', 'urgent']),
  voice: z.string().nullable(),
  sound: z.string().nullable(),
  intent_count: z.number().int(),
  reason: z.string().nullable().describe('why it went where it went, or why nowhere (suppressed)'),
  status: z.enum(['pending', 'delivered', 'partial', 'failed', 'expired', 'suppressed', 'superseded']),
  attempts: z.number().int(),
  deliveries: z.array(deliverySchema),
  intents: z.array(z.looseObject({ id: z.string(), at: iso, intent: z.string(), instance: z.string().nullable(), name: z.string().nullable(), project: z.string().nullable(), sentence: z.string() })).optional(),
});
export const notificationListSchema = z.looseObject({ notifications: z.array(notificationSchema), count: z.number().int() });

const output = z.looseObject({ available: z.boolean(), problem: z.string().nullable() });
export const healthSchema = z.looseObject({
  status: z.enum(['ok', 'degraded']),
  service: z.literal('token-api'),
  version: z.string(),
  uptime_s: z.number(),
  pid: z.number().int(),
  database: z.looseObject({ ok: z.boolean(), file: z.string(), writes_ok: z.boolean(), last_error: z.string().nullable() }),
  actors: z.looseObject({ total: z.number().int(), instances: z.number().int(), instances_by_state: z.record(z.string(), z.number().int()) }),
  notifications: z.looseObject({ speech: output.extend({ engine: z.string().nullable(), voices: z.array(z.string()) }), sound: output.extend({ player: z.string().nullable() }) }),
  websocket: z
    .looseObject({
      clients: z.number().int(),
      seq: z.number().int(),
      held: z.number().int(),
      lagging: z.number().int(),
      buffered_bytes: z.number().int().describe("bytes waiting in the clients' sockets, all together"),
      dropped_slow: z.number().int(),
      dropped_dead: z.number().int(),
    })
    .optional(),
});

const usageRowSchema = usageTotalsSchema.extend({ models: z.array(z.string()), unpriced_models: z.array(z.string()), first_at: iso.nullable(), last_at: iso.nullable() }).loose();
export const usageReportSchema = z.looseObject({
  timezone: z.string(),
  since: iso.nullable(),
  until: iso.nullable(),
  group_by: z.array(z.string()),
  rows: z.array(usageRowSchema),
  totals: usageRowSchema,
});
export const deviceUsageSchema = usageReportSchema.extend({ device_id: z.string(), today: usageTotalsSchema.extend({ day: z.string(), timezone: z.string() }).loose() });
export const usagePushResultSchema = z.looseObject({ received: z.number().int(), inserted: z.number().int(), duplicates: z.number().int() });
export const usageSyncSchema = z.looseObject({ files: z.number().int(), filesRead: z.number().int(), records: z.number().int(), bytes: z.number() });

export const dashboardSchema = z.looseObject({
  instances: z.array(instanceViewSchema),
  counts: z.record(z.string(), z.number().int()),
  recent_events: z.array(eventViewSchema),
  mode: z.string(),
  mode_deadline: iso.nullable(),
  focus: z.boolean(),
  focus_enabled: z.boolean().describe('the same as focus (the seed\'s name)'),
  productivity_active: z.boolean().describe('gate.productive (the seed\'s name)'),
  gate: gateViewSchema,
  usage: z.looseObject({
    instances: z.record(z.string(), usageTotalsSchema.nullable()),
    today: z.looseObject({ day: z.string(), timezone: z.string(), devices: z.array(usageRowSchema) }),
  }),
});

export const serviceSchema = z.looseObject({ service: z.literal('token-api'), version: z.string() });
export const openApiSchema = z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.record(z.string(), z.unknown()) });

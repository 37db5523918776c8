// zod schemas of the metrics routes (GET/POST/DELETE /api/metrics/{key}, GET /api/metrics):
// the key, the body that sets a value, and the answers. The size of a value is checked by the
// store against `metrics.max_value_bytes`, which can change while the server runs.
import { z } from 'zod';

export const METRIC_KEY = /^[A-Za-z0-9._:-]{1,128}$/;

export const metricParamsSchema = z.strictObject({
  key: z.string().regex(METRIC_KEY, 'a key of letters, digits and . _ : - (at most 128), such as phone.battery'),
});

export const metricBodySchema = z.strictObject({
  value: z.json({ error: 'any JSON value: a number, text, true or false, null, a list or an object' }),
  ttl_seconds: z.number().positive().max(366 * 86_400, 'at most a year (31622400 seconds)').optional().describe('the value disappears this long after it is set'),
});

const iso = z.string().describe('an ISO 8601 time, UTC');

export const metricSchema = z.looseObject({
  key: z.string(),
  value: z.unknown(),
  updated_at: iso,
  expires_at: iso.nullable().describe('null: kept until deleted or set again'),
});
export const metricSetSchema = metricSchema.extend({ created: z.boolean().describe('false: the key held a value, now replaced') });
export const metricListSchema = z.looseObject({ count: z.number().int(), metrics: z.record(z.string(), metricSchema) });

// zod schemas of the usage routes: report queries (time range, grouping, time zone) and the
// batches of records another machine pushes. Everything is strict: an unknown field is a 400.
import { z } from 'zod';
import { deviceIdSchema } from '../config/config.js';
import { modelNameSchema } from '../config/price-schema.js';
import { isValidTimeZone, nextDay, parseDay, startOfDay } from '../lib/timezone.js';
import { WHOLE } from '../lib/validation-words.js';

/** What a usage report may be grouped by (`group_by`). */
export const GROUP_DIMS = ['day', 'month', 'model', 'device', 'instance', 'session', 'source', 'project'] as const;
export type GroupDim = (typeof GROUP_DIMS)[number];

/**
 * The most tokens of one kind a single record may count. No model response comes near a
 * billion tokens, so a count above this is corrupt: the parsers skip such a record and the
 * push route rejects it. The bound also keeps SQLite's integer SUM of a report far from
 * overflow (2^63 is about 9.2e18, nine billion records at the bound).
 */
export const MAX_RECORD_TOKENS = 1_000_000_000;

/** A day ("2026-11-23" or "20261123", in the report's time zone) or an instant (ISO 8601, epoch ms). */
export type TimeBound = { day: { year: number; month: number; day: number } } | { ms: number };

const timeBoundSchema = z
  .string()
  .max(40)
  .transform((v, ctx): TimeBound => {
    const day = parseDay(v);
    if (day) return { day };
    const ms = /^\d{10,16}$/.test(v) ? Number(v) : /^\d{4}-\d{2}-\d{2}T/.test(v) ? Date.parse(v) : NaN;
    if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
      ctx.addIssue({ code: 'custom', message: 'a day (YYYY-MM-DD or YYYYMMDD), an ISO 8601 time or epoch milliseconds' });
      return z.NEVER;
    }
    return { ms };
  });

/** since: the first instant of a day; until: the first instant after a day (so the day is included). */
export function resolveBound(b: TimeBound | undefined, edge: 'since' | 'until', timeZone: string): number | undefined {
  if (!b) return undefined;
  if ('ms' in b) return b.ms;
  const d = edge === 'since' ? b.day : nextDay(b.day);
  return startOfDay(d.year, d.month, d.day, timeZone);
}

const groupBySchema = z
  .string()
  .max(200)
  .transform((v, ctx): GroupDim[] => {
    if (v === '' || v === 'none') return [];
    const dims = v.split(',').map((d) => d.trim());
    const bad = dims.filter((d) => !(GROUP_DIMS as readonly string[]).includes(d));
    if (bad.length > 0) {
      ctx.addIssue({ code: 'custom', params: WHOLE, message: `names an unknown grouping (${bad.join(', ')}); expected any of ${GROUP_DIMS.join(', ')} (comma-separated) or none` });
      return z.NEVER;
    }
    return dims as GroupDim[];
  });

export const timeZoneSchema = z.string().max(64).refine(isValidTimeZone, 'an IANA time zone such as UTC or Europe/Paris');

const reportQuery = {
  since: timeBoundSchema.optional(),
  until: timeBoundSchema.optional(),
  group_by: groupBySchema.optional(),
  instance: z.string().regex(/^[A-Za-z0-9._:@-]{1,200}$/, 'an instance id').optional(),
  session: z.string().min(1).max(256).optional(),
  timezone: timeZoneSchema.optional(),
};

export const usageQuerySchema = z.strictObject({ ...reportQuery, device: deviceIdSchema.optional() });
export const deviceUsageQuerySchema = z.strictObject(reportQuery);
export const deviceParamsSchema = z.strictObject({ deviceId: deviceIdSchema });

const tokenCount = z.number().int('a whole number of tokens').min(0).max(MAX_RECORD_TOKENS, `at most ${MAX_RECORD_TOKENS} tokens of a kind in one record`);

/** One record as another machine sends it (`token-api usage push`). */
export const pushedRecordSchema = z.strictObject({
  key: z.string().min(1).max(300),
  source: z.enum(['claude', 'codex']),
  session_id: z.string().min(1).max(256).nullable().optional(),
  project: z.string().max(4096).nullable().optional(),
  model: modelNameSchema.or(z.literal('unknown')),
  timestamp: z.union([z.string().max(40), z.number()]).transform((v, ctx) => {
    const ms = typeof v === 'number' ? v : Date.parse(v);
    if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
      ctx.addIssue({ code: 'custom', message: 'an ISO 8601 time or epoch milliseconds' });
      return z.NEVER;
    }
    return ms;
  }),
  input_tokens: tokenCount,
  output_tokens: tokenCount,
  cache_creation_tokens: tokenCount,
  cache_read_tokens: tokenCount,
});
export type PushedRecord = z.input<typeof pushedRecordSchema>;

export const MAX_PUSH_RECORDS = 5000;

export const pushBodySchema = z.strictObject({
  records: z.array(pushedRecordSchema).max(MAX_PUSH_RECORDS, `at most ${MAX_PUSH_RECORDS} records per request`),
});

/** The simple form another program may send (the seed's): a number of tokens, counted as input tokens. */
export const simpleUsageBodySchema = z.strictObject({
  tokens: tokenCount,
  model: modelNameSchema.or(z.literal('unknown')).optional().describe('the model that spent them (default unknown: counted, not priced)'),
  at: pushedRecordSchema.shape.timestamp.optional().describe('when (default now)'),
  source: z.enum(['claude', 'codex']).optional(),
  session_id: z.string().min(1).max(256).optional(),
  key: z.string().min(1).max(300).optional().describe('an id of your own: sent again, it counts nothing twice'),
});

/** Either form of POST /api/usage/{deviceId}. */
export const usagePostBodySchema = z.union([pushBodySchema, simpleUsageBodySchema]);


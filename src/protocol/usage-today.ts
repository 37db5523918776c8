// The answer of POST /api/usage/ccusage: what the scan read, and today's totals (all devices,
// and by device) in the usage time zone.
import { z } from 'zod';
import { usageTotalsSchema } from './feed.js';

export const usageTodaySchema = z.looseObject({
  synced: z.looseObject({ files: z.number().int(), filesRead: z.number().int(), records: z.number().int(), bytes: z.number() }),
  today: z.looseObject({
    day: z.string(),
    timezone: z.string(),
    totals: usageTotalsSchema.loose(),
    devices: z.array(usageTotalsSchema.extend({ device_id: z.string().nullable() }).loose()),
  }),
});

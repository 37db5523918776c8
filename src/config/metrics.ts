// The `metrics` block of the config file: how many keys the metrics store holds and how large
// a value may be. Read anew on each write, so a change through PUT /api/config applies at once.
import { z } from 'zod';

export const metricsFileSchema = z
  .object({
    max_keys: z.number().int().min(1).max(100_000).optional(),
    max_value_bytes: z.number().int().min(16).max(1024 * 1024).optional(),
  })
  .strict();

export interface MetricsSettings {
  maxKeys: number;
  /** The largest value, as JSON, in bytes. */
  maxValueBytes: number;
}

export function metricsSettings(file: z.infer<typeof metricsFileSchema> | undefined): MetricsSettings {
  return { maxKeys: file?.max_keys ?? 1000, maxValueBytes: file?.max_value_bytes ?? 4096 };
}

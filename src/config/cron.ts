// The `cron` block of the config file: whether scheduled jobs may run shell commands, and the
// limits every run gets. Resolved into CronSettings, which the scheduler reads anew for each
// run, so a change through PUT /api/config applies without a restart (docs/configuration.md).
import { z } from 'zod';
import { isValidTimeZone } from '../lib/timezone.js';

export const cronFileSchema = z
  .object({
    allow_commands: z.boolean().optional(),
    timeout_seconds: z.number().positive().max(24 * 3600).optional(),
    output_max_bytes: z.number().int().min(256).max(16 * 1024 * 1024).optional(),
    runs_kept: z.number().int().min(1).max(100_000).optional(),
    timezone: z.string().max(64).refine(isValidTimeZone, 'an IANA time zone such as UTC or Europe/Paris').optional(),
  })
  .strict();

export interface CronSettings {
  /** Jobs may run shell commands (`command`); off by default. */
  allowCommands: boolean;
  /** How long a run may take unless its job says otherwise. */
  timeoutMs: number;
  /** The most output (stdout and stderr together) kept per run; the end is kept. */
  outputMaxBytes: number;
  /** Runs kept per job; older ones are deleted. */
  runsKept: number;
  /** The time zone of schedules that name none. */
  timezone: string;
}

/** This machine's time zone, as Intl knows it (UTC when it cannot tell). */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function cronSettings(file: z.infer<typeof cronFileSchema> | undefined): CronSettings {
  return {
    allowCommands: file?.allow_commands ?? false,
    timeoutMs: (file?.timeout_seconds ?? 600) * 1000,
    outputMaxBytes: file?.output_max_bytes ?? 16 * 1024,
    runsKept: file?.runs_kept ?? 100,
    timezone: file?.timezone ?? localTimeZone(),
  };
}

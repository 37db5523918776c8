// zod schemas of the scheduled job routes: a job as POST /api/cron/jobs creates it and PUT
// changes it (a built-in action or a shell command, on a cron schedule checked by croner), the
// run query, and the answers. Strict: an unknown field is a 400 that names it.
import { z } from 'zod';
import { deviceIdSchema } from '../config/config.js';
import { scheduleProblem } from '../lib/cron-schedule.js';
import { timestampSchema } from './api.js';
import { isValidTimeZone } from '../lib/timezone.js';
import { WHOLE } from '../lib/validation-words.js';

const text = (max: number) => z.string().trim().min(1, 'text that is not empty').max(max, `at most ${max} characters`);
const iso = z.string().describe('an ISO 8601 time, UTC');

export const JOB_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const jobIdSchema = z.string().regex(JOB_ID, 'a job id of lowercase letters, digits and . _ - (at most 64), such as daily-backup');
export const jobParamsSchema = z.strictObject({ id: jobIdSchema });

/** What a stored token looks like in every answer; sent back unchanged, it keeps the stored one. */
export const MASK = '********';

/** The built-in actions, by `type`. */
export const actionSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('usage.sync').describe("reads this machine's transcripts (PUT /api/usage/sync)") }),
    z.strictObject({
      type: z.literal('usage.push').describe("sends this machine's usage records to another token-api (token-api usage push)"),
      to: z.url({ protocol: /^https?$/, error: 'the hub, an http:// or https:// URL such as http://100.64.0.1:7777' }).max(2048),
      device: deviceIdSchema.optional().describe('the device id this machine is known by there (default: local_device)'),
      token: z.string().min(1).max(512).optional().describe(`the hub's API token; answers show it as ${MASK}`),
    }),
    z.strictObject({
      type: z.literal('backup').describe('a consistent copy of the database (token-api backup), the oldest beyond keep deleted'),
      dir: z.string().min(1).max(4096).optional().describe('where the copies go (default $TOKEN_API_HOME/backups)'),
      keep: z.number().int().min(1).max(1000).optional().describe('copies kept in dir (default 7)'),
    }),
    z.strictObject({
      type: z.literal('notify').describe('a notification, routed like POST /api/notify'),
      message: text(2000),
      title: text(200).optional(),
      device: deviceIdSchema.optional(),
      urgency: z.enum(['normal', 'urgent']).optional(),
    }),
    z.strictObject({
      type: z.literal('mode.set').describe('sets the work mode, like POST /api/mode'),
      mode: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'a mode name such as break'),
      minutes: z.number().positive().max(10_080, 'at most 10080 minutes (a week)').optional(),
    }),
  ],
  { error: 'an action whose type is one of usage.sync, usage.push, backup, notify, mode.set' },
);
export type CronAction = z.infer<typeof actionSchema>;

const scheduleSchema = z
  .string()
  .max(200)
  .superRefine((v, ctx) => {
    const problem = scheduleProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, params: WHOLE });
  })
  .describe('a cron expression: minute hour day-of-month month day-of-week (such as "30 3 * * *"), or @hourly, @daily, @weekly, @monthly, @yearly');

const jobFields = {
  name: text(200),
  schedule: scheduleSchema,
  timezone: z.string().max(64).refine(isValidTimeZone, 'an IANA time zone such as UTC or Europe/Paris').nullable().optional().describe('the zone of the schedule (default: cron.timezone, this machine\'s)'),
  command: z.string().min(1, 'a shell command that is not empty').max(10_000).optional().describe('a shell command (only with cron.allow_commands)'),
  action: actionSchema.optional(),
  enabled: z.boolean().optional(),
  catch_up: z.boolean().optional().describe('a scheduled time missed while token-api was down runs once at its next start'),
  timeout_seconds: z.number().positive().max(86_400).nullable().optional().describe('how long a run may take (default cron.timeout_seconds)'),
};

const oneOfCommandOrAction = (b: { command?: unknown; action?: unknown }, ctx: z.RefinementCtx) => {
  if (b.command !== undefined && b.action !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['command'], message: 'names both command and action; a job runs one: give either', params: WHOLE });
  }
};

export const createJobSchema = z
  .strictObject({ id: jobIdSchema.optional().describe('made from the name when left out'), ...jobFields })
  .superRefine((b, ctx) => {
    oneOfCommandOrAction(b, ctx);
    if (b.command === undefined && b.action === undefined) ctx.addIssue({ code: 'custom', path: ['action'], message: 'is missing; expected an action, or a command', params: WHOLE });
  });
export type CreateJob = z.infer<typeof createJobSchema>;

export const updateJobSchema = z
  .strictObject(jobFields)
  .partial()
  .superRefine((b, ctx) => {
    oneOfCommandOrAction(b, ctx);
    if (Object.keys(b).length === 0) ctx.addIssue({ code: 'custom', message: 'names no field; expected one or more of name, schedule, timezone, command, action, enabled, catch_up, timeout_seconds', params: WHOLE });
  });
export type UpdateJob = z.infer<typeof updateJobSchema>;

export const runsQuerySchema = z.strictObject({
  limit: z.coerce.number({ error: 'a whole number from 1 to 500' }).int('a whole number from 1 to 500').min(1).max(500).optional(),
  before: timestampSchema.optional().describe('only runs started before this time (to page back)'),
});

export const executeBodySchema = z.strictObject({
  wait: z.boolean().optional().describe('answer when the run has finished (200), rather than once it started (202)'),
});

export const runSchema = z.looseObject({
  id: z.string(),
  job_id: z.string(),
  trigger: z.enum(['schedule', 'missed', 'manual']).describe('missed: a scheduled time that passed while token-api was down or busy'),
  scheduled_for: iso.nullable(),
  started_at: iso,
  finished_at: iso.nullable(),
  status: z.enum(['running', 'succeeded', 'failed', 'timed_out', 'interrupted', 'skipped']),
  duration_ms: z.number().nullable(),
  exit_code: z.number().int().nullable().describe("a command's exit code"),
  signal: z.string().nullable().describe('the signal that ended a command'),
  output: z.string().nullable().describe("a command's output (stdout and stderr), its end kept when longer than cron.output_max_bytes"),
  output_bytes: z.number().int(),
  output_truncated: z.boolean(),
  result: z.unknown().describe("a built-in action's result"),
  error: z.string().nullable(),
});
export const runListSchema = z.looseObject({ count: z.number().int(), runs: z.array(runSchema) });

export const jobSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  schedule: z.string(),
  timezone: z.string().nullable(),
  command: z.string().nullable(),
  action: z.looseObject({ type: z.string() }).nullable(),
  enabled: z.boolean(),
  catch_up: z.boolean(),
  timeout_seconds: z.number().nullable(),
  running: z.boolean(),
  next_run_at: iso.nullable(),
  last_run: runSchema.nullable(),
  created_at: iso,
  updated_at: iso,
});
export const jobListSchema = z.looseObject({ count: z.number().int(), jobs: z.array(jobSchema) });

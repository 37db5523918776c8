// A scheduled job as the scheduler holds it, and the shapes the API answers: the record from
// and to its row (its action parsed and checked again on the way in), its view with what its
// actor knows (running, next run), and a run's view. Tokens inside an action are masked in views.
import { nextRunAfter } from '../lib/cron-schedule.js';
import type { CronJobRow, CronRunRow } from '../db/queries/cron.js';
import { actionSchema, MASK, type CronAction } from '../protocol/cron.js';

export interface Job {
  id: string;
  name: string;
  schedule: string;
  /** The job's own zone; null: cron.timezone. */
  timezone: string | null;
  command: string | null;
  action: CronAction | null;
  enabled: boolean;
  catchUp: boolean;
  timeoutSeconds: number | null;
  createdAt: string;
  updatedAt: string;
}

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'timed_out' | 'interrupted' | 'skipped';

export interface RunView {
  id: string;
  job_id: string;
  trigger: string;
  scheduled_for: string | null;
  started_at: string;
  finished_at: string | null;
  status: RunStatus;
  duration_ms: number | null;
  exit_code: number | null;
  signal: string | null;
  output: string | null;
  output_bytes: number;
  output_truncated: boolean;
  result: unknown;
  error: string | null;
}

/** A row -> a job; throws when its action no longer parses. */
export function jobOfRow(row: CronJobRow): Job {
  return {
    id: row.id,
    name: row.name,
    schedule: row.schedule,
    timezone: row.timezone,
    command: row.command,
    action: row.action === null ? null : actionSchema.parse(JSON.parse(row.action)),
    enabled: row.enabled === 1,
    catchUp: row.catch_up === 1,
    timeoutSeconds: row.timeout_seconds,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function rowOfJob(job: Job, handledUntil: number): CronJobRow {
  return {
    id: job.id,
    name: job.name,
    schedule: job.schedule,
    timezone: job.timezone,
    command: job.command,
    action: job.action === null ? null : JSON.stringify(job.action),
    enabled: job.enabled ? 1 : 0,
    catch_up: job.catchUp ? 1 : 0,
    timeout_seconds: job.timeoutSeconds,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    handled_until: new Date(handledUntil).toISOString(),
  };
}

function maskedAction(a: CronAction | null): CronAction | null {
  if (a?.type === 'usage.push' && a.token !== undefined) return { ...a, token: MASK };
  return a;
}

export function jobView(job: Job, o: { timezone: string; handledUntil: number; running: boolean; lastRun: RunView | null }) {
  const next = job.enabled ? nextRunAfter(job.schedule, o.timezone, o.handledUntil) : null;
  return {
    id: job.id,
    name: job.name,
    schedule: job.schedule,
    timezone: job.timezone,
    command: job.command,
    action: maskedAction(job.action),
    enabled: job.enabled,
    catch_up: job.catchUp,
    timeout_seconds: job.timeoutSeconds,
    running: o.running,
    next_run_at: next === null ? null : new Date(next).toISOString(),
    last_run: o.lastRun,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
  };
}
export type JobView = ReturnType<typeof jobView>;

/** A run's row as it starts: `running`, or `skipped` (ended at once, with why). */
export function startRow(jobId: string, r: { runId: string; trigger: string; scheduledFor: number | null; at: number }, skipped: string | null = null): CronRunRow {
  const at = new Date(r.at).toISOString();
  return {
    id: r.runId,
    job_id: jobId,
    trigger: r.trigger,
    scheduled_for: r.scheduledFor === null ? null : new Date(r.scheduledFor).toISOString(),
    started_at: at,
    finished_at: skipped === null ? null : at,
    status: skipped === null ? 'running' : 'skipped',
    exit_code: null,
    signal: null,
    output: null,
    output_bytes: 0,
    output_truncated: 0,
    result: null,
    error: skipped,
  };
}

export function runView(row: CronRunRow): RunView {
  let result: unknown = null;
  if (row.result !== null) {
    try {
      result = JSON.parse(row.result);
    } catch {
      result = row.result;
    }
  }
  return {
    id: row.id,
    job_id: row.job_id,
    trigger: row.trigger,
    scheduled_for: row.scheduled_for,
    started_at: row.started_at,
    finished_at: row.finished_at,
    status: row.status as RunStatus,
    duration_ms: row.finished_at === null ? null : Date.parse(row.finished_at) - Date.parse(row.started_at),
    exit_code: row.exit_code,
    signal: row.signal,
    output: row.output,
    output_bytes: row.output_bytes,
    output_truncated: row.output_truncated === 1,
    result,
    error: row.error,
  };
}

/** A job id made from its name: "Nightly report" -> nightly-report (-2, -3, … when taken). */
export function idFromName(name: string, taken: (id: string) => boolean): string {
  const base = name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 56) || 'job';
  let id = base;
  for (let n = 2; taken(id); n++) id = `${base}-${n}`;
  return id;
}

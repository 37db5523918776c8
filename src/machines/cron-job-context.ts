// The scheduled job machine's context, input and events. A job's definition, the time up to
// which its schedule has been handled and its runs are rows (src/db/queries/cron.ts); the
// machine holds what changes over time while the server runs: enabled or not, waiting or running.

/** Why a run started: its scheduled time came, a scheduled time passed while token-api was down (or busy), or a person asked. */
export type CronTrigger = 'schedule' | 'missed' | 'manual';

export interface CronRunStart {
  runId: string;
  trigger: CronTrigger;
  /** The scheduled time the run is for (null for a manual run). */
  scheduledFor: number | null;
  startedAt: number;
}

export interface CronJobContext {
  jobId: string;
  schedule: string;
  timezone: string;
  enabled: boolean;
  /** Every scheduled time up to this instant has been handled: run, skipped, or let pass. */
  handledUntil: number;
  /** The run in progress. */
  run: CronRunStart | null;
}

export type CronJobInput = Omit<CronJobContext, 'run'>;

/** What the due timer is given: the schedule and the instant after which to look for its next time. */
export interface DueTimerInput {
  schedule: string;
  timezone: string;
  after: number;
}

interface At {
  /** Epoch milliseconds; machines never read the clock. */
  at: number;
}

export type CronJobEvent =
  /** From the due timer: a scheduled time has come (or, at start, came while token-api was down). */
  | ({ type: 'cron.due'; scheduledFor: number; runId: string } & At)
  /** Start a run now (a person asked; also raised by `cron.due`). */
  | ({ type: 'cron.start'; runId: string; trigger: CronTrigger; scheduledFor: number | null } & At)
  /** The job's definition changed. Enabling a disabled job lets the times it was off pass. */
  | ({ type: 'cron.configure'; schedule: string; timezone: string; enabled: boolean } & At);

/** Emitted when a start finds a run in progress: the job never runs twice at once. */
export interface CronSkipped {
  type: 'cron.skipped';
  runId: string;
  trigger: CronTrigger;
  scheduledFor: number | null;
  at: number;
  /** The run in progress. */
  busyWith: string;
}

/** A start later than this after its scheduled time is a missed run (token-api was down or busy). */
export const LATE_MS = 60_000;

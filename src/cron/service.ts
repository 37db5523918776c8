// The scheduler: one cron-job actor per job (src/machines/cron-job.ts), built from the job rows
// at start and kept in step with them. A job's actor waits for its next scheduled time (its due
// timer) and runs it once at a time; this file provides what the machine invokes: the run,
// which commits its start (a `running` row) before any work, runs the built-in action or shell
// command within its timeout, and commits its end (the row, the `cron.executed` event) before
// listeners (the feed's `cron_job_executed`) hear of it. Changes to jobs are committed before
// they are answered, and each is an event. Job actors are not persisted: their durable state
// is the rows; a run cut off by the process ending is marked `interrupted` at the next start.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { createActor, fromPromise, type Actor, type InspectionEvent, type Observer } from 'xstate';
import type { Clock } from '../lib/clock.js';
import { boundedJson } from '../lib/bounded-json.js';
import type { Hub } from '../actors/runtime/root-machines.js';
import type { CronSettings } from '../config/cron.js';
import type { Database } from '../db/database.js';
import {
  allJobs,
  getRun,
  handledUntilOp,
  interruptRunsOp,
  jobDeleteOps,
  jobUpsertOp,
  lastRuns,
  listRuns,
  pruneRunsOp,
  runFinishOp,
  runInsertOp,
  runningRuns,
  type CronRunRow,
} from '../db/queries/cron.js';
import { DomainError } from '../lib/domain-error.js';
import type { CronRunStart } from '../machines/cron-job-context.js';
import { cronJobMachine } from '../machines/cron-job.js';
import { MASK, type CreateJob, type CronAction, type UpdateJob } from '../protocol/cron.js';
import { runAction, type ActionDeps } from './actions.js';
import { runCommand } from './command.js';
import { createDueTimer } from './due-timer.js';
import { idFromName, jobOfRow, jobView, rowOfJob, runView, startRow, type Job, type JobView, type RunStatus, type RunView } from './jobs.js';

export interface CronDeps {
  db: Database;
  hub: Pick<Hub, 'record'>;
  clock: Clock;
  logger: Logger;
  settings: () => CronSettings;
  /** Built-in actions: the running system's functions they call. */
  actions: ActionDeps;
  /** The configured work modes (a `mode.set` action names one). */
  modes: () => string[];
  /** Where shell commands run (the data directory). */
  cwd: string;
  inspect?: Observer<InspectionEvent>;
  newId?: () => string;
}

/** A finished run and its job, for listeners (the live feed). */
export interface RunFinished {
  job: { id: string; name: string };
  run: RunView;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

type JobActor = Actor<typeof cronJobMachine>;

interface Entry {
  job: Job;
  actor: JobActor;
}

interface Outcome {
  status: RunStatus;
  exitCode: number | null;
  signal: string | null;
  output: string | null;
  outputBytes: number;
  truncated: boolean;
  result: string | null;
  error: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function createCron(deps: CronDeps) {
  const { clock, hub, logger } = deps;
  const newId = deps.newId ?? (() => `run-${randomUUID()}`);
  const entries = new Map<string, Entry>();
  const lastRun = new Map<string, RunView>();
  /** Runs in progress: their start and end, for whoever asked for them. */
  const flights = new Map<string, { started: Deferred<RunView>; finished: Deferred<RunView> }>();
  const active = new Set<Promise<unknown>>();
  const listeners = new Set<(r: RunFinished) => void>();
  /** Ids being created (committed, not yet in `entries`). */
  const reserved = new Set<string>();
  const closing = new AbortController();

  const zoneOf = (job: Job) => job.timezone ?? deps.settings().timezone;

  const machine = cronJobMachine.provide({
    actors: {
      dueTimer: createDueTimer(clock, newId),
      runJob: fromPromise<unknown, CronRunStart & { jobId: string }>(({ input, signal }) => {
        const p = performRun(input, signal);
        active.add(p);
        return p.finally(() => active.delete(p));
      }),
    },
  });

  function flightOf(runId: string) {
    let f = flights.get(runId);
    if (!f) flights.set(runId, (f = { started: deferred(), finished: deferred() }));
    return f;
  }

  /** The work of a run that started at `startedAt`: its timeout counts from then. */
  async function execute(job: Job, startedAt: number, stopped: AbortSignal): Promise<Outcome> {
    const s = deps.settings();
    const timeoutMs = job.timeoutSeconds !== null ? job.timeoutSeconds * 1000 : s.timeoutMs;
    const left = Math.max(0, startedAt + timeoutMs - clock.now());
    const none = { exitCode: null, signal: null, output: null, outputBytes: 0, truncated: false, result: null };
    if (job.command !== null) {
      if (!s.allowCommands) return { ...none, status: 'failed', error: 'shell commands are off (cron.allow_commands in the config file turns them on)' };
      const r = await runCommand(job.command, { cwd: deps.cwd, timeoutMs: left, maxOutputBytes: s.outputMaxBytes, clock, signal: stopped });
      const status: RunStatus = r.error ? 'failed' : r.timedOut ? 'timed_out' : r.aborted ? 'interrupted' : r.exitCode === 0 ? 'succeeded' : 'failed';
      const error =
        r.error ??
        (r.timedOut
          ? `took longer than ${timeoutMs / 1000} s and was stopped`
          : r.aborted
            ? 'stopped: token-api stopped, or the job was deleted, during the run'
            : r.exitCode !== 0
              ? r.exitCode === null
                ? `ended by ${r.signal ?? 'a signal'}`
                : `exited with code ${r.exitCode}`
              : null);
      return { status, exitCode: r.exitCode, signal: r.signal, output: r.output, outputBytes: r.outputBytes, truncated: r.truncated, result: null, error };
    }
    const action = job.action!;
    if (action.type === 'mode.set' && !deps.modes().includes(action.mode)) {
      return { ...none, status: 'failed', error: `mode ${action.mode} is not one of the configured modes (${deps.modes().join(', ')})` };
    }
    const ctl = new AbortController();
    const onStop = () => ctl.abort();
    stopped.addEventListener('abort', onStop, { once: true });
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const timedOut = new Promise<'timed_out'>((resolve) => (timer = clock.setTimeout(() => resolve('timed_out'), left)));
    try {
      const r = await Promise.race([runAction(action, deps.actions, ctl.signal).then((v) => ({ v })), timedOut]);
      if (r === 'timed_out') {
        ctl.abort();
        return { ...none, status: 'timed_out', error: `took longer than ${timeoutMs / 1000} s; left to finish on its own` };
      }
      return { ...none, status: 'succeeded', error: null, result: r.v === undefined ? null : boundedJson(r.v, s.outputMaxBytes) };
    } catch (err) {
      return { ...none, status: stopped.aborted ? 'interrupted' : 'failed', error: (err as Error).message || String(err) };
    } finally {
      clock.clearTimeout(timer);
      stopped.removeEventListener('abort', onStop);
    }
  }

  /** What the machine's `runJob` does: commit the start, do the work, commit the end, tell. */
  async function performRun(input: CronRunStart & { jobId: string }, actorStopped: AbortSignal): Promise<void> {
    const flight = flightOf(input.runId);
    const entry = entries.get(input.jobId);
    if (!entry) {
      flights.delete(input.runId);
      flight.started.reject(new DomainError('not_found', `no job ${input.jobId}`));
      return;
    }
    const job = entry.job;
    const row = startRow(job.id, { ...input, at: input.startedAt });
    try {
      await hub.record({ ops: [runInsertOp(row), handledUntilOp(job.id, iso(entry.actor.getSnapshot().context.handledUntil))] });
    } catch (err) {
      logger.error({ err, job: job.id }, 'could not record the start of a scheduled run; it did not run');
      flights.delete(input.runId);
      flight.started.reject(err);
      flight.finished.reject(err);
      return;
    }
    flight.started.resolve(runView(row));
    const stopped = AbortSignal.any([actorStopped, closing.signal]);
    const o = await execute(job, input.startedAt, stopped);
    const finishedAt = clock.now();
    const done: CronRunRow = {
      ...row,
      finished_at: iso(Math.max(finishedAt, input.startedAt)),
      status: o.status,
      exit_code: o.exitCode,
      signal: o.signal,
      output: o.output,
      output_bytes: o.outputBytes,
      output_truncated: o.truncated ? 1 : 0,
      result: o.result,
      error: o.error,
    };
    const view = runView(done);
    try {
      await hub.record({
        ops: [runFinishOp(done), pruneRunsOp(job.id, deps.settings().runsKept)],
        events: [
          {
            type: 'cron.executed',
            at: finishedAt,
            details: { job_id: job.id, name: job.name, run_id: done.id, trigger: done.trigger, status: done.status, exit_code: done.exit_code, duration_ms: view.duration_ms, error: done.error },
          },
        ],
      });
    } catch (err) {
      logger.error({ err, job: job.id, run: done.id }, 'could not record the end of a scheduled run');
      flights.delete(input.runId);
      flight.finished.reject(err);
      return;
    }
    if (o.status !== 'succeeded') logger.warn({ job: job.id, run: done.id, status: o.status, error: o.error }, 'a scheduled job did not succeed');
    lastRun.set(job.id, view);
    flights.delete(input.runId);
    flight.finished.resolve(view);
    for (const l of listeners) {
      try {
        l({ job: { id: job.id, name: job.name }, run: view });
      } catch (err) {
        logger.error({ err }, 'cron listener failed');
      }
    }
  }

  /** A start while a run is in progress: in the history as skipped, never run alongside. */
  async function recordSkipped(job: Job, e: { runId: string; trigger: string; scheduledFor: number | null; at: number; busyWith: string }, handledUntil: number) {
    const row = startRow(job.id, e, `run ${e.busyWith} was still running; a job never runs twice at once`);
    try {
      await hub.record({
        ops: [runInsertOp(row), handledUntilOp(job.id, iso(handledUntil)), pruneRunsOp(job.id, deps.settings().runsKept)],
        events: [{ type: 'cron.skipped', at: e.at, details: { job_id: job.id, name: job.name, run_id: e.runId, busy_with: e.busyWith, scheduled_for: row.scheduled_for } }],
      });
    } catch (err) {
      logger.error({ err, job: job.id }, 'could not record a skipped run');
    }
  }

  function startActor(job: Job, handledUntil: number): Entry {
    const actor = createActor(machine, {
      id: `cron:${job.id}`,
      input: { jobId: job.id, schedule: job.schedule, timezone: zoneOf(job), enabled: job.enabled, handledUntil },
      ...(deps.inspect ? { inspect: deps.inspect } : {}),
    });
    const entry: Entry = { job, actor };
    actor.subscribe({ error: (err) => logger.error({ err, job: job.id }, 'a scheduled job failed; it no longer runs until token-api restarts') });
    actor.on('cron.skipped', (e) => void recordSkipped(entry.job, e, actor.getSnapshot().context.handledUntil));
    actor.start();
    return entry;
  }

  function viewOf(e: Entry): JobView {
    const ctx = e.actor.getSnapshot().context;
    return jobView(e.job, { timezone: zoneOf(e.job), handledUntil: ctx.handledUntil, running: ctx.run !== null, lastRun: lastRun.get(e.job.id) ?? null });
  }

  function entryOf(id: string): Entry {
    const e = entries.get(id);
    if (!e) throw new DomainError('not_found', `no job ${id}; GET /api/cron/jobs lists them`, 'id');
    return e;
  }

  /** Refusals a job's definition may meet whatever the request: commands off, a mode not configured. */
  function checkRunnable(fields: { command?: string | null; action?: CronAction | null }): void {
    if (fields.command != null && !deps.settings().allowCommands) {
      throw new DomainError('forbidden', 'shell commands are off: set cron.allow_commands to true in the config file to allow jobs that run them', 'command');
    }
    if (fields.action?.type === 'mode.set' && !deps.modes().includes(fields.action.mode)) {
      throw new DomainError('invalid', `mode ${fields.action.mode} is not one of the configured modes (${deps.modes().join(', ')})`, 'action.mode');
    }
  }

  function changeEvent(type: string, job: Job, extra: Record<string, unknown> = {}) {
    return { type, at: clock.now(), details: { id: job.id, name: job.name, ...extra } };
  }

  // Start: runs left `running` by a process that ended were cut off; the rest is loaded.
  const now = clock.now();
  const cut = await runningRuns(deps.db);
  if (cut.length > 0) {
    await hub.record({ ops: [interruptRunsOp(iso(now))] });
    logger.warn({ runs: cut.map((r) => r.id) }, 'scheduled runs cut off when token-api last stopped are marked interrupted');
  }
  for (const row of await lastRuns(deps.db)) lastRun.set(row.job_id, runView(row));
  for (const row of await allJobs(deps.db)) {
    let job: Job;
    try {
      job = jobOfRow(row);
    } catch (err) {
      logger.error({ err, job: row.id }, 'a scheduled job whose action cannot be read is left out (delete it, or fix its row)');
      continue;
    }
    const stored = row.handled_until === null ? null : Date.parse(row.handled_until);
    // A job that says so catches up once on a time missed while down; the others start from now.
    const handledUntil = stored !== null && job.catchUp ? stored : Math.max(stored ?? now, now);
    entries.set(job.id, startActor(job, handledUntil));
  }

  const unlive: (() => void)[] = [];

  return {
    list(): JobView[] {
      return [...entries.values()].map(viewOf);
    },

    get(id: string): JobView {
      return viewOf(entryOf(id));
    },

    /** Creates a job (answered after commit); it waits for its first scheduled time from now. */
    async create(body: CreateJob): Promise<JobView> {
      checkRunnable(body);
      if (body.id !== undefined && (entries.has(body.id) || reserved.has(body.id))) throw new DomainError('conflict', `job ${body.id} exists; PUT /api/cron/jobs/${body.id} changes it`, 'id');
      const id = body.id ?? idFromName(body.name, (x) => entries.has(x) || reserved.has(x));
      const at = clock.now();
      const job: Job = {
        id,
        name: body.name,
        schedule: body.schedule.trim(),
        timezone: body.timezone ?? null,
        command: body.command ?? null,
        action: body.action ?? null,
        enabled: body.enabled ?? true,
        catchUp: body.catch_up ?? false,
        timeoutSeconds: body.timeout_seconds ?? null,
        createdAt: iso(at),
        updatedAt: iso(at),
      };
      reserved.add(id);
      try {
        await hub.record({ ops: [jobUpsertOp(rowOfJob(job, at))], events: [changeEvent('cron.job_created', job, { schedule: job.schedule, kind: job.command !== null ? 'command' : job.action!.type })] });
        const entry = startActor(job, at);
        entries.set(id, entry);
        return viewOf(entry);
      } finally {
        reserved.delete(id);
      }
    },

    /** Changes the fields named (a command replaces an action and the other way round). */
    async update(id: string, patch: UpdateJob): Promise<JobView> {
      const entry = entryOf(id);
      const old = entry.job;
      let action = patch.action !== undefined ? patch.action : patch.command !== undefined ? null : old.action;
      // A masked token sent back as it was shown keeps the stored one.
      if (action?.type === 'usage.push' && action.token === MASK) {
        if (old.action?.type !== 'usage.push' || old.action.token === undefined) throw new DomainError('invalid', `action.token is ${MASK}, the mask of a stored token, but this job stores none; send the token itself`, 'action.token');
        action = { ...action, token: old.action.token };
      }
      const command = patch.command !== undefined ? patch.command : patch.action !== undefined ? null : old.command;
      if (patch.command !== undefined || patch.action !== undefined) checkRunnable({ command: patch.command, action });
      const at = clock.now();
      const job: Job = {
        ...old,
        name: patch.name ?? old.name,
        schedule: patch.schedule?.trim() ?? old.schedule,
        timezone: patch.timezone !== undefined ? patch.timezone : old.timezone,
        command,
        action,
        enabled: patch.enabled ?? old.enabled,
        catchUp: patch.catch_up ?? old.catchUp,
        timeoutSeconds: patch.timeout_seconds !== undefined ? patch.timeout_seconds : old.timeoutSeconds,
        updatedAt: iso(at),
      };
      // Enabling a job lets the times it was off pass (the machine does the same).
      const ctx = entry.actor.getSnapshot().context;
      const handledUntil = !old.enabled && job.enabled ? Math.max(ctx.handledUntil, at) : ctx.handledUntil;
      await hub.record({ ops: [jobUpsertOp(rowOfJob(job, handledUntil))], events: [changeEvent('cron.job_updated', job, { changed: Object.keys(patch).sort() })] });
      if (entries.get(id) !== entry) throw new DomainError('not_found', `job ${id} was deleted meanwhile`, 'id');
      entry.job = job;
      entry.actor.send({ type: 'cron.configure', schedule: job.schedule, timezone: zoneOf(job), enabled: job.enabled, at });
      return viewOf(entry);
    },

    /** Deletes a job and its runs; a run in progress is stopped (and its end still recorded). */
    async remove(id: string): Promise<JobView> {
      const entry = entryOf(id);
      const view = viewOf(entry);
      await hub.record({ ops: jobDeleteOps(id), events: [changeEvent('cron.job_deleted', entry.job)] });
      if (entries.get(id) === entry) entries.delete(id);
      lastRun.delete(id);
      entry.actor.stop();
      return view;
    },

    /** Runs a job now: answered once its start is committed, or with `wait`, once it ended. */
    async execute(id: string, wait = false): Promise<RunView> {
      const entry = entryOf(id);
      const running = entry.actor.getSnapshot().context.run;
      if (running) throw new DomainError('conflict', `job ${id} is running (run ${running.runId}, started ${iso(running.startedAt)}); a job never runs twice at once`, 'id');
      const runId = newId();
      const flight = flightOf(runId);
      entry.actor.send({ type: 'cron.start', runId, trigger: 'manual', scheduledFor: null, at: clock.now() });
      return wait ? flight.finished.promise : flight.started.promise;
    },

    /** A job's runs, newest first. */
    async runs(id: string, q: { limit?: number; before?: string } = {}): Promise<RunView[]> {
      entryOf(id);
      return (await listRuns(deps.db, id, q.limit ?? 50, q.before)).map(runView);
    },

    async run(runId: string): Promise<RunView | null> {
      const row = await getRun(deps.db, runId);
      return row ? runView(row) : null;
    },

    onRun(listener: (r: RunFinished) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** Jobs without a zone of their own follow cron.timezone when it changes. */
    followSettings(onChange: (l: () => void) => () => void): void {
      unlive.push(
        onChange(() => {
          for (const e of entries.values()) {
            if (e.job.timezone !== null) continue;
            e.actor.send({ type: 'cron.configure', schedule: e.job.schedule, timezone: zoneOf(e.job), enabled: e.job.enabled, at: clock.now() });
          }
        }),
      );
    },

    /** For GET /api/status: how many jobs, which run, what comes next, which failed last time. */
    summary() {
      const views = [...entries.values()].map(viewOf);
      const next = views.flatMap((v) => (v.next_run_at === null ? [] : [{ id: v.id, name: v.name, at: v.next_run_at }])).sort((a, b) => (a.at < b.at ? -1 : 1))[0];
      return {
        total: views.length,
        enabled: views.filter((v) => v.enabled).length,
        running: views.filter((v) => v.running).map((v) => v.id),
        next: next ?? null,
        failed: views.filter((v) => v.last_run && v.last_run.status !== 'succeeded').map((v) => v.id),
        commands_allowed: deps.settings().allowCommands,
      };
    },

    /** Resolves when the runs in progress have ended (their ends recorded). */
    async idle(): Promise<void> {
      while (active.size > 0) await Promise.allSettled([...active]);
    },

    /** Stops every schedule, stops the runs in progress and waits (at most graceMs) for their ends to be recorded. */
    async close(graceMs = 10_000): Promise<void> {
      for (const u of unlive) u();
      // Stopping an actor ends its schedule and stops its run (the run's signal aborts).
      for (const e of entries.values()) e.actor.stop();
      closing.abort();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([Promise.allSettled([...active]), late]).finally(() => clearTimeout(timer));
    },
  };
}

export type Cron = Awaited<ReturnType<typeof createCron>>;

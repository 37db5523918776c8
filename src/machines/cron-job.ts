// A scheduled job: two regions side by side. `schedule` is enabled (the invoked due timer, which
// the actors layer provides with the injected clock and the cron library, waits for the next
// scheduled time after `handledUntil`) or disabled. `run` is idle or running (the invoked
// `runJob` does the work the actors layer provides). A start while running is skipped and
// emitted, never run alongside: a job never runs twice at once. Pure: events carry `at`.
import { assign, emit, fromCallback, fromPromise, raise, setup, type EventObject } from 'xstate';
import { LATE_MS, type CronJobContext, type CronJobEvent, type CronJobInput, type CronRunStart, type CronSkipped, type DueTimerInput } from './cron-job-context.js';

export const cronJobMachine = setup({
  types: {
    context: {} as CronJobContext,
    events: {} as CronJobEvent,
    input: {} as CronJobInput,
    emitted: {} as CronSkipped,
  },
  actors: {
    // Replaced by the actors layer: the bare machine's schedule never comes due, and its runs never end.
    dueTimer: fromCallback<EventObject, DueTimerInput>(() => undefined),
    runJob: fromPromise<unknown, CronRunStart & { jobId: string }>(() => new Promise(() => undefined)),
  },
  guards: {
    isEnabled: ({ context }) => context.enabled,
    isDisabledNow: ({ event }) => event.type === 'cron.configure' && !event.enabled,
  },
  actions: {
    configure: assign(({ context, event }) => {
      if (event.type !== 'cron.configure') return {};
      // Times that passed while the job was off are not caught up.
      const handledUntil = !context.enabled && event.enabled ? Math.max(context.handledUntil, event.at) : context.handledUntil;
      return { schedule: event.schedule, timezone: event.timezone, enabled: event.enabled, handledUntil };
    }),
    markHandled: assign({
      handledUntil: ({ context, event }) => (event.type === 'cron.due' ? Math.max(context.handledUntil, event.scheduledFor, event.at) : context.handledUntil),
    }),
    startDueRun: raise(({ event }) => {
      const e = event as Extract<CronJobEvent, { type: 'cron.due' }>;
      return { type: 'cron.start' as const, runId: e.runId, trigger: e.at - e.scheduledFor > LATE_MS ? ('missed' as const) : ('schedule' as const), scheduledFor: e.scheduledFor, at: e.at };
    }),
    assignRun: assign({
      run: ({ event }) => (event.type === 'cron.start' ? { runId: event.runId, trigger: event.trigger, scheduledFor: event.scheduledFor, startedAt: event.at } : null),
    }),
    clearRun: assign({ run: null }),
    emitSkipped: emit(({ context, event }) => {
      const e = event as Extract<CronJobEvent, { type: 'cron.start' }>;
      return { type: 'cron.skipped' as const, runId: e.runId, trigger: e.trigger, scheduledFor: e.scheduledFor, at: e.at, busyWith: context.run?.runId ?? '' };
    }),
  },
}).createMachine({
  id: 'cron-job',
  version: '1',
  description: 'A scheduled job: when its schedule comes due it runs, once at a time.',
  context: ({ input }) => ({ ...input, run: null }),
  type: 'parallel',
  states: {
    schedule: {
      initial: 'choosing',
      states: {
        choosing: {
          always: [{ guard: 'isEnabled', target: 'enabled' }, { target: 'disabled' }],
        },
        enabled: {
          description: 'Waiting for the next scheduled time after handledUntil.',
          invoke: {
            src: 'dueTimer',
            input: ({ context }) => ({ schedule: context.schedule, timezone: context.timezone, after: context.handledUntil }),
          },
          on: {
            'cron.due': { target: 'enabled', reenter: true, actions: ['markHandled', 'startDueRun'] },
            'cron.configure': [
              { guard: 'isDisabledNow', target: 'disabled', actions: 'configure' },
              { target: 'enabled', reenter: true, actions: 'configure' },
            ],
          },
        },
        disabled: {
          description: 'Off: runs only when a person asks.',
          on: { 'cron.configure': { target: 'choosing', actions: 'configure' } },
        },
      },
    },
    run: {
      initial: 'idle',
      states: {
        idle: {
          on: { 'cron.start': { target: 'running', actions: 'assignRun' } },
        },
        running: {
          description: 'A run is in progress; a start meanwhile is skipped.',
          invoke: {
            src: 'runJob',
            input: ({ context }) => ({ ...context.run!, jobId: context.jobId }),
            onDone: { target: 'idle', actions: 'clearRun' },
            onError: { target: 'idle', actions: 'clearRun' },
          },
          on: { 'cron.start': { actions: 'emitSkipped' } },
        },
      },
    },
  },
});

export type CronJobMachine = typeof cronJobMachine;

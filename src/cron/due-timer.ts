// The real timer behind a job's schedule: an invoked callback actor that asks croner for the
// first scheduled time after the instant it is given, waits for it on the injected clock (re-
// armed when a timer fires early or the wait is longer than setTimeout holds), then sends
// `cron.due` with a fresh run id. A time already past (a run missed while token-api was down)
// is sent on the next timer turn, never during start-up.
import { fromCallback, type EventObject } from 'xstate';
import { MAX_TIMER_MS, type Clock, type TimerHandle } from '../lib/clock.js';
import { nextRunAfter } from '../lib/cron-schedule.js';
import type { DueTimerInput } from '../machines/cron-job-context.js';

export function createDueTimer(clock: Clock, newRunId: () => string) {
  return fromCallback<EventObject, DueTimerInput>(({ input, sendBack }) => {
    const due = nextRunAfter(input.schedule, input.timezone, input.after);
    if (due === null) return undefined;
    let handle: TimerHandle | undefined;
    const arm = () => {
      const wait = due - clock.now();
      if (wait <= 0) {
        handle = undefined;
        sendBack({ type: 'cron.due', at: clock.now(), scheduledFor: due, runId: newRunId() });
        return;
      }
      handle = clock.setTimeout(arm, Math.min(wait, MAX_TIMER_MS));
    };
    handle = clock.setTimeout(arm, Math.max(0, Math.min(due - clock.now(), MAX_TIMER_MS)));
    return () => clock.clearTimeout(handle);
  });
}

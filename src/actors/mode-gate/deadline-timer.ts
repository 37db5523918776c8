// The real timer behind a machine's deadline (the mode's duration, the gate's grace): an
// invoked callback actor that sends `{ type, at }` once the injected clock reaches the
// deadline it was given. It re-arms when a timer fires early or the wait exceeds what
// setTimeout can hold, so the event never arrives before its deadline.
import { fromCallback, type EventObject } from 'xstate';
import type { DeadlineInput } from '../../machines/deadline.js';
import { MAX_TIMER_MS, type Clock, type TimerHandle } from '../../lib/clock.js';

export function createDeadlineTimer<T extends string>(clock: Clock, type: T) {
  return fromCallback<EventObject, DeadlineInput>(({ input, sendBack }) => {
    let handle: TimerHandle | undefined;
    const arm = () => {
      const wait = input.deadline - clock.now();
      if (wait <= 0) {
        handle = undefined;
        sendBack({ type, at: clock.now() });
        return;
      }
      handle = clock.setTimeout(arm, Math.min(wait, MAX_TIMER_MS));
    };
    // Never send during start-up: a deadline already past fires on the next timer turn.
    handle = clock.setTimeout(arm, Math.max(0, Math.min(input.deadline - clock.now(), MAX_TIMER_MS)));
    return () => clock.clearTimeout(handle);
  });
}

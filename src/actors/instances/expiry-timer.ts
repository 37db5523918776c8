// The real `expiryTimer` for the instance machine: waits until the deadline it was given,
// then asks the machine to check (`expiry.check`), saying whether the instance's local
// process still runs: a live process is only idle, never expired. The machine re-arms it
// with a later deadline when there was activity meanwhile. Restored actors restart it.
import { fromCallback } from 'xstate';
import type { ExpiryTimerEvent, ExpiryTimerInput } from '../../machines/instance.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import { processExists } from './process-exists.js';

export function createExpiryTimer(clock: Clock, exists: (pid: number) => boolean = processExists) {
  return fromCallback<ExpiryTimerEvent, ExpiryTimerInput>(({ input, sendBack, receive }) => {
    let handle: TimerHandle | undefined;
    let pid = input.pid ?? null;
    const arm = (deadline: number) => {
      clock.clearTimeout(handle);
      handle = clock.setTimeout(() => {
        handle = undefined;
        sendBack({ type: 'expiry.check', at: clock.now(), alive: pid !== null && exists(pid) });
      }, deadline - clock.now());
    };
    arm(input.deadline);
    receive((event) => {
      if (event.type !== 'expiry.rearm') return;
      pid = event.pid;
      arm(event.deadline);
    });
    return () => clock.clearTimeout(handle);
  });
}

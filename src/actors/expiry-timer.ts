// The real `expiryTimer` for the instance machine: waits until the deadline it was given,
// then asks the machine to check (`expiry.check`). The machine re-arms it with a later
// deadline when there was activity meanwhile. Restored actors restart it with their input.
import { fromCallback } from 'xstate';
import type { ExpiryTimerEvent, ExpiryTimerInput } from '../machines/instance.js';
import type { Clock, TimerHandle } from './clock.js';

export function createExpiryTimer(clock: Clock) {
  return fromCallback<ExpiryTimerEvent, ExpiryTimerInput>(({ input, sendBack, receive }) => {
    let handle: TimerHandle | undefined;
    const arm = (deadline: number) => {
      clock.clearTimeout(handle);
      handle = clock.setTimeout(() => {
        handle = undefined;
        sendBack({ type: 'expiry.check', at: clock.now() });
      }, deadline - clock.now());
    };
    arm(input.deadline);
    receive((event) => {
      if (event.type === 'expiry.rearm') arm(event.deadline);
    });
    return () => clock.clearTimeout(handle);
  });
}

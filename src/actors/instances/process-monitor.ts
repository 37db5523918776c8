// A crashed agent sends no SessionEnd. Where an instance's pid is known and belongs to this
// machine (its hooks came over loopback), the monitor checks that the process still exists
// and stops the instance when it does not.
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Instances } from './instances.js';
import { processExists } from './process-exists.js';

export function startProcessMonitor(deps: {
  instances: Instances;
  clock: Clock;
  intervalMs: number;
  logger: Logger;
  exists?: (pid: number) => boolean;
}) {
  const exists = deps.exists ?? processExists;
  let timer: TimerHandle | undefined;
  let stopped = false;

  async function check(): Promise<string[]> {
    const gone = deps.instances.live().filter((i) => i.ctx.pidLocal && i.ctx.pid !== null && !exists(i.ctx.pid));
    await Promise.all(
      gone.map((i) =>
        deps.instances.send(i.id, { type: 'instance.process_gone', at: deps.clock.now() }).catch((err) => {
          deps.logger.error({ err, instance: i.id }, 'could not stop an instance whose process is gone');
        }),
      ),
    );
    for (const i of gone) deps.logger.info({ instance: i.id, pid: i.ctx.pid }, 'instance process is gone; stopped');
    return gone.map((i) => i.id);
  }

  function loop(): void {
    if (stopped) return;
    timer = deps.clock.setTimeout(() => {
      check()
        .catch((err) => deps.logger.error({ err }, 'checking agent processes failed'))
        .finally(loop);
    }, deps.intervalMs);
  }
  loop();

  return {
    check,
    stop(): void {
      stopped = true;
      deps.clock.clearTimeout(timer);
    },
  };
}

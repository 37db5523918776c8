// The event log is kept for a configured number of days (`event_retention_days`, default 30;
// 0 keeps everything). Older rows are deleted at start and then once a day, a few thousand at
// a time through the writer, so a large backlog never holds the one transaction for long.
import type { Logger } from 'pino';
import type { Database } from '../../db/database.js';
import { deleteEventsOp, oldEventIds } from '../../db/queries/events.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Hub } from './root-machines.js';

const DAY_MS = 24 * 3_600_000;
const CHUNK = 5000;

export function startRetention(deps: { db: Database; hub: Pick<Hub, 'record'>; clock: Clock; logger: Logger; retentionMs: number }) {
  let timer: TimerHandle | undefined;
  let stopped = false;
  let running: Promise<number> = Promise.resolve(0);

  /** Deletes events older than the retention period; resolves with how many went. */
  async function prune(): Promise<number> {
    if (deps.retentionMs <= 0) return 0;
    const before = new Date(deps.clock.now() - deps.retentionMs).toISOString();
    let total = 0;
    for (;;) {
      if (stopped) break;
      const rows = await oldEventIds(deps.db, before, CHUNK);
      if (rows.length === 0) break;
      await deps.hub.record({ ops: [deleteEventsOp(rows.map((r) => r.id))] });
      total += rows.length;
      if (rows.length < CHUNK) break;
    }
    if (total > 0) deps.logger.info({ deleted: total, before }, 'old events deleted');
    return total;
  }

  function loop(delay: number): void {
    if (stopped || deps.retentionMs <= 0) return;
    timer = deps.clock.setTimeout(() => {
      loop(DAY_MS); // the next run is due a day after this one started, whatever this one takes
      running = running.then(() =>
        prune().catch((err) => {
          deps.logger.error({ err }, 'deleting old events failed');
          return 0;
        }),
      );
    }, delay);
  }
  loop(0);

  return {
    prune,
    /** Resolves when the scheduled run under way (if any) is done. */
    async idle(): Promise<void> {
      await running;
    },
    async stop(): Promise<void> {
      stopped = true;
      deps.clock.clearTimeout(timer);
      await running;
    },
  };
}

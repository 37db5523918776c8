// Event ids the hook script gives its events, so that a spooled event replayed after an
// outage is applied once. An id is claimed in memory when its event is handled, its row is
// committed with the event's effect (then it is confirmed), and a replay asks memory first,
// then SQLite. An id still committing is not yet known: whoever replays it waits for it. The
// newest ids are loaded at start, so that a live repeat of one from before a restart is known
// too (live calls do not wait for SQLite).
import type { Database } from '../../db/database.js';
import { eventIdInsert, newestEventIds, pruneEventIdsOp, recordedEventIds } from '../../db/queries/hook-event-ids.js';
import type { WriteOp } from '../../db/writer.js';

/** Ids as the hook script makes them (a UUID, or pid and time where there is no /proc). */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9._:-]{8,128}$/;

export interface HookEventIds {
  /** True when the id was handled by this process (committed, or still committing). */
  has(id: string): boolean;
  /** Marks an id as being handled now; `confirm` once its transaction commits, `release` if it fails. */
  claim(id: string): void;
  confirm(id: string): void;
  release(id: string): void;
  /** The row that records an id, for the transaction of the event's effect. */
  row(id: string, at: number): WriteOp;
  /** Which of these ids were already committed, as memory or the database knows (not those still committing). */
  known(ids: readonly string[]): Promise<Set<string>>;
  /** A statement that forgets ids recorded before `before` (epoch ms). */
  pruneOp(before: number): WriteOp;
  /** Start-up: the newest committed ids, into memory. */
  load(): Promise<void>;
}

export function createHookEventIds(deps: { db: Database; capacity?: number }): HookEventIds {
  const capacity = deps.capacity ?? 20_000;
  // Insertion order is age: the oldest ids are forgotten first (the database still has them).
  const recent = new Set<string>();
  /** Claimed, not yet committed. */
  const claimed = new Set<string>();

  return {
    has: (id) => recent.has(id) || claimed.has(id),
    claim(id) {
      claimed.add(id);
    },
    confirm(id) {
      claimed.delete(id);
      recent.add(id);
      if (recent.size > capacity) {
        for (const old of recent) {
          recent.delete(old);
          if (recent.size <= capacity) break;
        }
      }
    },
    release(id) {
      claimed.delete(id);
    },
    row(id, at) {
      return eventIdInsert(id, new Date(at).toISOString());
    },
    async known(ids) {
      const found = new Set<string>();
      const ask: string[] = [];
      for (const id of ids) (recent.has(id) ? found.add(id) : ask.push(id));
      for (let i = 0; i < ask.length; i += 500) {
        const chunk = ask.slice(i, i + 500);
        const rows = await recordedEventIds(deps.db, chunk);
        for (const r of rows) found.add(r.event_id);
      }
      return found;
    },
    pruneOp(before) {
      return pruneEventIdsOp(new Date(before).toISOString());
    },
    async load() {
      const rows = await newestEventIds(deps.db, capacity);
      for (let i = rows.length - 1; i >= 0; i--) recent.add(rows[i]!.event_id);
    },
  };
}

// Event ids of hook calls (hook_event_ids): the row that records one goes in the transaction of
// the event's effect, so a replayed event is applied once.
import type { Database } from '../database.js';
import type { WriteOp } from '../writer.js';

export function eventIdInsert(id: string, receivedAt: string): WriteOp {
  return { kind: 'insert', table: 'hook_event_ids', orIgnore: true, row: { event_id: id, received_at: receivedAt } };
}

/** Which of these ids (at most a few hundred) are recorded. */
export function recordedEventIds(db: Database, ids: readonly string[]): Promise<{ event_id: string }[]> {
  return db.all<{ event_id: string }>(`SELECT event_id FROM hook_event_ids WHERE event_id IN (${ids.map(() => '?').join(', ')})`, ids);
}

/** The newest `limit` ids, newest first. */
export function newestEventIds(db: Database, limit: number): Promise<{ event_id: string }[]> {
  return db.all<{ event_id: string }>('SELECT event_id FROM hook_event_ids ORDER BY received_at DESC LIMIT ?', [limit]);
}

/** Forgets ids received before `before` (ISO). */
export function pruneEventIdsOp(before: string): WriteOp {
  return { kind: 'sql', sql: 'DELETE FROM hook_event_ids WHERE received_at < ?', params: [before] };
}

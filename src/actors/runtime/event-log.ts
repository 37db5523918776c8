// The event log as the API shows it: rows of `events`, newest first, each with its details
// parsed back to JSON (details too large were bounded when written, src/lib/bounded-json.ts).
import type { Database } from '../../db/database.js';
import { listEvents, type EventFilter, type EventRecordRow } from '../../db/queries/events.js';

export function eventView(row: EventRecordRow) {
  let details: unknown = null;
  if (row.details !== null) {
    try {
      details = JSON.parse(row.details);
    } catch {
      details = row.details;
    }
  }
  return { id: row.id, type: row.event_type, instance_id: row.instance_id, device_id: row.device_id, details, created_at: row.created_at };
}

export type EventView = ReturnType<typeof eventView>;

export function createEventLog(db: Database) {
  return {
    list: async (filter: EventFilter): Promise<EventView[]> => (await listEvents(db, filter)).map(eventView),
  };
}

export type EventLog = ReturnType<typeof createEventLog>;

// The event log as the API shows it: a row of `events` with its details parsed back to JSON
// (details too large were bounded when written, src/lib/bounded-json.ts).
import type { EventRecordRow } from '../../db/queries/events.js';

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

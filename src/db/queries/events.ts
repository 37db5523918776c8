// The event log (events): every hook, registration, stop and decision, newest first. Reads see
// only what is committed.
import type { Database, SqlValue } from '../database.js';

export interface EventRecordRow {
  id: number;
  event_type: string;
  instance_id: string | null;
  device_id: string | null;
  details: string | null;
  created_at: string;
}

export interface EventFilter {
  limit: number;
  since?: string;
  until?: string;
  beforeId?: number;
  instance?: string;
  device?: string;
  /** Exact type, or a prefix when it ends in ".*" / "." (e.g. "hook.*"). */
  type?: string;
}

export function listEvents(db: Database, f: EventFilter): Promise<EventRecordRow[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (f.since) {
    where.push('created_at >= ?');
    params.push(f.since);
  }
  if (f.until) {
    where.push('created_at < ?');
    params.push(f.until);
  }
  if (f.beforeId !== undefined) {
    where.push('id < ?');
    params.push(f.beforeId);
  }
  if (f.instance) {
    where.push('instance_id = ?');
    params.push(f.instance);
  }
  if (f.device) {
    where.push('device_id = ?');
    params.push(f.device);
  }
  if (f.type) {
    if (f.type.endsWith('.*') || f.type.endsWith('.')) {
      const prefix = f.type.endsWith('*') ? f.type.slice(0, -1) : f.type;
      where.push("event_type >= ? AND event_type < ?");
      params.push(prefix, `${prefix}\uffff`);
    } else {
      where.push('event_type = ?');
      params.push(f.type);
    }
  }
  params.push(f.limit);
  return db.all<EventRecordRow>(
    `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
    params,
  );
}

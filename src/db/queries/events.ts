// The event log (events): every hook, registration, stop and decision. Rows are written with
// the change that caused them (eventInsert), read newest first, and pruned by age. Reads see
// only what is committed.
import { boundedJson } from '../../lib/bounded-json.js';
import type { Database, SqlValue } from '../database.js';
import type { WriteOp } from '../writer.js';

/** An event row to be written in the same transaction as the change that caused it. */
export interface EventDraft {
  type: string;
  at: number;
  instanceId?: string | null;
  deviceId?: string | null;
  details?: unknown;
  /** Details already serialised (and bounded) by the caller; wins over `details`. */
  detailsJson?: string;
}

/** The insert of one event row; details beyond `detailsMaxBytes` are bounded. */
export function eventInsert(e: EventDraft, detailsMaxBytes: number): WriteOp {
  return {
    kind: 'insert',
    table: 'events',
    row: {
      event_type: e.type,
      instance_id: e.instanceId ?? null,
      device_id: e.deviceId ?? null,
      details: e.detailsJson ?? (e.details === undefined ? null : boundedJson(e.details, detailsMaxBytes)),
      created_at: new Date(e.at).toISOString(),
    },
  };
}

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

/** Ids of up to `limit` events older than `before` (ISO), oldest first. */
export function oldEventIds(db: Database, before: string, limit: number): Promise<{ id: number }[]> {
  return db.all<{ id: number }>(`SELECT id FROM events WHERE created_at < ? ORDER BY created_at LIMIT ${limit}`, [before]);
}

export function deleteEventsOp(ids: readonly number[]): WriteOp {
  return { kind: 'sql', sql: `DELETE FROM events WHERE id IN (${ids.join(',')})` };
}

/** Per hook event type: when it last came and how often in all. */
export function lastHookEvents(db: Database): Promise<{ event_type: string; last: string; n: number }[]> {
  return db.all("SELECT event_type, MAX(created_at) AS last, COUNT(*) AS n FROM events WHERE event_type >= 'hook.' AND event_type < 'hook/' GROUP BY event_type");
}

/** Per device and event type, the latest event since `since` (ISO). */
export function recentDeviceEvents(db: Database, since: string): Promise<{ device_id: string; type: string; at: string }[]> {
  return db.all<{ device_id: string; type: string; at: string }>(
    `SELECT device_id, event_type AS type, MAX(created_at) AS at FROM events
      WHERE created_at >= ? AND device_id IS NOT NULL GROUP BY device_id, event_type`,
    [since],
  );
}

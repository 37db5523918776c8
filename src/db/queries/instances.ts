// Read queries behind the HTTP API. Reads see only what is committed, which is what was
// acknowledged: a list never shows a change the writer has not yet made durable.
import type { InstanceRow } from '../../actors/instances/instance-view.js';
import type { Database, SqlValue } from '../database.js';

export interface InstanceFilter {
  status?: 'active' | 'stopped' | 'all';
  state?: string;
  device?: string;
  agentType?: string;
  limit: number;
}

export function listInstances(db: Database, f: InstanceFilter): Promise<InstanceRow[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (f.status && f.status !== 'all') {
    where.push('status = ?');
    params.push(f.status);
  }
  if (f.state) {
    where.push('state = ?');
    params.push(f.state);
  }
  if (f.device) {
    where.push('device_id = ?');
    params.push(f.device);
  }
  if (f.agentType) {
    where.push('agent_type = ?');
    params.push(f.agentType);
  }
  params.push(f.limit);
  return db.all<InstanceRow>(
    `SELECT * FROM claude_instances ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY CASE state WHEN 'awaiting' THEN 0 WHEN 'working' THEN 1 WHEN 'idle' THEN 2 ELSE 3 END, registered_at DESC
      LIMIT ?`,
    params,
  );
}

export function getInstance(db: Database, id: string): Promise<InstanceRow | undefined> {
  return db.get<InstanceRow>('SELECT * FROM claude_instances WHERE id = ?', [id]);
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

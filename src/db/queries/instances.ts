// The instances as SQLite holds them: their projection (claude_instances), written with each
// snapshot, and every session id an instance has had (instance_sessions). Reads see only what
// is committed, which is what was acknowledged: a list never shows a change the writer has not
// yet made durable.
import type { Database, SqlValue } from '../database.js';
import type { WriteOp } from '../writer.js';

/** A row of claude_instances: the projection of an instance actor, written with its snapshot. */
export type InstanceRow = {
  id: string;
  session_id: string;
  agent_type: string;
  tab_name: string | null;
  display_name: string;
  origin_type: string;
  source_ip: string | null;
  device_id: string;
  profile_name: string | null;
  tts_voice: string | null;
  notification_sound: string | null;
  color: string | null;
  pid: number | null;
  working_dir: string | null;
  /** Absent in rows written before migration 6. */
  project?: string | null;
  name_number?: number | null;
  /** The managed session the instance is a child of, and its kind (absent before migration 10). */
  managed_session?: string | null;
  managed_kind?: string | null;
  transcript_path: string | null;
  status: string;
  state: string;
  current_tool: string | null;
  tool_count: number;
  subagent_count: number;
  agent_name: string | null;
  /** JSON: the running subagents. */
  subagents: string | null;
  registered_at: string;
  last_activity: string;
  state_since: string;
  stopped_at: string | null;
  stop_reason: string | null;
};

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

export function upsertInstanceOp(row: InstanceRow): WriteOp {
  return { kind: 'upsert', table: 'claude_instances', key: ['id'], row };
}

/** The most recently stopped instances, newest first. */
export function listStopped(db: Database, limit: number): Promise<InstanceRow[]> {
  return db.all<InstanceRow>(`SELECT * FROM claude_instances WHERE status = 'stopped' ORDER BY stopped_at DESC LIMIT ${limit}`);
}

/** Instances stopped since `since` (ISO): their display numbers are held a while. */
export function stoppedSince(db: Database, since: string): Promise<{ id: string; agent_type: string; name_number: number | null; display_name: string; stopped_at: string }[]> {
  return db.all<{ id: string; agent_type: string; name_number: number | null; display_name: string; stopped_at: string }>(
    "SELECT id, agent_type, name_number, display_name, stopped_at FROM claude_instances WHERE status = 'stopped' AND stopped_at >= ?",
    [since],
  );
}

export async function allInstanceIds(db: Database): Promise<string[]> {
  return (await db.all<{ id: string }>('SELECT id FROM claude_instances')).map((r) => r.id);
}

/** The session an instance last had. */
export function sessionOf(db: Database, id: string): Promise<{ session_id: string } | undefined> {
  return db.get<{ session_id: string }>('SELECT session_id FROM claude_instances WHERE id = ?', [id]);
}

/** Names of some instances (the CLI's usage report). */
export function instanceNames(db: Database, ids: readonly string[]): Promise<{ id: string; display_name: string; project: string | null; working_dir: string | null }[]> {
  return db.all<{ id: string; display_name: string; project: string | null; working_dir: string | null }>(
    `SELECT id, display_name, project, working_dir FROM claude_instances WHERE id IN (${ids.map(() => '?').join(', ')})`,
    [...ids],
  );
}

/** Each instance's device, transcript and session (attributing usage to instances). */
export function instanceOwners(db: Database): Promise<{ id: string; device_id: string; transcript_path: string | null; session_id: string }[]> {
  return db.all<{ id: string; device_id: string; transcript_path: string | null; session_id: string }>('SELECT id, device_id, transcript_path, session_id FROM claude_instances');
}

/** Every session id linked to an instance, stopped ones included. */
export function allSessionLinks(db: Database): Promise<{ session_id: string; instance_id: string }[]> {
  return db.all<{ session_id: string; instance_id: string }>('SELECT session_id, instance_id FROM instance_sessions');
}

export function linkSessionOp(sessionId: string, instanceId: string, linkedAt: string): WriteOp {
  return { kind: 'upsert', table: 'instance_sessions', key: ['session_id'], row: { session_id: sessionId, instance_id: instanceId, linked_at: linkedAt } };
}

/** An active snapshot and its projection row (null: the instance has none). */
export interface SnapshotWithRow {
  actor_id: string;
  machine_version: string;
  snapshot: string;
  row: InstanceRow | null;
}

type Joined = { actor_id: string; machine_version: string; snapshot: string } & (InstanceRow | { [K in keyof InstanceRow]: null });

/** The active instance snapshots of a machine with their projection rows (restore at start). */
export async function activeWithSnapshots(db: Database, machineId: string): Promise<SnapshotWithRow[]> {
  const rows = await db.all<Joined>(
    `SELECT s.actor_id, s.machine_version, s.snapshot, c.*
       FROM actor_snapshots s LEFT JOIN claude_instances c ON c.id = s.actor_id
      WHERE s.machine_id = ? AND s.status = 'active'
      ORDER BY c.registered_at`,
    [machineId],
  );
  return rows.map(({ actor_id, machine_version, snapshot, ...row }) => ({ actor_id, machine_version, snapshot, row: row.id === null ? null : row }));
}

/** Marks an instance stopped in its projection (its snapshot could not be used). */
export function retireInstanceOp(id: string, at: string, reason: string): WriteOp {
  return {
    kind: 'sql',
    sql: `UPDATE claude_instances SET status = 'stopped', state = 'stopped', stopped_at = ?, stop_reason = ? WHERE id = ?`,
    params: [at, reason, id],
  };
}

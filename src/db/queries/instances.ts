// The instances' projection (claude_instances) as SQLite holds it. Reads see only what is
// committed, which is what was acknowledged: a list never shows a change the writer has not
// yet made durable.
import type { Database, SqlValue } from '../database.js';

/** A row of claude_instances: the projection of an instance actor, written with its snapshot. */
export interface InstanceRow {
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
}

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

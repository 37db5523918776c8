// The public shape of an instance (HTTP answers, WebSocket messages), built from its
// projection row, whether read from SQLite or derived from a live actor's context.
import type { InstanceContext, InstanceStateValue } from '../../machines/instance-context.js';
import { instanceRow, type SubagentView } from './instance-kind.js';
import { lastPart } from '../../lib/project-name.js';
import type { InstanceRow } from '../../db/queries/instances.js';

export interface InstanceView {
  id: string;
  session_id: string;
  agent_type: string;
  display_name: string;
  tab_name: string | null;
  state: string;
  status: string;
  origin: { type: string; source_ip: string | null; device_id: string };
  device_id: string;
  profile: { name: string | null; tts_voice: string | null; notification_sound: string | null; color: string | null };
  pid: number | null;
  working_dir: string | null;
  /** The repository's or directory's name ("api"). */
  project: string | null;
  transcript_path: string | null;
  current_tool: string | null;
  tool_count: number;
  subagent_count: number;
  /** The custom agent the session runs as (`claude --agent NAME`), else null. */
  agent_name: string | null;
  subagents: SubagentView[];
  /** The managed session (GET /api/sessions/{id}) whose child this agent is, with its kind; null: not started by token-api. */
  managed: { session: string; kind: string } | null;
  registered_at: string;
  last_activity: string;
  state_since: string;
  stopped_at: string | null;
  stop_reason: string | null;
}

function parseSubagents(json: string | null): SubagentView[] {
  if (!json) return [];
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? (v as SubagentView[]) : [];
  } catch {
    return [];
  }
}

export function instanceView(row: InstanceRow): InstanceView {
  return {
    id: row.id,
    session_id: row.session_id,
    agent_type: row.agent_type,
    display_name: row.display_name,
    tab_name: row.tab_name,
    state: row.state,
    status: row.status,
    origin: { type: row.origin_type, source_ip: row.source_ip, device_id: row.device_id },
    device_id: row.device_id,
    profile: { name: row.profile_name, tts_voice: row.tts_voice, notification_sound: row.notification_sound, color: row.color },
    pid: row.pid,
    working_dir: row.working_dir,
    project: row.project ?? lastPart(row.working_dir),
    transcript_path: row.transcript_path,
    current_tool: row.current_tool,
    tool_count: row.tool_count,
    subagent_count: row.subagent_count,
    agent_name: row.agent_name ?? null,
    subagents: parseSubagents(row.subagents ?? null),
    managed: row.managed_session ? { session: row.managed_session, kind: row.managed_kind ?? 'headless' } : null,
    registered_at: row.registered_at,
    last_activity: row.last_activity,
    state_since: row.state_since,
    stopped_at: row.stopped_at,
    stop_reason: row.stop_reason,
  };
}

export function viewOfContext(ctx: InstanceContext, state: InstanceStateValue): InstanceView {
  return instanceView(instanceRow(ctx, state));
}

// A managed session as the API and the feed show it: from its row (GET /api/sessions), or
// from its actor's committed snapshot (the feed's `session_changed`), which projects that row.
import type { ManagedSessionRow } from '../db/queries/sessions.js';
import type { SessionContext } from '../machines/session-context.js';
import { sessionRow } from './session-kind.js';

export interface SessionView {
  id: string;
  name: string;
  kind: string;
  agent: string;
  repo: string;
  cwd: string;
  state: string;
  managed: true;
  claude_session_id: string;
  account: string | null;
  instance_id: string | null;
  pid: number | null;
  created_at: string;
  updated_at: string;
  exit: { code: number | null; signal: string | null; reason: string; last_lines: string[] } | null;
}

/** The instance a Claude session id's hooks registered, once they have. */
export type InstanceOfSession = (claudeSessionId: string) => string | null;

export function viewOfRow(row: ManagedSessionRow, instanceOf?: InstanceOfSession): SessionView {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    agent: row.agent,
    repo: row.repo,
    cwd: row.cwd,
    state: row.state,
    managed: true,
    claude_session_id: row.claude_session_id,
    account: row.account,
    instance_id: instanceOf?.(row.claude_session_id) ?? null,
    pid: row.pid,
    created_at: row.created_at,
    updated_at: row.updated_at,
    exit: row.exit_reason === null ? null : { code: row.exit_code, signal: row.exit_signal, reason: row.exit_reason, last_lines: row.exit_lines === null ? [] : (JSON.parse(row.exit_lines) as string[]) },
  };
}

/** The view of a committed snapshot: the row it projects, as the API would read it back. */
export const viewOfSnapshot = (ctx: SessionContext, state: string, instanceOf?: InstanceOfSession): SessionView => viewOfRow(sessionRow(ctx, state), instanceOf);

// Managed sessions (managed_sessions, one row mirroring each session actor) and what their
// agents printed (session_output, one parsed message a row, paged by seq).
import type { Database } from '../database.js';
import type { WriteOp } from '../writer.js';

export interface ManagedSessionRow {
  id: string;
  name: string;
  kind: string;
  agent: string;
  repo: string;
  cwd: string;
  state: string;
  claude_session_id: string;
  account: string | null;
  pid: number | null;
  exit_code: number | null;
  exit_signal: string | null;
  exit_reason: string | null;
  /** JSON array of the last lines the agent printed before it exited. */
  exit_lines: string | null;
  created_at: string;
  updated_at: string;
}

export interface SessionOutputRow {
  session_id: string;
  seq: number;
  at: string;
  kind: string;
  json: string;
}

export function upsertManagedSessionOp(row: ManagedSessionRow): WriteOp {
  return { kind: 'upsert', table: 'managed_sessions', key: ['id'], row: { ...row } };
}

export function insertSessionOutputOp(row: SessionOutputRow): WriteOp {
  return { kind: 'insert', table: 'session_output', row: { ...row } };
}

export function managedSessions(db: Database): Promise<ManagedSessionRow[]> {
  return db.all<ManagedSessionRow>('SELECT * FROM managed_sessions ORDER BY created_at, id');
}

export function managedSession(db: Database, id: string): Promise<ManagedSessionRow | undefined> {
  return db.get<ManagedSessionRow>('SELECT * FROM managed_sessions WHERE id = ?', [id]);
}

/** Output after `afterSeq`, oldest first, at most `limit` rows. */
export function sessionOutput(db: Database, id: string, afterSeq: number, limit: number): Promise<SessionOutputRow[]> {
  return db.all<SessionOutputRow>('SELECT * FROM session_output WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?', [id, afterSeq, limit]);
}

/** Forgets sessions that have exited, with their output and snapshots; returns their ids. */
export function forgetExitedSessionsOps(ids: readonly string[]): WriteOp[] {
  return ids.flatMap((id): WriteOp[] => [
    { kind: 'sql', sql: 'DELETE FROM session_output WHERE session_id = ?', params: [id] },
    { kind: 'sql', sql: 'DELETE FROM managed_sessions WHERE id = ?', params: [id] },
    { kind: 'sql', sql: 'DELETE FROM actor_snapshots WHERE actor_id = ?', params: [id] },
  ]);
}

export interface AccountLimitRow {
  account: string;
  limited_until: string | null;
  reason: string | null;
  updated_at: string;
}

export function accountLimits(db: Database): Promise<AccountLimitRow[]> {
  return db.all<AccountLimitRow>('SELECT * FROM account_limits');
}

export function upsertAccountLimitOp(row: AccountLimitRow): WriteOp {
  return { kind: 'upsert', table: 'account_limits', key: ['account'], row: { ...row } };
}

/** Per account: its sessions (running and all), and the tokens its sessions' turns reported since `since`. */
export function accountActivity(db: Database, since: string): Promise<{ account: string; running: number; total: number; input_tokens: number; output_tokens: number }[]> {
  return db.all(
    `SELECT s.account AS account,
            SUM(CASE WHEN s.state != 'exited' THEN 1 ELSE 0 END) AS running,
            COUNT(*) AS total,
            COALESCE((SELECT SUM(json_extract(o.json, '$.usage.input_tokens')) FROM session_output o JOIN managed_sessions m ON m.id = o.session_id WHERE m.account = s.account AND o.kind = 'result' AND o.at >= ?), 0) AS input_tokens,
            COALESCE((SELECT SUM(json_extract(o.json, '$.usage.output_tokens')) FROM session_output o JOIN managed_sessions m ON m.id = o.session_id WHERE m.account = s.account AND o.kind = 'result' AND o.at >= ?), 0) AS output_tokens
       FROM managed_sessions s WHERE s.account IS NOT NULL GROUP BY s.account`,
    [since, since],
  );
}

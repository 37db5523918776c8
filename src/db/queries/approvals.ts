// Permission requests (approvals): the row that mirrors each approval actor, written with its
// snapshot; the listing reads; the active snapshots restored at start.
import type { Database } from '../database.js';
import type { WriteOp } from '../writer.js';

export type ApprovalRow = {
  id: string;
  instance_id: string | null;
  session_id: string;
  tool_name: string;
  tool_input: string;
  summary: string;
  cwd: string | null;
  project: string | null;
  state: string;
  behavior: string | null;
  message: string | null;
  decided_by: string | null;
  rule_id: string | null;
  resolution: string | null;
  created_at: string;
  expires_at: string;
  resolved_at: string | null;
};

export function upsertApprovalOp(row: ApprovalRow): WriteOp {
  return { kind: 'upsert', table: 'approvals', key: ['id'], row: { ...row } };
}

export function getApproval(db: Database, id: string): Promise<ApprovalRow | undefined> {
  return db.get<ApprovalRow>('SELECT * FROM approvals WHERE id = ?', [id]);
}

/** Newest first; `state` filters, `before` pages (created_at, exclusive). */
export function listApprovals(db: Database, o: { state?: string; instanceId?: string; limit: number }): Promise<ApprovalRow[]> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (o.state !== undefined) {
    where.push('state = ?');
    params.push(o.state);
  }
  if (o.instanceId !== undefined) {
    where.push('instance_id = ?');
    params.push(o.instanceId);
  }
  params.push(o.limit);
  return db.all<ApprovalRow>(`SELECT * FROM approvals ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`, params);
}

/** Snapshots of approvals still waiting, to restore at start. */
export function activeApprovalSnapshots(db: Database): Promise<{ actor_id: string; snapshot: string; machine_version: string }[]> {
  return db.all<{ actor_id: string; snapshot: string; machine_version: string }>(
    `SELECT actor_id, snapshot, machine_version FROM actor_snapshots WHERE machine_id = 'approval' AND status = 'active' ORDER BY updated_at`,
  );
}

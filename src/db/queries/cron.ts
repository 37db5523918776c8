// Every SQL statement of scheduled jobs: the job rows (cron_jobs), their runs (cron_runs), and
// the writer ops that change them. Takes and returns rows; src/cron/ maps them to jobs and runs.
import type { Database, SqlValue } from '../database.js';
import type { WriteOp } from '../writer.js';

export interface CronJobRow {
  id: string;
  name: string;
  schedule: string;
  timezone: string | null;
  command: string | null;
  /** A built-in action as JSON. */
  action: string | null;
  enabled: number;
  catch_up: number;
  timeout_seconds: number | null;
  created_at: string;
  updated_at: string;
  handled_until: string | null;
}

export interface CronRunRow {
  id: string;
  job_id: string;
  trigger: string;
  scheduled_for: string | null;
  started_at: string;
  finished_at: string | null;
  status: string;
  exit_code: number | null;
  signal: string | null;
  output: string | null;
  output_bytes: number;
  output_truncated: number;
  /** A built-in action's result as JSON. */
  result: string | null;
  error: string | null;
}

export function allJobs(db: Database): Promise<CronJobRow[]> {
  return db.all<CronJobRow>('SELECT * FROM cron_jobs ORDER BY created_at, id');
}

export function jobUpsertOp(row: CronJobRow): WriteOp {
  return { kind: 'upsert', table: 'cron_jobs', key: ['id'], row: { ...row } };
}

/** A job and its runs. */
export function jobDeleteOps(id: string): WriteOp[] {
  return [
    { kind: 'sql', sql: 'DELETE FROM cron_runs WHERE job_id = ?', params: [id] },
    { kind: 'sql', sql: 'DELETE FROM cron_jobs WHERE id = ?', params: [id] },
  ];
}

export function handledUntilOp(id: string, handledUntil: string): WriteOp {
  return { kind: 'sql', sql: 'UPDATE cron_jobs SET handled_until = ? WHERE id = ?', params: [handledUntil, id] };
}

export function runInsertOp(row: CronRunRow): WriteOp {
  return { kind: 'insert', table: 'cron_runs', row: { ...row } };
}

export function runFinishOp(row: Pick<CronRunRow, 'id' | 'finished_at' | 'status' | 'exit_code' | 'signal' | 'output' | 'output_bytes' | 'output_truncated' | 'result' | 'error'>): WriteOp {
  return {
    kind: 'sql',
    sql: 'UPDATE cron_runs SET finished_at = ?, status = ?, exit_code = ?, signal = ?, output = ?, output_bytes = ?, output_truncated = ?, result = ?, error = ? WHERE id = ?',
    params: [row.finished_at, row.status, row.exit_code, row.signal, row.output, row.output_bytes, row.output_truncated, row.result, row.error, row.id],
  };
}

/** Keeps the newest `keep` runs of a job. */
export function pruneRunsOp(jobId: string, keep: number): WriteOp {
  return {
    kind: 'sql',
    sql: 'DELETE FROM cron_runs WHERE job_id = ? AND id NOT IN (SELECT id FROM cron_runs WHERE job_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ?)',
    params: [jobId, jobId, keep],
  };
}

/** Runs left `running` by a process that ended: they were cut off. */
export function interruptRunsOp(at: string): WriteOp {
  return {
    kind: 'sql',
    sql: "UPDATE cron_runs SET status = 'interrupted', finished_at = ?, error = 'token-api stopped during the run' WHERE status = 'running'",
    params: [at],
  };
}

export function runningRuns(db: Database): Promise<Pick<CronRunRow, 'id' | 'job_id'>[]> {
  return db.all("SELECT id, job_id FROM cron_runs WHERE status = 'running'");
}

/** A job's runs, newest first; `before`: only runs started before this time. */
export function listRuns(db: Database, jobId: string, limit: number, before?: string): Promise<CronRunRow[]> {
  const params: SqlValue[] = [jobId];
  let where = 'job_id = ?';
  if (before) {
    where += ' AND started_at < ?';
    params.push(before);
  }
  params.push(limit);
  return db.all<CronRunRow>(`SELECT * FROM cron_runs WHERE ${where} ORDER BY started_at DESC, rowid DESC LIMIT ?`, params);
}

export function getRun(db: Database, runId: string): Promise<CronRunRow | undefined> {
  return db.get<CronRunRow>('SELECT * FROM cron_runs WHERE id = ?', [runId]);
}

/** The last finished run of each job. */
export function lastRuns(db: Database): Promise<CronRunRow[]> {
  return db.all<CronRunRow>(
    `SELECT r.* FROM cron_runs r
      JOIN (SELECT job_id, MAX(started_at) AS s FROM cron_runs WHERE status NOT IN ('running', 'skipped') GROUP BY job_id) m
        ON r.job_id = m.job_id AND r.started_at = m.s`,
  );
}

// Every SQL statement of the metrics store (table metrics): read all at start, upsert, delete,
// delete the expired. Values are JSON text; times ISO 8601.
import type { Database } from '../database.js';
import type { WriteOp } from '../writer.js';

export interface MetricRow {
  key: string;
  value: string;
  updated_at: string;
  expires_at: string | null;
}

export function allMetrics(db: Database): Promise<MetricRow[]> {
  return db.all<MetricRow>('SELECT * FROM metrics ORDER BY key');
}

export function metricUpsertOp(row: MetricRow): WriteOp {
  return { kind: 'upsert', table: 'metrics', key: ['key'], row: { ...row } };
}

export function metricDeleteOp(key: string): WriteOp {
  return { kind: 'sql', sql: 'DELETE FROM metrics WHERE key = ?', params: [key] };
}

/** Deletes the values expired at `now`, unless set again since (their expiry moved). */
export function metricsExpireOp(keys: readonly string[], now: string): WriteOp {
  return { kind: 'sql', sql: 'DELETE FROM metrics WHERE key IN (SELECT value FROM json_each(?)) AND expires_at IS NOT NULL AND expires_at <= ?', params: [JSON.stringify(keys), now] };
}

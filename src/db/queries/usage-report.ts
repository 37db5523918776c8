// The sums behind usage reports: token counts and costs of usage_records over a time range,
// grouped by model, any of device, instance, session, source and project, and a time bucket.
// Days and months are formed from the buckets by src/usage/report.ts.
import type { Database, SqlValue } from '../database.js';

export interface UsageFilter {
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  device?: string;
  instance?: string;
  session?: string;
}

export type UsageGroupColumn = 'device_id' | 'instance_id' | 'session_id' | 'source' | 'project';

/** Groups records by `(at + offsetMs) / sizeMs` (whole days at a fixed offset), or `at / sizeMs`. */
export type UsageBucket = { offsetMs: number; sizeMs: number } | { sizeMs: number };

export interface UsageSumRow {
  model: string;
  bucket?: number;
  device_id?: string;
  instance_id?: string | null;
  session_id?: string | null;
  source?: string;
  project?: string | null;
  i: number;
  o: number;
  cc: number;
  cr: number;
  cost: number | null;
  unpriced: number;
  n: number;
  first: number;
  last: number;
}

function whereOf(f: UsageFilter): { sql: string; params: SqlValue[] } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (f.since !== undefined) {
    where.push('at >= ?');
    params.push(f.since);
  }
  if (f.until !== undefined) {
    where.push('at < ?');
    params.push(f.until);
  }
  if (f.device !== undefined) {
    where.push('device_id = ?');
    params.push(f.device);
  }
  if (f.instance !== undefined) {
    where.push('instance_id = ?');
    params.push(f.instance);
  }
  if (f.session !== undefined) {
    where.push('session_id = ?');
    params.push(f.session);
  }
  return { sql: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}

/** The first and last record time the filter matches. */
export function usageSpan(db: Database, f: UsageFilter): Promise<{ lo: number | null; hi: number | null } | undefined> {
  const where = whereOf(f);
  return db.get<{ lo: number | null; hi: number | null }>(`SELECT MIN(at) AS lo, MAX(at) AS hi FROM usage_records ${where.sql}`, where.params);
}

/** Sums per model, group column and bucket (none: no time grouping). */
export function usageSums(db: Database, f: UsageFilter, columns: readonly UsageGroupColumn[], bucket: UsageBucket | null): Promise<UsageSumRow[]> {
  const where = whereOf(f);
  const cols: string[] = ['model', ...columns];
  if (bucket) cols.push('offsetMs' in bucket ? `(at + ${bucket.offsetMs}) / ${bucket.sizeMs} AS bucket` : `at / ${bucket.sizeMs} AS bucket`);
  const groups = cols.map((c) => (c.endsWith(' AS bucket') ? 'bucket' : c));
  return db.all<UsageSumRow>(
    `SELECT ${cols.join(', ')}, SUM(input_tokens) AS i, SUM(output_tokens) AS o, SUM(cache_creation_tokens) AS cc,
        SUM(cache_read_tokens) AS cr, SUM(cost_usd) AS cost, SUM(cost_usd IS NULL) AS unpriced, COUNT(*) AS n,
        MIN(at) AS first, MAX(at) AS last
      FROM usage_records ${where.sql}
      GROUP BY ${groups.join(', ')}`,
    where.params,
  );
}

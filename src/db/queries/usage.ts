// Token usage as SQLite holds it: records (usage_records, idempotent by key), where each
// transcript was read up to (usage_files), the pricing the stored costs follow (usage_meta) and
// how far pushes to other machines got (usage_push_cursors). Record inserts are built flat: a
// scan writes hundreds of thousands.
import { TIER_THRESHOLD, type Price } from '../../config/price-schema.js';
import type { Database, SqlValue } from '../database.js';
import type { WriteOp } from '../writer.js';

export type UsageFileRow = {
  path: string;
  source: string;
  offset: number;
  size: number;
  mtime_ms: number;
  head: string;
  /** JSON: the Codex parser's state at the offset, or null. */
  state: string | null;
  updated_at: string;
};

export interface RecordRow {
  seq: number;
  key: string;
  device_id: string;
  source: string;
  session_id: string | null;
  instance_id: string | null;
  project: string | null;
  model: string;
  at: number;
  input_tokens: number;
  output_tokens: number;
  cache_creation_tokens: number;
  cache_read_tokens: number;
  cost_usd: number | null;
}

/** A new record's values, in the order of the columns it is inserted into. */
export type RecordValues = readonly [
  key: string,
  device_id: string,
  source: string,
  session_id: string | null,
  instance_id: string | null,
  project: string | null,
  model: string,
  at: number,
  input_tokens: number,
  output_tokens: number,
  cache_creation_tokens: number,
  cache_read_tokens: number,
  cost_usd: number | null,
];

const RECORD_COLUMNS =
  'key, device_id, source, session_id, instance_id, project, model, at, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, cost_usd';
const ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
/** Rows per INSERT statement. */
const ROWS_PER_STATEMENT = 500;

/** Multi-row INSERT OR IGNOREs of new records (the first of each key wins). */
export function insertRecordOps<T>(records: readonly T[], values: (r: T) => RecordValues): WriteOp[] {
  const ops: WriteOp[] = [];
  for (let i = 0; i < records.length; i += ROWS_PER_STATEMENT) {
    const slice = records.slice(i, i + ROWS_PER_STATEMENT);
    const params: SqlValue[] = [];
    for (const r of slice) params.push(...values(r));
    ops.push({ kind: 'sql', sql: `INSERT OR IGNORE INTO usage_records (${RECORD_COLUMNS}) VALUES ${Array(slice.length).fill(ROW).join(', ')}`, params });
  }
  return ops;
}

/** Which of these keys (at most a few thousand) are stored. */
export function storedKeys(db: Database, keys: readonly string[]): Promise<{ key: string }[]> {
  return db.all<{ key: string }>('SELECT key FROM usage_records WHERE key IN (SELECT value FROM json_each(?))', [JSON.stringify(keys)]);
}

export function usageFileOp(row: UsageFileRow): WriteOp {
  return { kind: 'upsert', table: 'usage_files', key: ['path'], row };
}

export function usageFiles(db: Database): Promise<Omit<UsageFileRow, 'updated_at'>[]> {
  return db.all<Omit<UsageFileRow, 'updated_at'>>('SELECT path, source, offset, size, mtime_ms, head, state FROM usage_files');
}

/** The fingerprint of the pricing the stored costs were computed with. */
export async function pricingFingerprint(db: Database): Promise<string | undefined> {
  return (await db.get<{ value: string }>("SELECT value FROM usage_meta WHERE key = 'pricing'"))?.value;
}

export async function storedModels(db: Database): Promise<string[]> {
  return (await db.all<{ model: string }>('SELECT DISTINCT model FROM usage_records')).map((r) => r.model);
}

function tierSql(column: string, base: number, above: number | undefined): string {
  if (above === undefined) return `(${column} * ${base})`;
  return `(CASE WHEN ${column} > ${TIER_THRESHOLD} THEN ${TIER_THRESHOLD} * ${base} + (${column} - ${TIER_THRESHOLD}) * ${above} WHEN ${column} > 0 THEN ${column} * ${base} ELSE 0 END)`;
}

/** The same formula as costUnder (src/usage/pricing.ts), over the columns of usage_records (same order of operations). */
export function costSql(p: Price): string {
  const a = p.above_200k;
  return (
    `((${tierSql('input_tokens', p.input, a?.input)} + ${tierSql('output_tokens', p.output, a?.output)} + ` +
    `${tierSql('cache_creation_tokens', p.cache_write ?? 0, a?.cache_write)} + ${tierSql('cache_read_tokens', p.cache_read ?? 0, a?.cache_read)}) / 1000000.0)`
  );
}


/** Recomputes the stored cost of one model's records (null: no price). */
export function repriceOp(model: string, price: Price | null): WriteOp {
  return { kind: 'sql', sql: `UPDATE usage_records SET cost_usd = ${price ? costSql(price) : 'NULL'} WHERE model = ?`, params: [model] };
}

export function pricingFingerprintOp(fingerprint: string): WriteOp {
  return { kind: 'upsert', table: 'usage_meta', key: ['key'], row: { key: 'pricing', value: fingerprint } };
}

/** Records stored after a sequence number, oldest first. */
export function recordsAfter(db: Database, afterSeq: number, limit: number): Promise<RecordRow[]> {
  return db.all<RecordRow>('SELECT * FROM usage_records WHERE seq > ? ORDER BY seq LIMIT ?', [afterSeq, limit]);
}

export async function maxRecordSeq(db: Database): Promise<number> {
  return (await db.get<{ s: number | null }>('SELECT MAX(seq) AS s FROM usage_records'))?.s ?? 0;
}

export async function pushCursorOf(db: Database, target: string, deviceId: string): Promise<number> {
  const r = await db.get<{ last_seq: number }>('SELECT last_seq FROM usage_push_cursors WHERE target = ? AND device_id = ?', [target, deviceId]);
  return r?.last_seq ?? 0;
}

export function pushCursorOp(target: string, deviceId: string, lastSeq: number, pushedAt: string): WriteOp {
  return { kind: 'upsert', table: 'usage_push_cursors', key: ['target', 'device_id'], row: { target, device_id: deviceId, last_seq: lastSeq, pushed_at: pushedAt } };
}

/**
 * Gives records just written with no instance to the instance that holds their session, if
 * one is committed by now: run in the transaction that wrote them, it closes the gap where an
 * instance registers (and finds nothing to claim) while its session's records are being read.
 */
export function claimKnownSessionsOp(sessionIds: readonly string[]): WriteOp {
  return {
    kind: 'sql',
    sql: `UPDATE usage_records SET instance_id = o.id, device_id = o.device_id
            FROM (SELECT s.session_id AS sid, ci.id, ci.device_id
                    FROM (SELECT session_id, id AS iid FROM claude_instances UNION SELECT session_id, instance_id FROM instance_sessions) s
                    JOIN claude_instances ci ON ci.id = s.iid) o
           WHERE usage_records.session_id = o.sid AND usage_records.instance_id IS NULL
             AND usage_records.session_id IN (SELECT value FROM json_each(?))`,
    params: [JSON.stringify(sessionIds)],
  };
}

/** Whether records of this session, read before its instance was known, wait to be claimed. */
export async function hasUnclaimed(db: Database, sessionId: string, deviceId: string): Promise<boolean> {
  return (await db.get('SELECT 1 AS x FROM usage_records WHERE session_id = ? AND instance_id IS NULL AND device_id = ? LIMIT 1', [sessionId, deviceId])) !== undefined;
}

/** Gives a session's unclaimed records (of `fromDevice`) to an instance and its device. */
export function claimSessionOp(sessionId: string, fromDevice: string, instanceId: string, deviceId: string): WriteOp {
  return {
    kind: 'sql',
    sql: 'UPDATE usage_records SET instance_id = ?, device_id = ? WHERE session_id = ? AND instance_id IS NULL AND device_id = ?',
    params: [instanceId, deviceId, sessionId, fromDevice],
  };
}

export async function hasDeviceRecords(db: Database, deviceId: string): Promise<boolean> {
  return (await db.get('SELECT 1 AS x FROM usage_records WHERE device_id = ? LIMIT 1', [deviceId])) !== undefined;
}

/** Sums per instance (one indexed query). */
export function instanceSums(db: Database, ids: readonly string[]): Promise<{ instance_id: string; i: number; o: number; cc: number; cr: number; cost: number | null; n: number }[]> {
  return db.all<{ instance_id: string; i: number; o: number; cc: number; cr: number; cost: number | null; n: number }>(
    `SELECT instance_id, SUM(input_tokens) AS i, SUM(output_tokens) AS o, SUM(cache_creation_tokens) AS cc, SUM(cache_read_tokens) AS cr,
            SUM(cost_usd) AS cost, COUNT(*) AS n
          FROM usage_records WHERE instance_id IN (SELECT value FROM json_each(?)) GROUP BY instance_id`,
    [JSON.stringify(ids)],
  );
}

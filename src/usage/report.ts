// Totals over stored records, grouped by any of day, month, model, device, instance, session,
// source and project, over a time range. In a zone whose offset did not change over the
// records' time span (UTC, the default) SQLite sums per day directly; otherwise per
// 15-minute bucket, and days and months are formed in the zone here (SQLite knows only UTC
// and the machine's zone). Cost is the sum of known costs; models without a price are listed.
import type { Database } from '../db/database.js';
import { usageSpan, usageSums, type UsageGroupColumn, type UsageSumRow } from '../db/queries/usage-report.js';
import { BUCKET_MS, createDayFolder, offsetMs } from '../lib/timezone.js';
import type { GroupDim } from '../protocol/usage.js';

export interface UsageQuery {
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  device?: string;
  instance?: string;
  session?: string;
  groupBy: readonly GroupDim[];
  timezone: string;
  /** Which models are priced by estimate (Pricing.isEstimated), for estimated_models. */
  estimated?: (model: string) => boolean;
}

export interface UsageTotals {
  input_tokens: number;
  output_tokens: number;
  cache_creation_tokens: number;
  cache_read_tokens: number;
  total_tokens: number;
  /** USD of the records whose model has a price. */
  cost_usd: number;
  records: number;
  models: string[];
  /** Models counted in tokens but missing from the pricing table (their cost is not in cost_usd). */
  unpriced_models: string[];
  /** Models the table does not know, priced as the newest known model of their family (cost_usd holds an estimate for them). */
  estimated_models: string[];
  first_at: string | null;
  last_at: string | null;
}

export interface UsageRow extends UsageTotals {
  day?: string;
  month?: string;
  model?: string;
  device_id?: string;
  instance_id?: string | null;
  session_id?: string | null;
  source?: string;
  project?: string | null;
}

export interface UsageReport {
  timezone: string;
  since: string | null;
  until: string | null;
  group_by: GroupDim[];
  rows: UsageRow[];
  totals: UsageTotals;
}

const COLUMN: Record<Exclude<GroupDim, 'day' | 'month' | 'model'>, UsageGroupColumn> = {
  device: 'device_id',
  instance: 'instance_id',
  session: 'session_id',
  source: 'source',
  project: 'project',
};

interface Acc {
  row: UsageRow;
  models: Set<string>;
  unpriced: Set<string>;
  first: number;
  last: number;
}

export function emptyTotals(): UsageTotals {
  return {
    input_tokens: 0,
    output_tokens: 0,
    cache_creation_tokens: 0,
    cache_read_tokens: 0,
    total_tokens: 0,
    cost_usd: 0,
    records: 0,
    models: [],
    unpriced_models: [],
    estimated_models: [],
    first_at: null,
    last_at: null,
  };
}

function newAcc(row: UsageRow): Acc {
  return { row, models: new Set(), unpriced: new Set(), first: Infinity, last: -Infinity };
}

function add(acc: Acc, r: UsageSumRow): void {
  const t = acc.row;
  t.input_tokens += r.i;
  t.output_tokens += r.o;
  t.cache_creation_tokens += r.cc;
  t.cache_read_tokens += r.cr;
  t.total_tokens += r.i + r.o + r.cc + r.cr;
  t.cost_usd += r.cost ?? 0;
  t.records += r.n;
  acc.models.add(r.model);
  if (r.unpriced > 0) acc.unpriced.add(r.model);
  acc.first = Math.min(acc.first, r.first);
  acc.last = Math.max(acc.last, r.last);
}

function finish(acc: Acc, estimatedOf?: (model: string) => boolean): UsageRow {
  const row = acc.row;
  row.models = [...acc.models].sort();
  row.unpriced_models = [...acc.unpriced].sort();
  row.estimated_models = estimatedOf ? row.models.filter(estimatedOf) : [];
  row.cost_usd = Math.round(row.cost_usd * 1e6) / 1e6;
  row.first_at = Number.isFinite(acc.first) ? new Date(acc.first).toISOString() : null;
  row.last_at = Number.isFinite(acc.last) ? new Date(acc.last).toISOString() : null;
  return row;
}

const DAY_MS = 86_400_000;

/** The zone's offset if it was the same at both ends and at every month start between; else null. */
function fixedOffset(timeZone: string, from: number, to: number): number | null {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return 0;
  const off = offsetMs(from, timeZone);
  // Offsets change at most a few times a year; sampling twice a month finds any change.
  for (let t = from; t < to; t += 15 * DAY_MS) if (offsetMs(t, timeZone) !== off) return null;
  return offsetMs(to, timeZone) === off ? off : null;
}

/** Runs one grouped query; `dims` may be empty (one row of totals, or none if nothing matched). */
export async function summarize(db: Database, q: UsageQuery): Promise<UsageReport> {
  const dims = [...new Set(q.groupBy)];
  const byTime = dims.includes('day') || dims.includes('month');
  const columns = dims.filter((d): d is keyof typeof COLUMN => d in COLUMN).map((d) => COLUMN[d]);
  const filter = { since: q.since, until: q.until, device: q.device, instance: q.instance, session: q.session };
  let fixed: number | null = null;
  if (byTime) {
    const span = await usageSpan(db, filter);
    fixed = span?.lo != null && span.hi != null ? fixedOffset(q.timezone, span.lo, span.hi) : 0;
  }
  // A whole day per group where the offset is fixed; 15-minute buckets where it moves.
  const rows = await usageSums(db, filter, columns, !byTime ? null : fixed !== null ? { offsetMs: fixed, sizeMs: DAY_MS } : { sizeMs: BUCKET_MS });

  const folder = createDayFolder(q.timezone);
  const dayOf = fixed !== null ? (dayNumber: number) => new Date(dayNumber * DAY_MS).toISOString().slice(0, 10) : folder;
  const accs = new Map<string, Acc>();
  const total = newAcc(emptyTotals());
  for (const r of rows) {
    const row: UsageRow = emptyTotals();
    const keyParts: unknown[] = [];
    for (const d of dims) {
      switch (d) {
        case 'day':
          row.day = dayOf(r.bucket!);
          break;
        case 'month':
          row.month = dayOf(r.bucket!).slice(0, 7);
          break;
        case 'model':
          row.model = r.model;
          break;
        case 'device':
          row.device_id = r.device_id!;
          break;
        case 'instance':
          row.instance_id = r.instance_id ?? null;
          break;
        case 'session':
          row.session_id = r.session_id ?? null;
          break;
        case 'source':
          row.source = r.source!;
          break;
        case 'project':
          row.project = r.project ?? null;
          break;
      }
      keyParts.push(row[d === 'device' ? 'device_id' : d === 'instance' ? 'instance_id' : d === 'session' ? 'session_id' : d]);
    }
    const key = JSON.stringify(keyParts);
    let acc = accs.get(key);
    if (!acc) {
      acc = newAcc(row);
      accs.set(key, acc);
    }
    add(acc, r);
    add(total, r);
  }

  const out = [...accs.values()].map((a) => finish(a, q.estimated));
  const timeKey = (r: UsageRow) => r.day ?? r.month ?? '';
  out.sort((a, b) => (timeKey(a) < timeKey(b) ? -1 : timeKey(a) > timeKey(b) ? 1 : b.total_tokens - a.total_tokens || (a.last_at ?? '').localeCompare(b.last_at ?? '')));
  return {
    timezone: q.timezone,
    since: q.since !== undefined ? new Date(q.since).toISOString() : null,
    until: q.until !== undefined ? new Date(q.until).toISOString() : null,
    group_by: dims,
    rows: out,
    totals: finish(total, q.estimated),
  };
}
